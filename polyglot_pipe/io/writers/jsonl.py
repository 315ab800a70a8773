"""JSON Lines: one record per fragment, the format every other output is made from."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from polyglot_pipe.errors import ReviewError

__all__ = ["write_jsonl", "read_jsonl", "dumps"]

_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def dumps(record: dict) -> str:
    """One JSON line, UTF-8-writable: a lone surrogate (it can arrive inside JSON input)
    is written as its \\u escape, which reads back to the same string."""
    line = json.dumps(record, ensure_ascii=False)
    if _SURROGATE_RE.search(line):
        line = _SURROGATE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
    return line


def write_jsonl(records: Iterable[dict], out: TextIO, summary=None) -> None:
    for record in records:
        out.write(dumps(record) + "\n")


def read_jsonl(stream: TextIO) -> Iterator[dict]:
    """Records back from a JSONL stream; a broken line raises ReviewError naming its number."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReviewError(f"line {number}: not JSON ({exc.msg})") from None
        except RecursionError:
            raise ReviewError(f"line {number}: JSON nested too deep to read") from None
