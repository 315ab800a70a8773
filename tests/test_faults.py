"""Fault injection: what careless and hostile users and damaged disks throw at a run.

Each test builds the fault for real (files with hostile names and contents, FIFOs, a
damaged SQLite file, broken pack archives, a zip bomb, real processes killed with real
signals) and checks what a user would see: one line naming the item, the other items
processed, a non-zero exit at the end; never a traceback, a hang, or a silent loss.
Issue 15 lists the classes; each block below keeps one fixed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from conftest import RU_PACK

from polyglot_pipe import Pipeline

ROOT = Path(__file__).resolve().parent.parent
STATE = ".polyglot-pipe-state.jsonl"
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def cli(*args, stdin: bytes | None = None, env: dict | None = None, timeout: float = 120, cwd: Path = ROOT):
    return subprocess.run(
        [sys.executable, "-m", "polyglot_pipe", *map(str, args)],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=timeout,
    )


def err(result) -> str:
    return result.stderr.decode("utf-8", "replace")


def no_traceback(result) -> None:
    assert "Traceback" not in err(result), err(result)


def visible(folder: Path) -> dict[str, bytes]:
    return {
        os.fsdecode(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.part")]


# --- one bad item stops nothing -------------------------------------------------------------


def test_a_record_nested_1000_deep_is_reported_and_the_others_are_written(tmp_path):
    deep = "[" * 1000 + "]" * 1000
    lines = [
        json.dumps({"text": "Hello there, friend."}),
        '{"text": "x", "deep": ' + deep + "}",
        json.dumps({"text": "Привет, как дела?"}),
    ]
    source = tmp_path / "records.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("run", source, "--input-format", "jsonl", "-o", tmp_path / "out.jsonl", "--no-translate")
    no_traceback(result)
    assert result.returncode == 1
    assert f"{source}:2: a JSON record nested too deep to read" in err(result)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r.get("text") for r in out] == ["Hello there, friend.", None, "Привет, как дела?"]
    assert out[1]["fragments_error"].endswith("nested too deep to read")


def test_file_names_of_any_length_get_an_output_each(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    long = "д" * 120 + "x" * 10  # 250 bytes of name before the extension
    (inputs / f"{long}.txt").write_text("Hello world, one.", encoding="utf-8")
    (inputs / f"{long}.md").write_text("Hello world, two.", encoding="utf-8")  # same stem: both keep their extension
    (inputs / ("y" * 251 + ".txt")).write_text("Hello world, three.", encoding="utf-8")
    out = tmp_path / "out"
    result = cli("run", inputs, "--output-dir", out, "--no-translate")
    no_traceback(result)
    assert result.returncode == 0, err(result)
    made = visible(out)
    assert len(made) == 3
    assert all(len(os.fsencode(name)) <= 255 and name.endswith(".jsonl") for name in made)
    texts = sorted(json.loads(data.splitlines()[0])["original"] for data in made.values())
    assert texts == ["Hello world, one.", "Hello world, three.", "Hello world, two."]
    assert temporaries(out) == []


@pytest.mark.parametrize("fmt", ["html", "md", "tsv"])
def test_non_utf8_file_names_and_lone_surrogates_reach_every_writer_and_review(tmp_path, fmt):
    inputs = tmp_path / "in"
    inputs.mkdir()
    name = b"caf\xe9-latin1.txt"  # a Latin-1 file name: not UTF-8
    (inputs / os.fsdecode(name)).write_bytes("Hello from a café.".encode())
    out = tmp_path / "out"
    result = cli("run", inputs, "--output-dir", out, "--format", fmt, "--no-translate")
    no_traceback(result)
    assert result.returncode == 0, err(result)
    (report,) = [p for p in out.iterdir() if p.name != STATE]
    assert "café" in report.read_text(encoding="utf-8")

    one = cli("run", inputs, "-o", tmp_path / f"all.{fmt}", "--format", fmt, "--no-translate")
    assert one.returncode == 0, err(one)
    # the same through review: a results file whose doc id and text hold lone surrogates
    results = tmp_path / "results.jsonl"
    assert cli("run", inputs, "-o", results, "--no-translate").returncode == 0
    record = json.loads(results.read_text(encoding="utf-8").splitlines()[0])
    record["original"] = "half a pair: \ud800 here"
    results.write_text(json.dumps(record) + "\n", encoding="utf-8")
    reviewed = cli("review", results, "-o", tmp_path / f"report.{fmt}")
    no_traceback(reviewed)
    assert reviewed.returncode == 0, err(reviewed)
    assert "\\ud800" in (tmp_path / f"report.{fmt}").read_text(encoding="utf-8")


def test_lone_surrogates_from_the_library_go_through_the_writers(tmp_path):
    from polyglot_pipe.io.writers import Summary, get_writer
    from polyglot_pipe.util.atomic import atomic_write

    with Pipeline(translate=False) as pipeline:
        records = pipeline.process("Broken \ud800 pair and \udcff tail.", doc_id="doc\udce9").to_records()
    for fmt in ("jsonl", "html", "md", "tsv"):
        with atomic_write(tmp_path / f"out.{fmt}") as out:
            get_writer(fmt)(records, out, Summary())
        text = (tmp_path / f"out.{fmt}").read_text(encoding="utf-8")
        assert "\\ud800" in text or "\\\\ud800" in text, fmt


# --- damaged state ---------------------------------------------------------------------------


def test_a_corrupt_memory_is_moved_aside_once_and_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    memory = cache / "memory.sqlite3"
    memory.write_bytes(b"this is no database, " * 500)
    env = {"POLYGLOT_PIPE_CACHE_DIR": str(cache)}
    packs = tmp_path / "packs"
    assert cli("packs", "install", RU_PACK, "--packs-dir", packs).returncode == 0
    source = tmp_path / "a.txt"
    source.write_text("Заголовок открываемого материала\n", encoding="utf-8")

    result = cli("run", source, "-o", tmp_path / "out.jsonl", "--packs-dir", packs, env=env)
    no_traceback(result)
    assert result.returncode == 0, err(result)
    assert err(result).count("damaged translation memory") == 1
    aside = [p for p in cache.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is no database")
    assert any(r["status"] == "ok" and r["method"].startswith("argos:") for r in map(json.loads, (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()))
    with sqlite3.connect(memory) as db:  # rebuilt, and filled by the run
        assert db.execute("SELECT COUNT(*) FROM translations").fetchone()[0] >= 1

    memory.write_bytes(b"\x00garbage" * 100)
    stats = cli("memory", "stats", env=env)
    no_traceback(stats)
    assert stats.returncode == 0 and "entries: 0" in stats.stdout.decode()
    memory.write_bytes(b"\x00garbage" * 100)
    cleared = cli("memory", "clear", env=env)
    no_traceback(cleared)
    assert cleared.returncode == 0, err(cleared)


def test_a_memory_damaged_inside_is_rebuilt_when_a_query_finds_it(tmp_path):
    from polyglot_pipe.memory import TranslationMemory
    from polyglot_pipe.packs.store import Pack

    path = tmp_path / "memory.sqlite3"
    pack = Pack("ru", "en", "1.0", tmp_path, sha256="ab" * 32)
    said: list[str] = []
    with TranslationMemory(path, say=said.append) as memory:
        memory.put_many(pack, [(f"source {i} " * 20, f"english {i}") for i in range(3000)])
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[8192:] = b"\xff" * (len(data) - 8192)  # the header and first pages survive, the rest is garbage
    path.write_bytes(bytes(data))
    with TranslationMemory(path, say=said.append) as memory:
        assert memory.get_many(pack, ["source 1 " * 20]) == {}
        memory.put_many(pack, [("again", "again")])
        assert memory.get_many(pack, ["again"]) == {"again": "again"}
    assert len(said) == 1 and "moved aside" in said[0]


@pytest.mark.skipif(ROOT_USER, reason="root may write any file: a read-only memory needs an ordinary user")
def test_a_read_only_memory_is_used_read_only_with_one_warning(tmp_path):
    from polyglot_pipe.memory import TranslationMemory
    from polyglot_pipe.packs.store import Pack

    path = tmp_path / "ro" / "memory.sqlite3"
    pack = Pack("ru", "en", "1.0", tmp_path, sha256="cd" * 32)
    with TranslationMemory(path) as memory:
        memory.put_many(pack, [("a", "b")])
    os.chmod(path, 0o444)
    os.chmod(path.parent, 0o555)
    try:
        said: list[str] = []
        with TranslationMemory(path, say=said.append) as memory:
            assert memory.get_many(pack, ["a"]) == {"a": "b"}
            memory.put_many(pack, [("c", "d")])  # kept nowhere, no error
            assert memory.get_many(pack, ["c"]) == {}
        assert len(said) == 1 and "read-only" in said[0]
        result = cli("memory", "clear", "--memory-path", path)
        no_traceback(result)
        assert result.returncode == 1 and "read-only" in err(result)
    finally:
        os.chmod(path.parent, 0o755)
        os.chmod(path, 0o644)


def _archive(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def test_pack_metadata_of_the_wrong_type_is_refused_and_a_broken_pack_folder_breaks_nothing(tmp_path):
    packs = tmp_path / "packs"
    bad = _archive(tmp_path / "bad.argosmodel", {
        "translate-xx_en-1_0/metadata.json": json.dumps({"from_code": 123, "to_code": "en"}).encode(),
        "translate-xx_en-1_0/model/model.bin": b"x",
    })
    result = cli("packs", "install", bad, "--packs-dir", packs)
    no_traceback(result)
    assert result.returncode == 1 and "from_code 123, not a language code" in err(result)
    assert [p.name for p in packs.iterdir() if not p.name.startswith(".")] == [] if packs.exists() else True
    assert not any(packs.glob(".installing-*"))

    # a pack folder already broken by someone else: everything still works around it
    assert cli("packs", "install", RU_PACK, "--packs-dir", packs).returncode == 0
    broken = packs / "translate-xx_en-1_0"
    broken.mkdir()
    (broken / "metadata.json").write_text(json.dumps({"from_code": 123, "to_code": ["en"]}), encoding="utf-8")
    listing = cli("packs", "list", "--packs-dir", packs)
    no_traceback(listing)
    assert listing.returncode == 0 and "ru->en" in listing.stdout.decode() and "not a usable pack" in err(listing)
    source = tmp_path / "a.txt"
    source.write_text("Заголовок открываемого материала\n", encoding="utf-8")
    ran = cli("run", source, "--packs-dir", packs, "-o", tmp_path / "out.jsonl")
    no_traceback(ran)
    assert ran.returncode == 0, err(ran)
    again = cli("packs", "install", RU_PACK, "--packs-dir", packs)
    assert again.returncode == 0, err(again)
    removed = cli("packs", "remove", broken.name, "--packs-dir", packs)
    no_traceback(removed)
    assert removed.returncode == 0 and not broken.exists()
    assert cli("packs", "remove", "ru-en", "--packs-dir", packs).returncode == 0


def test_an_archive_without_a_model_never_replaces_a_working_pack(tmp_path):
    packs = tmp_path / "packs"
    assert cli("packs", "install", RU_PACK, "--packs-dir", packs).returncode == 0
    before = visible(packs)
    with zipfile.ZipFile(RU_PACK) as zf:
        metadata = zf.read("translate-ru_en-1_0/metadata.json")
    hollow = _archive(tmp_path / "hollow.argosmodel", {"translate-ru_en-1_0/metadata.json": metadata})
    bad_model = _archive(tmp_path / "badmodel.argosmodel", {
        "translate-ru_en-1_0/metadata.json": metadata,
        "translate-ru_en-1_0/model/model.bin": b"not a model",
        "translate-ru_en-1_0/sentencepiece.model": b"not a tokenizer",
    })
    for archive, why in ((hollow, "no model/model.bin"), (bad_model, "model does not load")):
        result = cli("packs", "install", archive, "--packs-dir", packs)
        no_traceback(result)
        assert result.returncode == 1 and why in err(result) and "nothing installed" in err(result)
        assert visible(packs) == before  # the working pack, byte for byte
    assert sorted(p.name for p in packs.iterdir()) == ["translate-ru_en-1_0"]


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    packs = tmp_path / "packs"
    bomb = tmp_path / "bomb.argosmodel"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("translate-ru_en-1_0/metadata.json", json.dumps({"from_code": "ru", "to_code": "en"}))
        with zf.open("translate-ru_en-1_0/model/model.bin", "w") as member:
            block = b"\0" * (1 << 20)
            for _ in range(40):  # 40 MB of zeros, about 40 kB packed
                member.write(block)
    assert bomb.stat().st_size < 1 << 20
    result = cli("packs", "install", bomb, "--packs-dir", packs)
    no_traceback(result)
    assert result.returncode == 1 and "zip bomb" in err(result)
    assert not packs.exists() or not any(p for p in packs.rglob("*") if p.is_file())


# --- hangs and leaks -------------------------------------------------------------------------


def test_a_fifo_inside_an_input_folder_is_skipped_never_opened(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text("Hello world.", encoding="utf-8")
    os.mkfifo(inputs / "pipe.txt")
    result = cli("run", inputs, "--output-dir", tmp_path / "out", "--no-translate", timeout=60)
    no_traceback(result)
    assert result.returncode == 0, err(result)
    assert f"{inputs / 'pipe.txt'}: skipped (a FIFO, not a regular file)" in err(result)
    assert list(visible(tmp_path / "out")) == ["a.jsonl"]
    named = cli("run", inputs / "pipe.txt", "--no-translate", timeout=60)
    assert named.returncode == 1 and "not a regular file" in err(named)


def test_each_binary_file_skipped_in_a_folder_is_named(tmp_path):
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    (inputs / "a.txt").write_text("Hello world.", encoding="utf-8")
    (inputs / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (inputs / "sub" / "core.bin").write_bytes(b"\0\1\2" * 100)
    result = cli("run", inputs, "--output-dir", tmp_path / "out", "--no-translate", timeout=60)
    no_traceback(result)
    assert result.returncode == 0, err(result)
    for name in ("logo.png", "sub/core.bin"):
        assert err(result).count(f"{inputs / name}: skipped (a binary file, not text)") == 1
    assert list(visible(tmp_path / "out")) == ["a.jsonl"]


def _children(pid: int) -> set[int]:
    """Every process whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the workers through /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_worker_processes_die_with_their_parent(tmp_path, sig):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for n in range(400):
        (inputs / f"p{n:03d}.txt").write_text(f"Story {n}. Заголовок открываемого материала номер {n}.\n" * 50, encoding="utf-8")
    run = subprocess.Popen(
        [sys.executable, "-m", "polyglot_pipe", "run", str(inputs), "--output-dir", str(tmp_path / "out"),
         "--no-translate", "--workers", "2"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while len(workers) < 2 and run.poll() is None and time.monotonic() < deadline:
            workers = {p for p in _children(run.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")} if _alive(run.pid) else set()
            time.sleep(0.05)
        assert len(workers) == 2, "the run should have started its two workers"
        run.send_signal(sig)
        run.wait(timeout=60)
        deadline = time.monotonic() + 30
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(map(_alive, workers)), "workers outlived their parent"
    finally:
        run.kill()
        run.wait()
    assert "Traceback" not in run.stderr.read().decode(errors="replace")
    # what the killed run left, the next one cleans up, and finishes
    again = cli("run", inputs, "--output-dir", tmp_path / "out", "--no-translate", "--workers", "1")
    assert again.returncode == 0, err(again)
    assert temporaries(tmp_path / "out") == [] and len(visible(tmp_path / "out")) == 400


def test_a_part_file_left_by_sigkill_with_o_file_is_removed_by_the_next_run(tmp_path):
    source = tmp_path / "many.txt"
    source.write_text("".join(f"Line {n}: Заголовок открываемого материала.\n" for n in range(40000)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = subprocess.Popen(
        [sys.executable, "-m", "polyglot_pipe", "run", str(source), "--input-format", "lines", "-o", str(out),
         "--no-translate", "--workers", "1"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not temporaries(tmp_path) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert temporaries(tmp_path), "the run should be writing its output"
        run.send_signal(signal.SIGKILL)
        run.wait()
    finally:
        run.kill()
        run.wait()
    assert temporaries(tmp_path) and not out.exists()
    neighbour = tmp_path / ".other.pp1-abc.part"  # not this output's: left alone
    neighbour.write_text("x")
    small = tmp_path / "small.txt"
    small.write_text("Hello.\n", encoding="utf-8")
    again = cli("run", small, "-o", out, "--no-translate")
    assert again.returncode == 0, err(again)
    assert temporaries(tmp_path) == [neighbour] and out.exists()


# --- silent loss and wrong meaning ------------------------------------------------------------


@pytest.mark.skipif(ROOT_USER, reason="root reads any folder: an unreadable one needs an ordinary user")
def test_an_unreadable_sub_folder_is_reported_with_exit_1(tmp_path):
    inputs = tmp_path / "in"
    (inputs / "locked").mkdir(parents=True)
    (inputs / "a.txt").write_text("Hello.", encoding="utf-8")
    (inputs / "locked" / "b.txt").write_text("Hidden.", encoding="utf-8")
    os.chmod(inputs / "locked", 0)
    try:
        result = cli("run", inputs, "--output-dir", tmp_path / "out", "--no-translate")
    finally:
        os.chmod(inputs / "locked", 0o755)
    assert result.returncode == 1 and f"{inputs / 'locked'}: cannot read this folder" in err(result)
    assert list(visible(tmp_path / "out")) == ["a.jsonl"]


def test_a_sub_folder_that_cannot_be_listed_is_reported_with_exit_1(tmp_path):
    """A folder too deep to name (its path longer than PATH_MAX): os.walk cannot list it, even as root."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text("Hello.", encoding="utf-8")
    fd = os.open(inputs, os.O_RDONLY)
    try:
        for _ in range(24):  # 24 x 201 bytes: past PATH_MAX (4096)
            os.mkdir("d" * 200, dir_fd=fd)
            deeper = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = deeper
        with open(os.open("deep.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as fh:
            fh.write("Too deep.")
    finally:
        os.close(fd)
    result = cli("run", inputs, "--output-dir", tmp_path / "out", "--no-translate")
    no_traceback(result)
    assert result.returncode == 1 and "cannot read this folder (File name too long)" in err(result)
    assert list(visible(tmp_path / "out")) == ["a.jsonl"]


def test_run_never_writes_over_its_input(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("My notes. Do not lose them.", encoding="utf-8")
    for output in (notes, tmp_path / "." / "notes.txt"):
        result = cli("run", notes, "-o", output, "--no-translate")
        assert result.returncode == 2 and "refusing to write over it" in err(result)
    link = tmp_path / "link.jsonl"
    link.symlink_to(notes)
    assert cli("run", notes, "-o", link, "--no-translate").returncode == 2
    assert notes.read_text(encoding="utf-8") == "My notes. Do not lose them."


def test_o_is_always_a_file_and_output_dir_a_folder(tmp_path):
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("Hello one.", encoding="utf-8")
    two.write_text("Hello two.", encoding="utf-8")
    assert cli("run", one, two, "-o", tmp_path / "out", "--no-translate").returncode == 0
    assert (tmp_path / "out").is_file()
    folder = cli("run", one, two, "--output-dir", tmp_path / "dir", "--no-translate")
    assert folder.returncode == 0 and sorted(visible(tmp_path / "dir")) == ["one.jsonl", "two.jsonl"]
    assert "deprecated" not in err(folder)
    old = cli("run", one, two, "-o", f"{tmp_path}/old/", "--no-translate")
    assert old.returncode == 0 and sorted(visible(tmp_path / "old")) == ["one.jsonl", "two.jsonl"]
    assert err(old).count("deprecated; write --output-dir") == 1
    both = cli("run", one, "-o", tmp_path / "x", "--output-dir", tmp_path / "y", "--no-translate")
    assert both.returncode == 2 and "give one" in err(both)


def test_up_to_date_means_same_input_and_same_signature(tmp_path, ru_packs_dir):
    source = tmp_path / "in" / "a.txt"
    source.parent.mkdir()
    source.write_text("Заголовок открываемого материала\n", encoding="utf-8")
    out = tmp_path / "out"
    common = ("--output-dir", out, "--packs-dir", ru_packs_dir)
    first = cli("run", source.parent, *common, "--no-translate")
    assert first.returncode == 0
    assert json.loads((out / "a.jsonl").read_text(encoding="utf-8").splitlines()[0])["status"] == "skipped"
    second = cli("run", source.parent, *common)  # the options changed: redone
    assert second.returncode == 0 and "up to date" not in err(second)
    assert json.loads((out / "a.jsonl").read_text(encoding="utf-8").splitlines()[0])["status"] == "ok"
    third = cli("run", source.parent, *common)
    assert "skipped 1 input(s) whose output is up to date" in err(third)
    source.write_text("Заголовок открываемого материала\nНовость о погоде.\n", encoding="utf-8")
    fourth = cli("run", source.parent, *common)  # the input changed: redone
    assert "up to date" not in err(fourth)
    assert len((out / "a.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_a_stale_output_of_another_name_is_removed(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "c.txt").write_text("Hello text.", encoding="utf-8")
    out = tmp_path / "out"
    assert cli("run", inputs, "--output-dir", out, "--no-translate").returncode == 0
    assert list(visible(out)) == ["c.jsonl"]
    (inputs / "c.md").write_text("Hello markdown.", encoding="utf-8")
    assert cli("run", inputs, "--output-dir", out, "--no-translate").returncode == 0
    assert sorted(visible(out)) == ["c.md.jsonl", "c.txt.jsonl"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_bomless_utf16_and_utf32_files_are_read_as_the_library_reads_them(tmp_path, encoding):
    from polyglot_pipe.stages.decode import decode_bytes

    text = "Привет, мир! Hello, world. Это проверка.\n" * 200  # more than the 4096 bytes sniffed
    data = text.encode(encoding)
    assert decode_bytes(data).text == text
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "u.txt").write_bytes(data)
    result = cli("run", folder, "-o", tmp_path / "out.jsonl", "--no-translate")
    assert result.returncode == 0, err(result)
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records[0]["encoding"] == encoding
    assert "".join(r["original"] + r.get("space_after", "") for r in records) == text


# --- arguments --------------------------------------------------------------------------------


def _has_gpu() -> bool:
    import ctranslate2

    return ctranslate2.get_cuda_device_count() > 0


@pytest.mark.parametrize(
    "option, words",
    [
        (("--threads", "100000"), "--threads 100000: must be between 0"),
        (("--threads", "-1"), "--threads -1: must be between 0"),
        (("--beam-size", "0"), "--beam-size 0: must be between 1"),
        (("--device", "cuda"), "--device cuda: no CUDA GPU"),
    ],
)
def test_bad_translation_options_are_one_line_and_exit_2_before_any_work(tmp_path, option, words):
    if option[0] == "--device" and _has_gpu():
        pytest.skip("there is a GPU here")
    source = tmp_path / "a.txt"
    source.write_text("Заголовок открываемого материала\n", encoding="utf-8")
    result = cli("run", source, "--output-dir", tmp_path / "out", *option)
    assert result.returncode == 2
    lines = err(result).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"polyglot-pipe: {words}"), lines
    assert not (tmp_path / "out").exists()


def test_exit_1_when_every_translation_failed(tmp_path):
    packs = tmp_path / "packs"
    assert cli("packs", "install", RU_PACK, "--packs-dir", packs).returncode == 0
    (packs / "translate-ru_en-1_0" / "model" / "model.bin").write_bytes(b"damaged after install")
    source = tmp_path / "a.txt"
    source.write_text("Заголовок открываемого материала\n", encoding="utf-8")
    result = cli("run", source, "--packs-dir", packs, "-o", tmp_path / "out.jsonl", "--no-memory")
    no_traceback(result)
    assert result.returncode == 1
    assert "every translation failed" in err(result)


# --- terminal ---------------------------------------------------------------------------------


def test_show_never_sends_escape_sequences_from_the_text(tmp_path):
    results = tmp_path / "r.jsonl"
    hostile = "red \x1b[31mALERT\x1b[0m title \x1b]0;owned\x07 bell \x07 rtl \u202egnp.exe"
    record = {"doc": "d\x1b[2J", "index": 0, "original": hostile, "lang": "en", "status": "ok", "english": hostile,
              "method": "source"}
    results.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = cli("show", results, "--no-pager", "--width", "200")
    assert result.returncode == 0, err(result)
    shown = result.stdout.decode("utf-8")
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "\\x1b[31mALERT" in shown and "\\u202e" in shown


# --- threads ------------------------------------------------------------------------------------


def test_one_pipeline_shared_by_threads_labels_as_one_thread_does():
    """The n-gram model's word store is shared and grows as words are first seen: new words
    from many threads at once used to land on each other's rows (40 of 200 documents differed)."""
    import random

    rng = random.Random(0)
    letters = {"ru": "абвгдежзиклмнопрстуфхцчшщыэюя", "en": "abcdefghijklmnopqrstuvwxyz", "de": "abcdefghijklmnopqrstuvwxyzäöüß"}
    texts = [
        " ".join("".join(rng.choice(letters[lang]) for _ in range(rng.randint(3, 9)))
                 for lang in rng.choices(list(letters), k=200))
        for _ in range(200)
    ]
    with Pipeline(translate=False) as alone:
        expected = [[(f.lang, f.lang_confidence) for f in alone.label(t).fragments] for t in texts]
        alone.identifier.model.clear_words()  # every word new again for the threads
    got: dict[int, list] = {}
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        with Pipeline(translate=False) as shared:

            def work(indices):
                for i in indices:
                    got[i] = [(f.lang, f.lang_confidence) for f in shared.label(texts[i]).fragments]

            threads = [threading.Thread(target=work, args=(range(k, len(texts), 8),)) for k in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert [got[i] for i in range(len(texts))] == expected


def test_close_releases_workers_models_and_the_memory(tmp_path, ru_packs_dir):
    with Pipeline(packs_dir=ru_packs_dir, memory=tmp_path / "memory.sqlite3", workers=2) as pipeline:
        docs = list(pipeline.process_many([f"Заголовок открываемого материала {n}" for n in range(40)]))
        assert all(f.status == "ok" for d in docs for f in d.fragments if f.lang == "ru")
        pool = pipeline._pool
        workers = list(pool._processes.values())
        assert pipeline.translator._loaded and pipeline.translator.memory._db is not None
    assert pipeline._pool is None and not pipeline.translator._loaded
    assert pipeline.translator.memory._db is None
    assert not any(worker.is_alive() for worker in workers)
    os.replace(tmp_path / "memory.sqlite3", tmp_path / "moved.sqlite3")  # nothing holds it open
