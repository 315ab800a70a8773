"""Inputs: paths, folders and stdin, turned into (source id, bytes). No decoding here."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from polyglot_pipe.errors import SourceError
from polyglot_pipe.stages.decode import looks_binary

__all__ = ["Source", "SourceError", "iter_sources"]

# Signatures of common binary formats that can pass for text in their first bytes.
@dataclass(frozen=True, slots=True)
class Source:
    id: str
    path: Path | None  # None for stdin

    def read(self) -> bytes:
        if self.path is None:
            return sys.stdin.buffer.read()
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise SourceError(f"{self.id}: cannot read ({exc.strerror or exc})") from None


def iter_sources(inputs: list[str], errors: list[str]) -> Iterator[Source]:
    """Each input file, each text-like file under an input folder, or stdin for "-".

    Problems (a missing path, a folder without text files) go to ``errors`` as
    one-line messages; the other inputs are still yielded.
    """
    for name in inputs:
        if name == "-":
            yield Source("<stdin>", None)
            continue
        path = Path(name)
        if path.is_dir():
            found = 0
            for file in _walk(path, errors):
                try:
                    mode = os.stat(file).st_mode
                    if not stat.S_ISREG(mode):  # a FIFO or a device would block, or never end: never opened
                        print(f"polyglot-pipe: {file}: skipped ({_kind(mode)}, not a regular file)", file=sys.stderr)
                        continue
                    with open(file, "rb") as fh:
                        head = fh.read(4096)
                except OSError as exc:
                    errors.append(f"{file}: cannot read ({exc.strerror or exc})")
                    continue
                if looks_binary(head):  # named, not only counted: a skip the user cannot see is a loss
                    print(f"polyglot-pipe: {file}: skipped (a binary file, not text)", file=sys.stderr)
                    continue
                found += 1
                yield Source(str(file), file)
            if not found:
                errors.append(f"{path}: no text files in this folder")
        elif path.is_file():
            yield Source(str(path), path)
        elif path.exists():
            errors.append(f"{path}: not a regular file or folder")
        else:
            errors.append(f"{path}: no such file or folder")


def _walk(root: Path, errors: list[str]) -> Iterator[Path]:
    def unreadable(exc: OSError) -> None:  # a sub-folder we may not list: said, and the run exits 1
        errors.append(f"{exc.filename}: cannot read this folder ({exc.strerror or exc})")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if not filename.startswith("."):
                yield Path(dirpath) / filename


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"
