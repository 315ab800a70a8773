"""`polyglot-pipe memory stats|clear`: look into and empty the translation memory."""

from __future__ import annotations

import argparse
import sys

PROG = "polyglot-pipe"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--memory-path", metavar="FILE", help="the memory's SQLite file (default: in the user cache)")
    commands = parser.add_subparsers(dest="memory_command", metavar="{stats,clear}")
    commands.required = True
    stats = commands.add_parser("stats", help="where the memory is, and how many translations it holds per pack")
    stats.set_defaults(func=run_stats)
    clear = commands.add_parser("clear", help="forget remembered translations")
    clear.add_argument("--pack", metavar="ID", help='only those of this pack, e.g. "argos:ru-en@1.0"')
    clear.set_defaults(func=run_clear)


def _memory(args: argparse.Namespace):
    from polyglot_pipe.memory import TranslationMemory

    return TranslationMemory(getattr(args, "memory_path", None))


def run_stats(args: argparse.Namespace) -> int:
    from polyglot_pipe.errors import MemoryStoreError

    try:
        with _memory(args) as memory:
            stats = memory.stats()
    except MemoryStoreError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    print(f"memory: {stats.path}")
    print(f"entries: {stats.entries} ({stats.size_bytes / 1e6:.1f} MB on disk)")
    for pack, decoding, count in stats.by_pack:
        name, _, fingerprint = pack.partition("#")
        print(f"  {name}  {decoding or '-'}  {count}  ({fingerprint[:23]})")
    return 0


def run_clear(args: argparse.Namespace) -> int:
    from polyglot_pipe.errors import MemoryStoreError

    try:
        with _memory(args) as memory:
            removed = memory.clear(args.pack)
            path = memory.path
    except MemoryStoreError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    what = f" made by {args.pack}" if args.pack else ""
    print(f"{PROG}: removed {removed} translation(s){what} from {path}", file=sys.stderr)
    return 0
