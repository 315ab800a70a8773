"""How much a text reads as language: langdetect's letter-bigram statistics plus mojibake signals.

Used by repair (is a round trip's output clearly better than its input?) and by
decode (which legacy code page reads most like a language?), so it lives below
both stages.  The profiles are langdetect's own, case-folded and grouped by
script; see ``language_score``.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import regex

from polyglot_pipe.langdata.profiles import load_profiles
from polyglot_pipe.langdata.scripts import COMMON, script_of

__all__ = ["language_score"]

#: What one hard mojibake signal costs, in log-probability (an unseen bigram costs 16).  Set
#: (in sample) on bench/encoding's set so that one signal outweighs any bigram evidence:
#: ``python bench/encoding/run.py --margins`` shows the gains it produces.
_SIGNAL_WEIGHT = 25.0
_UNSEEN = math.log(1e-7)
# --------------------------------------------------------------------------
# Language evidence
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Table:
    """Log-probabilities of n-grams in several languages: one row per n-gram, one column per language.

    The last row is for n-grams no language has, so a text is scored in all
    languages with one numpy gather and sum.
    """

    rows: dict
    matrix: object

    def best(self, grams: list[str]) -> float:
        """The total log-probability of ``grams`` in the language that reads them best."""
        if not grams:
            return 0.0
        unseen = len(self.rows)
        picked = self.matrix[[self.rows.get(g, unseen) for g in grams]]
        return float(picked.sum(axis=0).max())


@dataclass(frozen=True, slots=True)
class _ScriptModel:
    """The languages written in one script and their letter and bigram tables."""

    langs: tuple[str, ...]
    bigrams: _Table
    unigrams: _Table
    #: word -> its bigrams' log-probabilities summed per language (bounded: emptied when full)
    words: dict = field(default_factory=dict)

    def word_vector(self, word: str):
        """The bigram log-probabilities of " word " summed per language (cached: words recur)."""
        vector = self.words.get(word)
        if vector is None:
            if len(self.words) >= _MAX_CACHED:
                self.words.clear()
            grams = " " + word + " "
            unseen = len(self.bigrams.rows)
            rows = [self.bigrams.rows.get(grams[i : i + 2], unseen) for i in range(len(word) + 1)]
            vector = self.words[word] = self.bigrams.matrix[rows].sum(axis=0)
        return vector


@lru_cache(maxsize=1)
def _profiles() -> dict[str, _ScriptModel]:
    """langdetect's n-gram profiles as case-folded log-probabilities, grouped by script."""
    import numpy as np

    by_script: dict[str, list[tuple[str, dict, dict]]] = {}
    for profile in load_profiles():
        counts: dict[str, float] = {}
        letters: dict[str, int] = {}
        singles: dict[str, int] = {}
        for gram, n in profile.freq.items():
            if len(gram) == 2:
                key = gram.lower()
                counts[key] = counts.get(key, 0) + n
            elif len(gram) == 1 and gram.isalpha():
                script = script_of(gram)
                letters[script] = letters.get(script, 0) + n
                singles[gram] = n
        total = sum(counts.values())
        logp = {g: math.log(n / total) for g, n in counts.items()}
        total = sum(singles.values())
        unigrams = {g: math.log(n / total) for g, n in singles.items()}
        for script in letters:
            # Japanese is written in kana and Han; score it under each.
            if letters[script] >= 0.05 * sum(letters.values()):
                by_script.setdefault(script, []).append((profile.name, logp, unigrams))
    models = {}
    for script, entries in by_script.items():
        tables = []
        for which in (1, 2):
            rows = {g: i for i, g in enumerate(sorted({g for entry in entries for g in entry[which]}))}
            matrix = np.full((len(rows) + 1, len(entries)), _UNSEEN)
            for j, entry in enumerate(entries):
                for g, logp in entry[which].items():
                    matrix[rows[g], j] = logp
            tables.append(_Table(rows, matrix))
        models[script] = _ScriptModel(tuple(name for name, _, _ in entries), tables[0], tables[1])
    return models


class _NormalTable(dict):
    """str.translate table applying ``_normal`` lazily: one C-speed pass per text
    instead of a Python call per character."""

    def __missing__(self, code: int) -> str:
        out = self[code] = _normal(chr(code))
        return out


_NORMAL_TABLE = _NormalTable()


@lru_cache(maxsize=4096)
def _normal(ch: str) -> str:
    """langdetect's own character normalisation (its profiles use it), letters only."""
    from langdetect.utils.ngram import NGram

    if not ch.isalpha():
        if ord(ch) > 0x7F and ch not in _ATTACHED and unicodedata.category(ch)[0] in "SNC":
            return "\x00"  # a symbol where text has letters: scores as an unseen bigram
        return " "
    low = ch.lower()
    if len(low) != 1:  # "İ".lower() is two code points
        low = ch
    if ord(low) <= 0x7F or 0xAC00 <= ord(low) <= 0xD7A3:
        return low  # langdetect's Korean profile keeps Hangul syllables as they are
    return NGram.normalize(low)


#: Non-letters that normally touch a word: quotes, dashes, units, currency, marks.
_ATTACHED = frozenset("«»„“”‘’‚‹›…–—·•°²©®™€£¥§\u00a0\u202f\u2009´")
#: Non-letters that may stand between two letters of one word ("don’t", Catalan "l·l").
_INSIDE = frozenset("’‘ʼ‐‑·")
#: Spanish opening marks: normal before a word, mojibake after a letter ("du¿a").
_OPENING = frozenset("¡¿")


_LETTERS_RE = regex.compile(r"[\p{L}\p{M}]+")


_SIGNALS_CACHE: dict[str, int] = {}


def _signals(text: str) -> int:
    """Count hard signals of mojibake: mixed scripts or case flips inside a word, junk touching letters.

    Every signal lies inside one whitespace-separated token, so the count is a
    sum over tokens; tokens repeat across the candidates of one span (its
    context, its unchanged words), so each token's count is cached.
    """
    cache = _SIGNALS_CACHE
    total = 0
    for token in text.split():
        count = cache.get(token)
        if count is None:
            if len(cache) >= _MAX_CACHED:
                cache.clear()
            count = cache[token] = _token_signals(token)
        total += count
    return total


def _token_signals(text: str) -> int:
    """``_signals`` of one token (no whitespace inside)."""
    count = 0
    for word in _LETTERS_RE.findall(text):
        scripts = {"Han" if s in _KANJI_KANA else s for s in map(script_of, word)} - {COMMON, "Inherited"}
        if len(scripts) > 1:
            count += 2
        count += sum(a.islower() and b.isupper() for a, b in zip(word, word[1:]))
        # "kµúč": a letter of no script (µ, ª, º) between letters of a word
        count += sum(script_of(c) == COMMON for c in word[1:-1])
    for word in text.split():
        prev = ""
        for i, ch in enumerate(word):
            code = ord(ch)
            if 0x80 <= code < 0xA0 or ch == "\ufffd":
                count += 1
            elif ch in _OPENING:
                count += prev.isalpha()
            elif code > 0x7F and not ch.isalpha() and unicodedata.category(ch)[0] != "M":
                # "mo¿na", "zostan¹", "Ð—Ð", "osvje·i": a symbol where a letter belongs
                before = prev.isalpha()
                after = i + 1 < len(word) and word[i + 1].isalpha()
                if (before and after and ch not in _INSIDE) or ((before or after) and ch not in _ATTACHED):
                    count += 1
            prev = ch
    return count


_KANJI_KANA = frozenset(("Hiragana", "Katakana", "Han"))
#: Entries in each per-token or per-line cache before it is emptied (bounded memory on long runs).
_MAX_CACHED = 50_000
#: Lines longer than this are not cached: boilerplate is short, long prose rarely repeats,
#: and the cache stays small (at most _MAX_CACHED_LINES x this many characters, twice).
_MAX_CACHED_LINE = 300
_MAX_CACHED_LINES = 20_000


def _evidence(text: str) -> tuple[float, int]:
    """Total bigram log-probability (less mojibake signals) and the number of bigrams.

    Each word is scored under the best language of its own script, so a
    Russian phrase inside an English line is not penalised for mixing.
    """
    words: dict[str, list[str]] = {}
    for word in text.translate(_NORMAL_TABLE).split():
        script = script_of(word[0])
        words.setdefault("Han" if script in _KANJI_KANA else script, []).append(word)
    profiles = _profiles()
    total = -_signals(text) * _SIGNAL_WEIGHT
    count = 0
    for script, group in words.items():
        model = profiles.get(script)
        if script == "Han" and model is not None:
            # langdetect folds Han characters into frequency classes: score the
            # classes one by one (unknown, rare characters score as unseen)
            chars = list("".join(group)[:1000])
            total += model.unigrams.best(chars)
            count += len(chars)
            continue
        n_bigrams = sum(map(len, group)) + len(group)  # " w1 w2 " has one bigram per letter and space
        if model is None:
            n_bigrams = min(n_bigrams, 1000)
            total += _UNSEEN * n_bigrams
        elif n_bigrams <= 1000:
            total += float(sum(map(model.word_vector, group)).max())
        else:  # long text: its first 1,000 bigrams, as langdetect reads a sample
            norm = " " + " ".join(group) + " "
            n_bigrams = 1000
            total += model.bigrams.best([norm[i : i + 2] for i in range(1000)])
        count += n_bigrams
    return total, count


def language_score(text: str) -> float:
    """How much ``text`` reads as language: mean bigram log-probability, minus mojibake signals.

    Higher is better; real sentences score about -4 to -7, mojibake far lower.
    """
    total, count = _evidence(text)
    if not count:  # no letters: nothing reads as a language
        return _UNSEEN + total
    return total / count
