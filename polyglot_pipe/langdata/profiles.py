"""langdetect's n-gram profiles, read once for every part that scores letters.

Repair (how much a text reads as language) and identification (which language) both
score text against langdetect's profiles; they read them here, so there is one copy of
the parsing and, in a process, one read of the 55 JSON files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from polyglot_pipe.errors import SetupError


@dataclass(frozen=True, slots=True)
class Profile:
    """One language's profile as langdetect ships it: n-gram counts (1 to 3 letters)
    and the number of n-grams of each length it counted."""

    name: str
    freq: dict[str, int]
    n_words: tuple[int, int, int]


def default_profile_dir() -> Path:
    import langdetect

    return Path(langdetect.__file__).parent / "profiles"


@lru_cache(maxsize=4)
def load_profiles(profile_dir: Path | None = None) -> tuple[Profile, ...]:
    """Every profile in ``profile_dir`` (langdetect's own by default), sorted by file name."""
    folder = Path(profile_dir) if profile_dir is not None else default_profile_dir()
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError as exc:
        raise SetupError(f"cannot read langdetect profiles in '{folder}': {exc.strerror or exc}") from None
    if not files:
        raise SetupError(f"no langdetect profiles in '{folder}'")
    profiles = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            profiles.append(Profile(data["name"], data["freq"], tuple(data["n_words"])))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SetupError(f"langdetect profile '{path}' is unreadable: {exc}") from None
    return tuple(profiles)
