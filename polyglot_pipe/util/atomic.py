"""One way to write a file: into a temporary file beside it, renamed into place when complete.

So a file that exists is complete, whatever happened to the process writing it.
The temporary name carries the writer's process id (``.NAME.pp<pid>-XXXX.part``),
so a later run can tell a dead run's leftovers from a live run's and remove them
(``remove_dead_leftovers``).  The name part is cut to fit the file system's limit,
so a long output name never fails for its temporary's sake.

Text is written as UTF-8 with ``errors="backslashreplace"``: a lone surrogate (from a
non-UTF-8 file name, or from text a caller built) comes out as ``\\udce9`` rather than
failing the whole output; valid text is unchanged.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["AtomicFile", "atomic_write", "remove_dead_leftovers", "TEMP_SUFFIX"]

TEMP_SUFFIX = ".part"
_TEMP_RE = re.compile(r"^\..*\.pp(\d+)-[^.]*\.part$")
#: bytes of the output's name kept in its temporary's name (NAME_MAX is 255 on Linux and macOS;
#: the rest of the temporary name takes at most 30)
_NAME_BYTES = 200


class AtomicFile:
    """A file being written: ``open()`` it, write, then ``commit()`` (rename into place) or ``abandon()``."""

    def __init__(self, path: str | os.PathLike, *, binary: bool = False, fsync: bool = True):
        self.path = Path(path)
        self.binary = binary
        self.fsync = fsync
        self.file: IO | None = None
        self._tmp: str | None = None

    def open(self) -> IO:
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            name = os.fsencode(self.path.name)[:_NAME_BYTES].decode("utf-8", "ignore") or "out"
            fd, self._tmp = tempfile.mkstemp(prefix=f".{name}.pp{os.getpid()}-", suffix=TEMP_SUFFIX, dir=self.path.parent)
            os.chmod(self._tmp, 0o666 & ~_umask())  # mkstemp makes it private; outputs are ordinary files
            self.file = os.fdopen(fd, "wb") if self.binary else os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n")
        return self.file

    def commit(self) -> Path:
        """Flush, sync and rename into place."""
        out = self.open()
        out.flush()
        if self.fsync:
            os.fsync(out.fileno())
        out.close()
        os.replace(self._tmp, self.path)
        self.file = self._tmp = None
        return self.path

    def abandon(self) -> None:
        """Close and delete the temporary file; the destination is untouched."""
        if self._tmp is not None:
            self.file.close()
            Path(self._tmp).unlink(missing_ok=True)
            self.file = self._tmp = None


@contextmanager
def atomic_write(path: str | os.PathLike, *, binary: bool = False, fsync: bool = True) -> Iterator[IO]:
    """``with atomic_write(path) as out: out.write(...)``: the file appears whole or not at all."""
    target = AtomicFile(path, binary=binary, fsync=fsync)
    out = target.open()
    try:
        yield out
    except BaseException:
        target.abandon()
        raise
    target.commit()


def remove_dead_leftovers(folder: str | os.PathLike, name: str | None = None, *, recursive: bool = True) -> int:
    """Delete the temporaries of writers that died (their process is gone); returns how many.

    ``name``: only those of the output called ``name`` (``-o FILE`` cleans beside FILE
    without touching the rest of its folder); ``recursive=False``: this folder only.
    """
    removed = 0
    if not Path(folder).is_dir():
        return removed
    prefix = None
    if name is not None:
        prefix = "." + (os.fsencode(name)[:_NAME_BYTES].decode("utf-8", "ignore") or "out") + ".pp"
    try:
        walk = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
        for dirpath, _dirnames, filenames in walk:
            for filename in filenames:
                if prefix is not None and not filename.startswith(prefix):
                    continue
                match = _TEMP_RE.match(filename)
                if match and not _alive(int(match.group(1))):
                    try:
                        Path(dirpath, filename).unlink(missing_ok=True)
                    except OSError:
                        continue  # not ours to remove (a read-only folder): left as it is
                    removed += 1
    except OSError:
        pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
