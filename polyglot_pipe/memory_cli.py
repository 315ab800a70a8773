"""`polyglot-pipe memory stats|clear` (placeholder until the batch issue lands)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(func=lambda args: (print("polyglot-pipe: no translation memory yet"), 2)[1])
