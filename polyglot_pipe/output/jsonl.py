"""JSON Lines: one record per fragment, the format every other output is made from."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TextIO

__all__ = ["write_jsonl", "read_jsonl", "dumps"]


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


def write_jsonl(records: Iterable[dict], out: TextIO, summary=None) -> None:
    for record in records:
        out.write(dumps(record) + "\n")


def read_jsonl(stream: TextIO) -> Iterator[dict]:
    """Records back from a JSONL stream; a broken line raises ValueError naming its number."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not JSON ({exc.msg})") from None
