"""Language codes: our labels (langdetect's ISO 639-1 codes) and the codes Argos packs use.

Argos names Norwegian Bokmål ``nb`` where langdetect says ``no``, traditional Chinese ``zt``
where we say ``zh`` for both scripts, and some packs still carry ISO 639's withdrawn codes
(``iw``, ``in``, ``ji``).  A pack is looked up under each name its language goes by, ours first.
"""

from __future__ import annotations

import re

from polyglot_pipe.errors import OptionError

__all__ = ["pack_codes", "normalise_code"]

#: Each label and the other codes a pack for it may carry, in the order they are tried.
_ALIASES: dict[str, tuple[str, ...]] = {
    "no": ("nb", "nn"),
    "nb": ("no",),
    "zh": ("zt",),
    "zt": ("zh",),
    "he": ("iw",),
    "iw": ("he",),
    "id": ("in",),
    "in": ("id",),
    "yi": ("ji",),
}
_CODE_RE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")


def pack_codes(code: str) -> tuple[str, ...]:
    """The codes a pack for ``code`` may be filed under: the code itself first."""
    return (code, *_ALIASES.get(code, ()))


def normalise_code(code: str, what: str = "--to") -> str:
    """``code`` as packs and labels spell it (lower case, ``-`` not ``_``): "EN" -> "en",
    "zh_TW" -> "zh-tw"; OptionError quoting the value when it is no language code."""
    spelled = str(code).strip().lower().replace("_", "-")
    if not _CODE_RE.fullmatch(spelled):
        raise OptionError(f"{what} {code!r}: not a language code (e.g. en, ru, pt-br)")
    return spelled
