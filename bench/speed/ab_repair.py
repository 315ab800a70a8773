"""A/B of repair_text: a reference revision's repair against this tree's, interleaved in one process.

The reference's ``stages/repair.py`` and ``langdata/letters.py`` (``git show REV:...``,
default ``main``) are loaded as modules of their own, so each side has its own caches
(lines, signals, word vectors, token bounds).  Per round both sides' caches are emptied,
then every document of the corpus is repaired by one side and then the other (the side
that goes first alternates by round), each timed with ``time.process_time``; the table
gives each side's total per round, as one process reading the corpus once would see it.

    PYTHONPATH=. .venv/bin/python bench/speed/ab_repair.py [--ref main] [--rounds 3] [--corpus en ru lines]
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))


def load_ref(rev: str, tmp: Path):
    """The reference's repair module, importing the reference's letters module."""
    def show(path: str) -> str:
        return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True).stdout

    def load(name: str, source: str):
        path = tmp / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    letters = load("_ab_ref_letters", show("polyglot_pipe/langdata/letters.py"))
    source = show("polyglot_pipe/stages/repair.py")
    assert "from polyglot_pipe.langdata.letters import" in source
    repair = load("_ab_ref_repair", source.replace("from polyglot_pipe.langdata.letters import", "from _ab_ref_letters import"))
    return repair, letters


#: module-level dicts that are tables, not caches
KEEP = {"_BY_NAME"}


def empty_caches(repair, letters) -> None:
    """Every module-level dict of both modules (line, token, word caches, lazily filled
    translate tables) and each script's word vectors: as a fresh process has them."""
    for module in (repair, letters):
        for name, value in vars(module).items():
            if isinstance(value, dict) and name.startswith("_") and name[1:2].isupper() and name not in KEEP:
                value.clear()
    for model in letters._profiles().values():
        model.words.clear()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default="main")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--corpus", nargs="+", default=["en", "ru"], help="en, ru, lines")
    ap.add_argument("--docs", type=int, default=0, help="first N documents only (0: all)")
    args = ap.parse_args()
    from polyglot_pipe.langdata import letters as new_letters
    from polyglot_pipe.stages import repair as new_repair

    with tempfile.TemporaryDirectory() as tmp:
        old = load_ref(args.ref, Path(tmp))
    new = (new_repair, new_letters)
    warm = "Warm-up \u0417\u0430\u0433\u043e\u043b\u043e\u0432\u043e\u043a \u00c7\u00e0\u00e3 \u03b1\u03b2\u03b3"
    for side in (old, new):
        side[0].repair_text(warm)
    for name in args.corpus:
        if name == "lines":  # one short document per line
            with gzip.open(HERE / "data" / "lines.txt.gz", "rt", encoding="utf-8") as fh:
                docs = fh.read().splitlines()
        else:
            with gzip.open(HERE / "data" / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
                docs = [json.loads(line)["text"] for line in fh]
        if args.docs:
            docs = docs[: args.docs]
        mb = sum(len(d.encode()) for d in docs) / 1e6
        totals = {"old": [], "new": []}
        for r in range(args.rounds):
            for side in (old, new):
                empty_caches(*side)
            order = [("old", old), ("new", new)] if r % 2 == 0 else [("new", new), ("old", old)]
            t = {"old": 0.0, "new": 0.0}
            for doc in docs:
                for label, side in order:
                    c = time.process_time()
                    side[0].repair_text(doc)
                    t[label] += time.process_time() - c
            for label in t:
                totals[label].append(t[label])
            print(f"{name} round {r + 1} ({order[0][0]} first): {args.ref} {t['old']:.2f} s, this tree {t['new']:.2f} s", flush=True)
        o, n = sum(totals["old"]) / args.rounds, sum(totals["new"]) / args.rounds
        print(f"{name}: {len(docs)} documents, {mb:.2f} MB; repair CPU mean of {args.rounds}: {args.ref} {o:.2f} s, "
              f"this tree {n:.2f} s, {o / n:.2f}x; per round: {args.ref} "
              + " / ".join(f"{x:.2f}" for x in totals["old"]) + ", this tree " + " / ".join(f"{x:.2f}" for x in totals["new"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
