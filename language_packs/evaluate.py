#!/usr/bin/env python3
"""Evaluate a built pack the way Argos Translate runs it.

    python language_packs/evaluate.py language_packs/translate-ru_en-1_0.argosmodel \
        language_packs/corpus/ru-en.tsv [--heldout language_packs/corpus/ru-en.heldout.tsv]

Prints the fraction of training pairs reproduced exactly and, for held-out
pairs, source / reference / output.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from polyglot_pipe.packs import build as pb  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("pack", type=Path)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--heldout", type=Path)
    ap.add_argument("--show", type=int, default=10, help="held-out examples to print")
    args = ap.parse_args(argv)

    import ctranslate2
    import sentencepiece as spm

    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(args.pack) as zf:
            zf.extractall(tmp)
        root = next(Path(tmp).iterdir())
        sp = spm.SentencePieceProcessor(model_file=str(root / "sentencepiece.model"))
        tr = ctranslate2.Translator(str(root / "model"), device="cpu")
        pairs = pb.read_corpus(args.corpus).pairs
        em = pb.exact_match(tr, sp, pairs)
        print(f"{args.pack.name}: training pairs reproduced exactly: "
              f"{em:.1%} ({round(em * len(pairs))}/{len(pairs)})")
        if args.heldout:
            held = pb.read_corpus(args.heldout).pairs
            hyps = pb.translate(tr, sp, [s for s, _ in held])
            hem = sum(h == t for h, (_, t) in zip(hyps, held)) / len(held)
            print(f"held-out pairs reproduced exactly: {hem:.1%} ({len(held)} pairs)")
            for (s, t), h in list(zip(held, hyps))[: args.show]:
                print(f"| {s} | {t} | {h} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
