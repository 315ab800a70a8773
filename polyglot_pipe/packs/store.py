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
    "check_pack_folder",
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
    """The pack installed in folder ``path``; PackError names the field when metadata.json is not what a pack has."""
    try:
        metadata = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise PackError(f"{path}: unreadable metadata.json ({exc})") from None
    if not isinstance(metadata, dict):
        raise PackError(f"{path}: metadata.json holds a JSON {type(metadata).__name__}, not an object")
    for key in ("from_code", "to_code"):
        if key not in metadata:
            raise PackError(f"{path}: metadata.json lacks '{key}'")
        if not isinstance(metadata[key], str) or not _META_CODE.match(metadata[key]):
            raise PackError(f"{path}: metadata.json has {key} {metadata[key]!r}, not a language code")
    for key in ("from_name", "to_name", "type", "target_prefix"):
        if metadata.get(key) is not None and not isinstance(metadata[key], str):
            raise PackError(f"{path}: metadata.json has {key} {metadata[key]!r}, not text")
    version = metadata.get("package_version", "0")
    if isinstance(version, bool) or not isinstance(version, (str, int, float)):
        raise PackError(f"{path}: metadata.json has package_version {version!r}, not a version")
    return Pack(
        from_code=metadata["from_code"],
        to_code=metadata["to_code"],
        version=str(version),
        path=path,
        from_name=metadata.get("from_name") or "",
        to_name=metadata.get("to_name") or "",
        sha256=_read_sha256(path),
        metadata=metadata,
    )


def check_pack_folder(path: Path) -> Pack:
    """The pack in ``path``, checked whole as a run would use it: metadata.json's fields and types,
    the CTranslate2 model loads, the SentencePiece model loads; PackError says what is wrong."""
    pack = read_pack(path)
    if pack.metadata.get("type", "translate") != "translate":
        return pack  # another kind of Argos package (a sentence splitter): not ours to load
    model, spm = path / "model", path / "sentencepiece.model"
    if not (model / "model.bin").is_file():
        raise PackError(f"{path.name}: no model/model.bin (a {pack.from_code}->{pack.to_code} pack without its model)")
    if not spm.is_file():
        raise PackError(f"{path.name}: no sentencepiece.model (only SentencePiece packs are supported)")
    try:
        import ctranslate2

        ctranslate2.Translator(str(model), device="cpu", compute_type="auto", inter_threads=1, intra_threads=1)
    except Exception as exc:  # CTranslate2 raises RuntimeError and ValueError for files it cannot read
        raise PackError(f"{path.name}: its CTranslate2 model does not load ({exc})") from None
    try:
        import sentencepiece

        sentencepiece.SentencePieceProcessor(model_file=str(spm))
    except Exception as exc:
        raise PackError(f"{path.name}: its sentencepiece.model does not load ({exc})") from None
    return pack


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
    """The newest installed pack for the pair, or None; each code also under the names Argos
    files it by (a Norwegian ``no`` fragment finds an ``nb`` pack: langdata.codes)."""
    from polyglot_pipe.langdata.codes import pack_codes

    packs = installed_packs(directory)
    for source in pack_codes(from_code):
        for target in pack_codes(to_code):
            candidates = [p for p in packs if (p.from_code, p.to_code) == (source, target)]
            if candidates:
                return max(candidates, key=lambda p: _version_key(p.version))
    return None


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
            try:  # checked whole before it replaces anything
                pack = check_pack_folder(staging / top)
            except PackError as exc:
                raise PackError(f"{archive}: {str(exc).replace(str(staging / top), top)}; nothing installed") from None
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
        _check_sizes(archive, zf)
    except PackError:
        zf.close()
        raise
    try:
        bad = zf.testzip()
    except Exception as exc:
        zf.close()
        raise PackError(f"{archive}: damaged zip archive ({exc or type(exc).__name__})") from None
    if bad is not None:
        zf.close()
        raise PackError(f"{archive}: damaged zip archive (bad CRC in {bad})")
    return zf


#: Limits on what an archive may unpack to, checked from its directory before anything is read:
#: the largest Argos packs unpack to about 400 MB; their model.bin barely compresses (ratio ~1.1),
#: so a ratio of 50 over more than 16 MB is a zip bomb, not a pack.
MAX_UNPACKED_BYTES = 4 << 30
MAX_MEMBERS = 10_000
MAX_RATIO = 50
RATIO_FROM_BYTES = 16 << 20


def _check_sizes(archive: Path, zf: zipfile.ZipFile) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise PackError(f"{archive}: {len(infos)} files inside; a pack has a handful (limit {MAX_MEMBERS})")
    unpacked = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if unpacked > MAX_UNPACKED_BYTES:
        raise PackError(f"{archive}: would unpack to {unpacked / 1e9:.1f} GB (limit {MAX_UNPACKED_BYTES / 1e9:.1f} GB); not unpacking")
    if unpacked > RATIO_FROM_BYTES and unpacked > MAX_RATIO * max(packed, 1):
        raise PackError(
            f"{archive}: would unpack {packed} bytes to {unpacked} ({unpacked // max(packed, 1)}x; limit {MAX_RATIO}x): "
            "a zip bomb, not a pack; not unpacking"
        )


def install_command(from_code: str, to_code: str = "en") -> str:
    """What a user types to get a missing pack."""
    return f"polyglot-pipe packs install {from_code}" + ("" if to_code == "en" else f" --to {to_code}")


_CODE = re.compile(r"^[A-Za-z]{2,3}$")
_META_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")  # as metadata.json may write them ("zh-Hant")
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
    if not matches and folder.resolve().parent == root.resolve() and (folder / "metadata.json").exists():
        # a broken pack (unreadable metadata): ``packs list`` names it, and it can be removed by its folder
        matches = [Pack(from_code="?", to_code="?", version="?", path=folder)]
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
