"""HTML in, and the translated page out, on real pages nobody here wrote.

The pages are the aptitude manual as Debian ships it (tests/data/html/aptitude/,
GPL-2+, see its README): DocBook XHTML with navigation tables, alt texts and
<pre> blocks, in Russian and in English.  The mixed page is the English page with
the Russian page's body inside a <div lang="ru">, built here from the two files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from polyglot_pipe import Pipeline
from polyglot_pipe.cli.main import main
from polyglot_pipe.io.writers.html_page import CSP, render_page
from polyglot_pipe.stages.html import extract_page, looks_like_html

DATA = Path(__file__).resolve().parent / "data" / "html" / "aptitude"
RU = DATA / "ru" / "ch01s01s01.html"
EN = DATA / "en" / "ch01s01s01.html"


@pytest.fixture(scope="module")
def labeller():
    return Pipeline(translate=False, memory=None)


@pytest.fixture(scope="module")
def page_labeller():
    return Pipeline(translate=False, memory=None, html=True)


def mixed_page() -> str:
    """The English page, the Russian page's body appended in a <div lang="ru">."""
    en = EN.read_text(encoding="utf-8")
    ru = RU.read_text(encoding="utf-8")
    ru_body = ru[ru.index("<body>") + len("<body>") : ru.index("</body>")]
    return en.replace("</body>", f'<div id="russian" lang="ru">{ru_body}</div></body>')


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_a_real_russian_page_gives_its_text_its_chrome_and_where_each_piece_sits(labeller):
    data = RU.read_bytes()
    doc = labeller.process(data, doc_id=str(RU))
    records = doc.to_records()
    assert doc.rebuild() == doc.text  # every character of the extracted text is accounted for
    assert doc.encoding == "utf-8"
    originals = [r["original"] for r in records]
    assert not any(re.search(r"</?[a-z]+[ >]", o) for o in originals), "markup leaked into the text"
    assert not any("aptitude.css" in o for o in originals)  # nothing from <head> but the title

    title = next(r for r in records if r["source_path"] == "html > head > title")
    assert title["original"] == "Основы" and title["lang"] == "ru"
    alt = next(r for r in records if r["original"] == "[главный экран, окно пакетов]")
    assert alt["source_attr"] == "alt" and alt["source_path"].endswith("> img")
    assert alt["lang"] == "ru"

    # A user can map every record back to the page: its path selects an element holding it.
    tree = LexborHTMLParser(data.decode("utf-8"))
    for record in records:
        element = tree.css_first(record["source_path"])
        assert element is not None, record["source_path"]
        if "source_attr" in record:
            held = element.attributes.get(record["source_attr"]) or ""
        else:
            held = element.text(deep=True)
        assert squash(record["original"]) in squash(held), (record["original"], record["source_path"])

    sentences = [r for r in records if r["script"] == "Cyrillic" and len(r["original"].split()) >= 5]
    assert len(sentences) >= 10
    assert all(r["lang"] == "ru" for r in sentences)


def test_script_style_noscript_template_are_not_text_and_br_and_blocks_end_lines(labeller):
    page = (
        "<!DOCTYPE html><html><head><title>Tab</title><style>p{color:red}</style>"
        "<script>var secret = 'не текст';</script></head><body>"
        "<noscript>включите JavaScript</noscript><template><p>шаблон</p></template>"
        "<p>First line<br>second line</p><div>Block</div>inline <b>bold</b> end"
        "<input placeholder='Поиск по сайту'><button aria-label='Закрыть окно'>×</button>"
        "<pre>  keep\n    spaces</pre></body></html>"
    )
    extracted = extract_page(page)
    assert extracted.text.split("\n") == [
        "Tab", "First line", "second line", "Block", "inline bold end", "Поиск по сайту",
        "Закрыть окно", "×", "  keep", "    spaces", "",
    ]  # fmt: skip
    records = labeller.process(page).to_records()
    by_text = {r["original"]: r for r in records}
    assert by_text["Поиск по сайту"]["source_attr"] == "placeholder"
    assert by_text["Закрыть окно"]["source_attr"] == "aria-label"
    assert by_text["Поиск по сайту"]["lang"] == "ru"


def test_meta_charset_is_honoured_for_legacy_encodings(labeller):
    utf8 = RU.read_text(encoding="utf-8")
    expected = extract_page(utf8).text
    for charset, codec in (("windows-1251", "cp1251"), ("koi8-r", "koi8-r")):
        legacy = utf8.replace("charset=utf-8", f"charset={charset}").replace('encoding="utf-8" ', "")
        data = legacy.encode(codec, errors="xmlcharrefreplace")  # KOI8-R has no em dash: &#8212;
        page = extract_page(data)
        assert page.encoding == codec
        assert page.text == expected
        doc = labeller.process(data, doc_id="legacy.html")
        assert doc.encoding == codec and "ru" in {f.lang for f in doc.fragments}


def test_a_declared_charset_that_does_not_fit_is_said_and_guessed_around():
    data = "<html><head><meta charset='utf-8'></head><body><p>Привет, мир</p></body></html>".encode("cp1251")
    page = extract_page(data)
    assert "Привет, мир" in page.text
    assert any("utf-8" in issue for issue in page.issues)


def test_lang_attributes_are_evidence_but_not_against_the_text(labeller):
    # "След." (a navigation label of the real page) alone reads as Bulgarian to the identifier...
    plain = labeller.process("<html><body><p>След.</p></body></html>").fragments[0]
    hinted = labeller.process('<html><body><p><span lang="ru">След.</span></p></body></html>').fragments[0]
    assert plain.lang != "ru"
    assert hinted.lang == "ru" and 0.5 < hinted.lang_confidence <= 1.0
    # ...a declaration for a language that does not write the script is no evidence at all
    latin = labeller.process('<html><body><p lang="ru">Email</p></body></html>').fragments[0]
    assert latin.lang == "en"
    # ...and a page-wide claim does not turn a plainly German paragraph English
    german = labeller.process(
        '<html lang="en"><body><p>Die Katze schläft den ganzen Tag auf dem warmen Sofa im Wohnzimmer.</p></body></html>'
    ).fragments[0]
    assert german.lang == "de"


def test_detection_auto_by_name_and_content_and_off_with_input_format_text(tmp_path, capsys):
    page = "<!DOCTYPE html><html><body><p>Заголовок открываемого материала</p></body></html>"
    named = tmp_path / "page.html"
    named.write_text(page, encoding="utf-8")
    unnamed = tmp_path / "saved.txt"
    unnamed.write_text(page, encoding="utf-8")

    def records(*args) -> list[dict]:
        assert main(["run", *args, "--no-translate", "-q"]) == 0
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    for path in (named, unnamed):
        recs = records(str(path))
        assert [r["original"] for r in recs] == ["Заголовок открываемого материала"]
        assert recs[0]["source_path"] == "html > body > p" and recs[0]["lang"] == "ru"
    as_text = records(str(named), "--input-format", "text")
    assert "source_path" not in as_text[0]
    assert any("<p>" in r["original"] for r in as_text)  # the user asked for the bytes as text
    assert looks_like_html(b"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- c -->\n<html>")
    assert not looks_like_html("<3 this, and <p> is a tag")


def test_the_translated_page_with_a_real_pack(tmp_path, ru_packs_dir):
    """The mixed page through `run --format html-page`: Russian text replaced by the pack's
    English, the English page's text, elements and attributes as they were."""
    source = tmp_path / "mixed.html"
    source.write_text(mixed_page(), encoding="utf-8")
    out = tmp_path / "out.html"
    results = tmp_path / "out.jsonl"
    common = ["--packs-dir", str(ru_packs_dir), "--no-memory", "-q"]
    assert main(["run", str(source), "-o", str(results), *common]) == 0
    assert main(["run", str(source), "--format", "html-page", "-o", str(out), *common]) == 0
    records = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]

    inside = [r for r in records if r["source_path"].startswith("div#russian")]
    outside = [r for r in records if not r["source_path"].startswith("div#russian")]
    assert inside and outside
    russian = [r for r in inside if r["script"] == "Cyrillic"]
    assert sum(r["lang"] == "ru" for r in russian) / len(russian) >= 0.95
    english_sentences = [r for r in outside if len(r["original"].split()) >= 6]
    assert english_sentences and all(r["lang"] == "en" for r in english_sentences)

    translated = [r for r in records if r["method"].startswith("argos:ru-en")]
    assert len(translated) >= 10
    before = LexborHTMLParser(source.read_text(encoding="utf-8"))
    after = LexborHTMLParser(out.read_text(encoding="utf-8"))
    # the page is the page: same elements with the same attributes, in the same order (plus the policy)
    csp = after.css_first('meta[http-equiv="Content-Security-Policy"]')
    assert csp is not None and csp.attributes["content"] == CSP
    assert _elements(before) == _elements(after)
    after_text = squash(after.body.text(deep=True))
    for record in translated:
        if len(record["original"]) > 20:  # long Russian sentences are gone, their renderings are there
            assert squash(record["original"]) not in after_text
    renderings = [r["english"] for r in translated if r.get("source_attr") is None]
    assert sum(squash(e) in after_text for e in renderings) >= 0.9 * len(renderings)
    # English text outside the Russian part is untouched, node for node
    en_texts = [squash(n.text_content) for n in before.css_first("body").traverse(include_text=True)
                if n.is_text_node and not _inside_russian(n)]
    after_texts = [squash(n.text_content) for n in after.css_first("body").traverse(include_text=True)
                   if n.is_text_node and not _inside_russian(n)]
    assert en_texts == after_texts
    alt = next(r for r in translated if r.get("source_attr") == "alt")
    images = [img.attributes.get("alt") for img in after.css("div#russian img")]
    assert alt["english"] in images


def _inside_russian(node) -> bool:
    while node is not None:
        if node.is_element_node and node.attributes.get("id") == "russian":
            return True
        node = node.parent
    return False


def _elements(tree) -> list[tuple]:
    out = []
    for node in tree.root.traverse():
        attrs = dict(node.attributes)
        if node.tag == "img" and _inside_russian(node):
            attrs.pop("alt", None)  # translated
        if node.tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy":
            continue
        out.append((node.tag, tuple(sorted(attrs.items()))))
    return out


def test_renderings_are_written_as_text_never_as_markup():
    page = extract_page(
        '<!DOCTYPE html><html><head><title>Т</title></head><body><p title="подсказка">Привет, мир</p>'
        "<p>&lt;b&gt;не жирный&lt;/b&gt;</p></body></html>"
    )
    hostile = '</p><script>alert(1)</script><img src=x onerror="alert(2)">'
    records = _records_for(page, {"Привет, мир": hostile, "подсказка": '"><script>alert(3)</script>'})
    out = render_page(page, records)
    tree = LexborHTMLParser(out)
    assert tree.css("script") == [] and tree.css("img") == []
    assert tree.css_first("p").text() == hostile
    assert tree.css_first("p").attributes["title"] == '"><script>alert(3)</script>'
    assert tree.css("p")[1].text() == "<b>не жирный</b>"  # untouched, still text


def _records_for(page, renderings: dict[str, str]) -> list[dict]:
    """Records tiling the page's text, one per line; lines in ``renderings`` carry that rendering
    (a writer test: what matters is how a rendering is written, not where it came from)."""
    records, pos = [], 0
    lines = page.text.split("\n")
    for i, line in enumerate(lines):
        end = pos + len(line)
        english = renderings.get(line)
        records.append({
            "doc": "0", "index": i, "start": pos, "end": end, "original": line,
            "english": english if english is not None else line,
            "method": "argos:ru-en@test" if english is not None else "source", "status": "ok",
            "space_after": "\n" if i < len(lines) - 1 else "",
        })  # fmt: skip
        pos = end + 1
    return [r for r in records if r["original"] or r["index"] == 0]


_TAGS = ["p", "div", "span", "b", "br", "img", "script", "style", "pre", "li", "table", "td", "a", "title"]


@st.composite
def tag_soup(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.integers(0, 3))
        tag = draw(st.sampled_from(_TAGS))
        if kind == 0:
            attr = draw(st.sampled_from(["", ' alt="Пред. ok"', ' lang="ru"', ' title="x &amp; y"', " lang=de"]))
            parts.append(f"<{tag}{attr}>")
        elif kind == 1:
            parts.append(f"</{tag}>")
        else:
            parts.append(draw(st.text(st.sampled_from("ab Мир\n\t&;<>é\u00a0"), max_size=12)))
    return "".join(parts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tag_soup())
def test_any_tag_soup_is_read_whole_and_written_back_unchanged(page_labeller, soup):
    page = extract_page(soup)
    last = 0
    for run in page.runs:  # runs are in order, inside the text, never empty, never overlapping
        assert last <= run.start < run.end <= len(page.text)
        last = run.end
    doc = page_labeller.label(soup, "soup")  # Document checks that fragments tile the text
    assert doc.rebuild() == doc.text
    # with no rendering to put in, the page written back is the page as parsed; where HTML
    # text cannot hold that tree ("<p></div><table><p>" parses, in quirks mode, to
    # <p><p></p><table></table></p>, whose text re-parses with one <p> more), it is the page
    # as the parser itself writes it back
    records = doc.to_records()
    out = _nodes(LexborHTMLParser(render_page(doc.meta["html"], records)))
    parsed = LexborHTMLParser(soup)
    assert out == _nodes(parsed) or out == _nodes(LexborHTMLParser(parsed.html))


def _nodes(tree) -> list[tuple]:
    """Every node, as the DOM has it (a valueless attribute is the empty string there)."""
    return [
        (n.tag, n.text_content if n.is_text_node else {k: v or "" for k, v in n.attributes.items()})
        for n in tree.root.traverse(include_text=True)
        if not (n.tag == "meta" and n.attributes.get("http-equiv") == "Content-Security-Policy")
    ]


def test_the_translated_page_cannot_navigate_away_by_itself(page_labeller):
    page = (
        '<html><head><meta http-equiv="Refresh" content="0; url=http://127.0.0.1:9/x">'
        "<title>t</title></head><body><p>Все новости</p></body></html>"
    )
    doc = page_labeller.label(page, "refresh")
    out = LexborHTMLParser(render_page(doc.meta["html"], doc.to_records()))
    assert not [m for m in out.css("meta") if (m.attributes.get("http-equiv") or "").lower() == "refresh"]
    kept = out.css_first("meta[data-polyglot-pipe-http-equiv]")
    assert kept is not None and kept.attributes["content"] == "0; url=http://127.0.0.1:9/x"
