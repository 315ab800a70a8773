"""`polyglot-pipe review` (results JSONL -> HTML/Markdown/TSV report) and `show` (a terminal side-by-side view).

Both read what `run` wrote, check each record has what a report needs, and hand
the records to the same writers `run --format` uses, so a report looks the same
whichever way it was made.  Imports here are stdlib only: `polyglot-pipe --help`
imports this module, and rich loads only when `show` runs.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from polyglot_pipe.errors import ReviewError
from polyglot_pipe.io.results import filter_records, load_records
from polyglot_pipe.util.atomic import atomic_write

__all__ = ["add_review_arguments", "run_review", "add_show_arguments", "run_show"]

PROG = "polyglot-pipe"
REPORT_FORMATS = ("html", "md", "tsv")
_SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".tsv": "tsv", ".tab": "tsv"}

def add_review_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="a JSONL file written by `polyglot-pipe run` (- for stdin)")
    parser.add_argument("-o", "--output", required=True, help="the report to write (- for stdout)")
    parser.add_argument(
        "--format",
        choices=REPORT_FORMATS,
        help="report format (default: from the output's suffix, .html/.md/.tsv; else html)",
    )
    parser.add_argument("--to", dest="target", default="en", metavar="LANG",
                        help="the language the results were translated to (default: en)")


def run_review(args: argparse.Namespace) -> int:
    from polyglot_pipe.io.writers import Summary, get_writer

    fmt = args.format or _SUFFIX_FORMATS.get(Path(args.output).suffix.lower(), "html")
    try:
        records = load_records(args.results)
    except ReviewError as exc:
        _say(str(exc))
        return 2
    summary = Summary(target=args.target)
    for record in records:
        summary.add_record(record)
    writer = get_writer(fmt)
    if args.output == "-":
        writer(records, sys.stdout, summary)
        sys.stdout.flush()
    else:
        try:
            _write_atomically(Path(args.output), lambda out: writer(records, out, summary))
        except OSError as exc:
            _say(f"cannot write {args.output}: {exc.strerror or exc}")
            return 2
    _say(f"{args.output}: {fmt} report of {summary.line().removeprefix(PROG + ': ')}")
    return 0


def add_show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="a JSONL file written by `polyglot-pipe run` (- for stdin)")
    parser.add_argument("--lang", metavar="L1,L2", help="only fragments in these languages")
    parser.add_argument("--status", metavar="S1,S2", help="only fragments with these statuses (ok, no-pack, failed, skipped, empty)")
    parser.add_argument("--foreign", action="store_true", help="only fragments that needed translation")
    parser.add_argument("--no-pager", action="store_true", help="print everything, even on a terminal")
    parser.add_argument("--width", type=int, help="table width in columns (default: the terminal's)")


def run_show(args: argparse.Namespace) -> int:
    try:
        records = load_records(args.results)
    except ReviewError as exc:
        _say(str(exc))
        return 2
    records = filter_records(records, langs=_split(args.lang), statuses=_split(args.status), foreign_only=args.foreign)
    from rich.console import Console

    console = Console(width=args.width, highlight=False, soft_wrap=False)
    renderables = _show_renderables(records)
    if console.is_terminal and not args.no_pager:
        os.environ.setdefault("LESS", "-R")  # less shows our colours instead of escape codes
        with console.pager(styles=True):
            for renderable in renderables:
                console.print(renderable)
    else:
        for renderable in renderables:
            console.print(renderable)
    return 0


def _show_renderables(records: list[dict]):
    """One rich Table per document: #, lang/status, original, English."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from polyglot_pipe.io.writers.markdown import status_label, untranslated_note

    if not records:
        yield Text("no fragments match", style="dim")
        return
    table = None
    current_doc = object()
    for record in records:
        if record["doc"] != current_doc:
            if table is not None:
                yield table
            current_doc = record["doc"]
            table = Table(title=Text(terminal_safe(str(current_doc)), style="bold"), box=box.SIMPLE_HEAD, expand=True,
                          title_justify="left", show_lines=False)
            table.add_column("#", justify="right", style="dim", no_wrap=True, width=5)
            table.add_column("lang", no_wrap=True, width=9)
            table.add_column("original", ratio=1, overflow="fold")
            table.add_column("English", ratio=1, overflow="fold")
        status = record["status"]
        label = Text(terminal_safe(record["lang"]), style="bold cyan")
        if status != "ok":
            style = {"no-pack": "yellow", "failed": "bold red"}.get(status, "dim")
            label.append("\n" + terminal_safe(status_label(status)), style=style)
        elif record.get("cached"):
            label.append("\nmemory", style="dim")

        original = Text(terminal_safe(record["original"]))  # Text, not markup: input "[bold]" stays as written
        if record.get("repairs"):
            original.append("\nrepaired: " + terminal_safe(", ".join(map(str, record["repairs"]))), style="dim italic")
        note = untranslated_note(record)
        if note is None:
            english = Text(terminal_safe(record.get("english") or ""), style="dim" if record.get("method") == "source" else "")
        else:
            english = Text(terminal_safe(note), style="red" if status == "failed" else "italic yellow" if status == "no-pack" else "dim italic")
        if record.get("quality") == "low":
            english.append("\n(low quality: the pack is guessing)", style="yellow")
        table.add_row(Text(str(record["index"])), label, original, english)
    yield table


# C0 and C1 controls but tab and line feed, DEL, and the bidirectional overrides and isolates:
# from the text they would drive the terminal (colours, cursor moves, titles, hidden or reversed text).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def terminal_safe(text: str) -> str:
    """``text`` with every character that would act on a terminal shown as its escape (``\\x1b``), not sent."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def _split(value: str | None) -> set[str] | None:
    return {part.strip() for part in value.split(",") if part.strip()} if value else None


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _write_atomically(path: Path, write) -> None:
    """Write beside ``path`` and rename: a failed review never leaves half a report."""
    with atomic_write(path) as out:
        write(out)
