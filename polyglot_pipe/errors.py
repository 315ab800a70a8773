"""One family of errors: everything polyglot_pipe raises on purpose derives from PolyglotError.

A caller catches ``PolyglotError`` to handle any of them; the CLI prints its message
as one line.  Each message quotes the bad value (the file, the field, the code), as
langcodes does, so the line alone says what to fix.  The subclasses say which part
of the road refused: they also derive from the built-in a caller may already catch
(``ValueError`` for bad arguments and bad data).
"""

from __future__ import annotations

__all__ = [
    "PolyglotError",
    "OptionError",
    "NotTextError",
    "SourceError",
    "PackError",
    "DownloadError",
    "OfflineError",
    "ReviewError",
    "ClusterError",
    "DocumentError",
    "SetupError",
    "ServiceError",
    "QueueFullError",
    "MemoryStoreError",
]


class PolyglotError(Exception):
    """Base of every error polyglot_pipe raises on purpose."""


class OptionError(PolyglotError, ValueError):
    """An option or argument the library cannot use (an unknown language code, a bad size)."""


class NotTextError(PolyglotError, ValueError):
    """The bytes are not text in any encoding we know (a binary file, say)."""


class SourceError(PolyglotError):
    """An input that cannot be read (a missing path, a folder without text, a bad record)."""


class PackError(PolyglotError):
    """A language pack that cannot be found, read, installed or removed."""


class DownloadError(PackError):
    """A pack or the index could not be downloaded (bad status, broken off, bad checksum)."""


class OfflineError(DownloadError):
    """The index or a pack's URL cannot be reached at all (no network, DNS failure)."""


class ReviewError(PolyglotError):
    """A results file the review cannot read."""


class ClusterError(PolyglotError):
    """A Ray cluster that cannot be reached or started."""


class DocumentError(PolyglotError, ValueError):
    """A Document whose fragments do not tile its text (built by hand, or a bug in a stage)."""


class SetupError(PolyglotError, RuntimeError):
    """The installation lacks a part polyglot_pipe needs (langdetect's profiles, wordfreq)."""


class ServiceError(PolyglotError):
    """A request the service refuses; ``status`` is the HTTP status it answers with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class QueueFullError(PolyglotError):
    """The service's batching queue already holds as many requests as it may."""


class MemoryStoreError(PolyglotError):
    """The translation memory's database cannot be used (nor set aside and rebuilt)."""
