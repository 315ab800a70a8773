"""Side-by-side review without a browser: the HTML report's structure and escaping, Markdown, TSV,
`polyglot-pipe review` and `polyglot-pipe show`.  The rendered page itself is checked in
tests/test_browser.py, in a real Chromium."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polyglot_pipe.cli.main import main
from polyglot_pipe.io.writers import Summary, get_writer
from polyglot_pipe.io.writers.html import json_for_script, write_html
from polyglot_pipe.io.writers.markdown import md_text, write_markdown
from polyglot_pipe.io.writers.tsv import write_tsv

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_0e5ec4742fbe5a91.txt"

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>alert(2)</script>",
    "'; alert(3); '",
    "&lt;b&gt; not bold &amp;",
    "[bold]rich markup[/bold] | a | pipe * and _under_ `tick`",
    "\u2028line\u2029separators",
]


def record(index=0, original="Hello.", *, doc="doc.txt", lang="en", status="ok", english=None, **extra) -> dict:
    """A record as `polyglot-pipe run` writes it (see model.fragment_record)."""
    method = extra.pop("method", "source" if status == "ok" and english is None else "none")
    rec = {
        "doc": doc,
        "index": index,
        "start": 0,
        "end": len(original),
        "original": original,
        "repairs": extra.pop("repairs", []),
        "script": extra.pop("script", "Latin"),
        "lang": lang,
        "lang_confidence": extra.pop("lang_confidence", 0.99),
        "english": original if method == "source" else english,
        "method": method,
        "status": status,
        **extra,
        "space_after": extra.get("space_after", "\n"),
    }
    if index == 0:
        rec.setdefault("encoding", "utf-8")
    return rec


class Page(HTMLParser):
    """The parts of an HTML report these tests look at, parsed the way a browser tokenizes."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.texts: dict[str, list[str]] = {}  # class -> texts of elements with that class
        self._open: list[tuple[str, str | None, list[str]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag in ("meta", "input", "br", "link", "img"):
            return
        classes = (attrs.get("class") or "").split()
        self._open.append((tag, classes[0] if classes else None, []))

    def handle_endtag(self, tag):
        while self._open:
            open_tag, cls, parts = self._open.pop()
            text = "".join(parts)
            if open_tag == "script":
                self.scripts.append(text)
            elif open_tag == "style":
                self.styles.append(text)
            if cls:
                self.texts.setdefault(cls, []).append(text)
            if self._open:
                self._open[-1][2].append(text)
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)

    def rows(self) -> list[dict]:
        return [attrs for tag, attrs in self.tags if "pp-frag" in (attrs.get("class") or "").split()]


def html_of(records, summary=None) -> str:
    out = io.StringIO()
    write_html(records, out, summary)
    return out.getvalue()


# --- HTML: structure ------------------------------------------------------------------------


def test_one_row_per_fragment_grouped_by_document_in_order():
    records = [record(0, "One."), record(1, "Zwei.", lang="de", status="no-pack"), record(0, "Three.", doc="b.txt")]
    page = Page(html_of(records))
    assert [(r["data-lang"], r["data-status"]) for r in page.rows()] == [("en", "ok"), ("de", "no-pack"), ("en", "ok")]
    assert page.texts["pp-doc-title"] == ["doc.txt", "b.txt"]
    assert page.texts["pp-text"] == ["One.", "Zwei.", "Three."]


def test_summary_header_counts_languages_and_names_the_install_command():
    records = [
        record(0, "Hello."),
        record(1, "Привет.", lang="ru", status="no-pack", script="Cyrillic"),
        record(2, "Hallo.", lang="de", status="ok", english="Hello.", method="argos:de-en@1.0", cached=True),
        record(3, "Boom.", lang="fr", status="failed", error="model crashed"),
    ]
    text = html_of(records)
    page = Page(text)
    assert "fragments4" in page.texts["pp-stat"]
    assert "translated1" in page.texts["pp-stat"] and "from memory1" in page.texts["pp-stat"]
    assert "polyglot-pipe packs install ru" in page.texts["pp-missing"][0]
    assert "translation failed: model crashed" in " ".join(page.texts["pp-note"])
    filters = [a["value"] for tag, a in page.tags if tag == "input"]
    assert set(filters) == {"en", "ru", "de", "fr", "ok", "no-pack", "failed"}
    # the no-pack row says why and how to fix it, next to the untranslated text
    assert "no ru\u2192en pack installed" in page.texts["pp-note"]


def test_direction_and_language_attributes_per_cell():
    records = [
        record(0, "مرحبا بالعالم", lang="ar", script="Arabic", status="no-pack"),
        record(1, "שלום עולם", lang="he", script="Hebrew", status="no-pack"),
        record(2, "你好，世界", lang="zh", script="Han", status="no-pack"),
        record(3, "123", lang="und", script="Common"),
    ]
    cells = [a for tag, a in Page(html_of(records)).tags if "pp-orig" in (a.get("class") or "")]
    assert [(c.get("dir"), c.get("lang")) for c in cells] == [
        ("rtl", "ar"),
        ("rtl", "he"),
        ("ltr", "zh"),
        ("auto", ""),  # "und" is an unknown language (not the page's "en"); the browser judges the direction
    ]


def test_repairs_show_the_raw_text_on_expand():
    rec = record(0, "café", raw="cafÃ©", repairs=["mojibake"])
    page = Page(html_of([rec]))
    assert page.texts["pp-raw"] == ["cafÃ©"]
    assert any(tag == "details" for tag, _ in page.tags)
    assert "repaired: mojibake" in page.texts["pp-repair"][0]


def test_an_empty_document_is_a_marked_row_not_a_gap():
    rec = record(0, "", status="empty", method="source")
    page = Page(html_of([rec]))
    assert len(page.rows()) == 1
    assert "empty document" in " ".join(page.texts["pp-note"])


def test_inline_script_and_style_are_the_only_ones_the_policy_allows():
    page = Page(html_of([record(0, HOSTILE[0])]))
    policy = next(a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy")

    def sha(source: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"

    code = [s for s in page.scripts if not s.startswith("[")]  # the other is the JSON data block
    assert len(page.scripts) == 2 and len(code) == 1
    assert f"script-src {sha(code[0])}" in policy
    assert f"style-src {sha(page.styles[0])}" in policy
    assert "default-src 'none'" in policy  # no network: nothing outside the page loads


# --- HTML: escaping, for any text -----------------------------------------------------------

text_with_hostile_bits = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=20)), min_size=1, max_size=4
).map("".join)
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "dl", "div", "dt", "dd",
    "section", "ul", "li", "span", "code", "nav", "fieldset", "legend", "label", "input", "button",
    "output", "main", "a", "details", "summary", "script", "p",
}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(text_with_hostile_bits, text_with_hostile_bits, text_with_hostile_bits), min_size=1, max_size=5))
def test_any_input_text_comes_out_as_text_and_adds_no_elements(triples):
    records = [
        record(i, original.strip() or "x", doc=doc, lang=lang[:12], status="failed", error=error, raw=original + "!",
               repairs=[error], script=lang, method=lang)
        for i, (original, lang, error) in enumerate(triples)
        for doc, error in [(f"{error}.txt", error)]
    ]
    text = html_of(records)
    page = Page(text)
    assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
    assert len(page.scripts) == 2
    assert len(page.rows()) == len(records)
    assert page.texts["pp-text"] == [r["original"] for r in records]
    assert page.texts["pp-raw"] == [r["raw"] for r in records]
    assert [a["data-lang"] for a in page.rows()] == [r["lang"] for r in records]
    data = json.loads(page.scripts[0])
    assert {row[1] for row in data} == {r["lang"] for r in records}
    assert sum(row[3] for row in data) == len(records)


@given(st.text())
def test_json_in_a_script_element_cannot_end_it(text):
    encoded = json_for_script({"t": text, "l": [text]})
    assert not any(c in encoded for c in "<>&\u2028\u2029")
    assert json.loads(encoded) == {"t": text, "l": [text]}


# --- Markdown ---------------------------------------------------------------------------------


def render_markdown(text: str) -> str:
    from markdown_it import MarkdownIt  # ships with rich

    return MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(text)


@settings(max_examples=80, deadline=None)
@given(st.lists(text_with_hostile_bits, min_size=1, max_size=4))
def test_markdown_table_renders_each_fragment_as_written(originals):
    originals = [o.strip() or "x" for o in originals]
    records = [record(i, o, lang="xx", status="no-pack") for i, o in enumerate(originals)]
    out = io.StringIO()
    write_markdown(records, out)
    page = Page(render_markdown(out.getvalue()))
    cells = [a for a in page.tags if a[0] == "td"]
    assert len(cells) == 4 * len(records)  # a pipe or a newline in the text adds no cell, no row
    assert not any(tag in ("script", "img") for tag, _ in page.tags)


def test_markdown_cell_text_survives_rendering():
    original = 'He said "<script>alert(1)</script>" | and *left* _ [x](y) `z`\nnext line'
    html = render_markdown(f"| a |\n|---|\n| {md_text(original)} |\n")
    cell = html.split("<td>")[1].split("</td>")[0]
    assert _text_of(cell) == original


def _text_of(fragment: str) -> str:
    parts: list[str] = []

    class Collect(HTMLParser):
        def handle_data(self, data):
            parts.append(data)

        def handle_starttag(self, tag, attrs):
            if tag == "br":
                parts.append("\n")

    collector = Collect(convert_charrefs=True)
    collector.feed(fragment)
    collector.close()
    return "".join(parts)


def test_markdown_summary_names_missing_packs():
    out = io.StringIO()
    write_markdown([record(0, "Привет.", lang="ru", status="no-pack")], out)
    assert "`polyglot-pipe packs install ru`" in out.getvalue()
    assert "_no ru\u2192en pack installed_" in out.getvalue()


# --- TSV --------------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.text(), st.text() | st.none()), min_size=0, max_size=5))
def test_tsv_reads_back_to_the_same_fields(pairs):
    records = [record(i, o, english=e, status="ok" if e is not None else "no-pack", method="argos:x-en@1")
               for i, (o, e) in enumerate(pairs)]
    out = io.StringIO()
    write_tsv(records, out)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline=""), dialect="excel-tab"))
    assert rows[0] == ["doc", "index", "lang", "original", "english"]
    assert rows[1:] == [[r["doc"], str(r["index"]), r["lang"], r["original"], r["english"] or ""] for r in records]


# --- `polyglot-pipe review` -------------------------------------------------------------------


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def seed_jsonl(tmp_path_factory) -> Path:
    """The seed through the real pipeline (no packs installed here: foreign fragments are no-pack)."""
    folder = tmp_path_factory.mktemp("seed")
    out = folder / "seed.jsonl"
    assert main(["run", str(SEED), "-o", str(out), "-q", "--packs-dir", str(folder / "no-packs")]) == 0
    return out


@pytest.mark.parametrize("suffix,marker", [(".html", "<!DOCTYPE html>"), (".md", "## polyglot-pipe review"),
                                           (".tsv", "doc\tindex\tlang\toriginal\tenglish")])
def test_review_picks_the_format_from_the_suffix(seed_jsonl, tmp_path, suffix, marker):
    out = tmp_path / f"report{suffix}"
    assert main(["review", str(seed_jsonl), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith(marker)
    assert "Заголовок открываемого материала" in text


def test_review_and_run_write_the_same_report(seed_jsonl, tmp_path):
    by_run, by_review = tmp_path / "run.html", tmp_path / "review.html"
    assert main(["run", str(SEED), "--format", "html", "-o", str(by_run), "-q",
                 "--packs-dir", str(tmp_path / "no-packs")]) == 0
    assert main(["review", str(seed_jsonl), "-o", str(by_review)]) == 0
    assert by_run.read_text(encoding="utf-8") == by_review.read_text(encoding="utf-8")
    records = [json.loads(line) for line in seed_jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(Page(by_review.read_text(encoding="utf-8")).rows()) == len(records)


def test_run_escapes_a_hostile_document_end_to_end(tmp_path):
    doc = tmp_path / '"><img src=x onerror=alert(1)>.txt'
    doc.write_text("Look: <script>alert(1)</script> and then \"><img src=x onerror=alert(1)>.\n", encoding="utf-8")
    out = tmp_path / "report.html"
    assert main(["run", str(doc), "--format", "html", "-o", str(out), "-q", "--no-translate"]) == 0
    page = Page(out.read_text(encoding="utf-8"))
    assert not any(tag == "img" for tag, _ in page.tags)
    assert len(page.scripts) == 2
    shown = "\n".join(page.texts["pp-text"])
    assert "<script>alert(1)</script>" in shown and '"><img src=x onerror=alert(1)>' in shown
    assert page.texts["pp-doc-title"] == [str(doc)]


@pytest.mark.parametrize("content,message", [
    ('{"doc": "a", "index": 0, "original": "x", "lang": "en", "status": "ok"}\nnot json\n', "line 2: not JSON"),
    ('{"doc": "a", "index": 0, "original": "x", "lang": "en"}\n', "record 1: missing field 'status'"),
    ('{"doc": "a", "index": "0", "original": "x", "lang": "en", "status": "ok"}\n', "field 'index' should be int"),
    ("[1, 2]\n", "record 1: a JSON list"),
    ("\xff\xfe", "not UTF-8"),
])
def test_review_of_bad_results_says_what_is_wrong(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content.encode("latin-1") if content.startswith("\xff") else content.encode("utf-8"))
    out = tmp_path / "report.html"
    assert main(["review", str(bad), "-o", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()  # no half-written report


def test_review_of_a_missing_file(tmp_path, capsys):
    assert main(["review", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "r.html")]) == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err


def test_review_of_no_records_is_an_empty_report(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["review", str(empty), "-o", str(out)]) == 0
    assert "No fragments" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["html", "md", "tsv"])
def test_every_writer_copes_without_a_summary(name):
    out = io.StringIO()
    get_writer(name)([record(0, "Привет.", lang="ru", status="no-pack")], out, None)
    assert "Привет." in out.getvalue()


# --- `polyglot-pipe show` ---------------------------------------------------------------------


def test_show_prints_side_by_side_and_keeps_markup_as_text(tmp_path, capsys):
    results = write_jsonl(tmp_path / "r.jsonl", [
        record(0, "[bold]Hello[/bold] world."),
        record(1, "Привет, мир.", lang="ru", status="no-pack", script="Cyrillic"),
        record(2, "Hallo Welt.", lang="de", status="ok", english="Hello world.", method="argos:de-en@1.0"),
    ])
    assert main(["show", str(results), "--width", "160"]) == 0
    out = capsys.readouterr().out
    assert "[bold]Hello[/bold] world." in out
    line = next(line for line in out.splitlines() if "Hallo Welt." in line)
    assert "Hello world." in line  # original and English on one line
    assert "no ru\u2192en pack installed" in out


def test_show_filters_by_language_and_status(tmp_path, capsys):
    results = write_jsonl(tmp_path / "r.jsonl", [
        record(0, "Hello there."),
        record(1, "Привет, мир.", lang="ru", status="no-pack"),
        record(2, "Hallo Welt.", lang="de", status="failed", error="boom"),
    ])
    assert main(["show", str(results), "--lang", "ru,de", "--status", "failed", "--width", "160"]) == 0
    out = capsys.readouterr().out
    assert "Hallo Welt." in out and "Привет" not in out and "Hello there." not in out
    assert main(["show", str(results), "--foreign", "--width", "160"]) == 0
    out = capsys.readouterr().out
    assert "Привет" in out and "Hello there." not in out


def test_show_pages_on_a_terminal(tmp_path):
    """On a terminal the view goes through the pager ($PAGER, here `cat` so the test can read it)."""
    import os
    import pty

    results = write_jsonl(tmp_path / "r.jsonl", [record(i, f"Sentence number {i}.") for i in range(60)])
    pager_log = tmp_path / "paged.txt"
    leader, follower = pty.openpty()
    env = {**os.environ, "PAGER": f"tee {pager_log} >/dev/null", "TERM": "xterm", "COLUMNS": "120", "LINES": "40"}
    env.pop("LESS", None)
    process = subprocess.run([sys.executable, "-m", "polyglot_pipe", "show", str(results)], stdin=follower,
                             stdout=follower, stderr=subprocess.PIPE, cwd=ROOT, env=env, timeout=60)
    os.close(follower)
    os.close(leader)
    assert process.returncode == 0, process.stderr
    paged = pager_log.read_text(encoding="utf-8")
    assert "Sentence number 0." in paged and "Sentence number 59." in paged


def test_show_of_bad_results_is_a_message(tmp_path, capsys):
    assert main(["show", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_review_module_stays_light():
    """`polyglot-pipe --help` imports review.py: it must not pull in rich or the HTML writer."""
    code = "import sys, polyglot_pipe.cli.review; print(sorted(m for m in ('rich', 'polyglot_pipe.io.writers.html') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_summary_counts_match_the_header(seed_jsonl):
    records = [json.loads(line) for line in seed_jsonl.read_text(encoding="utf-8").splitlines()]
    summary = Summary()
    for rec in records:
        summary.add_record(rec)
    page = Page(html_of(records))
    assert f"fragments{summary.fragments}" in page.texts["pp-stat"]
