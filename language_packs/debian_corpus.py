#!/usr/bin/env python3
"""Build a large ru->en corpus from every Debian 12 package that ships Russian .mo catalogs.

Sits beside make_corpus.py (which keeps building the 1,000-pair corpora of the 1.0 packs).
Three steps, each deterministic (sorted iteration, stable output):

    python language_packs/debian_corpus.py manifest   # apt-file + apt-cache -> debian-ru-manifest.tsv
    python language_packs/debian_corpus.py extract    # apt-get download, sha256 check, .mo + copyright
    python language_packs/debian_corpus.py build      # clean, split by source package, write TSVs

Packages are harvested by one rule (a file matching MO_PATH_RE in bookworm's Contents
index), never picked by hand. Cleaning rules and the split rule are in README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import struct
import subprocess
import sys
import tarfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "debian-ru-manifest.tsv"            # committed: pinned versions + sha256 + licence
WORK = HERE / "work"                                  # gitignored: extracted catalogs, output TSVs
DEBCACHE = Path("/work/debcache")                      # .deb cache outside git (override: --debs)

# Any .mo under a ru/LC_MESSAGES folder: /usr/share/locale/ru/... for most packages,
# program/resource/ru/... for libreoffice-l10n-ru, games/locale, python dist-packages, ...
MO_PATH_RE = r"/ru/LC_MESSAGES/[^/]+\.mo$"
MANIFEST_FIELDS = ("package", "source", "version", "filename", "size", "sha256", "licence")

# Split rule (README): sha256 of the *source* package name, first 8 hex digits as an int,
# modulo 100: 0-1 -> dev, 2-3 -> test, else train. Whole source packages only.
DEV_BUCKETS = range(2)
TEST_BUCKETS = range(2, 4)

# Length bounds (characters, after cleaning). 400 chars keeps a side under the trainer's
# 128-token truncation (MAX_TOKENS in polyglot_pipe/packs/build.py) for Russian text.
MAX_CHARS = 400
# Ratio len(ru)/len(en) bounds, applied when both sides have >= RATIO_MIN_CHARS characters;
# Russian UI strings run ~1.1-1.3x the English length, so 1/3..3 only removes misalignments.
RATIO_LOW, RATIO_HIGH = 1 / 3, 3.0
RATIO_MIN_CHARS = 10

CYRILLIC_RE = re.compile(r"[\u0400-\u04FF]")
LATIN_OR_CYR_LETTER_RE = re.compile(r"[A-Za-z\u0400-\u04FF]")
# Accelerator marks: GTK '_File', Qt/KDE/wx '&File' (not '&&' or an entity '&amp;'),
# LibreOffice '~File'. Removed on both sides before anything is compared.
ACCEL_RE = re.compile(r"(?<![_\w])_(?=\w)|&(?![&#\w]+;)(?<!&&)(?=\w)|~(?=\w)")
# Placeholders compared as a multiset (positional index dropped so '%1$s' == '%s'):
# Python '%(name)s', printf directives, Qt '%1', '{0}'/'{name}', '$VAR'/'${VAR}', and markup tags by name.
PLACEHOLDER_RES = (
    re.compile(r"%\([A-Za-z0-9_.-]+\)[-+ #0]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"),   # Python %(name)s
    re.compile(r"%(?:\d+\$)?[-+ #0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|j|z|t|L|q|I64)?"
               r"[diouxXeEfFgGcspaSn]|%<PRI\w+>"),
    re.compile(r"%\d+"),
    re.compile(r"\{[A-Za-z0-9_]*\}"),
    re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?"),
    re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?=[\s/>])"),
)
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WS_RE = re.compile(r"\s+")

RULES = ("header", "plural-extra-forms", "untranslated-empty", "control-chars", "empty-after-clean",
         "untranslated-same", "no-cyrillic", "no-letters", "too-long", "length-ratio",
         "placeholder-mismatch")


class BuildError(Exception):
    """A one-line problem the user can act on (bad sha256, missing .deb)."""


# --------------------------------------------------------------------------- .mo reading


@dataclass(frozen=True)
class MoEntry:
    context: str | None
    msgid: str
    msgid_plural: str | None
    msgstrs: tuple[str, ...]


def read_mo(data: bytes) -> tuple[dict[str, str], list[MoEntry]]:
    """Parse a GNU .mo file into (header fields, entries).

    Parsed by hand rather than with gettext.GNUTranslations so that msgctxt ('ctx\\x04id')
    and plurals ('id\\x00plural' -> 'str0\\x00str1...') stay visible. The charset comes from
    the header (msgid ""), UTF-8 if absent.
    """
    if data[:4] == b"\xde\x12\x04\x95":
        end = "<"
    elif data[:4] == b"\x95\x04\x12\xde":
        end = ">"
    else:
        raise BuildError("not a .mo file (bad magic)")
    _rev, n, o_off, t_off = struct.unpack(end + "4I", data[4:20])
    raw: list[tuple[bytes, bytes]] = []
    for i in range(n):
        ol, oo = struct.unpack(end + "2I", data[o_off + 8 * i:o_off + 8 * i + 8])
        tl, to = struct.unpack(end + "2I", data[t_off + 8 * i:t_off + 8 * i + 8])
        raw.append((data[oo:oo + ol], data[to:to + tl]))
    header: dict[str, str] = {}
    charset = "utf-8"
    for mid, mstr in raw:
        if mid == b"":
            for line in mstr.decode("utf-8", "replace").splitlines():
                if ":" in line:
                    k, v = line.split(":", 1)
                    header[k.strip()] = v.strip()
            m = re.search(r"charset=([\w-]+)", header.get("Content-Type", ""))
            if m and m.group(1).upper() != "CHARSET":
                charset = m.group(1)
    entries = []
    for mid, mstr in raw:
        if mid == b"":
            continue
        try:
            sid, sstr = mid.decode(charset), mstr.decode(charset)
        except (UnicodeDecodeError, LookupError):
            sid, sstr = mid.decode("utf-8", "replace"), mstr.decode("utf-8", "replace")
        ctx = None
        if "\x04" in sid:
            ctx, sid = sid.split("\x04", 1)
        parts = sid.split("\x00")
        entries.append(MoEntry(ctx, parts[0], parts[1] if len(parts) > 1 else None,
                               tuple(sstr.split("\x00"))))
    return header, entries


# --------------------------------------------------------------------------- cleaning rules


def strip_accelerators(text: str) -> str:
    """Remove keyboard accelerator marks, which differ between languages by design.

    >>> strip_accelerators("_File"), strip_accelerators("&Open && Save"), strip_accelerators("~Edit")
    ('File', 'Open && Save', 'Edit')
    >>> strip_accelerators("snake_case &amp; MAX_PATH")
    'snake_case &amp; MAX_PATH'
    """
    return ACCEL_RE.sub("", text)


def normalise_whitespace(text: str) -> str:
    """NFC, every whitespace run (newlines, tabs included) to one space, stripped: the TSV
    holds one line per pair and wrapped help texts wrap differently in each language."""
    return WS_RE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def placeholders(text: str) -> Counter[str]:
    """Multiset of placeholders, positional indices removed.

    >>> sorted(placeholders("%1$s of %2$d, {0} <b>$HOME</b>").elements())
    ['$HOME', '%d', '%s', '</b', '<b', '{0}']
    """
    found: Counter[str] = Counter()
    rest = text.replace("%%", "")
    for rx in PLACEHOLDER_RES:
        for m in rx.findall(rest):
            found[re.sub(r"^%\d+\$", "%", m)] += 1
        rest = rx.sub(" ", rest)
    return found


def _without_placeholders(text: str) -> str:
    for rx in PLACEHOLDER_RES:
        text = rx.sub(" ", text)
    return text


def clean_pair(msgid: str, msgstr: str) -> tuple[str | None, str]:
    """Apply the per-pair rules in RULES order; return ((ru, en) or None, rule name).

    Takes the English msgid and the Russian msgstr; returns the cleaned pair and "kept",
    or None and the first rule that dropped it.
    """
    if not msgstr.strip():
        return None, "untranslated-empty"
    if CONTROL_RE.search(msgid) or CONTROL_RE.search(msgstr):
        return None, "control-chars"
    en = normalise_whitespace(strip_accelerators(msgid))
    ru = normalise_whitespace(strip_accelerators(msgstr))
    if not en or not ru:
        return None, "empty-after-clean"
    if en == ru:
        return None, "untranslated-same"
    if not CYRILLIC_RE.search(ru):
        return None, "no-cyrillic"
    if not LATIN_OR_CYR_LETTER_RE.search(_without_placeholders(en)):
        return None, "no-letters"
    if len(en) > MAX_CHARS or len(ru) > MAX_CHARS:
        return None, "too-long"
    if len(en) >= RATIO_MIN_CHARS and len(ru) >= RATIO_MIN_CHARS:
        r = len(ru) / len(en)
        if r < RATIO_LOW or r > RATIO_HIGH:
            return None, "length-ratio"
    if placeholders(en) != placeholders(ru):
        return None, "placeholder-mismatch"
    return (ru, en), "kept"


def pairs_from_entries(entries: Iterable[MoEntry], stats: Counter[str]) -> Iterator[tuple[str, str]]:
    """(ru, en) pairs of one catalog. msgctxt is dropped (the pair is kept: context only
    disambiguates the same English string). Plurals: (msgid, msgstr[0]) is kept, as Russian
    form 0 is the one used for n == 1 like the English singular; msgid_plural and
    msgstr[1..] are dropped (their English has no single Russian counterpart)."""
    for e in entries:
        stats["entries"] += 1
        if e.msgid_plural is not None:
            stats["plural-entries"] += 1
            stats["plural-extra-forms"] += max(0, len(e.msgstrs) - 1)
        if e.context is not None:
            stats["msgctxt-entries"] += 1
        pair, rule = clean_pair(e.msgid, e.msgstrs[0])
        stats[rule] += 1
        if pair:
            yield pair


# --------------------------------------------------------------------------- split


def split_of(source_package: str) -> str:
    """Which split a whole source package goes to (hash rule, see README).

    >>> [split_of(p) for p in ("gtk+3.0", "kdepim", "coreutils")]
    ['train', 'train', 'train']
    """
    bucket = int(hashlib.sha256(source_package.encode("utf-8")).hexdigest()[:8], 16) % 100
    if bucket in DEV_BUCKETS:
        return "dev"
    if bucket in TEST_BUCKETS:
        return "test"
    return "train"


def resolve_conflicts(pairs: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], int, int]:
    """Exact dedup, then one English target per Russian source: the one seen most often
    (over catalogs), ties to the lexically smallest. Returns (pairs sorted, dup count,
    conflicting-translation count). A model trained on ru->en needs one answer per input;
    the majority translation is the house style."""
    counts: Counter[tuple[str, str]] = Counter(pairs)
    dups = sum(counts.values()) - len(counts)
    by_src: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for (ru, en), c in counts.items():
        by_src[ru].append((-c, en))
    out = []
    conflicts = 0
    for ru in sorted(by_src):
        cands = sorted(by_src[ru])
        conflicts += len(cands) - 1
        out.append((ru, cands[0][1]))
    return out, dups, conflicts


# --------------------------------------------------------------------------- manifest


def read_manifest(path: Path = MANIFEST) -> list[dict[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:] if line]


def deb_name(row: dict[str, str]) -> str:
    """File name apt-get download gives a pinned .deb (epoch ':' written '%3a')."""
    arch = Path(row["filename"]).name.rsplit("_", 1)[1]
    return f"{row['package']}_{row['version'].replace(':', '%3a')}_{arch}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_deb(path: Path, row: dict[str, str]) -> None:
    """Raise BuildError (one line) unless the .deb matches the manifest's sha256."""
    if not path.exists():
        raise BuildError(f"{path.name}: missing (run extract without --no-download)")
    got = sha256_file(path)
    if got != row["sha256"]:
        raise BuildError(f"{path.name}: sha256 {got} does not match manifest {row['sha256']}")


def licence_summary(copyright_text: str | None) -> str:
    """Distinct DEP-5 'License:' short names, sorted and joined by '; '; for a free-form
    copyright file, the licence names it mentions, marked '(free-form)'."""
    if copyright_text is None:
        return "unknown (no copyright file)"
    names = sorted({m.strip() for m in re.findall(r"^License:[ \t]*(\S[^\n]*)$", copyright_text, re.MULTILINE)})
    if names:
        return "; ".join(names)[:300]
    found = sorted({m.upper().replace(" ", "-") for m in re.findall(
        r"\b(L?GPL|GFDL|MPL|BSD|MIT|Apache|Artistic|CC-BY(?:-SA)?|public domain)\b", copyright_text, re.IGNORECASE)})
    return ("; ".join(found) + " (free-form)") if found else "unknown (free-form)"


def make_manifest(out: Path) -> int:
    """List packages by MO_PATH_RE with apt-file, pin apt's candidate versions."""
    res = subprocess.run(["apt-file", "search", "--regexp", MO_PATH_RE],
                         check=True, capture_output=True, text=True)
    pkgs = sorted({line.split(":", 1)[0] for line in res.stdout.splitlines() if ":" in line})
    show = subprocess.run(["apt-cache", "show", "--no-all-versions", *pkgs],
                          check=True, capture_output=True, text=True).stdout
    rows = []
    for para in show.strip().split("\n\n"):
        f = dict(line.split(": ", 1) for line in para.splitlines() if ": " in line and not line[0].isspace())
        src = f.get("Source", f["Package"]).split(" ")[0]
        rows.append({"package": f["Package"], "source": src, "version": f["Version"],
                     "filename": f["Filename"], "size": f["Size"], "sha256": f["SHA256"],
                     "licence": "?"})
    old = {r["package"]: r for r in read_manifest(out)} if out.exists() else {}
    for r in rows:
        if r["package"] in old and old[r["package"]]["sha256"] == r["sha256"]:
            r["licence"] = old[r["package"]]["licence"]
    write_manifest(out, rows)
    print(f"{len(rows)} packages, {sum(int(r['size']) for r in rows)} bytes", file=sys.stderr)
    return 0


def write_manifest(out: Path, rows: list[dict[str, str]]) -> None:
    rows = sorted(rows, key=lambda r: r["package"])
    text = "\t".join(MANIFEST_FIELDS) + "\n" + "".join(
        "\t".join(r[k].replace("\t", " ") for k in MANIFEST_FIELDS) + "\n" for r in rows)
    out.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- extract


def _deb_members(deb: Path) -> Iterator[tuple[str, bytes | None, str | None]]:
    """(path, data, symlink target) of the .mo and copyright files of a .deb, streamed
    from dpkg-deb --fsys-tarfile: nothing is installed or unpacked to disk."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tf:
            for m in tf:
                name = m.name.lstrip("./")
                if re.search(MO_PATH_RE, "/" + name) or re.fullmatch(r"usr/share/doc/[^/]+/copyright", name):
                    if m.issym() or m.islnk():
                        yield name, None, m.linkname
                    elif m.isfile():
                        fh = tf.extractfile(m)
                        yield name, fh.read() if fh else b"", None
    finally:
        proc.stdout.close()
        if proc.wait() != 0:
            raise BuildError(f"{deb.name}: dpkg-deb failed")


def extract(manifest: Path, debs: Path, work: Path, download: bool, packages: list[str] | None,
            limit: int | None) -> int:
    """Verify each pinned .deb and store its ru .mo files and licence under work/extract."""
    rows = read_manifest(manifest)
    if packages:
        rows = [r for r in rows if r["package"] in set(packages)]
    if limit:
        rows = rows[:limit]
    debs.mkdir(parents=True, exist_ok=True)
    missing = [r for r in rows if not (debs / deb_name(r)).exists()]
    if missing and download:
        specs = [f"{r['package']}={r['version']}" for r in missing]
        for i in range(0, len(specs), 100):
            subprocess.run(["apt-get", "download", "-q", *specs[i:i + 100]], cwd=debs, check=True)
    all_rows = {r["package"]: r for r in read_manifest(manifest)}
    for r in rows:
        deb = debs / deb_name(r)
        verify_deb(deb, r)
        dest = work / "extract" / r["package"]
        dest.mkdir(parents=True, exist_ok=True)
        copyright_text = None
        links = {}
        for name, data, link in _deb_members(deb):
            if name.endswith("/copyright"):
                if data is not None:
                    copyright_text = data.decode("utf-8", "replace")
                else:
                    links[name] = link
            elif data is not None:
                (dest / name.replace("/", "__")).write_bytes(data)
        r["licence"] = licence_summary(copyright_text)
        all_rows[r["package"]]["licence"] = r["licence"]
    write_manifest(manifest, list(all_rows.values()))
    print(f"extracted {len(rows)} packages", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- build


def build(manifest: Path, work: Path) -> dict:
    """Clean every extracted catalog, split by source package, write work/ru-en.{split}.tsv
    and work/stats.json. Output depends only on the extracted files (sorted walk)."""
    rows = {r["package"]: r for r in read_manifest(manifest)}
    stats: Counter[str] = Counter()
    raw: dict[str, list[tuple[str, str]]] = {"train": [], "dev": [], "test": []}
    pkgs_in: dict[str, set[str]] = {k: set() for k in raw}
    srcs_in: dict[str, set[str]] = {k: set() for k in raw}
    mo_no_header = 0
    mo_files = 0
    for pdir in sorted((work / "extract").iterdir()):
        if pdir.name not in rows:
            continue
        src = rows[pdir.name]["source"]
        split = split_of(src)
        got = False
        for mo in sorted(pdir.glob("*.mo")):
            mo_files += 1
            try:
                header, entries = read_mo(mo.read_bytes())
            except (BuildError, struct.error):
                stats["unreadable-mo"] += 1
                continue
            if not header:
                mo_no_header += 1
            for pair in pairs_from_entries(entries, stats):
                raw[split].append(pair)
                got = True
        if got:
            pkgs_in[split].add(pdir.name)
            srcs_in[split].add(src)
    stats["kept-before-dedup"] = sum(len(v) for v in raw.values())
    train, d, c = resolve_conflicts(raw["train"])
    result = {"train": train}
    split_stats = {"train": {"duplicates": d, "conflicting-translations": c}}
    train_src = {ru for ru, _ in train}
    for name in ("dev", "test"):
        pairs, d, c = resolve_conflicts(raw[name])
        kept = [p for p in pairs if p[0] not in train_src]
        split_stats[name] = {"duplicates": d, "conflicting-translations": c,
                             "source-also-in-train": len(pairs) - len(kept)}
        result[name] = kept
    # a dev source also in test is dropped from test (dev is scored while training)
    dev_src = {ru for ru, _ in result["dev"]}
    before = len(result["test"])
    result["test"] = [p for p in result["test"] if p[0] not in dev_src]
    split_stats["test"]["source-also-in-dev"] = before - len(result["test"])
    work.mkdir(parents=True, exist_ok=True)
    out = {"mo-files": mo_files, "mo-without-header": mo_no_header, "rules": dict(sorted(stats.items())),
           "splits": {}}
    for name, pairs in result.items():
        data = "".join(f"{ru}\t{en}\n" for ru, en in pairs).encode("utf-8")
        (work / f"ru-en.{name}.tsv").write_bytes(data)
        out["splits"][name] = {
            "pairs": len(pairs), "packages": len(pkgs_in[name]), "source-packages": len(srcs_in[name]),
            "ru-words": sum(len(ru.split()) for ru, _ in pairs),
            "en-words": sum(len(en.split()) for _, en in pairs),
            "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), **split_stats[name]}
    (work / "stats.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("step", choices=["manifest", "extract", "build"])
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    ap.add_argument("--debs", type=Path, default=DEBCACHE, help=f".deb cache (default {DEBCACHE})")
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--no-download", action="store_true", help="only use .debs already in --debs")
    ap.add_argument("--packages", nargs="+", help="only these binary packages (extract)")
    ap.add_argument("--limit", type=int, help="only the first N packages of the manifest (extract)")
    args = ap.parse_args(argv)
    try:
        if args.step == "manifest":
            return make_manifest(args.manifest)
        if args.step == "extract":
            return extract(args.manifest, args.debs, args.work, not args.no_download,
                           args.packages, args.limit)
        out = build(args.manifest, args.work)
        print(json.dumps(out["splits"], indent=1), file=sys.stderr)
        return 0
    except (BuildError, subprocess.CalledProcessError) as exc:
        print(f"debian_corpus: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
