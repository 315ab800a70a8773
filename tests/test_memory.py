"""The translation memory: what a run remembers, what the next run reuses, and the memory command.

Every test translates with a real CTranslate2 pack: our ru->en pack when it has
been built (language_packs/build.sh), else a tiny ru->en pack with random
weights built here (real CTranslate2 + SentencePiece, meaningless output:
enough to see what is remembered and reused).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polyglot_pipe import Pipeline
from polyglot_pipe.memory import ENV_VAR, TranslationMemory, default_path, pack_key
from polyglot_pipe.packs.store import find_pack, read_pack

ROOT = Path(__file__).resolve().parent.parent
RUSSIAN_LINE = "Заголовок открываемого материала"
PAGE = f"Subscribe\n{RUSSIAN_LINE}\nМосква — столица России.\n{RUSSIAN_LINE}\n"


@pytest.fixture
def memory_path(tmp_path) -> Path:
    return tmp_path / "cache" / "memory.sqlite3"


def translated(doc) -> list[tuple[str, str | None, str, bool]]:
    return [(f.original, f.english, f.method, f.cached) for f in doc.fragments if f.lang == "ru"]


def russian_pipeline(packs_dir, memory, **kwargs) -> Pipeline:
    return Pipeline(packs_dir=packs_dir, langs=["en", "ru"], memory=memory, **kwargs)


# --- the library ---------------------------------------------------------------------------


def test_a_second_run_takes_translations_from_memory_and_says_so(ru_packs_dir, memory_path):
    first = russian_pipeline(ru_packs_dir, memory_path).process(PAGE)
    fresh = translated(first)
    assert fresh and all(not cached for *_, cached in fresh)
    assert {method for _, _, method, _ in fresh} == {find_pack("ru", "en", ru_packs_dir).id}

    again = russian_pipeline(ru_packs_dir, TranslationMemory(memory_path)).process(PAGE)
    reused = translated(again)
    # Same renderings, same pack named in method, now marked as coming from memory.
    assert [(o, e, m) for o, e, m, _ in reused] == [(o, e, m) for o, e, m, _ in fresh]
    assert all(cached for *_, cached in reused)
    assert all(r["cached"] is True for r in again.to_records() if r["lang"] == "ru")


def test_without_memory_nothing_is_cached_and_no_file_is_made(ru_packs_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "cache"))
    for _ in range(2):
        doc = russian_pipeline(ru_packs_dir, None).process(PAGE)
        assert translated(doc) and not any(cached for *_, cached in translated(doc))
    assert not (tmp_path / "cache").exists()


def test_the_key_holds_the_decoding_settings(ru_packs_dir, memory_path):
    russian_pipeline(ru_packs_dir, memory_path, beam_size=4).process(PAGE)
    beam1 = russian_pipeline(ru_packs_dir, memory_path, beam_size=1).process(PAGE)
    assert not any(cached for *_, cached in translated(beam1))
    stats = TranslationMemory(memory_path).stats()
    assert sorted(decoding for _, decoding, _ in stats.by_pack) == ["beam=1", "beam=4"]


def test_a_rebuilt_pack_does_not_reuse_the_old_packs_translations(ru_packs_dir, memory_path, tmp_path):
    russian_pipeline(ru_packs_dir, memory_path).process(PAGE)
    # The same pack name and version, other files: a rebuild, or another build of the same release.
    other = tmp_path / "other-packs"
    shutil.copytree(ru_packs_dir, other)
    folder = find_pack("ru", "en", other).path
    (folder / ".sha256").write_text("0" * 64 + "\n", encoding="ascii")
    assert pack_key(read_pack(folder)) != pack_key(find_pack("ru", "en", ru_packs_dir))
    doc = russian_pipeline(other, memory_path).process(PAGE)
    assert translated(doc) and not any(cached for *_, cached in translated(doc))


def test_memory_lives_in_the_user_cache_unless_moved(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    from platformdirs import user_cache_dir

    assert default_path() == Path(user_cache_dir("polyglot_pipe")) / "memory.sqlite3"
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert default_path() == tmp_path / "memory.sqlite3"


texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.dictionaries(texts, st.text(max_size=40), max_size=30), others=st.lists(texts, max_size=10))
def test_memory_gives_back_exactly_what_was_put(ru_packs_dir, tmp_path_factory, pairs, others):
    pack = find_pack("ru", "en", ru_packs_dir)
    with TranslationMemory(tmp_path_factory.mktemp("mem") / "m.sqlite3") as memory:
        memory.put_many(pack, pairs.items(), "beam=4")
        asked = list(pairs) + [o for o in others if o not in pairs]
        assert memory.get_many(pack, asked, "beam=4") == pairs
        assert memory.get_many(pack, asked, "beam=1") == {}
        assert memory.stats().entries == len(pairs)


# --- the command line ------------------------------------------------------------------------


def run_cli(*args: str, cache: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "polyglot_pipe", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, ENV_VAR: str(cache)},
        timeout=300,
    )


def records(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]


def test_cli_memory_is_on_by_default_and_no_memory_bypasses_it(ru_packs_dir, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    cache = tmp_path / "cache"
    common = ("run", str(page), "--packs-dir", str(ru_packs_dir), "--langs", "en,ru")

    first = run_cli(*common, cache=cache)
    assert first.returncode == 0, first.stderr
    assert not any(r.get("cached") for r in records(first))

    second = run_cli(*common, cache=cache)
    russian = [r for r in records(second) if r["lang"] == "ru"]
    assert russian and all(r["cached"] is True and r["method"].startswith("argos:ru-en@") for r in russian)
    assert [r["english"] for r in russian] == [r["english"] for r in records(first) if r["lang"] == "ru"]
    assert f"({len(russian)} from memory" in second.stderr.decode()

    bypass = run_cli(*common, "--no-memory", cache=cache)
    assert not any(r.get("cached") for r in records(bypass))
    assert [r["english"] for r in records(bypass)] == [r["english"] for r in records(first)]


def test_cli_memory_stats_and_clear(ru_packs_dir, tmp_path):
    cache = tmp_path / "cache"
    empty = run_cli("memory", "stats", cache=cache)
    assert empty.returncode == 0 and "entries: 0" in empty.stdout.decode()
    assert not cache.exists(), "stats must not create the memory"

    run_cli("run", "-", "--packs-dir", str(ru_packs_dir), "--langs", "en,ru", cache=cache, stdin=PAGE.encode())
    stats = run_cli("memory", "stats", cache=cache).stdout.decode()
    assert str(cache / "memory.sqlite3") in stats
    assert "entries: 2" in stats  # two distinct Russian lines
    assert "argos:ru-en@" in stats and "beam=4" in stats

    cleared = run_cli("memory", "clear", cache=cache)
    assert cleared.returncode == 0 and "removed 2 translation(s)" in cleared.stderr.decode()
    assert "entries: 0" in run_cli("memory", "stats", cache=cache).stdout.decode()
    again = run_cli("run", "-", "--packs-dir", str(ru_packs_dir), "--langs", "en,ru", cache=cache, stdin=PAGE.encode())
    assert not any(r.get("cached") for r in records(again))


def test_cli_memory_without_an_action_says_what_to_type(tmp_path):
    result = run_cli("memory", cache=tmp_path)
    assert result.returncode == 2
    assert "stats" in result.stderr.decode() and "Traceback" not in result.stderr.decode()
