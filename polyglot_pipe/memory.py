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

Damage never stops a run: a file that is not a database (or a damaged one) is
moved aside to ``memory.sqlite3.corrupt-<UTC time>`` with one warning and a new
memory is started; a file (or folder) we may not write is used read-only, with one
warning (nothing is added to it; ``clear`` says it cannot).  One connection serves
all threads, behind a lock.

Why sqlite3 and not a cache library: the standard library's sqlite3 already does
the job (transactions, concurrent readers, batch lookups), with no dependency.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from polyglot_pipe.errors import MemoryStoreError
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
    score REAL,
    PRIMARY KEY (pack, decoding, source)
) WITHOUT ROWID
"""
# Memories written before renderings were scored lack the column: added on a writable open,
# read as unknown (None) on a read-only one.
_ADD_SCORE = "ALTER TABLE translations ADD COLUMN score REAL"


def _has_score(db: sqlite3.Connection) -> bool:
    return any(row[1] == "score" for row in db.execute("PRAGMA table_info(translations)"))


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

    def __init__(self, path: str | os.PathLike | None = None, *, say=None):
        self.path = Path(path) if path else default_path()
        self._db: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._say = say or _say_on_stderr
        self.read_only = False

    # -- connection

    def _connect(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():  # never share a connection across fork
            self._db, self._pid = self._open(), os.getpid()
        return self._db

    def _open(self) -> sqlite3.Connection:
        if not self._writable():
            return self._open_read_only()
        try:
            return self._open_read_write()
        except sqlite3.OperationalError as exc:
            if "readonly" in str(exc) or "read-only" in str(exc):
                return self._open_read_only()
            if not _damaged(exc):
                raise MemoryStoreError(f"{self.path}: cannot open the translation memory ({exc})") from None
            return self._rebuild(exc)
        except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
            return self._rebuild(exc)

    def _writable(self) -> bool:
        folder = self.path.parent
        if self.path.exists():
            return os.access(self.path, os.W_OK) and os.access(folder, os.W_OK)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        return os.access(folder, os.W_OK)

    def _open_read_write(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            if not _has_score(db):
                db.execute(_ADD_SCORE)
            db.execute("SELECT COUNT(*) FROM (SELECT 1 FROM translations LIMIT 1)").fetchone()
        except BaseException:
            db.close()
            raise
        self.read_only = False
        return db

    def _open_read_only(self) -> sqlite3.Connection:
        """The memory as it is, for reading: no file is created, changed or added beside it."""
        if not self.path.exists():
            self._say(f"{self.path}: cannot create the translation memory here (read-only); running without one")
            db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            db.execute(_SCHEMA)
            self.read_only = True
            return db
        uri = self.path.absolute().as_uri()
        last: Exception | None = None
        for query in ("?mode=ro", "?mode=ro&immutable=1"):  # immutable: a WAL file whose -shm we cannot create
            try:
                db = sqlite3.connect(uri + query, uri=True, timeout=30.0, isolation_level=None, check_same_thread=False)
                db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if "translations" not in tables:
                    db.close()
                    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
                    db.execute(_SCHEMA)
                break
            except sqlite3.DatabaseError as exc:
                last = exc
        else:
            self._say(f"{self.path}: read-only and unreadable ({last}); running without a translation memory")
            db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            db.execute(_SCHEMA)
            self.read_only = True
            return db
        self._say(f"{self.path}: read-only; using the translation memory without adding to it")
        self.read_only = True
        return db

    def _rebuild(self, exc: Exception) -> sqlite3.Connection:
        """Move the damaged file (and its -wal, -shm) aside and start an empty memory."""
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
        try:
            for suffix in ("", "-wal", "-shm"):
                part = Path(str(self.path) + suffix)
                if part.exists():
                    os.replace(part, str(aside) + suffix)
        except OSError as err:
            raise MemoryStoreError(f"{self.path}: damaged ({exc}) and cannot be moved aside ({err.strerror or err})") from None
        self._say(f"{self.path}: damaged translation memory ({exc}); moved aside to {aside.name}, starting a new one")
        try:
            return self._open_read_write()
        except sqlite3.DatabaseError as err:
            raise MemoryStoreError(f"{self.path}: cannot start a new translation memory ({err})") from None

    def _guarded(self, work):
        """Run ``work(db)``; a database found damaged on the way is rebuilt, and the work done once more."""
        with self._lock:
            db = self._connect()
            try:
                return work(db)
            except sqlite3.DatabaseError as exc:
                if not _damaged(exc):
                    raise MemoryStoreError(f"{self.path}: {exc}") from None
                self._db = self._rebuild(exc)
                return work(self._db)

    def close(self) -> None:
        with self._lock:
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
        return {source: english for source, (english, _) in self.get_scored_many(pack, texts, decoding).items()}

    def get_scored_many(
        self, pack: Pack, texts: Sequence[str], decoding: str = ""
    ) -> dict[str, tuple[str, float | None]]:
        """The remembered translations among ``texts`` with their scores: {source: (english, score)};
        the score is None for a rendering remembered before scores were kept."""
        key = pack_key(pack)

        def work(db) -> dict[str, tuple[str, float | None]]:
            score = "score" if _has_score(db) else "NULL"
            found: dict[str, tuple[str, float | None]] = {}
            for i in range(0, len(texts), _IN_BATCH):
                batch = list(texts[i : i + _IN_BATCH])
                marks = ",".join("?" * len(batch))
                rows = db.execute(
                    f"SELECT source, english, {score} FROM translations"
                    f" WHERE pack = ? AND decoding = ? AND source IN ({marks})",
                    [key, decoding, *batch],
                )
                found.update((source, (english, value)) for source, english, value in rows)
            return found

        return self._guarded(work)

    def put_many(self, pack: Pack, pairs: Iterable[tuple], decoding: str = "") -> None:
        """Remember these (source, english) or (source, english, score) items, in one transaction
        (a read-only memory keeps nothing)."""
        key = pack_key(pack)
        now = time.time()
        rows = [(key, decoding, item[0], item[1], now, item[2] if len(item) > 2 else None) for item in pairs]
        if not rows:
            return

        def work(db) -> None:
            if self.read_only:
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT OR REPLACE INTO translations (pack, decoding, source, english, created, score)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

        self._guarded(work)

    # -- housekeeping (polyglot-pipe memory stats|clear)

    def stats(self) -> MemoryStats:
        if not self.path.exists():
            return MemoryStats(self.path, 0, 0, ())
        by_pack = tuple(
            self._guarded(
                lambda db: list(
                    db.execute(
                        "SELECT pack, decoding, COUNT(*) FROM translations GROUP BY pack, decoding ORDER BY pack, decoding"
                    )
                )
            )
        )
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file() and ".corrupt-" not in p.name)
        return MemoryStats(self.path, sum(n for _, _, n in by_pack), size, by_pack)

    def clear(self, pack_id: str | None = None) -> int:
        """Forget everything, or only what the pack named ``pack_id`` ("argos:ru-en@1.0") made; returns the count."""
        if not self.path.exists():
            return 0

        def work(db) -> int:
            if self.read_only:
                raise MemoryStoreError(f"{self.path}: read-only; cannot clear the translation memory")
            if pack_id:
                prefix = pack_id + "#"
                cursor = db.execute(
                    "DELETE FROM translations WHERE pack = ? OR substr(pack, 1, ?) = ?", (pack_id, len(prefix), prefix)
                )
            else:
                cursor = db.execute("DELETE FROM translations")
            db.execute("VACUUM")
            return cursor.rowcount

        return self._guarded(work)


def _damaged(exc: Exception) -> bool:
    """Does this sqlite3 error say the file is damaged (rather than busy, locked or full)?"""
    text = str(exc).lower()
    return type(exc) is sqlite3.DatabaseError or "malformed" in text or "not a database" in text or "corrupt" in text


def _say_on_stderr(message: str) -> None:
    print(f"polyglot-pipe: {message}", file=sys.stderr)
