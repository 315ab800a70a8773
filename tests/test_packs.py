"""Managing packs like a package manager: install (file, folder, URL, index code), list, remove,
available, update-index, install_missing; downloads from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import build_dummy_pack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polyglot_pipe.cli.main import main
from polyglot_pipe.packs import index as pack_index
from polyglot_pipe.packs.install import install_missing
from polyglot_pipe.packs.store import (
    PackError,
    find_pack,
    install_pack_file,
    installed_packs,
    parse_pair,
    remove_packs,
)

ROOT = Path(__file__).resolve().parent.parent
REAL_PACKS = sorted((ROOT / "language_packs").glob("*.argosmodel"))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit status, stdout, stderr)."""
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def leftovers(packs: Path) -> list[str]:
    """Anything in the packages dir that is not an installed pack (temp files, staging folders)."""
    if not packs.exists():
        return []
    names = {p.path.name for p in installed_packs(packs)}
    return sorted(child.name for child in packs.iterdir() if child.name not in names)


# --- files and folders ---------------------------------------------------------------------------


def test_install_file_then_list_shows_pair_version_size_sha256_and_path(packs_env, tmp_path, capsys):
    archive = build_dummy_pack(tmp_path)
    rc, out, err = cli(capsys, "packs", "install", str(archive))
    assert rc == 0, err
    assert out.startswith("installed ru->en 1.0 from ")

    rc, out, err = cli(capsys, "packs", "list")
    assert rc == 0
    [line] = out.splitlines()
    pair, version, size, sha256, path = line.split("\t")
    assert (pair, version) == ("ru->en", "1.0")
    assert size.endswith(" MB")
    assert sha256 == sha256_of(archive)
    assert Path(path) == packs_env / "translate-ru_en-1_0"
    assert (Path(path) / "metadata.json").is_file()


def test_list_with_nothing_installed_says_where_it_looked(packs_env, capsys):
    rc, out, err = cli(capsys, "packs", "list")
    assert rc == 0 and out == ""
    assert str(packs_env) in err


def test_packs_dir_option_works_before_and_after_the_action(packs_env, tmp_path, capsys):
    archive = build_dummy_pack(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    assert cli(capsys, "packs", "--packs-dir", str(elsewhere), "install", str(archive))[0] == 0
    rc, out, _ = cli(capsys, "packs", "list", "--packs-dir", str(elsewhere))
    assert rc == 0 and str(elsewhere) in out
    assert installed_packs(packs_env) == []


def test_install_a_folder_of_packs(packs_env, tmp_path, capsys):
    folder = tmp_path / "language_packs"
    folder.mkdir()
    build_dummy_pack(folder, "ru")
    build_dummy_pack(folder, "de")
    rc, out, err = cli(capsys, "packs", "install", str(folder))
    assert rc == 0, err
    assert [(p.from_code, p.to_code) for p in installed_packs()] == [("de", "en"), ("ru", "en")]


def test_a_new_version_replaces_the_old_one(packs_env, tmp_path):
    install_pack_file(build_dummy_pack(tmp_path, version="1.0"))
    newer = build_dummy_pack(tmp_path, version="1.1")
    install_pack_file(newer)
    assert [(p.from_code, p.version, p.sha256) for p in installed_packs()] == [("ru", "1.1", sha256_of(newer))]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("notzip.argosmodel", b"hello", "not a zip archive"),
        ("nometa.argosmodel", {"pack/model/model.bin": b"x"}, "no pack/metadata.json"),
        ("two.argosmodel", {"a/metadata.json": b"{}", "b/metadata.json": b"{}"}, "expected one top folder"),
        ("escape.argosmodel", {"pack/metadata.json": b"{}", "pack/../../evil": b"x"}, "unsafe paths"),
        ("nocode.argosmodel", {"pack/metadata.json": b'{"from_code": "ru"}'}, "lacks 'to_code'"),
    ],
)
def test_bad_archives_get_one_line_and_install_nothing(packs_env, tmp_path, capsys, name, content, message):
    import zipfile

    archive = tmp_path / name
    if isinstance(content, bytes):
        archive.write_bytes(content)
    else:
        with zipfile.ZipFile(archive, "w") as zf:
            for member, data in content.items():
                zf.writestr(member, data)
    rc, out, err = cli(capsys, "packs", "install", str(archive))
    assert rc == 1
    assert len(err.splitlines()) == 1 and message in err
    assert installed_packs() == [] and leftovers(packs_env) == []


def test_reinstalling_the_same_file_leaves_one_working_copy(packs_env, tmp_path):
    archive = build_dummy_pack(tmp_path)
    first = install_pack_file(archive)
    second = install_pack_file(archive)
    assert first == second and installed_packs() == [second]
    assert leftovers(packs_env) == []


def test_list_names_folders_that_are_not_usable_packs(packs_env, tmp_path, capsys):
    install_pack_file(build_dummy_pack(tmp_path))
    (packs_env / "half-copied").mkdir()
    (packs_env / "half-copied" / "metadata.json").write_text("{trunc")
    rc, out, err = cli(capsys, "packs", "list")
    assert rc == 0 and out.startswith("ru->en\t")
    assert "half-copied: not a usable pack (unreadable metadata.json" in err


def test_install_of_something_that_is_neither_file_nor_code(packs_env, capsys):
    rc, _, err = cli(capsys, "packs", "install", "no/such/file.argosmodel")
    assert rc == 1 and len(err.splitlines()) == 1 and "no such file" in err


# --- remove ----------------------------------------------------------------------------------------


def test_remove_by_pair_by_code_and_by_folder(packs_env, tmp_path, capsys):
    for code in ("ru", "de", "fr"):
        install_pack_file(build_dummy_pack(tmp_path, code))
    rc, out, _ = cli(capsys, "packs", "remove", "ru_en")
    assert rc == 0 and out.startswith("removed ru->en 1.0")
    rc, out, _ = cli(capsys, "packs", "remove", "de")
    assert rc == 0 and "removed de->en" in out
    rc, out, _ = cli(capsys, "packs", "remove", str(packs_env / "translate-fr_en-1_0"))
    assert rc == 0 and "removed fr->en" in out
    assert installed_packs() == []


def test_remove_of_what_is_not_installed_fails_honestly(packs_env, tmp_path, capsys):
    install_pack_file(build_dummy_pack(tmp_path, "ru"))
    rc, out, err = cli(capsys, "packs", "remove", "de-en", "ru-en")
    assert rc == 1
    assert "de-en: no such pack installed" in err
    assert "removed ru->en" in out  # the rest is still done


def test_remove_refuses_a_folder_that_is_not_an_installed_pack(packs_env, tmp_path, capsys):
    outside = tmp_path / "mine"
    outside.mkdir()
    (outside / "metadata.json").write_text('{"from_code": "ru", "to_code": "en"}')
    rc, _, err = cli(capsys, "packs", "remove", str(outside))
    assert rc == 1 and "not removing it" in err
    assert outside.is_dir()


# --- index: update-index, available, install CODE -----------------------------------------------


def test_update_index_then_available_lists_the_index(packs_env, pack_server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", pack_server.url)
    pack_server.add_pack(build_dummy_pack(tmp_path, "ru"), size=1234)
    pack_server.add_pack(build_dummy_pack(tmp_path, "de"))

    rc, _, err = cli(capsys, "packs", "available")
    assert rc == 1 and "packs update-index" in err  # nothing cached yet

    rc, out, err = cli(capsys, "packs", "update-index")
    assert rc == 0, err
    assert out.startswith(f"2 packs in {pack_server.url}index.json; cached in ")
    cache = Path(out.rstrip().rsplit(" ", 1)[1])
    assert cache.is_relative_to(packs_env.parent / "cache" / "polyglot_pipe")

    install_pack_file(build_dummy_pack(tmp_path, "de"))
    rc, out, err = cli(capsys, "packs", "available")
    assert rc == 0, err
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows == [
        ["de->en", "1.0", "German → English", "-", "1.0"],
        ["ru->en", "1.0", "Russian → English", "0.0 MB", "-"],
    ]
    rc, out, _ = cli(capsys, "packs", "available", "ru")
    assert [line.split("\t")[0] for line in out.splitlines()] == ["ru->en"]


def test_the_cache_belongs_to_one_index_url(packs_env, pack_server, tmp_path):
    pack_server.add_pack(build_dummy_pack(tmp_path, "ru"))
    pack_index.update_index(pack_server.url)
    assert [e.pair for e in pack_index.cached_index(pack_server.url)] == ["ru-en"]
    assert pack_index.cached_index(pack_server.url + "other/") is None


@pytest.mark.parametrize("spec, extra", [("ru", []), ("ru-en", []), ("ru_en", []), ("ru", ["--to", "en"])])
def test_install_a_code_through_the_index(packs_env, pack_server, tmp_path, capsys, monkeypatch, spec, extra):
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", pack_server.url)
    archive = build_dummy_pack(tmp_path, "ru")
    pack_server.add_pack(archive, sha256=sha256_of(archive))
    rc, out, err = cli(capsys, "packs", "install", spec, *extra)
    assert rc == 0, err
    assert f"installed ru->en 1.0 from {pack_server.url}index.json" in out
    assert find_pack("ru", "en").sha256 == sha256_of(archive)
    assert leftovers(packs_env) == []


def test_install_a_code_the_index_lacks(packs_env, pack_server, tmp_path, capsys):
    pack_server.add_pack(build_dummy_pack(tmp_path, "ru"))
    rc, _, err = cli(capsys, "packs", "install", "ja", "--index", pack_server.url)
    assert rc == 1 and len(err.splitlines()) == 1 and "has no ja->en pack" in err


def test_a_wrong_sha256_in_the_index_installs_nothing(packs_env, pack_server, tmp_path, capsys):
    pack_server.add_pack(build_dummy_pack(tmp_path, "ru"), sha256="0" * 64)
    rc, _, err = cli(capsys, "packs", "install", "ru", "--index", pack_server.url)
    assert rc == 1 and len(err.splitlines()) == 1
    assert "does not match the index's sha256" in err
    assert installed_packs() == [] and leftovers(packs_env) == []


@pytest.mark.parametrize("delta, message", [(+100, "broke off after"), (-100, "were expected")])
def test_a_size_in_the_index_must_match(packs_env, pack_server, tmp_path, capsys, delta, message):
    archive = build_dummy_pack(tmp_path, "ru", payload=os.urandom(5000))
    pack_server.add_pack(archive, size=archive.stat().st_size + delta)
    rc, _, err = cli(capsys, "packs", "install", "ru", "--index", pack_server.url)
    assert rc == 1 and len(err.splitlines()) == 1 and message in err
    assert installed_packs() == [] and leftovers(packs_env) == []


def test_a_stale_cached_index_is_refreshed_when_it_lacks_the_pair(packs_env, pack_server, tmp_path):
    pack_server.add_pack(build_dummy_pack(tmp_path, "de"))
    pack_index.update_index(pack_server.url)
    pack_server.add_pack(build_dummy_pack(tmp_path, "ru"))  # published after the index was cached
    from polyglot_pipe.packs.install import install_from_index

    assert install_from_index("ru", "en", index_url=pack_server.url).from_code == "ru"


def test_a_file_index_with_relative_links_works_without_a_server(packs_env, tmp_path, capsys):
    """A mirror on disk (or any index) may give links relative to index.json."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    archive = build_dummy_pack(mirror, "de")
    (mirror / "index.json").write_text(
        json.dumps([{"from_code": "de", "to_code": "en", "package_version": "1.0", "links": [archive.name],
                     "sha256": sha256_of(archive)}])
    )
    rc, out, err = cli(capsys, "packs", "install", "de", "--index", mirror.as_uri())
    assert rc == 0, err
    assert find_pack("de", "en").sha256 == sha256_of(archive)


def test_an_index_that_is_not_an_index(packs_env, pack_server, capsys):
    pack_server.write_index("<html>not json</html>")
    rc, _, err = cli(capsys, "packs", "update-index", "--index", pack_server.url)
    assert rc == 1 and len(err.splitlines()) == 1 and "not a JSON package index" in err


def test_index_url_follows_argostranslate(monkeypatch):
    monkeypatch.delenv("ARGOS_PACKAGE_INDEX", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent")
    assert pack_index.index_url() == pack_index.DEFAULT_INDEX + "index.json"
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", "http://mirror.example/argos/")
    assert pack_index.index_url() == "http://mirror.example/argos/index.json"
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", "http://mirror.example/argos")  # forgiven: no trailing slash
    assert pack_index.index_url() == "http://mirror.example/argos/index.json"
    assert pack_index.index_url("http://x/my.json") == "http://x/my.json"


def test_index_url_from_argostranslate_settings_json(tmp_path, monkeypatch):
    monkeypatch.delenv("ARGOS_PACKAGE_INDEX", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "argos-translate").mkdir()
    (tmp_path / "argos-translate" / "settings.json").write_text('{"ARGOS_PACKAGE_INDEX": "http://cfg.example/"}')
    assert pack_index.index_url() == "http://cfg.example/index.json"


# --- URLs, broken downloads, offline ----------------------------------------------------------------


def test_install_from_url(packs_env, pack_server, tmp_path, capsys):
    archive = build_dummy_pack(tmp_path, "de")
    pack_server.add_pack(archive)
    url = pack_server.url + archive.name
    rc, out, err = cli(capsys, "packs", "install", url)
    assert rc == 0, err
    assert out.startswith(f"installed de->en 1.0 from {url}")
    assert find_pack("de", "en").sha256 == sha256_of(archive)


def test_a_download_that_breaks_off_installs_nothing(packs_env, pack_server, tmp_path):
    """Through the real command line: one line on stderr, no traceback, exit 1, nothing left behind."""
    archive = build_dummy_pack(tmp_path, "ru", payload=os.urandom(200_000))
    pack_server.add_pack(archive)
    result = subprocess.run(
        [sys.executable, "-m", "polyglot_pipe", "packs", "install", pack_server.url + "broken/" + archive.name],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    size = archive.stat().st_size
    assert f"broke off after {size // 2} of {size} bytes; nothing installed" in line
    assert installed_packs() == [] and leftovers(packs_env) == []


def test_a_download_through_the_index_that_breaks_off(packs_env, pack_server, tmp_path, capsys):
    pack_server.add_pack(build_dummy_pack(tmp_path, "ru", payload=os.urandom(50_000)), link_prefix="broken/")
    rc, _, err = cli(capsys, "packs", "install", "ru", "--index", pack_server.url)
    assert rc == 1 and len(err.splitlines()) == 1 and "broke off" in err
    assert installed_packs() == [] and leftovers(packs_env) == []


def test_a_server_that_stops_sending_times_out(packs_env, pack_server, tmp_path, capsys):
    archive = build_dummy_pack(tmp_path, "ru")
    pack_server.add_pack(archive)
    rc, _, err = cli(capsys, "packs", "install", pack_server.url + "stall/" + archive.name, "--timeout", "0.5")
    assert rc == 1 and len(err.splitlines()) == 1 and "timed out" in err
    assert installed_packs() == [] and leftovers(packs_env) == []


def test_http_errors_are_one_line(packs_env, pack_server, capsys):
    rc, _, err = cli(capsys, "packs", "install", pack_server.url + "missing.argosmodel")
    assert rc == 1 and len(err.splitlines()) == 1 and "HTTP 404" in err


@pytest.mark.parametrize("args", [["install", "ru"], ["update-index"]])
def test_offline_is_one_line_and_a_failure(packs_env, offline_url, capsys, args):
    rc, out, err = cli(capsys, "packs", *args, "--index", offline_url)
    assert rc == 1 and out == ""
    [line] = err.splitlines()
    assert "cannot reach 127.0.0.1" in line and "offline?" in line


@pytest.mark.skipif(not REAL_PACKS, reason="language_packs/*.argosmodel not built yet")
@pytest.mark.parametrize("archive", REAL_PACKS, ids=[p.name for p in REAL_PACKS])
def test_a_real_pack_installed_from_url_translates(packs_env, pack_server, archive, capsys):
    from polyglot_pipe.stages.translate import LoadedPack

    entry = pack_server.add_pack(archive, sha256=sha256_of(archive))
    rc, out, err = cli(capsys, "packs", "install", entry["from_code"], "--index", pack_server.url)
    assert rc == 0, err
    pack = find_pack(entry["from_code"], "en")
    assert pack.sha256 == sha256_of(archive)
    english = LoadedPack.load(pack).translate(["Привет, мир." if pack.from_code == "ru" else "Hallo, Welt."])
    assert english[0].strip()


# --- install_missing (what `run --install-missing` calls) -----------------------------------------


def test_install_missing_installs_what_the_labels_need(packs_env, pack_server, tmp_path):
    pack_server.add_pack(build_dummy_pack(tmp_path, "ru"))
    pack_server.add_pack(build_dummy_pack(tmp_path, "de"))
    install_pack_file(build_dummy_pack(tmp_path, "de"))  # already there: not fetched again
    said: list[str] = []
    labels = ["en", "und", "ru", "ru", "de", "ja"]
    packs = install_missing(labels, "en", None, say=said.append, index_url=pack_server.url)
    assert [(p.from_code, p.to_code) for p in packs] == [("ru", "en")]
    assert find_pack("ru", "en") is not None
    assert said == [
        f"cannot install a ja->en pack: the index ({pack_server.url}index.json) has none",
        f"installed ru->en 1.0 into {packs_env / 'translate-ru_en-1_0'}",
    ]


def test_install_missing_offline_says_one_line_and_carries_on(packs_env, offline_url):
    said: list[str] = []
    assert install_missing(["ru", "de", "en"], "en", say=said.append, index_url=offline_url) == []
    [line] = said
    assert "offline?" in line and "not installing de->en, ru->en" in line


def test_install_missing_goes_on_after_a_broken_download(packs_env, pack_server, tmp_path):
    pack_server.add_pack(build_dummy_pack(tmp_path, "de", payload=os.urandom(20_000)), link_prefix="broken/")
    pack_server.add_pack(build_dummy_pack(tmp_path, "ru"))
    said: list[str] = []
    packs = install_missing(["de", "ru"], "en", packs_env, say=said.append, index_url=pack_server.url)
    assert [p.from_code for p in packs] == ["ru"]
    assert "broke off" in said[0] and said[1].startswith("installed ru->en")
    assert leftovers(packs_env) == []


def test_install_missing_with_a_broken_index_says_so_once(packs_env, pack_server):
    pack_server.write_index('{"not": "a list"}')
    said: list[str] = []
    assert install_missing(["ru", "de"], "en", say=said.append, index_url=pack_server.url) == []
    [line] = said
    assert "cannot read the package index" in line and "expected a JSON list" in line


def test_install_missing_uses_the_cached_index_and_fetches_nothing_else(packs_env, pack_server, tmp_path):
    """A cached index that has every pair needed is not fetched again."""
    pack_server.add_pack(build_dummy_pack(tmp_path, "ru"))
    pack_index.update_index(pack_server.url)
    pack_server.write_index("garbage")  # would fail if it were fetched again
    said: list[str] = []
    assert [p.from_code for p in install_missing(["ru"], say=said.append, index_url=pack_server.url)] == ["ru"]


def test_install_missing_with_nothing_missing_touches_no_network(packs_env, offline_url, tmp_path):
    install_pack_file(build_dummy_pack(tmp_path, "ru"))
    said: list[str] = []
    assert install_missing(["ru", "en", "und"], "en", say=said.append, index_url=offline_url) == []
    assert said == []


# --- argostranslate sees what we installed -----------------------------------------------------------


def test_argostranslate_sees_a_pack_we_installed(packs_env, tmp_path):
    pytest.importorskip("argostranslate")
    archive = build_dummy_pack(tmp_path, "ru")
    assert main(["packs", "install", str(archive)]) == 0
    code = (
        "import json; from argostranslate import package\n"
        "print(json.dumps([[p.from_code, p.to_code, p.package_version, str(p.package_path)]"
        " for p in package.get_installed_packages()]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == [["ru", "en", "1.0", str(packs_env / "translate-ru_en-1_0")]]


# --- properties ----------------------------------------------------------------------------------------

codes = st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=3)


@given(codes, codes, st.sampled_from(["-", "_", "->"]))
def test_pair_syntax_round_trips(from_code, to_code, separator):
    assert parse_pair(f"{from_code}{separator}{to_code}") == (from_code, to_code)
    assert parse_pair(from_code, to_code) == (from_code, to_code)
    assert parse_pair(from_code.upper()) == (from_code, "en")


@given(st.text(max_size=12))
def test_parse_pair_accepts_or_says_why(spec):
    try:
        from_code, to_code = parse_pair(spec)
    except PackError as exc:
        assert repr(spec.strip()) in str(exc)
    else:
        assert from_code.isalpha() and to_code.isalpha()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
index_fields = st.fixed_dictionaries(
    {},
    optional={
        "from_code": st.one_of(codes, json_values),
        "to_code": st.one_of(codes, json_values),
        "package_version": json_values,
        "links": st.one_of(st.lists(st.text(max_size=10), max_size=2), json_values),
        "sha256": json_values,
        "size": json_values,
        "type": st.sampled_from(["translate", "sbd"]),
    },
)


@given(st.one_of(json_values, st.lists(st.one_of(index_fields, json_values), max_size=5)))
def test_any_json_is_an_index_or_a_clear_error(value):
    data = json.dumps(value)
    try:
        entries = pack_index.parse_index(data, "test")
    except PackError as exc:
        assert str(exc).startswith("test: not a package index")
    else:
        for entry in entries:
            assert entry.from_code and entry.to_code and entry.links
            assert entry.size is None or entry.size >= 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(min_size=0, max_size=5000))
def test_what_is_installed_is_exactly_what_was_downloaded(packs_env, pack_server, tmp_path, payload):
    archive = build_dummy_pack(tmp_path, "ru", payload=payload)
    pack_server.add_pack(archive)
    from polyglot_pipe.packs.install import install_from_url

    pack = install_from_url(pack_server.url + archive.name, sha256=sha256_of(archive))
    assert pack.sha256 == sha256_of(archive)
    assert (pack.path / "payload.bin").read_bytes() == payload
    assert leftovers(packs_env) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_archive_installs_whole_or_not_at_all(packs_env, tmp_path, data):
    """Truncated or bit-flipped archives: a one-line PackError and nothing left behind, or a complete pack."""
    good = build_dummy_pack(tmp_path, "ru", payload=b"model weights " * 200).read_bytes()
    damaged = bytearray(good)
    if data.draw(st.booleans(), label="truncate"):
        damaged = damaged[: data.draw(st.integers(0, len(good) - 1), label="cut")]
    else:
        position = data.draw(st.integers(0, len(good) - 1), label="position")
        damaged[position] ^= data.draw(st.integers(1, 255), label="xor")
    archive = tmp_path / "damaged.argosmodel"
    archive.write_bytes(bytes(damaged))
    for pack in installed_packs(packs_env):
        remove_packs(str(pack.path), packs_env)
    try:
        pack = install_pack_file(archive, packs_env)
    except PackError as exc:
        assert "\n" not in str(exc)
        assert installed_packs(packs_env) == []
    else:
        assert (pack.path / "metadata.json").is_file() and pack.sha256 == sha256_of(archive)
    assert leftovers(packs_env) == []


@pytest.mark.skipif(not REAL_PACKS, reason="language_packs/*.argosmodel not built yet")
def test_translate_scored_gives_the_rendering_and_a_mean_log_probability(tmp_path):
    """The score is the mean log-probability per output token: negative, and the same text
    as ``translate``; a long text split into pieces gets one token-weighted score."""
    from polyglot_pipe.packs.store import install_pack_file
    from polyglot_pipe.stages.translate import LoadedPack

    archive = next(p for p in REAL_PACKS if "ru_en" in p.name)
    loaded = LoadedPack.load(install_pack_file(archive, tmp_path / "packs"), threads=1)
    texts = ["Файл не найден", "Привет, мир. " * 60]
    scored = loaded.translate_scored(texts)
    assert [text for text, _ in scored] == loaded.translate(texts)
    for _, score in scored:
        assert -50.0 < score < 0.0
