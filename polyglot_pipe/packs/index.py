"""The Argos package index and downloads: fetch, cache, parse, and stream packs to disk.

The index is argostranslate's: a JSON list of package entries (package_version,
argos_version, from_code, from_name, to_code, to_name, links, code) found at
``$ARGOS_PACKAGE_INDEX + "index.json"``.  We add two optional fields of our own,
``sha256`` and ``size``, which the official index doesn't carry: when an entry
gives them, a download must match.

Everything here is stdlib (urllib): a download is one GET, and the things that
matter to the user (a timeout, a progress bar, a clear line when offline, no
half-written file) are easier to get right in 100 lines than to configure in a
client library.  ``rich`` draws the progress bar, on a terminal only.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from polyglot_pipe.errors import DownloadError, OfflineError
from polyglot_pipe.packs.store import PackError, _version_key, argos_setting
from polyglot_pipe.util.atomic import atomic_write
from polyglot_pipe.util.progress import ProgressBar

__all__ = [
    "DEFAULT_INDEX",
    "DEFAULT_TIMEOUT",
    "IndexEntry",
    "OfflineError",
    "DownloadError",
    "index_url",
    "index_cache_path",
    "parse_index",
    "update_index",
    "cached_index",
    "find_entry",
    "download",
]

#: argostranslate's default (argostranslate/settings.py); it appends "index.json".
DEFAULT_INDEX = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"
#: Seconds to wait for a connection or for the next block of data, not for the whole file.
DEFAULT_TIMEOUT = 30.0
USER_AGENT = "polyglot-pipe (ArgosTranslate-compatible)"
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One package the index offers."""

    from_code: str
    to_code: str
    version: str
    links: tuple[str, ...]
    from_name: str = ""
    to_name: str = ""
    code: str = ""
    argos_version: str = ""
    sha256: str | None = None
    size: int | None = None
    metadata: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def pair(self) -> str:
        return f"{self.from_code}-{self.to_code}"


def index_url(base: str | None = None) -> str:
    """The URL of index.json: ``base``, else $ARGOS_PACKAGE_INDEX, else argostranslate's default.

    argostranslate appends "index.json" to the setting and so needs a trailing
    "/"; we add the slash when it is missing, and take a URL that already ends
    in ".json" as the index itself.
    """
    base = base or argos_setting("ARGOS_PACKAGE_INDEX") or DEFAULT_INDEX
    if base.endswith(".json"):
        return base
    return base + ("" if base.endswith("/") else "/") + "index.json"


def index_cache_dir() -> Path:
    """Our cache folder: platformdirs' user cache dir for "polyglot_pipe" (honours $XDG_CACHE_HOME)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("polyglot_pipe"))


def index_cache_path(url: str | None = None, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the index fetched from ``url`` is cached: one file per index URL, so switching
    $ARGOS_PACKAGE_INDEX never shows packs of another index."""
    url = index_url(url)
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return Path(cache_dir or index_cache_dir()) / f"index-{key}.json"


def parse_index(data: bytes | str, source: str = "index", base_url: str | None = None) -> list[IndexEntry]:
    """The translate packages in an index.json; entries without a language pair or a link are skipped.

    Relative links are resolved against ``base_url`` (the index's own URL).
    """
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PackError(f"{source}: not a JSON package index ({exc})") from None
    if not isinstance(raw, list):
        raise PackError(f"{source}: not a package index (expected a JSON list, got {type(raw).__name__})")
    entries = []
    for item in raw:
        if not isinstance(item, dict) or item.get("type", "translate") != "translate":
            continue
        from_code, to_code, links = item.get("from_code"), item.get("to_code"), item.get("links")
        if not (isinstance(from_code, str) and isinstance(to_code, str) and from_code and to_code):
            continue
        if isinstance(links, str):
            links = [links]
        if not isinstance(links, list) or not all(isinstance(link, str) for link in links) or not links:
            continue
        if base_url:  # a mirror's index may give links relative to itself
            links = [urllib.parse.urljoin(base_url, link) for link in links]
        sha256 = item.get("sha256")
        size = item.get("size")
        entries.append(
            IndexEntry(
                from_code=from_code,
                to_code=to_code,
                version=str(item.get("package_version", "0")),
                links=tuple(links),
                from_name=str(item.get("from_name", "")),
                to_name=str(item.get("to_name", "")),
                code=str(item.get("code", "")),
                argos_version=str(item.get("argos_version", "")),
                sha256=sha256.lower() if isinstance(sha256, str) and sha256 else None,
                size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
                metadata=item,
            )
        )
    return entries


def update_index(
    url: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[list[IndexEntry], Path]:
    """Fetch the index, check it parses, and cache it (atomically). Returns the entries and the cache file."""
    url = index_url(url)
    data = _fetch_bytes(url, timeout=timeout)
    entries = parse_index(data, url, url)
    path = index_cache_path(url, cache_dir)
    with atomic_write(path, binary=True) as out:
        out.write(data)
    return entries, path


def cached_index(url: str | None = None, cache_dir: str | os.PathLike | None = None) -> list[IndexEntry] | None:
    """The cached index for ``url``, or None when it was never fetched."""
    path = index_cache_path(url, cache_dir)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PackError(f"{path}: cannot read the cached index ({exc})") from None
    return parse_index(data, str(path), index_url(url))


def find_entry(entries: list[IndexEntry], from_code: str, to_code: str) -> IndexEntry | None:
    """The newest entry for the pair, or None."""
    matches = [e for e in entries if (e.from_code, e.to_code) == (from_code, to_code)]
    return max(matches, key=lambda e: _version_key(e.version)) if matches else None


def download(
    url: str,
    directory: str | os.PathLike,
    *,
    sha256: str | None = None,
    size: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = False,
) -> Path:
    """Stream ``url`` into a new temporary file in ``directory`` and return its path.

    The file is complete or absent: a download that breaks off, is shorter than
    its Content-Length (or the index's ``size``), or doesn't match ``sha256``
    is deleted and raises DownloadError.  The caller deletes the file when done.
    """
    response = _open(url, timeout=timeout)
    expected = size
    if expected is None and response.headers.get("Content-Length", "").isdigit():
        expected = int(response.headers["Content-Length"])
    name = Path(urllib.parse.urlparse(url).path).name or "download"
    fd, tmp = tempfile.mkstemp(prefix=".download-", suffix=f"-{name}", dir=directory)
    digest = hashlib.sha256()
    received = 0
    try:
        with os.fdopen(fd, "wb") as out, response, ProgressBar(name, expected, enabled=progress, transfer=True) as bar:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except http.client.IncompleteRead as exc:
                    received += len(exc.partial)
                    raise _broken_off(url, received, expected) from None
                except (OSError, http.client.HTTPException) as exc:
                    raise DownloadError(f"download of {url} broke off after {received} bytes ({_reason(exc)})") from None
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.advance(len(chunk))
        if expected is not None and received != expected:
            raise _broken_off(url, received, expected)
        if sha256 and digest.hexdigest() != sha256.lower():
            raise DownloadError(
                f"download of {url} does not match the index's sha256 (got {digest.hexdigest()[:12]}…, "
                f"expected {sha256.lower()[:12]}…); nothing installed"
            )
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _broken_off(url: str, received: int, expected: int | None) -> DownloadError:
    if expected is not None and received > expected:
        return DownloadError(f"download of {url} is {received} bytes, {expected} were expected; nothing installed")
    of = f" of {expected}" if expected is not None else ""
    return DownloadError(f"download of {url} broke off after {received}{of} bytes; nothing installed")


def _fetch_bytes(url: str, *, timeout: float) -> bytes:
    """A small file (the index) read whole."""
    with _open(url, timeout=timeout) as response:
        try:
            return response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise DownloadError(f"reading {url} failed ({_reason(exc)})") from None


def _open(url: str, *, timeout: float):
    scheme = urllib.parse.urlparse(url).scheme
    if scheme not in ("http", "https", "file"):
        raise PackError(f"{url}: only http, https and file URLs are supported")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        if _is_offline(exc):
            host = urllib.parse.urlparse(url).netloc or url
            raise OfflineError(f"cannot reach {host} ({_reason(exc)}): offline?") from None
        raise DownloadError(f"{url}: {_reason(exc)}") from None


_OFFLINE_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ENETUNREACH,
    errno.EHOSTUNREACH,
    errno.ENETDOWN,
    errno.EHOSTDOWN,
    errno.ETIMEDOUT,
    errno.ECONNRESET,
}


def _is_offline(exc: BaseException) -> bool:
    """True when the server was never reached (as opposed to a server that answered badly)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (socket.gaierror, socket.timeout, TimeoutError, ConnectionRefusedError)):
        return True
    return isinstance(reason, OSError) and reason.errno in _OFFLINE_ERRNOS


def _reason(exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        return "name lookup failed"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__
