#!/usr/bin/env python3
"""Extract parallel corpora (ru-en, de-en) from gettext catalogs in Debian packages.

The msgid/msgstr pairs of GNU gettext catalogs are real human translations
(Translation Project / upstream translators) and are distributed under the
licence of the package they ship in (GPL, see README.md).

Usage (reproducible; needs ``apt-get`` + ``dpkg-deb`` on a Debian 12 system):

    python language_packs/make_corpus.py                 # downloads the pinned .debs
    python language_packs/make_corpus.py --debs DIR      # uses .debs already in DIR

Writes ``corpus/<lang>-en.tsv`` (training) and ``corpus/<lang>-en.heldout.tsv``
(a small set of pairs NOT used for training, for the README's held-out
examples). Each line is ``source<TAB>english``.
"""

from __future__ import annotations

import argparse
import gettext
import hashlib
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# Debian 12 (bookworm) packages, pinned. Their translations are bundled in the
# binary package under /usr/share/locale/<lang>/LC_MESSAGES/<domain>.mo.
PACKAGES: dict[str, str] = {
    "apt": "2.6.2",
    "bash": "5.2.15-2+b13",
    "coreutils": "9.1-1",
    "cpio": "2.13+dfsg-7.1",
    "diffutils": "1:3.8-4",
    "dpkg": "1.21.23",
    "findutils": "4.9.0-4",
    "gettext": "0.21-12",
    "grep": "3.8-5",
    "make": "4.3-4.1",
    "nano": "7.2-1+deb12u1",
    "sed": "4.9-1+deb12u1",
    "tar": "1.34+dfsg-1.2+deb12u1",
    "wget": "1.21.3-1+deb12u1",
}
LANGS = ("ru", "de")
MAX_PAIRS = 1000        # training pairs per language
HELDOUT = 60            # held-out pairs per language
MAX_SRC_CHARS = 50      # English msgid length cap (chars)
MAX_TGT_CHARS = 70      # translation length cap (chars)
SEED = 0

_FMT = re.compile(r"%(?:\d+\$)?[-+ #0']*\d*(?:\.\d+)?(?:hh|h|ll|l|j|z|t|L)?[diouxXeEfgGcspa%]|%<PRI\w+>")
_CYR = re.compile(r"[А-Яа-яЁё]")
_LETTER = re.compile(r"[^\W\d_]{2,}")


def _download(dest: Path) -> None:
    specs = [f"{name}={ver}" for name, ver in PACKAGES.items()]
    subprocess.run(["apt-get", "download", *specs], cwd=dest, check=True)


def _clean(text: str) -> str | None:
    text = text.strip()
    if "\n" in text or "\t" in text or "\r" in text:
        return None                      # multi-line help texts: skip
    if "^" in text or "\x1b" in text:    # nano key names / escapes
        return None
    text = re.sub(r"\s+", " ", text)
    return text or None


def _fmt_signature(text: str) -> list[str]:
    # positional %1$s -> %s; compare as a sorted multiset
    return sorted(re.sub(r"\d+\$", "", m) for m in _FMT.findall(text))


def _pairs_from_mo(path: Path, lang: str):
    with path.open("rb") as fh:
        cat = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    for msgid, msgstr in cat.items():
        if not isinstance(msgid, str) or not msgid:   # plurals, header
            continue
        if "\x04" in msgid:                           # msgctxt
            msgid = msgid.split("\x04", 1)[1]
        en, tr = _clean(msgid), _clean(msgstr)
        if not en or not tr or en == tr:
            continue
        if len(en) > MAX_SRC_CHARS or len(tr) > MAX_TGT_CHARS or len(en) < 4:
            continue
        if not _LETTER.search(en) or not _LETTER.search(tr):
            continue
        if lang == "ru" and not _CYR.search(tr):
            continue
        sig_en, sig_tr = _fmt_signature(en), _fmt_signature(tr)
        if sig_en != sig_tr or len(sig_en) > 2:       # keep light format strings only
            continue
        yield tr, en


def build(debs: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        found = {}
        for deb in sorted(debs.glob("*.deb")):
            info = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version"],
                                  check=True, capture_output=True, text=True).stdout
            fields = dict(line.split(": ", 1) for line in info.strip().splitlines())
            if fields["Package"] in PACKAGES:
                if fields["Version"] != PACKAGES[fields["Package"]]:
                    sys.exit(f"{deb.name}: version {fields['Version']} != pinned "
                             f"{PACKAGES[fields['Package']]}")
                found[fields["Package"]] = deb
                subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        missing = sorted(set(PACKAGES) - set(found))
        if missing:
            sys.exit(f"missing .debs: {missing}")
        out.mkdir(parents=True, exist_ok=True)
        for lang in LANGS:
            pairs: dict[str, str] = {}
            for mo in sorted((root / "usr/share/locale" / lang / "LC_MESSAGES").glob("*.mo")):
                for src, en in _pairs_from_mo(mo, lang):
                    pairs.setdefault(src, en)         # dedupe on the source side
            items = sorted(pairs.items())
            random.Random(SEED).shuffle(items)
            heldout, train = items[:HELDOUT], items[HELDOUT:HELDOUT + MAX_PAIRS]
            for name, rows in ((f"{lang}-en.tsv", train), (f"{lang}-en.heldout.tsv", heldout)):
                data = "".join(f"{s}\t{t}\n" for s, t in rows).encode("utf-8")
                (out / name).write_bytes(data)
                print(f"{name}: {len(rows)} pairs, {len(data)} bytes, "
                      f"sha256 {hashlib.sha256(data).hexdigest()[:16]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--debs", type=Path, help="directory holding the pinned .deb files")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "corpus")
    args = ap.parse_args(argv)
    if args.debs is None:
        with tempfile.TemporaryDirectory() as tmp:
            _download(Path(tmp))
            build(Path(tmp), args.out)
    else:
        build(args.debs, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
