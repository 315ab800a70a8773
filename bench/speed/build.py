"""Build the speed corpora: real text that does not repeat (issue 16).

The throughput corpus (bench/throughput/) is built from the seed and repeats its
boilerplate, so line caches do most of the work there.  These corpora are
rendered Debian man pages and GNU gettext catalogs (apt-get download, unpacked
with dpkg-deb -x, never installed), every line kept once:

* ``en``: English man pages (package ``manpages``), one document per page, with
  Russian lines (catalog msgstrs and Russian man-page lines) inserted so that
  about 10 % of the non-blank lines are Russian (issue: <= 15 % foreign);
* ``ru``: Russian man pages (``manpages-ru``) with English lines (catalog
  msgids) inserted, about 12 % of the non-blank lines;
* ``lines``: short documents, one per line (catalog msgids and msgstrs of
  every language, 3-12 words), for ``--input-format lines``.

Each corpus is cut to about ``--mb`` MB.  Deterministic for a given set of
packages (sorted inputs, a seeded random.Random).  Writes gzip files into
bench/speed/data/ (committed: they are small).

    .venv/bin/python bench/speed/build.py [--src bench/work/speed] [--mb 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parent / "langid"))

from build_eval import read_catalogs  # noqa: E402

PACKAGES = """manpages manpages-ru coreutils tar grep sed findutils diffutils wget dpkg apt
gettext libc-l10n e2fsprogs-l10n util-linux-locales""".split()


def fetch(src: Path) -> Path:
    import subprocess

    debs = src / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    if not any(debs.glob("*.deb")):
        subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True)
    root = src / "x"
    if not root.exists():
        root.mkdir()
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def render_man(path: Path) -> str:
    """A man page as ``man`` shows it: groff, UTF-8, 80 columns, no overstrike."""
    import subprocess

    raw = subprocess.run(["zcat", str(path)], capture_output=True).stdout
    out = subprocess.run(["groff", "-k", "-mandoc", "-Tutf8", "-rLL=78n", "-P-cbou"], input=raw, capture_output=True)
    return out.stdout.decode("utf-8", "replace")


def man_pages(root: Path, lang: str) -> list[tuple[str, list[str]]]:
    """(name, rendered lines) for every page, lines never seen before only."""
    man = root / "usr/share/man"
    paths = sorted(man.glob("man*/*.gz")) if lang == "en" else sorted((man / lang).glob("man*/*.gz"))
    seen: set[str] = set()
    pages = []
    for path in paths:
        lines = []
        for line in render_man(path).splitlines():
            line = line.rstrip()
            key = line.strip()
            if key and key in seen:
                continue
            seen.add(key)
            lines.append(line)
        if sum(1 for x in lines if x.strip()) >= 5:
            pages.append((path.name, lines))
    return pages


def mix(pages, foreign: list[str], share: float, mb: float, rng: random.Random) -> list[dict]:
    """Insert foreign lines after random lines until ``share`` of non-blank lines are foreign."""
    docs, size, pool = [], 0, iter(foreign)
    for name, lines in pages:
        out = []
        for line in lines:
            out.append(line)
            if line.strip() and rng.random() < share / (1 - share):
                nxt = next(pool, None)
                if nxt is not None:
                    out.append("       " + nxt)
        text = "\n".join(out) + "\n"
        docs.append({"id": name, "text": text})
        size += len(text.encode())
        if size >= mb * 1e6:
            break
    return docs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", type=Path, default=HERE.parent / "work" / "speed")
    ap.add_argument("--out", type=Path, default=HERE / "data")
    ap.add_argument("--mb", type=float, default=3.0)
    args = ap.parse_args()
    root = fetch(args.src)
    rng = random.Random(16)
    msgids, ru_strs, short = set(), set(), set()
    for lang, _domain, msgid, msgstr in read_catalogs(root):
        for s in (msgid, msgstr):
            s = " ".join(s.split())
            if 3 <= len(s.split()) <= 12:
                short.add(s)
        msgid, msgstr = " ".join(msgid.split()), " ".join(msgstr.split())
        if len(msgid.split()) >= 3:
            msgids.add(msgid)
        if lang == "ru" and len(msgstr.split()) >= 3:
            ru_strs.add(msgstr)
    ru_pages = man_pages(root, "ru")
    en_pages = man_pages(root, "en")
    ru_lines = sorted(ru_strs) + sorted({x.strip() for _, ls in ru_pages for x in ls if len(x.split()) >= 4})
    en_lines = sorted(msgids)
    rng.shuffle(ru_lines)
    rng.shuffle(en_lines)
    corpora = {
        "en": mix(en_pages, ru_lines, 0.10, args.mb, rng),
        "ru": mix(ru_pages, en_lines, 0.12, args.mb, rng),
    }
    lines = sorted(short)
    rng.shuffle(lines)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, docs in corpora.items():
        with gzip.GzipFile(args.out / f"{name}.jsonl.gz", "wb", mtime=0) as fh:
            for doc in docs:
                fh.write((json.dumps(doc, ensure_ascii=False) + "\n").encode())
        print(name, len(docs), "documents", sum(len(d["text"].encode()) for d in docs) / 1e6, "MB")
    with gzip.GzipFile(args.out / "lines.txt.gz", "wb", mtime=0) as fh:
        fh.write(("\n".join(lines[:50_000]) + "\n").encode())
    print("lines", min(len(lines), 50_000))


if __name__ == "__main__":
    main()
