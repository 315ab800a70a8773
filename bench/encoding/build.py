"""Build the encoding-repair evaluation data from real translated sentences.

Sentences are the msgstr strings of gettext catalogs (.mo) shipped in Debian
packages: real translations, written by people outside this project, one
catalog per language.  The builder writes

* data/sentences.jsonl: {"lang", "text", "source"} lines, up to PER_LANG per language;
* data/bytes/<encoding>/<nnn>-<lines>l.txt: files of 1 to 8 sentences encoded in each
  legacy code page (the folder names the code page, so ``bytes.decode(folder)`` is
  the expected text).

Usage (Debian with apt; needs network to the Debian mirror once):
    python bench/encoding/build.py            # downloads into bench/work/debs
    python bench/encoding/build.py --from DIR # use .deb files already in DIR
"""

from __future__ import annotations

import argparse
import gettext
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE / "data"
WORK = HERE.parent / "work" / "debs"

PACKAGES = ["coreutils", "tar", "gettext", "gettext-base", "findutils", "grep", "sed",
            "diffutils", "wget", "bash", "apt", "dpkg", "cpio", "make", "nano"]
LANGS = ["ru", "uk", "bg", "el", "pl", "cs", "hu", "sk", "sl", "hr", "de", "fr", "es",
         "pt", "it", "nl", "da", "sv", "ro", "vi", "tr", "ja", "zh_CN", "zh_TW", "ko"]
PER_LANG = 200

#: Legacy code pages and the languages whose sentences we encode in them.
BYTE_FILES = {
    "cp1251": ["ru", "uk", "bg"],
    "koi8-r": ["ru", "bg"],
    "koi8-u": ["uk"],
    "cp866": ["ru", "bg"],
    "iso-8859-5": ["ru", "bg"],
    "cp1250": ["pl", "cs", "hu", "sk", "sl", "hr"],
    "iso-8859-2": ["pl", "cs", "hu", "sk", "sl", "hr"],
    "cp1252": ["de", "fr", "es", "pt", "it", "nl", "da", "sv"],
    "latin-1": ["de", "fr", "es", "pt", "it", "nl", "da", "sv"],
    "cp1253": ["el"],
    "cp1254": ["tr"],
    "shift_jis": ["ja"],
    "euc-jp": ["ja"],
    "gb18030": ["zh_CN"],
    "big5": ["zh_TW"],
    "euc-kr": ["ko"],
}
FILES_PER_ENCODING = 60
LINE_COUNTS = (1, 2, 3, 5, 8)


def download(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", *PACKAGES], cwd=dest, check=True)


def catalogs(debs: Path, unpacked: Path):
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    for mo in sorted(unpacked.glob("usr/share/locale/*/LC_MESSAGES/*.mo")):
        yield mo.parts[-3], mo.stem, mo


def usable(line: str, lang: str) -> bool:
    """A sentence-like line: long enough, mostly letters, several words (CJK: several characters)."""
    if not 20 <= len(line) <= 200:
        return False
    visible = [c for c in line if not c.isspace()]
    letters = sum(c.isalpha() for c in visible)
    if letters < 0.7 * len(visible) or "\t" in line:
        return False
    return lang in ("ja", "zh_CN", "zh_TW") or len(line.split()) >= 3


def extract(debs: Path) -> list[dict]:
    unpacked = debs / "unpacked"
    shutil.rmtree(unpacked, ignore_errors=True)
    found: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    for lang, source, mo in catalogs(debs, unpacked):
        if lang not in found:
            continue
        try:
            with open(mo, "rb") as fp:
                catalog = gettext.GNUTranslations(fp)._catalog
        except (UnicodeDecodeError, OSError):
            continue  # a catalog not in UTF-8: skip rather than guess
        for key, text in catalog.items():
            if not key or not isinstance(text, str):
                continue
            for line in text.split("\n"):
                line = " ".join(line.split())
                if usable(line, lang):
                    found[lang].setdefault(line, source)
    rows = []
    for lang in LANGS:
        lines = sorted(found[lang])
        random.Random(lang).shuffle(lines)
        rows += [{"lang": lang, "text": t, "source": found[lang][t]} for t in lines[:PER_LANG]]
    return rows


def write_byte_files(rows: list[dict]) -> int:
    out = DATA / "bytes"
    shutil.rmtree(out, ignore_errors=True)
    by_lang: dict[str, list[str]] = {}
    for row in rows:
        by_lang.setdefault(row["lang"], []).append(row["text"])
    count = 0
    for encoding, langs in BYTE_FILES.items():
        folder = out / encoding
        folder.mkdir(parents=True)
        pools = {lang: [t for t in by_lang[lang] if _encodes(t, encoding) and not t.isascii()] for lang in langs}
        rng = random.Random(encoding)
        for n in range(FILES_PER_ENCODING):
            lang = langs[n % len(langs)]
            lines = rng.sample(pools[lang], LINE_COUNTS[n % len(LINE_COUNTS)])
            text = "\n".join(lines) + "\n"
            name = f"{n:03d}-{len(lines)}l.txt"
            (folder / name).write_bytes(text.encode(encoding))
            count += 1
    return count


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
        return True
    except UnicodeEncodeError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="debs", type=Path, help="folder of .deb files (default: download)")
    args = parser.parse_args()
    debs = args.debs or WORK
    if args.debs is None:
        download(debs)
    rows = extract(debs)
    DATA.mkdir(exist_ok=True)
    with open(DATA / "sentences.jsonl", "w", encoding="utf-8") as fp:
        for row in rows:
            fp.write(json.dumps(row, ensure_ascii=False) + "\n")
    files = write_byte_files(rows)
    langs = sorted({r["lang"] for r in rows})
    print(f"{len(rows)} sentences in {len(langs)} languages, {files} byte files under {DATA}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
