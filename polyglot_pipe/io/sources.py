"""Inputs: paths, folders and stdin, turned into (source id, bytes). No decoding here."""

from __future__ import annotations

import os
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
            found = skipped = 0
            for file in _walk(path):
                try:
                    with open(file, "rb") as fh:
                        head = fh.read(4096)
                except OSError as exc:
                    errors.append(f"{file}: cannot read ({exc.strerror or exc})")
                    continue
                if looks_binary(head):
                    skipped += 1
                    continue
                found += 1
                yield Source(str(file), file)
            if skipped:
                print(f"polyglot-pipe: {path}: skipped {skipped} binary file(s)", file=sys.stderr)
            if not found:
                errors.append(f"{path}: no text files in this folder")
        elif path.is_file():
            yield Source(str(path), path)
        elif path.exists():
            errors.append(f"{path}: not a regular file or folder")
        else:
            errors.append(f"{path}: no such file or folder")


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if not filename.startswith("."):
                yield Path(dirpath) / filename
