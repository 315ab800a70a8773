"""Batch runs: one output per input, resumable after a kill, streamed line and JSONL inputs, workers.

Runs go through the real command (a subprocess) or the real Pipeline; translation
uses a real CTranslate2 pack (the ru_packs_dir fixture in conftest.py).
"""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_memory import RUSSIAN_LINE

from polyglot_pipe import Pipeline
from polyglot_pipe.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_0e5ec4742fbe5a91.txt"


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path = ROOT, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "polyglot_pipe", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=600,
    )


def page(n: int) -> str:
    """A short scraped page: English with repeated Russian boilerplate and one varied Russian line."""
    return f"Subscribe\nStory number {n} about the weather.\n{RUSSIAN_LINE}\nНовость номер {n} о погоде.\n"


def make_corpus(folder: Path, pages: int) -> Path:
    for n in range(pages):
        path = folder / f"part{n % 3}" / f"page{n:03d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page(n), encoding="utf-8")
    return folder


def outputs(folder: Path) -> dict[str, str]:
    """Visible outputs by relative path."""
    return {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if p.is_file() and p.name != ".polyglot-pipe-state.jsonl"]


# --- -o DIR ---------------------------------------------------------------------------------


def test_output_dir_mirrors_inputs_and_skips_what_is_up_to_date(tmp_path):
    corpus = tmp_path / "in"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "a.txt").write_text("Hello there.\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Good morning.\n", encoding="utf-8")
    (corpus / "c.txt").write_text("Same name, text.\n", encoding="utf-8")
    (corpus / "c.md").write_text("Same name, markdown.\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ("run", str(corpus), "-o", f"{out}/", "--no-translate")

    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == b""
    # Extension replaced by the format's; names that would clash keep their own extension too.
    assert sorted(outputs(out)) == ["b.jsonl", "c.md.jsonl", "c.txt.jsonl", "sub/a.jsonl"]
    assert json.loads(outputs(out)["sub/a.jsonl"].splitlines()[0])["original"] == "Hello there."
    stamps = {p: (out / p).stat().st_mtime_ns for p in outputs(out)}

    second = run_cli(*args)
    assert second.returncode == 0
    assert "skipped 4 input(s) whose output is up to date" in second.stderr.decode()
    assert {p: (out / p).stat().st_mtime_ns for p in outputs(out)} == stamps

    (corpus / "b.txt").write_text("Good evening.\n", encoding="utf-8")
    os.utime(corpus / "b.txt", ns=(stamps["b.jsonl"] + 10**9,) * 2)
    third = run_cli(*args)
    assert "skipped 3 input(s)" in third.stderr.decode()
    assert json.loads(outputs(out)["b.jsonl"])["original"] == "Good evening."

    forced = run_cli(*args, "--force")
    assert "skipped" not in forced.stderr.decode()
    assert all((out / p).stat().st_mtime_ns > stamps[p] for p in ("sub/a.jsonl", "c.md.jsonl"))


def test_output_dir_by_trailing_slash_or_existing_folder_else_one_file(tmp_path):
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("First page.\n", encoding="utf-8")
    two.write_text("Second page.\n", encoding="utf-8")
    existing = tmp_path / "existing"
    existing.mkdir()
    assert run_cli("run", str(one), str(two), "-o", str(existing), "--no-translate").returncode == 0
    assert sorted(outputs(existing)) == ["one.jsonl", "two.jsonl"]

    single = tmp_path / "all.jsonl"
    assert run_cli("run", str(one), str(two), "-o", str(single), "--no-translate").returncode == 0
    assert [json.loads(line)["doc"] for line in single.read_text(encoding="utf-8").splitlines()] == [str(one), str(two)]


def test_output_dir_refuses_stdin_with_a_clear_message(tmp_path):
    result = run_cli("run", "-", "-o", f"{tmp_path}/out/", stdin=b"Hello.\n")
    assert result.returncode == 2
    assert "stdin" in result.stderr.decode() and "Traceback" not in result.stderr.decode()


def test_a_failed_input_gets_no_output_and_is_tried_again(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Fine text.\n", encoding="utf-8")
    (corpus / "bad.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))  # an image, named .txt
    out = tmp_path / "out"
    inputs = (str(corpus / "good.txt"), str(corpus / "bad.txt"))
    first = run_cli("run", *inputs, "-o", f"{out}/", "--no-translate")
    assert sorted(outputs(out)) == ["good.jsonl"]
    assert first.returncode == 1 and "bad.txt: a binary file, not text" in first.stderr.decode()
    again = run_cli("run", *inputs, "-o", f"{out}/", "--no-translate")
    assert "skipped 1 input(s)" in again.stderr.decode() and "bad.txt: a binary file" in again.stderr.decode()


def test_killed_run_loses_no_finished_output_leaves_no_partial_file_and_resumes(tmp_path, ru_packs_dir):
    corpus = make_corpus(tmp_path / "corpus", 30)
    common = ("--packs-dir", str(ru_packs_dir), "--no-memory", "--langs", "en,ru", "--chunk-size", "2", "-q")
    clean_dir = tmp_path / "clean"
    clean = run_cli("run", str(corpus), "-o", f"{clean_dir}/", *common)
    assert clean.returncode == 0, clean.stderr
    expected = outputs(clean_dir)
    assert len(expected) == 30

    out = tmp_path / "out"
    victim = subprocess.Popen(
        [sys.executable, "-m", "polyglot_pipe", "run", str(corpus), "-o", f"{out}/", "--workers", "1", *common],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 300
        while not (out.exists() and outputs(out)):
            assert victim.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
    finally:
        victim.kill()
        victim.wait()

    at_kill = outputs(out)
    assert 0 < len(at_kill) < 30, "kill the run in the middle"
    for name, text in at_kill.items():  # every output there is complete
        assert text == expected[name], name

    resumed = run_cli("run", str(corpus), "-o", f"{out}/", *common[:-1])
    assert resumed.returncode == 0, resumed.stderr
    # Every output there is skipped, but the one renamed into place in the instant before the
    # kill may have no journal line yet: it is redone (never wrongly skipped), by design.
    said = re.search(r"skipped (\d+) input\(s\)", resumed.stderr.decode())
    skipped = int(said.group(1)) if said else 0
    assert len(at_kill) - 1 <= skipped <= len(at_kill), resumed.stderr
    assert outputs(out) == expected
    assert leftovers(out) == [], "the killed run's temporary files are cleaned up"


# --- streamed inputs --------------------------------------------------------------------------


def test_jsonl_input_keeps_every_field_adds_fragments_and_marks_bad_records(tmp_path, ru_packs_dir):
    source = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": 7, "text": f"Subscribe\n{RUSSIAN_LINE}", "url": "https://example.org/a"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": 8, "body": "no text field"}),
        json.dumps({"id": 9, "text": "Hello there.", "tags": ["x"]}),
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("run", str(source), "--input-format", "jsonl", "--field", "text",
                     "--packs-dir", str(ru_packs_dir), "--langs", "en,ru", "--no-memory")
    assert result.returncode == 1  # bad records are reported
    stderr = result.stderr.decode()
    assert f"{source}:2: not a JSON record" in stderr and f'{source}:3: no "text" field' in stderr
    assert "Traceback" not in stderr
    back = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(back) == 4  # one line out per line in, in order
    assert {k: back[0][k] for k in ("id", "text", "url")} == json.loads(lines[0])
    assert [f["original"] for f in back[0]["fragments"]] == ["Subscribe", RUSSIAN_LINE]
    assert back[0]["fragments"][1]["status"] == "ok" and back[0]["fragments"][1]["method"].startswith("argos:ru-en@")
    assert back[1]["fragments"] == [] and "not a JSON record" in back[1]["fragments_error"]
    assert back[1]["input"] == "{not json"
    assert back[2]["id"] == 8 and back[2]["fragments"] == [] and "no \"text\" field" in back[2]["fragments_error"]
    assert back[3]["tags"] == ["x"] and back[3]["fragments"][0]["english"] == "Hello there."


def test_jsonl_input_needs_jsonl_output():
    result = run_cli("run", "-", "--input-format", "jsonl", "--format", "html", stdin=b"{}\n")
    assert result.returncode == 2 and "--format jsonl" in result.stderr.decode()


def _run_in_process(capsys, *argv: str) -> tuple[int, str, str]:
    from polyglot_pipe.io.batch import run

    args = build_parser().parse_args(["run", *argv])
    code = run(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


line_text = st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_text, min_size=1, max_size=8))
def test_lines_input_gives_one_document_per_line_in_order(tmp_path_factory, capsys, lines):
    source = tmp_path_factory.mktemp("lines") / "in.txt"
    source.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    code, out, err = _run_in_process(capsys, str(source), "--input-format", "lines", "--no-translate", "-q")
    assert code == 0, err
    records = [json.loads(line) for line in out.split("\n") if line]  # not splitlines: U+0085 and U+2028 are text
    docs = [r["doc"] for r in records if r["index"] == 0]
    assert docs == [f"{source}:{n}" for n in range(1, len(lines) + 1)]
    for n, line in enumerate(lines, 1):
        mine = [r for r in records if r["doc"] == f"{source}:{n}"]
        if line.isascii():  # nothing to repair: the fragments rebuild the line exactly
            rebuilt = mine[0].get("space_before", "") + "".join(r["original"] + r["space_after"] for r in mine)
            assert rebuilt == line


# --- the Pipeline ----------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_process_many_streams_with_bounded_read_ahead(workers):
    pulled = itertools.count()

    def endless():
        for n in pulled:
            yield f"doc{n}", f"Sentence number {n}. Another one here."

    pipeline = Pipeline(translate=False, chunk_size=4, workers=workers)
    docs = pipeline.process_many(endless())
    first = list(itertools.islice(docs, 3))
    docs.close()
    assert [d.id for d in first] == ["doc0", "doc1", "doc2"]
    assert next(pulled) < 4 + 3 * workers * 16 + 1  # a chunk, plus the workers' window


def test_workers_give_the_same_documents_in_the_same_order():
    items = [(f"d{n}", page(n).encode("utf-8")) for n in range(20)]
    items.insert(5, ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)))
    results = {}
    for workers in (1, 2):
        failed: list[str] = []
        docs = list(
            Pipeline(translate=False, workers=workers).process_many(items, on_error=lambda i, e: failed.append(i))
        )
        results[workers] = ([d.id for d in docs], [d.fragments for d in docs], failed)
    assert results[1] == results[2]
    assert results[1][2] == ["binary"]


def test_repeated_fragments_are_translated_once_per_run(ru_packs_dir, texts_sent_to_packs):
    pipeline = Pipeline(packs_dir=ru_packs_dir, langs=["en", "ru"], chunk_size=3)
    docs = list(pipeline.process_many([page(n) for n in range(7)]))
    # The boilerplate line is asked once in the whole run, across chunks; each varied line once.
    assert sorted(texts_sent_to_packs) == sorted({RUSSIAN_LINE, *(f"Новость номер {n} о погоде." for n in range(7))})
    renderings = {f.english for d in docs for f in d.fragments if f.original == RUSSIAN_LINE}
    assert len(renderings) == 1 and None not in renderings
    assert not any(f.cached for d in docs for f in d.fragments)


# --- messages -------------------------------------------------------------------------------


def test_quiet_and_no_progress_bar_off_a_terminal(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("Hello there.\n", encoding="utf-8")
    plain = run_cli("run", str(source), "--no-translate")
    assert plain.stderr.decode().count("\n") == 1 and "\r" not in plain.stderr.decode()  # the summary line only
    quiet = run_cli("run", str(source), "--no-translate", "-q")
    assert quiet.stderr == b""


def test_progress_bar_on_a_terminal(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", 6)
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "polyglot_pipe", "run", str(corpus), "-o", f"{tmp_path}/out/", "--no-translate"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=slave, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=300)
    os.close(master)
    assert process.returncode == 0
    assert b"inputs" in seen and b"/6" in seen
