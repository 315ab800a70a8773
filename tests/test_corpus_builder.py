"""The Debian ru->en corpus builder (language_packs/debian_corpus.py): cleaning rules,
.mo reading, whole-package split, manifest verification. No network, no apt."""

from __future__ import annotations

import hashlib
import importlib.util
import struct
import sys
from collections import Counter
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parent.parent / "language_packs" / "debian_corpus.py"
_spec = importlib.util.spec_from_file_location("debian_corpus", _PATH)
dc = importlib.util.module_from_spec(_spec)
sys.modules["debian_corpus"] = dc
_spec.loader.exec_module(dc)


def write_mo(path: Path, entries: list[tuple[bytes, bytes]]) -> None:
    """A little-endian GNU .mo file, laid out as msgfmt does (sorted ids)."""
    entries = sorted(entries)
    n = len(entries)
    o_off, t_off = 28, 28 + 8 * n
    data_off = t_off + 8 * n
    blob = b""
    otab, ttab = [], []
    for mid, _ in entries:
        otab.append((len(mid), data_off + len(blob)))
        blob += mid + b"\x00"
    for _, mstr in entries:
        ttab.append((len(mstr), data_off + len(blob)))
        blob += mstr + b"\x00"
    head = struct.pack("<7I", 0x950412DE, 0, n, o_off, t_off, 0, data_off)
    body = b"".join(struct.pack("<2I", *e) for e in otab) + b"".join(struct.pack("<2I", *e) for e in ttab)
    path.write_bytes(head + body + blob)


HEADER = (b"", b"Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : 1);\n")


def test_accelerators_removed_both_sides():
    assert dc.clean_pair("_Open File", "_Открыть файл")[0] == ("Открыть файл", "Open File")
    assert dc.clean_pair("&Save As...", "Сохранить &как...")[0] == ("Сохранить как...", "Save As...")
    assert dc.clean_pair("~Edit", "~Правка")[0] == ("Правка", "Edit")
    # not accelerators: identifiers and entities
    assert dc.strip_accelerators("MAX_PATH &amp; x") == "MAX_PATH &amp; x"


@pytest.mark.parametrize("en, ru, kept", [
    ("Cannot open %s: %s", "Не удалось открыть %s: %s", True),
    ("%1$s of %2$d", "%2$d из %1$s", True),
    ("Copy {0} to {name}", "Копировать {0} в {name}", True),
    ("Set $HOME first", "Сначала задайте $HOME", True),
    ("<b>Warning</b>", "<b>Внимание</b>", True),
    ("Cannot open %s: %s", "Не удалось открыть %s", False),
    ("%d files", "%s файлов", False),
    ("Copy {0}", "Копировать {1}", False),
    ("<b>Warning</b>", "Внимание", False),
    ("100%% done, %s", "готово на 100%%, %s", True),
    ("%(count)d items in %(name)s", "%(name)s: %(count)d элементов", True),
    ("%(count)d items", "%(num)d элементов", False),
])
def test_placeholder_multiset(en, ru, kept):
    pair, rule = dc.clean_pair(en, ru)
    assert (pair is not None) == kept, rule
    if not kept:
        assert rule == "placeholder-mismatch"


@pytest.mark.parametrize("en, ru, rule", [
    ("Open", "", "untranslated-empty"),
    ("GNOME Shell", "GNOME Shell", "untranslated-same"),
    ("Firefox", "Firefox", "untranslated-same"),
    ("Settings", "Einstellungen", "no-cyrillic"),
    ("%s", "%s МБ", "no-letters"),
    ("A short one", "Очень " * 20 + "длинный перевод", "length-ratio"),
    ("x" * 500, "й" * 500, "too-long"),
    ("bad\x01char", "плохой", "control-chars"),
])
def test_drop_rules(en, ru, rule):
    assert dc.clean_pair(en, ru) == (None, rule)


def test_whitespace_normalised():
    pair, _ = dc.clean_pair("Usage:\n  prog\t[OPTION]  ", " Использование:\n  prog [ПАРАМЕТР]")
    assert pair == ("Использование: prog [ПАРАМЕТР]", "Usage: prog [OPTION]")


def test_mo_file_read_by_builder(tmp_path):
    mo = tmp_path / "x.mo"
    write_mo(mo, [
        HEADER,
        (b"Open", "Открыть".encode()),
        (b"menu\x04Open", "Открыть меню".encode()),                          # msgctxt
        (b"%d file\x00%d files", "%d файл\x00%d файла\x00%d файлов".encode()),  # plural
        (b"Close", b""),                                                   # empty msgstr
        (b"GTK+", b"GTK+"),                                                # untranslated
        (b"Cannot read %s", "Не удалось прочитать".encode()),               # placeholder lost
    ])
    header, entries = dc.read_mo(mo.read_bytes())
    assert header["Content-Type"].endswith("charset=UTF-8")
    by_id = {(e.context, e.msgid): e for e in entries}
    assert by_id[("menu", "Open")].msgstrs == ("Открыть меню",)
    assert by_id[(None, "%d file")].msgid_plural == "%d files"
    assert len(by_id[(None, "%d file")].msgstrs) == 3
    stats = Counter()
    pairs = sorted(dc.pairs_from_entries(entries, stats))
    assert pairs == [("%d файл", "%d file"), ("Открыть", "Open"), ("Открыть меню", "Open")]
    assert stats["untranslated-empty"] == 1 and stats["untranslated-same"] == 1
    assert stats["placeholder-mismatch"] == 1 and stats["plural-extra-forms"] == 2
    assert stats["msgctxt-entries"] == 1


def test_bad_mo_magic():
    with pytest.raises(dc.BuildError, match="bad magic"):
        dc.read_mo(b"\x00" * 40)


def test_split_is_whole_package_and_deterministic():
    names = [f"pkg{i}" for i in range(2000)]
    first = {n: dc.split_of(n) for n in names}
    assert first == {n: dc.split_of(n) for n in names}
    share = Counter(first.values())
    assert 20 <= share["dev"] <= 60 and 20 <= share["test"] <= 60
    # the rule is the documented hash rule
    for n in names[:50]:
        b = int(hashlib.sha256(n.encode()).hexdigest()[:8], 16) % 100
        assert first[n] == ("dev" if b < 2 else "test" if b < 4 else "train")


def test_build_splits_by_source_package(tmp_path):
    man = tmp_path / "manifest.tsv"
    # two binary packages of one source must land in the same split
    src = next(n for n in (f"src{i}" for i in range(1000)) if dc.split_of(n) == "dev")
    rows = [{"package": p, "source": s, "version": "1", "filename": f"pool/{p}_1_all.deb",
             "size": "1", "sha256": "0" * 64, "licence": "GPL-2+"}
            for p, s in (("a-bin", src), ("a-data", src), ("other", "train-src-x"))]
    dc.write_manifest(man, rows)
    assert dc.split_of("train-src-x") == "train"
    work = tmp_path / "work"
    for p, text in (("a-bin", "Выход"), ("a-data", "Закрыть окно"), ("other", "Открыть")):
        (work / "extract" / p).mkdir(parents=True)
        en = {"a-bin": b"Quit", "a-data": b"Close window", "other": b"Open"}[p]
        write_mo(work / "extract" / p / "x.mo", [HEADER, (en, text.encode())])
    out = dc.build(man, work)
    assert out["splits"]["dev"]["packages"] == 2 and out["splits"]["dev"]["source-packages"] == 1
    assert (work / "ru-en.dev.tsv").read_text() == "Выход\tQuit\nЗакрыть окно\tClose window\n"
    assert (work / "ru-en.train.tsv").read_text() == "Открыть\tOpen\n"
    first = (work / "ru-en.dev.tsv").read_bytes(), (work / "stats.json").read_bytes()
    dc.build(man, work)
    assert first == ((work / "ru-en.dev.tsv").read_bytes(), (work / "stats.json").read_bytes())


def test_conflicting_translations_majority_then_lexical():
    pairs = [("Открыть", "Open"), ("Открыть", "Open"), ("Открыть", "Open…"), ("Файл", "File"),
             ("Файл", "A file")]
    out, dups, conflicts = dc.resolve_conflicts(pairs)
    assert out == [("Открыть", "Open"), ("Файл", "A file")]
    assert dups == 1 and conflicts == 2


def test_manifest_rejects_wrong_sha256(tmp_path):
    deb = tmp_path / "p_1_all.deb"
    deb.write_bytes(b"not really a deb")
    row = {"package": "p", "version": "1", "filename": "pool/p_1_all.deb",
           "sha256": hashlib.sha256(b"something else").hexdigest()}
    with pytest.raises(dc.BuildError, match=r"p_1_all\.deb: sha256 [0-9a-f]{64} does not match manifest"):
        dc.verify_deb(deb, row)
    row["sha256"] = hashlib.sha256(b"not really a deb").hexdigest()
    dc.verify_deb(deb, row)
    assert dc.deb_name({"package": "p", "version": "1:2.0", "filename": "pool/p_2.0_amd64.deb"}) \
        == "p_1%3a2.0_amd64.deb"


def test_cli_wrong_sha256_is_one_line(tmp_path, capsys):
    debs = tmp_path / "debs"
    debs.mkdir()
    (debs / "p_1_all.deb").write_bytes(b"x")
    man = tmp_path / "m.tsv"
    dc.write_manifest(man, [{"package": "p", "source": "p", "version": "1", "filename": "pool/p_1_all.deb",
                             "size": "1", "sha256": "0" * 64, "licence": "?"}])
    rc = dc.main(["extract", "--manifest", str(man), "--debs", str(debs), "--work", str(tmp_path / "w"),
                  "--no-download"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and err.startswith("debian_corpus: error: p_1_all.deb: sha256")


def test_licence_summary():
    dep5 = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n" \
           "Files: *\nLicense: GPL-2+\n\nFiles: po/*\nLicense: LGPL-2.1+\n text\n"
    assert dc.licence_summary(dep5) == "GPL-2+; LGPL-2.1+"
    assert dc.licence_summary("This is free software under the GNU GPL.") == "GPL (free-form)"
    assert dc.licence_summary(None) == "unknown (no copyright file)"
