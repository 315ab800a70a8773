"""The command line: `polyglot-pipe run|packs|review|show|memory|serve`.

Import stays light (argparse and our own small modules): ctranslate2, torch and
the rest load only when a command needs them, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from polyglot_pipe.cli import memory as memory_cli
from polyglot_pipe.cli import packs as packs_cli
from polyglot_pipe.cli import review
from polyglot_pipe.cli import serve as serve_cli
from polyglot_pipe.errors import PolyglotError
from polyglot_pipe.io.writers import WRITERS

__all__ = ["main", "build_parser"]

PROG = "polyglot-pipe"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Decode, repair, segment, label and translate multilingual text, offline.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit (with --verbose: the run signature)")
    parser.add_argument("--verbose", action="store_true", help="with --version: the signature of a default run")
    parser.add_argument("--packs-dir", dest="version_packs_dir", metavar="DIR", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="process files, folders or stdin into bilingual fragments",
        description="Process inputs (files, folders searched recursively for text files, or - for stdin) "
        "and write one record per fragment.",
    )
    add_run_arguments(run)
    run.set_defaults(func=run_command)

    packs = commands.add_parser("packs", help="list, install, remove and build language packs")
    packs_cli.add_arguments(packs)

    review_parser = commands.add_parser("review", help="turn a results JSONL into a side-by-side report")
    review.add_review_arguments(review_parser)
    review_parser.set_defaults(func=review.run_review)

    show = commands.add_parser("show", help="side-by-side view of a results JSONL in the terminal")
    review.add_show_arguments(show)
    show.set_defaults(func=review.run_show)

    memory = commands.add_parser("memory", help="the translation memory: stats, clear")
    memory_cli.add_arguments(memory)

    serve = commands.add_parser(
        "serve", help="a LibreTranslate-compatible HTTP service ([serve] extra)",
        description="Serve /translate, /detect, /languages, /health (LibreTranslate's API) and /fragments.",
    )
    serve_cli.add_arguments(serve)
    serve.set_defaults(func=serve_cli.run_serve)
    return parser


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="file, folder, or - for stdin")
    parser.add_argument(
        "-o", "--output", metavar="FILE",
        help="write everything into this one file instead of stdout (atomically; never over an input). "
        "A folder here (an existing one, or a path ending in /) is deprecated: use --output-dir",
    )
    parser.add_argument(
        "--output-dir", metavar="DIR",
        help="one output per input (its path mirrored, extension replaced), each written atomically; "
        "re-runs skip outputs made from the same input with the same run signature (packs, options)",
    )
    parser.add_argument("--force", action="store_true", help="with --output-dir: redo outputs that are up to date")
    parser.add_argument(
        "--input-format", choices=["auto", "text", "html", "lines", "jsonl"], default="auto",
        help="auto (default): text, but .html/.htm files and inputs that start like a page are read as html; "
        "text: each file is a document, never HTML; html: each file is a page (its readable text, lang "
        "attributes as evidence, records gain source_path); lines: each line is one; "
        "jsonl: the --field of each record is one, and the record is written back with its fragments added",
    )
    parser.add_argument("--field", default="text", metavar="NAME", help="with --input-format jsonl: the field to process (default: text)")
    parser.add_argument("--format", choices=sorted(WRITERS), default="jsonl", help="output format (default: jsonl)")
    parser.add_argument("--to", dest="target", default="en", metavar="LANG", help="target language (default: en)")
    parser.add_argument("--langs", metavar="L1,L2", help="candidate languages, when you know them (e.g. ru,en,de)")
    parser.add_argument("--packs-dir", metavar="DIR", help="installed packs (default: $ARGOS_PACKAGES_DIR or argostranslate's)")
    parser.add_argument("--no-translate", action="store_true", help="stop after labelling")
    parser.add_argument("--beam-size", type=int, default=4, help="beam search width (default: 4, as Argos)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="where CTranslate2 runs")
    parser.add_argument("--threads", type=int, default=0, help="CTranslate2 threads (default: up to 4)")
    parser.add_argument("--workers", type=int, metavar="N", help="processes for decoding, repair, segmentation and labelling (default: one per core, at most one per input)")
    parser.add_argument("--chunk-size", type=int, default=64, metavar="N", help="documents translated together, deduplicated (default: 64)")
    parser.add_argument("--no-memory", action="store_true", help="neither read nor fill the translation memory")
    parser.add_argument("--memory-path", metavar="FILE", help="the translation memory's SQLite file (default: in the user cache; $POLYGLOT_PIPE_CACHE_DIR moves it)")
    parser.add_argument(
        "--install-missing", action="store_true",
        help="install missing packs from the index (ARGOS_PACKAGE_INDEX) before translating; offline, say so and go on",
    )
    parser.add_argument(
        "--ray", nargs="?", const="", metavar="ADDRESS",
        help="run on a Ray cluster (needs the [ray] extra): a local one without ADDRESS; "
        "write --ray=ADDRESS, or put --ray after the inputs",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress, no summary line")


def run_command(args: argparse.Namespace) -> int:
    if args.ray is not None:
        from polyglot_pipe.integrations.ray import run_cli

        return run_cli(args, args.ray or None)
    from polyglot_pipe.io.batch import run

    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        return _print_version(args.verbose, args.version_packs_dir)
    if args.command is None:
        parser.error("a command is required (run, packs, review, show, memory)")
    _safe_streams()
    previous = _stop_on_sigterm()
    try:
        return args.func(args)
    except PolyglotError as exc:  # anything the library refuses on purpose: one line, no traceback
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print(f"{PROG}: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:
        return 0
    except PolyglotError as exc:  # the commands catch their own; this is the net under them: one line, never a traceback
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class _Terminated(BaseException):
    """SIGTERM, raised where the program is, so outputs in progress are abandoned and workers stopped."""


def _stop_on_sigterm():
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise _Terminated()

    return signal.signal(signal.SIGTERM, stop)


def _safe_streams() -> None:
    """A lone surrogate (a non-UTF-8 file name, say) printed comes out as its escape, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass  # a replaced stream (pytest's capture, a StringIO)


def _print_version(verbose: bool, packs_dir: str | None) -> int:
    """``--version``: the version; with ``--verbose``, the signature a default run would carry."""
    from polyglot_pipe.provenance import run_signature, signature_string, version

    print(f"{PROG} {version()}")
    if verbose:
        signature = run_signature(packs_dir=packs_dir)
        print(f"signature: {signature_string(signature)}")
        for pack in signature["packs"]:
            print(f"pack: {pack['id']} sha256:{pack['sha256'] or 'unknown'}")
    return 0
