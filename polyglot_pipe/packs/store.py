"""Argos Translate packs, managed like packages: where they live, what they are,
installing them (files, URLs, the Argos index), removing them.

We read argostranslate's package format (a folder with metadata.json, model/
and sentencepiece.model) and use its package directory, so packs installed by
either tool serve both.  We don't import argostranslate to do it: its import
pulls in stanza and torch (seconds), for what is a JSON file and a folder.

Each pack we install carries the sha256 of its archive in ``.sha256`` inside
its folder (argostranslate ignores the file), so ``packs list`` can show it.
Downloads and the index live in index.py; installing from them in install.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from polyglot_pipe.errors import PackError

__all__ = [
    "Pack",
    "PackError",
    "packages_dir",
    "installed_packs",
    "find_pack",
    "install_pack_file",
    "install_command",
    "read_pack",
    "unreadable_packs",
    "parse_pair",
    "remove_packs",
]


@dataclass(frozen=True, slots=True)
class Pack:
    """One installed pack: its language pair, version, folder, and the sha256 of the archive it came from."""

    from_code: str
    to_code: str
    version: str
    path: Path
    from_name: str = ""
    to_name: str = ""
    sha256: str | None = None
    metadata: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def id(self) -> str:
        """The name that ``method`` carries: "argos:ru-en@1.0"."""
        return f"argos:{self.from_code}-{self.to_code}@{self.version}"

    @property
    def size(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())


def packages_dir(override: str | os.PathLike | None = None) -> Path:
    """Where packs are installed: the caller's choice, else argostranslate's own place.

    argostranslate looks in $ARGOS_PACKAGES_DIR (or that key in its settings.json),
    else $XDG_DATA_HOME/argos-translate/packages
    (XDG_DATA_HOME defaulting to ~/.local/share).
    """
    if override:
        return Path(override)
    configured = argos_setting("ARGOS_PACKAGES_DIR")
    if configured:
        return Path(configured)
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "argos-translate" / "packages"


def argos_setting(key: str) -> str | None:
    """A setting as argostranslate reads it: the environment first, then its settings.json."""
    if os.environ.get(key):
        return os.environ[key]
    config_home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    try:
        settings = json.loads((Path(config_home) / "argos-translate" / "settings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = settings.get(key) if isinstance(settings, dict) else None
    return value if isinstance(value, str) and value else None


def read_pack(path: Path) -> Pack:
    """The pack installed in folder ``path``."""
    try:
        metadata = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackError(f"{path}: unreadable metadata.json ({exc})") from None
    try:
        return Pack(
            from_code=metadata["from_code"],
            to_code=metadata["to_code"],
            version=str(metadata.get("package_version", "0")),
            path=path,
            from_name=metadata.get("from_name", ""),
            to_name=metadata.get("to_name", ""),
            sha256=_read_sha256(path),
            metadata=metadata,
        )
    except KeyError as exc:
        raise PackError(f"{path}: metadata.json lacks {exc}") from None


def installed_packs(directory: str | os.PathLike | None = None) -> list[Pack]:
    """Every translate pack installed in ``directory``, sorted by language pair."""
    root = packages_dir(directory)
    if not root.is_dir():
        return []
    packs = []
    for child in sorted(root.iterdir()):
        if (child / "metadata.json").is_file():
            try:
                pack = read_pack(child)
            except PackError:
                continue
            if pack.metadata.get("type", "translate") == "translate":
                packs.append(pack)
    return sorted(packs, key=lambda p: (p.from_code, p.to_code, p.version))


def unreadable_packs(directory: str | os.PathLike | None = None) -> list[tuple[Path, str]]:
    """Folders in the packages directory that aren't readable packs, with why: ``packs list`` names them
    rather than hiding them (argostranslate fails on them too)."""
    root = packages_dir(directory)
    if not root.is_dir():
        return []
    found = []
    for child in sorted(root.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        try:
            read_pack(child)
        except PackError as exc:
            found.append((child, str(exc).removeprefix(f"{child}: ")))
    return found


def find_pack(from_code: str, to_code: str, directory: str | os.PathLike | None = None) -> Pack | None:
    """The newest installed pack for the pair, or None."""
    candidates = [p for p in installed_packs(directory) if (p.from_code, p.to_code) == (from_code, to_code)]
    if not candidates:
        return None
    return max(candidates, key=lambda p: _version_key(p.version))


def install_pack_file(archive: str | os.PathLike, directory: str | os.PathLike | None = None) -> Pack:
    """Unpack an .argosmodel (a zip with one top folder) into the packages directory.

    Unpacks into a temporary folder next to the target and renames it into place,
    so a broken archive never leaves a half-installed pack behind.
    """
    archive = Path(archive)
    root = packages_dir(directory)
    root.mkdir(parents=True, exist_ok=True)
    digest = _sha256_file(archive)
    with _open_archive(archive) as zf:
        names = [n for n in zf.namelist() if n.strip("/")]
        tops = {n.split("/", 1)[0] for n in names}
        if len(tops) != 1:
            raise PackError(f"{archive}: not an Argos pack (expected one top folder, found {len(tops)})")
        top = tops.pop()
        if top in ("", ".", "..") or any(".." in Path(n).parts or Path(n).is_absolute() for n in names):
            raise PackError(f"{archive}: unsafe paths inside the archive")
        if f"{top}/metadata.json" not in names:
            raise PackError(f"{archive}: not an Argos pack (no {top}/metadata.json)")
        staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=root))
        try:
            zf.extractall(staging)
            (staging / top / ".sha256").write_text(digest + "\n", encoding="ascii")
            pack = read_pack(staging / top)
            target = root / top
            replaced = staging / ".replaced"
            if target.exists():  # set the old copy aside, so the swap is two renames
                target.rename(replaced)
            try:
                (staging / top).rename(target)
            except OSError:
                if replaced.exists():
                    replaced.rename(target)
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    # Like a package manager, one version per pair: the new one replaces the others.
    for other in installed_packs(root):
        if (other.from_code, other.to_code) == (pack.from_code, pack.to_code) and other.path.name != top:
            shutil.rmtree(other.path, ignore_errors=True)
    return read_pack(target)


def _open_archive(archive: Path) -> zipfile.ZipFile:
    """The archive, opened and checked whole (every member's CRC) before anything is unpacked,
    so a damaged file is a clear PackError rather than whatever zipfile trips over."""
    # zipfile trips over damaged bytes with many exception types (BadZipFile, zlib.error, OSError,
    # NotImplementedError, struct.error, ...); while only reading, any of them means a damaged archive.
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        if "not a zip file" in str(exc):
            raise PackError(f"{archive}: not a zip archive (an .argosmodel is one)") from None
        raise PackError(f"{archive}: damaged zip archive ({exc})") from None
    except FileNotFoundError:
        raise PackError(f"{archive}: no such file") from None
    except Exception as exc:
        raise PackError(f"{archive}: damaged zip archive ({exc or type(exc).__name__})") from None
    try:
        bad = zf.testzip()
    except Exception as exc:
        zf.close()
        raise PackError(f"{archive}: damaged zip archive ({exc or type(exc).__name__})") from None
    if bad is not None:
        zf.close()
        raise PackError(f"{archive}: damaged zip archive (bad CRC in {bad})")
    return zf


def install_command(from_code: str, to_code: str = "en") -> str:
    """What a user types to get a missing pack."""
    return f"polyglot-pipe packs install {from_code}" + ("" if to_code == "en" else f" --to {to_code}")


_CODE = re.compile(r"^[A-Za-z]{2,3}$")
_PAIR = re.compile(r"^([A-Za-z]{2,3})(?:->|[-_>])([A-Za-z]{2,3})$")


def parse_pair(spec: str, to_code: str | None = None) -> tuple[str, str]:
    """A language pair from what a user types: "ru" (to ``to_code``, default English), "ru-en", "ru_en", "ru->en"."""
    spec = spec.strip()
    if _CODE.match(spec):
        return spec.lower(), (to_code or "en").lower()
    match = _PAIR.match(spec)
    if not match:
        raise PackError(f"{spec!r} is not a language code or pair (try: ru, ru-en, ru_en)")
    from_code, pair_to = match.group(1).lower(), match.group(2).lower()
    if to_code and to_code.lower() != pair_to:
        raise PackError(f"{spec!r} names the target {pair_to!r} but --to says {to_code!r}")
    return from_code, pair_to


def remove_packs(spec: str, directory: str | os.PathLike | None = None) -> list[Pack]:
    """Remove the installed packs ``spec`` names: a pair ("ru-en", every version) or a pack folder.

    A folder must be an installed pack inside the packages directory: we never
    delete a folder we didn't install.  Returns what was removed; an empty list
    means nothing matched.
    """
    root = packages_dir(directory)
    installed = installed_packs(root)
    if _CODE.match(spec):
        return _remove([p for p in installed if p.from_code == spec.lower()])
    if _PAIR.match(spec):
        from_code, to_code = parse_pair(spec)
        return _remove([p for p in installed if (p.from_code, p.to_code) == (from_code, to_code)])
    folder = Path(spec) if Path(spec).is_dir() else root / spec
    if not folder.is_dir():
        return []
    matches = [p for p in installed if p.path.resolve() == folder.resolve()]
    if not matches:
        raise PackError(f"{spec}: not a pack installed in {root}; not removing it")
    return _remove(matches)


def _remove(matches: list[Pack]) -> list[Pack]:
    for pack in matches:
        shutil.rmtree(pack.path)
    return matches


def _read_sha256(path: Path) -> str | None:
    try:
        return (path / ".sha256").read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in version.replace("-", ".").split("."))
