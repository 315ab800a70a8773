"""`polyglot-pipe review` and `show` (placeholder until the review issue lands)."""

from __future__ import annotations

import argparse


def add_review_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="a JSONL file written by `polyglot-pipe run`")
    parser.add_argument("-o", "--output", required=True, help="the report to write")


def run_review(args: argparse.Namespace) -> int:
    print("polyglot-pipe: review is not available yet")
    return 2


def add_show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="a JSONL file written by `polyglot-pipe run`")


def run_show(args: argparse.Namespace) -> int:
    print("polyglot-pipe: show is not available yet")
    return 2
