"""`polyglot-pipe run`: inputs -> Pipeline -> records -> a writer, with honest messages on stderr."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .decode import NotTextError
from .output import Summary, get_writer
from .pipeline import Pipeline
from .sources import SourceError, iter_sources, looks_binary

__all__ = ["run"]

PROG = "polyglot-pipe"


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    errors: list[str] = []

    def report(doc_id: str, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, (NotTextError, SourceError)) else f"{type(exc).__name__}: {exc}"
        if not message.startswith(doc_id):
            message = f"{doc_id}: {message}"
        errors.append(message)
        _say(message)

    def items() -> Iterator[tuple[str, bytes]]:
        shown = 0
        for source in iter_sources(args.inputs, errors):
            while shown < len(errors):  # problems found while walking the inputs
                _say(errors[shown])
                shown += 1
            try:
                data = source.read()
            except SourceError as exc:
                report(source.id, exc)
                shown += 1
                continue
            if looks_binary(data[:4096]):
                report(source.id, NotTextError("a binary file, not text"))
                shown += 1
                continue
            yield source.id, data
        for message in errors[shown:]:
            _say(message)

    pipeline = Pipeline(
        target=args.target,
        packs_dir=args.packs_dir,
        langs=[code.strip() for code in args.langs.split(",")] if args.langs else None,
        translate=not args.no_translate,
        device=args.device,
        beam_size=args.beam_size,
        threads=args.threads,
    )
    summary = Summary(target=args.target)

    def records() -> Iterator[dict]:
        for doc in pipeline.process_many(items(), on_error=report):
            for record in doc.to_records():
                summary.add_record(record)
                yield record

    writer = get_writer(args.format)
    stream = records() if args.format == "jsonl" else list(records())
    if args.output:
        _write_atomically(Path(args.output), lambda out: writer(stream, out, summary))
    else:
        writer(stream, sys.stdout, summary)
        sys.stdout.flush()

    for lang, command in summary.missing_packs().items():
        _say(f"no {lang}->{args.target} pack installed ({summary.no_pack[lang]} fragments left untranslated): {command}")
    summary.failed_inputs = len(errors)
    if not args.quiet:
        _say(summary.line().removeprefix(f"{PROG}: "))
    return 1 if errors else 0


def _write_atomically(path: Path, write) -> None:
    """Write to a temporary file beside ``path``, then rename: never a half-written output."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            write(out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
