"""Installing packs from the network: a URL, or the package index (``run --install-missing`` too).

Here, not in store.py, because it needs both the store (to install) and the
index (to find and download): store <- index <- install, no cycle.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from polyglot_pipe.errors import PackError
from polyglot_pipe.packs import index as pack_index
from polyglot_pipe.packs.store import (
    Pack,
    find_pack,
    install_pack_file,
    packages_dir,
    parse_pair,
)

__all__ = ["install", "install_from_url", "install_from_index", "install_missing"]

_URL = re.compile(r"^(https?|file)://", re.IGNORECASE)


def install_from_url(
    url: str,
    directory: str | os.PathLike | None = None,
    *,
    sha256: str | None = None,
    size: int | None = None,
    timeout: float | None = None,
    progress: bool = False,
) -> Pack:
    """Download an .argosmodel and install it; nothing is installed unless the whole file arrived
    (and matched ``sha256`` when given)."""
    root = packages_dir(directory)
    root.mkdir(parents=True, exist_ok=True)
    file = pack_index.download(
        url,
        root,
        sha256=sha256,
        size=size,
        timeout=pack_index.DEFAULT_TIMEOUT if timeout is None else timeout,
        progress=progress,
    )
    try:
        return install_pack_file(file, root)
    except PackError as exc:
        raise PackError(str(exc).replace(str(file), url)) from None
    finally:
        file.unlink(missing_ok=True)


def install_from_index(
    from_code: str,
    to_code: str = "en",
    directory: str | os.PathLike | None = None,
    *,
    index_url: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    timeout: float | None = None,
    progress: bool = False,
) -> Pack:
    """Install the newest from_code->to_code pack the index offers.

    Reads the cached index; fetches it when there is none, or again when the
    cached one lacks the pair (it may be out of date).  Tries each link in turn.
    """
    timeout = pack_index.DEFAULT_TIMEOUT if timeout is None else timeout
    entries = pack_index.cached_index(index_url, cache_dir)
    entry = pack_index.find_entry(entries, from_code, to_code) if entries is not None else None
    if entry is None:
        entries = pack_index.update_index(index_url, cache_dir, timeout=timeout)[0]
        entry = pack_index.find_entry(entries, from_code, to_code)
    if entry is None:
        raise PackError(f"the index ({pack_index.index_url(index_url)}) has no {from_code}->{to_code} pack")
    return _install_entry(entry, directory, timeout=timeout, progress=progress)


def _install_entry(entry, directory, *, timeout: float, progress: bool) -> Pack:
    """Install an index entry, trying each of its links in turn."""
    errors: list[PackError] = []
    for link in entry.links:
        try:
            return install_from_url(
                link, directory, sha256=entry.sha256, size=entry.size, timeout=timeout, progress=progress
            )
        except PackError as exc:
            errors.append(exc)
    if all(isinstance(exc, pack_index.OfflineError) for exc in errors):
        raise errors[0]
    raise next(exc for exc in reversed(errors) if not isinstance(exc, pack_index.OfflineError))


def _say_on_stderr(message: str) -> None:
    print(f"polyglot-pipe: {message}", file=sys.stderr)


def install_missing(
    langs: Iterable[str],
    target: str = "en",
    directory: str | os.PathLike | None = None,
    *,
    say: Callable[[str], None] = _say_on_stderr,
    index_url: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    timeout: float | None = None,
    progress: bool = False,
) -> list[Pack]:
    """Install, from the index, a lang->target pack for each label in ``langs`` that lacks one.

    For ``run --install-missing``: never raises for network or pack trouble.
    Each problem is one line through ``say``; offline, one line in all, and the
    run goes on (its fragments come out "no-pack").  Labels equal to the target,
    "und", and labels with a pack installed are skipped.  Returns the packs installed.
    """
    wanted = sorted({lang for lang in langs if lang and lang not in (target, "und")})
    missing = [lang for lang in wanted if find_pack(lang, target, directory) is None]
    if not missing:
        return []
    timeout = pack_index.DEFAULT_TIMEOUT if timeout is None else timeout

    def offline(exc: Exception, langs: list[str]) -> None:
        rest = ", ".join(f"{code}->{target}" for code in langs)
        say(f"{exc}; not installing {rest}, carrying on without")

    entries = None
    try:
        entries = pack_index.cached_index(index_url, cache_dir)
    except PackError:
        pass  # an unreadable cache is fetched again
    if entries is None or any(pack_index.find_entry(entries, lang, target) is None for lang in missing):
        try:
            entries = pack_index.update_index(index_url, cache_dir, timeout=timeout)[0]
        except pack_index.OfflineError as exc:
            offline(exc, missing)
            return []
        except (PackError, OSError) as exc:
            if entries is None:
                say(f"cannot read the package index: {exc}; not installing any packs")
                return []

    installed: list[Pack] = []
    for position, lang in enumerate(missing):
        entry = pack_index.find_entry(entries, lang, target)
        if entry is None:
            say(f"cannot install a {lang}->{target} pack: the index ({pack_index.index_url(index_url)}) has none")
            continue
        try:
            pack = _install_entry(entry, directory, timeout=timeout, progress=progress)
        except pack_index.OfflineError as exc:
            offline(exc, missing[position:])
            break
        except (PackError, OSError) as exc:  # OSError: a full disk, an unwritable packages folder
            say(f"cannot install a {lang}->{target} pack: {exc}")
            continue
        say(f"installed {pack.from_code}->{pack.to_code} {pack.version} into {pack.path}")
        installed.append(pack)
    return installed


def install(
    source: str,
    directory: str | os.PathLike | None = None,
    *,
    to_code: str | None = None,
    index_url: str | None = None,
    timeout: float | None = None,
    progress: bool = False,
    say: Callable[[str], None] = _say_on_stderr,
):
    """Install from ``source``: a URL, an .argosmodel file, a folder of them, or a language code or
    pair looked up in the index.  Yields (origin, pack) per pack installed; raises PackError on
    the first failure (in a folder, after trying every file, each failure told through ``say``)."""
    if _URL.match(source):
        yield source, install_from_url(source, directory, timeout=timeout, progress=progress)
        return
    path = Path(source)
    if path.is_dir():
        files = sorted(path.glob("*.argosmodel"))
        if not files:
            raise PackError(f"{path}: no .argosmodel files in this folder")
        errors = []
        for file in files:
            try:
                yield file, install_pack_file(file, directory)
            except PackError as exc:
                errors.append(exc)
                say(str(exc))
        if errors:
            raise PackError(f"{path}: {len(errors)} of {len(files)} packs failed to install")
        return
    if path.exists():
        yield path, install_pack_file(path, directory)
        return
    try:
        from_code, pair_to = parse_pair(source, to_code)
    except PackError:
        raise PackError(f"{source}: no such file, and not a language code or pair (ru, ru-en, ru_en)") from None
    pack = install_from_index(from_code, pair_to, directory, index_url=index_url, timeout=timeout, progress=progress)
    yield pack_index.index_url(index_url), pack
