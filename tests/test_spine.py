"""The spine, end to end: `polyglot-pipe run` and the library API on the seed and on bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import polyglot_pipe
from polyglot_pipe import Pipeline
from polyglot_pipe.stages.translate import LoadedPack

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_0e5ec4742fbe5a91.txt"
RUSSIAN_LINE = "Заголовок открываемого материала"
SHORT_ENGLISH = [
    "Subscribe",
    "Protests in Kazakhstan",
    "Foreign Interference",
    "log in or register",
    "loader",
    "Newsfeed",
    "Chats",
]






def run_cli(*args: str, stdin: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "polyglot_pipe", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def records_of(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.decode("utf-8").splitlines()]


@pytest.fixture(scope="module")
def seed_run(ru_packs_dir) -> tuple[subprocess.CompletedProcess, list[dict]]:
    result = run_cli("run", str(SEED.relative_to(ROOT)), "--packs-dir", str(ru_packs_dir))
    return result, records_of(result.stdout)


def by_text(records: list[dict]) -> dict[str, dict]:
    return {r["original"]: r for r in records}


# --- the seed, through the CLI -------------------------------------------------------------


def test_seed_run_succeeds_with_a_summary_line(seed_run):
    result, records = seed_run
    assert result.returncode == 0, result.stderr.decode()
    last = result.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("polyglot-pipe: 1 document, ")
    for word in ("fragments", "en ", "ru 1", "translated 1", "no-pack 0", "failed 0"):
        assert word in last


def test_seed_records_carry_the_contract_fields(seed_run):
    _, records = seed_run
    text = SEED.read_text(encoding="utf-8")
    assert [r["index"] for r in records] == list(range(len(records)))
    for r in records:
        assert r["doc"] == "seeds/000_0e5ec4742fbe5a91.txt"
        assert text[r["start"] : r["end"]] == r["original"]
        assert r["repairs"] == [] and "raw" not in r
        assert 0.0 <= r["lang_confidence"] <= 1.0
        assert r["status"] in ("ok", "no-pack", "failed")
    assert records[0]["encoding"] == "utf-8"


def test_seed_russian_line_is_russian_and_translated_by_the_pack(seed_run, ru_packs_dir):
    _, records = seed_run
    russian = by_text(records)[RUSSIAN_LINE]
    assert russian["lang"] == "ru"
    assert russian["script"] == "Cyrillic"
    assert russian["status"] == "ok"
    assert russian["method"] == "argos:ru-en@1.0"
    # The pack's own rendering of the line, asked of CTranslate2 directly.
    from polyglot_pipe.packs.store import find_pack

    expected = LoadedPack.load(find_pack("ru", "en", ru_packs_dir)).translate([RUSSIAN_LINE])[0]
    assert russian["english"] == expected
    assert expected.strip()


@pytest.mark.parametrize("line", SHORT_ENGLISH)
def test_seed_short_english_lines_are_english(seed_run, line):
    _, records = seed_run
    record = by_text(records)[line]
    assert record["lang"] == "en"
    assert record["english"] == line and record["method"] == "source"


def test_seed_every_latin_fragment_is_english_and_zero_is_und(seed_run):
    _, records = seed_run
    assert by_text(records)["0"]["lang"] == "und"
    assert by_text(records)["0"]["method"] == "source"
    latin = [r for r in records if r["script"] == "Latin"]
    assert latin and all(r["lang"] == "en" for r in latin), [r["original"] for r in latin if r["lang"] != "en"]


def test_seed_fragments_tile_the_document(seed_run):
    _, records = seed_run
    text = SEED.read_text(encoding="utf-8")
    rebuilt = records[0].get("space_before", "") + "".join(r["original"] + r["space_after"] for r in records)
    assert rebuilt == text


def test_labels_are_the_same_on_every_run(empty_packs_dir):
    runs = [
        run_cli("run", str(SEED), "--packs-dir", str(empty_packs_dir), env={"PYTHONHASHSEED": seed})
        for seed in ("1", "2")
    ]
    labels = [[(r["original"], r["lang"], r["lang_confidence"]) for r in records_of(run.stdout)] for run in runs]
    assert labels[0] == labels[1]


def test_output_file_and_stdin(tmp_path, empty_packs_dir):
    out = tmp_path / "out.jsonl"
    result = run_cli("run", "-", "-o", str(out), "--packs-dir", str(empty_packs_dir), stdin=SEED.read_bytes())
    assert result.returncode == 0
    assert result.stdout == b""
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert records[0]["doc"] == "<stdin>"
    assert by_text(records)[RUSSIAN_LINE]["lang"] == "ru"


def test_missing_pack_is_named_with_its_install_command(empty_packs_dir):
    result = run_cli("run", str(SEED), "--packs-dir", str(empty_packs_dir))
    assert result.returncode == 0
    russian = by_text(records_of(result.stdout))[RUSSIAN_LINE]
    assert russian["status"] == "no-pack" and russian["english"] is None and russian["method"] == "none"
    stderr = result.stderr.decode()
    assert "no ru->en pack installed" in stderr
    assert "polyglot-pipe packs install ru" in stderr
    assert "no-pack 1" in stderr


def test_bad_inputs_get_one_line_each_and_the_rest_is_processed(tmp_path, empty_packs_dir):
    png = tmp_path / "image.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    empty_folder = tmp_path / "only-binary"
    empty_folder.mkdir()
    (empty_folder / "x.bin").write_bytes(b"\x00\x01\x02" * 100)
    good = tmp_path / "good.txt"
    good.write_text("Hello world. Привет, мир.\n", encoding="utf-8")
    result = run_cli(
        "run", str(png), str(tmp_path / "missing.txt"), str(empty_folder), str(good),
        "--packs-dir", str(empty_packs_dir),
    )
    assert result.returncode != 0
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    assert f"{png}: " in stderr and "binary" in stderr
    assert f"{tmp_path / 'missing.txt'}: no such file or folder" in stderr
    assert f"{empty_folder}: no text files in this folder" in stderr
    records = records_of(result.stdout)
    assert {r["doc"] for r in records} == {str(good)}
    assert [r["original"] for r in records] == ["Hello world.", "Привет, мир."]


def test_folders_are_searched_recursively(tmp_path, empty_packs_dir):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.txt").write_text("First file.", encoding="utf-8")
    (tmp_path / "a" / "b" / "two.md").write_bytes("Второй файл.".encode("cp1251"))
    result = run_cli("run", str(tmp_path / "a"), "--packs-dir", str(empty_packs_dir), "--no-translate")
    assert result.returncode == 0, result.stderr.decode()
    docs = {r["doc"]: r for r in records_of(result.stdout)}
    assert set(docs) == {str(tmp_path / "a" / "one.txt"), str(tmp_path / "a" / "b" / "two.md")}
    assert docs[str(tmp_path / "a" / "b" / "two.md")]["original"] == "Второй файл."


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "from polyglot_pipe.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "for cmd in (['run', '--help'], ['packs', '--help']):\n"
        "    try:\n        main(cmd)\n    except SystemExit:\n        pass\n"
        "heavy = [m for m in ('torch', 'stanza', 'ctranslate2', 'transformers', 'argostranslate', 'ray') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60)
    assert b"HEAVY []" in result.stdout, result.stdout + result.stderr


# --- the library -----------------------------------------------------------------------------


def test_process_returns_a_document_of_sentence_fragments():
    doc = polyglot_pipe.process(
        "The sun rose. Birds sang loudly! Was it spring? Nobody knew. The end came soon.",
        doc_id="five",
    )
    assert isinstance(doc, polyglot_pipe.Document)
    assert doc.id == "five"
    assert len(doc.fragments) == 5
    assert [f.lang for f in doc.fragments] == ["en"] * 5


def test_a_line_that_changes_script_is_split_where_it_changes():
    doc = polyglot_pipe.Pipeline(translate=False).process("Chats Заголовок открываемого материала")
    assert [(f.original, f.script) for f in doc.fragments] == [
        ("Chats", "Latin"),
        (RUSSIAN_LINE, "Cyrillic"),
    ]


def test_bytes_in_legacy_encodings_and_boms_are_decoded():
    pipeline = Pipeline(translate=False)
    text = "Protests in Kazakhstan.\nЗаголовок открываемого материала.\nПодписаться на новости.\n"
    for encoding in ("utf-8-sig", "utf-16", "cp1251"):
        doc = pipeline.process(text.encode(encoding))
        assert doc.text == text, encoding
        assert doc.fragments[1].lang == "ru"


def test_utf8_mojibake_is_repaired_and_recorded_on_the_fragment():
    broken = "Subscribe\n" + RUSSIAN_LINE.encode("utf-8").decode("latin-1") + "\n"
    doc = Pipeline(translate=False).process(broken)
    english, russian = doc.fragments
    assert english.repairs == () and english.raw is None
    assert russian.original == RUSSIAN_LINE
    assert russian.repairs and russian.raw == RUSSIAN_LINE.encode("utf-8").decode("latin-1")
    record = doc.to_records()[1]
    assert record["raw"] == russian.raw and record["repairs"] == list(russian.repairs)


def test_process_many_streams_documents_in_order(ru_packs_dir):
    pipeline = Pipeline(packs_dir=ru_packs_dir, chunk_size=2)
    items = [("a", "Subscribe"), ("b", RUSSIAN_LINE.encode("utf-8")), ("c", "Newsfeed")]
    docs = pipeline.process_many(iter(items))
    first = next(docs)
    assert first.id == "a"
    assert [d.id for d in docs] == ["b", "c"]


def test_process_many_reports_bad_items_and_goes_on():
    failures = []
    docs = list(
        Pipeline(translate=False).process_many(
            [("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)), ("ok", "Hello there.")],
            on_error=lambda doc_id, exc: failures.append(doc_id),
        )
    )
    assert failures == ["png"]
    assert [d.id for d in docs] == ["ok"]


def test_english_and_und_fragments_never_reach_the_translator(ru_packs_dir, texts_sent_to_packs):
    doc = Pipeline(packs_dir=ru_packs_dir).process(SEED.read_bytes())
    assert texts_sent_to_packs == [RUSSIAN_LINE]
    assert sum(f.method.startswith("argos:") for f in doc.fragments) == 1


def test_a_translation_run_opens_no_network_connection(ru_packs_dir, monkeypatch):
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    # The guard works: a real attempt is caught.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", 9))
    attempts.clear()

    doc = Pipeline(packs_dir=ru_packs_dir, memory=None).process(SEED.read_bytes())
    russian = [f for f in doc.fragments if f.lang == "ru"]
    assert russian and russian[0].status == "ok" and russian[0].english
    assert attempts == []


def test_a_lone_surrogate_in_jsonl_input_is_written_back_escaped(tmp_path, empty_packs_dir):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "Broken \\ud800 text. Hello."}\n', encoding="utf-8")
    result = run_cli("run", str(source), "--input-format", "jsonl", "--packs-dir", str(empty_packs_dir))
    assert result.returncode == 0, result.stderr.decode()
    [record] = records_of(result.stdout)
    assert record["id"] == 1
    assert "".join(f["original"] + f["space_after"] for f in record["fragments"]) == "Broken \ud800 text. Hello."


def test_labelled_fragment_keeps_every_other_field():
    """``Fragment.labelled`` lists the fields by hand (for speed): a field added to
    Fragment and not copied there would be lost on every labelled fragment."""
    from dataclasses import fields, replace

    from polyglot_pipe.model import Fragment

    values = {
        "start": 3, "end": 9, "original": "abcdef", "space_after": " ", "script": "Latn", "lang": "xx",
        "lang_confidence": 0.1, "english": "e", "method": "m", "status": "s", "error": "err", "raw": "r",
        "repairs": ("cp1251-as-cp1252",), "cached": True, "translation_score": -0.5, "quality": "low", "lang_reason": "old",
    }  # fmt: skip
    assert set(values) == {f.name for f in fields(Fragment)}
    frag = Fragment(**values)
    assert frag.labelled("ru", 0.75) == replace(frag, lang="ru", lang_confidence=0.75, lang_reason=None)
    assert frag.labelled("und", 0.0, "code") == replace(frag, lang="und", lang_confidence=0.0, lang_reason="code")
