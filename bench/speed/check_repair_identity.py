"""Check that repair_text gives the same text and the same edits as another revision.

Runs ``repair_text`` of a reference revision (``git archive REV polyglot_pipe`` into a
temporary folder, default ``main``) and of this working tree in two child processes,
one after the other, on the same inputs, and compares every repaired text and edit list:

* every document of bench/speed/data/en.jsonl.gz and ru.jsonl.gz (whole documents);
* every line of bench/speed/data/lines.txt.gz (one document per line);
* bench/encoding's cases: each sentence of data/sentences.jsonl clean, broken by each
  of repair's round trips (``text.encode(really).decode(shown_as)``) and by
  bench/encoding's kinds (UTF-8 shown as cp1252 twice included), the mixed lines
  (clean sentence + broken Russian one), the seed page's lines and CLEAN_EXTRAS;
  and each byte file of data/bytes decoded by ``decode_bytes`` (of this tree).

Each side also decodes bench/encoding's 960 byte files with its own ``decode_bytes``
(which scores code pages with langdata.letters): text and encoding must be equal.

    PYTHONPATH=. .venv/bin/python bench/speed/check_repair_identity.py [--ref main]

Prints the number of inputs compared and of those that differ (with the first few);
exits 1 when any differs.  Speed: bench/speed/ab_repair.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def cases() -> list[tuple[str, str]]:
    """(source, text) for every input, deduplicated, in a fixed order."""
    sys.path.insert(0, str(ROOT))
    import ftfy.bad_codecs  # noqa: F401

    from bench.encoding.run import CLEAN_EXTRAS, CYRILLIC, DATA, KINDS, SEED, corrupt
    from polyglot_pipe.stages.decode import decode_bytes
    from polyglot_pipe.stages.repair import ROUND_TRIPS

    out: list[tuple[str, str]] = []
    for name in ("en", "ru"):
        with gzip.open(HERE / "data" / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            out += [(f"speed/{name}", json.loads(line)["text"]) for line in fh]
    with gzip.open(HERE / "data" / "lines.txt.gz", "rt", encoding="utf-8") as fh:
        out += [("speed/lines", line) for line in fh.read().splitlines()]
    rows = [json.loads(line) for line in (DATA / "sentences.jsonl").read_text(encoding="utf-8").splitlines()]
    steps = [[(rt.really, rt.shown_as)] for rt in ROUND_TRIPS] + [s for _, s in KINDS.values()]
    seen: set[str] = set()
    for row in rows:
        for kind in [[]] + steps:
            bad = corrupt(row["text"], kind)
            if bad is not None and bad not in seen:
                seen.add(bad)
                out.append(("encoding/sentences", bad))
    ru = [r["text"] for r in rows if r["lang"] == "ru"]
    others = [r["text"] for r in rows if r["lang"] not in CYRILLIC]
    for i, good in enumerate(ru):
        bad = corrupt(good, [("cp1251", "sloppy-windows-1252")])
        if bad:
            out.append(("encoding/mixed", others[(i * 7) % len(others)] + " " + bad))
    out += [("encoding/clean", t) for t in SEED.read_text(encoding="utf-8").splitlines() + CLEAN_EXTRAS]
    for folder in sorted((DATA / "bytes").iterdir()):
        out += [("encoding/bytes", decode_bytes(p.read_bytes()).text) for p in sorted(folder.glob("*.txt"))]
    return out


def byte_files() -> list[Path]:
    data = ROOT / "bench" / "encoding" / "data" / "bytes"
    return [p for folder in sorted(data.iterdir()) for p in sorted(folder.glob("*.txt"))]


def worker(inp: Path, outp: Path, root: Path) -> None:
    import polyglot_pipe
    from polyglot_pipe.stages.decode import decode_bytes
    from polyglot_pipe.stages.repair import repair_text

    assert Path(polyglot_pipe.__file__).resolve().is_relative_to(root.resolve()), polyglot_pipe.__file__
    texts = pickle.loads(inp.read_bytes())
    repair_text("Warm-up \u0417\u0430\u0433\u043e\u043b\u043e\u0432\u043e\u043a \u00c7\u00e0\u00e3")
    results = []
    for text in texts:
        new, edits = repair_text(text)
        results.append((new, tuple(dataclasses.astuple(e) for e in edits)))
    decoded = [(d.text, d.encoding) for d in (decode_bytes(p.read_bytes()) for p in byte_files())]
    outp.write_bytes(pickle.dumps((results, decoded)))


def run_side(root: Path, inp: Path, outp: Path) -> tuple[list, list]:
    env = dict(os.environ, PYTHONPATH=str(root))
    subprocess.run([sys.executable, __file__, "--worker", str(root), str(inp), str(outp)], check=True, env=env, cwd=root)
    return pickle.loads(outp.read_bytes())


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[2]))
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default="main", help="git revision to compare with (default main)")
    args = ap.parse_args()
    todo = cases()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ref = tmp / "ref"
        ref.mkdir()
        archive = subprocess.run(["git", "archive", args.ref, "polyglot_pipe"], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(ref)], input=archive, check=True)
        inp = tmp / "in.pkl"
        inp.write_bytes(pickle.dumps([t for _, t in todo]))
        old, old_decoded = run_side(ref, inp, tmp / "old.pkl")
        new, new_decoded = run_side(ROOT, inp, tmp / "new.pkl")
    by_source: dict[str, list[int]] = {}
    differ = []
    for (source, text), a, b in zip(todo, old, new, strict=True):
        counts = by_source.setdefault(source, [0, 0, 0])
        counts[0] += 1
        counts[1] += bool(a[1])
        if a != b:
            counts[2] += 1
            differ.append((source, text[:120], a[1][:3], b[1][:3]))
    for source, (n, edited, bad) in by_source.items():
        print(f"{source}: {n} inputs, {edited} with edits (by {args.ref}), {bad} differ")
    print(f"all: {len(todo)} inputs compared with {args.ref}, {len(differ)} differ")
    decode_differ = sum(a != b for a, b in zip(old_decoded, new_decoded, strict=True))
    print(f"decode_bytes: {len(old_decoded)} byte files, {decode_differ} differ (text or encoding)")
    for row in differ[:10]:
        print("DIFFERS", row)
    return 1 if differ or decode_differ else 0


if __name__ == "__main__":
    sys.exit(main())
