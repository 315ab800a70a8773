"""`polyglot-pipe packs build`: the argparse front end of polyglot_pipe.packs.build."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from polyglot_pipe.errors import PolyglotError

__all__ = ["add_arguments", "run", "main"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``polyglot-pipe packs build``."""
    from polyglot_pipe.packs.build import BUCKETING, DEFAULT_STEPS, DEFAULT_VOCAB_SIZE, SIZES

    parser.add_argument("corpus", metavar="CORPUS.tsv",
                        help="parallel corpus, one 'source<TAB>target' pair per line")
    parser.add_argument("--from", dest="from_code", required=True, help="source language code")
    parser.add_argument("--to", dest="to_code", required=True, help="target language code")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.argosmodel",
                        help="path of the .argosmodel to write")
    parser.add_argument("--size", choices=list(SIZES), default="tiny",
                        help="model size: " + "; ".join(
                            f"{name} {s['d_model']}/{s['encoder_layers']}+{s['decoder_layers']}"
                            for name, s in SIZES.items()) + " (default: tiny)")
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--steps", type=int, default=None,
                   help="optimizer steps (default: %s)" %
                   ", ".join(f"{k} {v}" for k, v in DEFAULT_STEPS.items()))
    g.add_argument("--epochs", type=int, default=None, help="passes over the corpus instead of --steps")
    parser.add_argument("--batch-tokens", type=int, default=512,
                        help="padded tokens per side in one batch (default 512; 4096 for big corpora)")
    parser.add_argument("--bucketing", choices=BUCKETING, default="global",
                        help="sort the whole corpus by length (global, default) or 2,048-pair chunks "
                             "(chunks: how the 1.0 packs were built)")
    parser.add_argument("--dev", dest="dev_corpus", metavar="DEV.tsv", default=None,
                        help="held-out pairs scored with chrF while training; the best weights are packed")
    parser.add_argument("--eval-every", type=int, default=500, help="steps between dev evaluations (default 500)")
    parser.add_argument("--patience", type=int, default=None,
                        help="stop after this many dev evaluations without a gain (default: never early)")
    parser.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                        help="stop training after this many seconds and pack the best weights so far")
    parser.add_argument("--checkpoint-dir", default=None, metavar="DIR",
                        help="keep checkpoints here (at each evaluation and at the end)")
    parser.add_argument("--resume", action="store_true", help="go on from the checkpoint in --checkpoint-dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    parser.add_argument("--quantization", default="int8",
                        help="CTranslate2 quantization (int8, int8_float32, float16, none; default int8)")
    parser.add_argument("--vocab-size", type=int, default=DEFAULT_VOCAB_SIZE,
                        help=f"SentencePiece vocabulary size (default {DEFAULT_VOCAB_SIZE})")
    parser.add_argument("--package-version", default="1.0")
    parser.add_argument("--no-eval", action="store_true",
                        help="skip measuring exact-match on (a sample of) the training pairs")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    quant = getattr(args, "quantization", "int8")
    if quant in (None, "", "none", "float32"):
        quant = None
    try:
        from polyglot_pipe.packs.build import build_pack

        out = build_pack(
            args.corpus, args.from_code, args.to_code, args.output,
            size=args.size, steps=args.steps, epochs=args.epochs,
            seed=args.seed, device=args.device, quantization=quant,
            vocab_size=args.vocab_size, package_version=args.package_version,
            progress=not args.quiet, evaluate=not args.no_eval,
            batch_tokens=args.batch_tokens, bucketing=args.bucketing, dev_corpus=args.dev_corpus,
            eval_every=args.eval_every, patience=args.patience, time_budget=args.time_budget,
            checkpoint_dir=args.checkpoint_dir, resume=args.resume,
        )
    except ImportError as exc:
        print(f"polyglot-pipe packs build: error: {exc} (building packs needs torch, "
              "transformers, ctranslate2, sentencepiece and sacrebleu: the [build] extra)", file=sys.stderr)
        return 1
    except PolyglotError as exc:
        print(f"polyglot-pipe packs build: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"polyglot-pipe packs build: error: '{exc.filename}': {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m polyglot_pipe.cli.build",
                                     description="Build an Argos Translate pack.")
    add_arguments(parser)
    return run(parser.parse_args(list(argv) if argv is not None else None))


if __name__ == "__main__":
    raise SystemExit(main())
