"""The Unicode script of characters and text.

Letters get their script (Latin, Cyrillic, Han, ...); everything else (digits,
punctuation, spaces, symbols) is "Common": it belongs to whatever text is around it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter

from polyglot_pipe.langdata.script_data import ENDS, NAMES, STARTS

__all__ = ["COMMON", "script_of", "dominant_script", "script_group", "SCRIPT_DECIDES"]

COMMON = "Common"

#: Scripts written by one language only (for our purposes): the script decides the label.
SCRIPT_DECIDES = {
    "Hangul": "ko",
    "Greek": "el",
    "Thai": "th",
    "Georgian": "ka",
    "Armenian": "hy",
    "Hiragana": "ja",
    "Katakana": "ja",
    "Lao": "lo",
    "Khmer": "km",
    "Sinhala": "si",
    "Tamil": "ta",
    "Telugu": "te",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Gujarati": "gu",
    "Gurmukhi": "pa",
    "Oriya": "or",
    "Thaana": "dv",
    "Myanmar": "my",
    "Tibetan": "bo",
    "Ethiopic": "am",
}

# Scripts that one language writes together: Japanese mixes kana and kanji.
_GROUPS = {"Hiragana": "Han", "Katakana": "Han", "Bopomofo": "Han"}

_cache: dict[str, str] = {}


def script_of(ch: str) -> str:
    """The script of one character; "Common" for anything that is not a letter or mark."""
    try:
        return _cache[ch]
    except KeyError:
        pass
    code = ord(ch)
    i = bisect_right(STARTS, code) - 1
    name = NAMES[i] if i >= 0 and code <= ENDS[i] else COMMON
    _cache[ch] = name
    return name


def script_group(script: str) -> str:
    """Scripts that never signal a language change between them share a group."""
    return _GROUPS.get(script, script)


def dominant_script(text: str) -> str:
    """The script of most letters in ``text``, or "Common" when it has none."""
    if text.isascii():
        return "Latin" if any(c.isalpha() for c in text) else COMMON
    scripts = list(map(_cache.get, text))  # a C-level look-up per character; script_of fills gaps
    counts = Counter(map(script_of, text) if None in scripts else scripts)
    counts.pop(COMMON, None)
    if not counts:
        return COMMON
    return counts.most_common(1)[0][0]
