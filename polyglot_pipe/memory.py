"""The translation memory: every fragment a pack has translated, kept in SQLite across runs.

Scraped pages repeat their boilerplate ("Subscribe", "Заголовок открываемого
материала") on every page, so most translation work is repeated work.  The
memory remembers each (pack, decoding settings, source text) -> translation.

Key:
- ``pack``: "argos:<from>-<to>@<version>" plus a fingerprint of the pack's files
  (the archive's sha256 recorded at install, else the model file's size and
  modification time), so a reinstalled or rebuilt pack never serves stale
  translations, while the ``method`` of a hit still names the pack that made it;
- ``decoding``: the settings that change the output ("beam=4"; a capped
  decoding length adds to it);
- ``source``: the fragment text exactly as sent to the pack.

Location: ``$POLYGLOT_PIPE_CACHE_DIR/memory.sqlite3``, else
``platformdirs.user_cache_dir("polyglot_pipe")/memory.sqlite3``.  WAL mode and a
busy timeout let several runs share it; each ``put_many`` is one transaction, so
a killed run loses at most the batch it was writing.

Why sqlite3 and not a cache library: the standard library's sqlite3 already does
the job (transactions, concurrent readers, batch lookups), with no dependency.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from polyglot_pipe.packs.store import Pack

__all__ = ["TranslationMemory", "MemoryStats", "default_path", "pack_key", "ENV_VAR"]

ENV_VAR = "POLYGLOT_PIPE_CACHE_DIR"
FILENAME = "memory.sqlite3"
# SQLite's default limit on bound parameters is 32766 (999 before 3.32); stay well below.
_IN_BATCH = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    pack TEXT NOT NULL,
    decoding TEXT NOT NULL,
    source TEXT NOT NULL,
    english TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (pack, decoding, source)
) WITHOUT ROWID
"""


def default_path() -> Path:
    """Where the memory lives unless the caller says otherwise."""
    folder = os.environ.get(ENV_VAR)
    if not folder:
        from platformdirs import user_cache_dir

        folder = user_cache_dir("polyglot_pipe")
    return Path(folder) / FILENAME


def pack_key(pack: Pack) -> str:
    """The pack's identity: its name, version, and a fingerprint of its files."""
    if pack.sha256:
        fingerprint = "sha256:" + pack.sha256
    else:
        try:
            stat = (pack.path / "model" / "model.bin").stat()
            fingerprint = f"model.bin:{stat.st_size}:{stat.st_mtime_ns}"
        except OSError:
            fingerprint = "unknown"
    return f"{pack.id}#{fingerprint}"


@dataclass(frozen=True, slots=True)
class MemoryStats:
    path: Path
    entries: int
    size_bytes: int
    by_pack: tuple[tuple[str, str, int], ...]  # (pack key, decoding, entries)


class TranslationMemory:
    """A persistent map (pack, decoding settings, source text) -> translation.

    Opened lazily: constructing one touches no file, so ``--no-memory`` and
    ``memory stats`` on a fresh machine create nothing they don't need.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else default_path()
        self._db: sqlite3.Connection | None = None
        self._pid = os.getpid()

    # -- connection

    def _connect(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():  # never share a connection across fork
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            self._db, self._pid = db, os.getpid()
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> "TranslationMemory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self):  # a Pipeline may travel to worker processes; the connection may not
        return {"path": self.path}

    def __setstate__(self, state) -> None:
        self.__init__(state["path"])

    # -- the Translator's hook

    def get_many(self, pack: Pack, texts: Sequence[str], decoding: str = "") -> dict[str, str]:
        """The remembered translations among ``texts``: {source: english}."""
        db = self._connect()
        key = pack_key(pack)
        found: dict[str, str] = {}
        for i in range(0, len(texts), _IN_BATCH):
            batch = list(texts[i : i + _IN_BATCH])
            marks = ",".join("?" * len(batch))
            rows = db.execute(
                f"SELECT source, english FROM translations WHERE pack = ? AND decoding = ? AND source IN ({marks})",
                [key, decoding, *batch],
            )
            found.update(rows)
        return found

    def put_many(self, pack: Pack, pairs: Iterable[tuple[str, str]], decoding: str = "") -> None:
        """Remember these (source, english) pairs, in one transaction."""
        db = self._connect()
        key = pack_key(pack)
        now = time.time()
        rows = [(key, decoding, source, english, now) for source, english in pairs]
        if not rows:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # -- housekeeping (polyglot-pipe memory stats|clear)

    def stats(self) -> MemoryStats:
        if not self.path.exists():
            return MemoryStats(self.path, 0, 0, ())
        db = self._connect()
        by_pack = tuple(
            db.execute(
                "SELECT pack, decoding, COUNT(*) FROM translations GROUP BY pack, decoding ORDER BY pack, decoding"
            )
        )
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return MemoryStats(self.path, sum(n for _, _, n in by_pack), size, by_pack)

    def clear(self, pack_id: str | None = None) -> int:
        """Forget everything, or only what the pack named ``pack_id`` ("argos:ru-en@1.0") made; returns the count."""
        if not self.path.exists():
            return 0
        db = self._connect()
        if pack_id:
            prefix = pack_id + "#"
            cursor = db.execute(
                "DELETE FROM translations WHERE pack = ? OR substr(pack, 1, ?) = ?", (pack_id, len(prefix), prefix)
            )
        else:
            cursor = db.execute("DELETE FROM translations")
        db.execute("VACUUM")
        return cursor.rowcount
