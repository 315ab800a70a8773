"""Installed Argos Translate packs: where they live, what they are, installing them from files.

We read argostranslate's package format (a folder with metadata.json, model/
and sentencepiece.model) and use its package directory, so packs installed by
either tool serve both.  We don't import argostranslate to do it: its import
pulls in stanza and torch (seconds), for what is a JSON file and a folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Pack",
    "PackError",
    "packages_dir",
    "installed_packs",
    "find_pack",
    "install_pack_file",
    "install_command",
]


class PackError(Exception):
    """A pack that cannot be read or installed; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class Pack:
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

    argostranslate looks in $ARGOS_PACKAGES_DIR, else $XDG_DATA_HOME/argos-translate/packages
    (XDG_DATA_HOME defaulting to ~/.local/share).
    """
    if override:
        return Path(override)
    if os.environ.get("ARGOS_PACKAGES_DIR"):
        return Path(os.environ["ARGOS_PACKAGES_DIR"])
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "argos-translate" / "packages"


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
    try:
        with zipfile.ZipFile(archive) as zf:
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
                if target.exists():
                    shutil.rmtree(target)
                (staging / top).rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except zipfile.BadZipFile:
        raise PackError(f"{archive}: not a zip archive (an .argosmodel is one)") from None
    return read_pack(target) if pack else pack


def install_command(from_code: str, to_code: str = "en") -> str:
    """What a user types to get a missing pack."""
    return f"polyglot-pipe packs install {from_code}" + ("" if to_code == "en" else f" --to {to_code}")


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
