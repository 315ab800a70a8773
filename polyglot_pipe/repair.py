"""Repair mojibake line by line, recording each change as an Edit."""

from __future__ import annotations

import regex

from .model import Edit

__all__ = ["repair_text"]

_LINE_RE = regex.compile(r"[^\n]+")


def repair_text(text: str) -> tuple[str, tuple[Edit, ...]]:
    """The repaired text and the edits that made it; line breaks are never touched."""
    import ftfy

    out: list[str] = []
    edits: list[Edit] = []
    pos = 0
    shift = 0
    for m in _LINE_RE.finditer(text):
        line = m.group()
        if line.isascii():
            continue
        fixed = ftfy.fix_encoding(line)
        if fixed != line:
            out.append(text[pos : m.start()])
            start = m.start() + shift
            out.append(fixed)
            edits.append(Edit(start, start + len(fixed), m.start(), m.end(), "ftfy"))
            shift += len(fixed) - len(line)
            pos = m.end()
    if not edits:
        return text, ()
    out.append(text[pos:])
    return "".join(out), tuple(edits)
