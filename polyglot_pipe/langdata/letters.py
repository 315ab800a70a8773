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
    return _cached_sum(text.split(), _SIGNALS_CACHE, _token_signals)


def _cached_sum(parts, cache: dict, of):
    """The sum of ``of(part)`` over ``parts``, in order, each part's value cached (bounded)."""
    total = 0
    for part in parts:
        value = cache.get(part)
        if value is None:
            if len(cache) >= _MAX_CACHED:
                cache.clear()
            value = cache[part] = of(part)
        total += value
    return total


def _token_signals(text: str) -> int:
    """``_signals`` of one token (no whitespace inside)."""
    count = _cached_sum(_LETTERS_RE.findall(text), _WORD_SIGNALS, _word_signals)
    if not text.translate(_SYMBOL_TABLE):
        return count  # no character the loop below counts (each is non-ASCII and no letter)
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
#: run of letters -> its signals (the first loop of ``_token_signals``; runs recur in many tokens)
_WORD_SIGNALS: dict[str, int] = {}


def _word_signals(word: str) -> int:
    """The signals inside one run of letters and marks: mixed scripts, case flips, letters of no script."""
    count = 0
    scripts = {"Han" if s in _KANJI_KANA else s for s in map(script_of, word)} - {COMMON, "Inherited"}
    if len(scripts) > 1:
        count += 2
    count += sum(a.islower() and b.isupper() for a, b in zip(word, word[1:]))
    # "kµúč": a letter of no script (µ, ª, º) between letters of a word
    count += sum(script_of(c) == COMMON for c in word[1:-1])
    return count


class _SymbolTable(dict):
    """str.translate table keeping only non-ASCII characters that are no letter (deleting the rest)."""

    def __missing__(self, code: int) -> str | None:
        out = self[code] = None if code <= 0x7F or chr(code).isalpha() else chr(code)
        return out


_SYMBOL_TABLE = _SymbolTable()
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


# --------------------------------------------------------------------------
# Bounds on a change of evidence, token by token (repair's quick rejection of a round trip)
# --------------------------------------------------------------------------

#: ``_evidence`` scores each script group's words as one sum while the group has at most this
#: many bigrams (Han: characters); a text shorter than this keeps every group within it.
_LINEAR_LIMIT = 1000


def _word_group(word: str) -> str:
    script = script_of(word[0])
    return "Han" if script in _KANJI_KANA else script


def _word_part(word: str, group: str):
    """What one normalised word adds to its group's per-language totals in ``_evidence``
    (a vector; a number for a script no profile has)."""
    model = _profiles().get(group)
    if model is None:
        return _UNSEEN * (len(word) + 1)
    if group == "Han":
        unseen = len(model.unigrams.rows)
        return model.unigrams.matrix[[model.unigrams.rows.get(c, unseen) for c in word]].sum(axis=0)
    return model.word_vector(word)


def _token_parts(token: str) -> dict[str, object]:
    """One token's share of ``_evidence``'s language totals: per script group, the sum of
    its words' ``_word_part``.

    Cut a text of fewer than ``_LINEAR_LIMIT`` characters at its ASCII white space into
    tokens t.  Then ``_evidence(text)[0]`` is (up to rounding)
    ``-_SIGNAL_WEIGHT * Σ_t _signals(t) + Σ_group max_lang Σ_t parts(t)[group]``: ASCII
    white space normalises to a space and is white space to ``str.split``, so the text's
    words and signal tokens are its tokens'; and no group reaches the 1,000-bigram sample
    or the 1,000-character Han cut (a group of k words of n letters has
    n + k <= len(text) + 1 bigrams).
    """
    parts: dict[str, object] = {}
    for word in token.translate(_NORMAL_TABLE).split():
        group = _word_group(word)
        part = _word_part(word, group)
        old = parts.get(group)
        parts[group] = part if old is None else old + part
    return parts


@lru_cache(maxsize=None)
def _best_of(script: str, which: str) -> dict[str, float]:
    """n-gram -> its best log-probability in any language of ``script`` (``which``: "bigrams" or
    "unigrams"); n-grams no language has are left out (they score ``_UNSEEN`` everywhere)."""
    table = getattr(_profiles()[script], which)
    best = table.matrix.max(axis=1)
    return {gram: float(best[row]) for gram, row in table.rows.items()}


def _word_high(word: str) -> float:
    """At least the largest entry of ``_word_part(word)``: each bigram (Han: character) at its
    best log-probability in any language of the group.  No numpy and no word-vector cache:
    most words asked are junk a round trip made.  Exact for a script no profile has."""
    group = _word_group(word)
    if group not in _profiles():
        return _UNSEEN * (len(word) + 1)
    if group == "Han":
        best = _best_of(group, "unigrams").get
        return sum(best(c, _UNSEEN) for c in word)
    best = _best_of(group, "bigrams").get
    padded = " " + word + " "
    return sum(best(padded[i : i + 2], _UNSEEN) for i in range(len(word) + 1))


def _word_low(word: str) -> float:
    """The smallest entry of ``_word_part(word)`` (the number itself for a script no profile has)."""
    part = _word_part(word, _word_group(word))
    return part if isinstance(part, float) else float(part.min())


_WORD_HIGH: dict[str, float] = {}
_WORD_LOW: dict[str, float] = {}


def _token_sum(token: str, cache: dict[str, float], of) -> float:
    """The sum of ``of(word)`` over the token's normalised words, each word's value cached."""
    return float(_cached_sum(token.translate(_NORMAL_TABLE).split(), cache, of))


def _quick_raw(raw: str) -> float:
    """The part of the quick ``_gain_bound`` that depends on ``raw`` alone."""
    return _SIGNAL_WEIGHT * _signals(raw) - _token_sum(raw, _WORD_LOW, _word_low)


def _quick_new(new: str) -> float:
    """The part of the quick ``_gain_bound`` that depends on ``new`` alone."""
    return _token_sum(new, _WORD_HIGH, _word_high)


def _gain_bound(raw: str, new: str, tight: bool = True) -> float:
    """An upper bound on ``_evidence(a + new + b)[0] - _evidence(a + raw + b)[0]`` for any
    texts a, b that end and start at ASCII white space (or are empty) when
    ``len(a + raw + b) < _LINEAR_LIMIT``; ``raw`` and ``new`` hold no ASCII white space.

    By ``_token_parts`` the difference is ``-_SIGNAL_WEIGHT * (signals(new) - signals(raw))``
    plus, per script group, ``max(A + B) - max(A + C) <= max(B - C)`` (take the language that
    maximises A + B; A is the rest of the text, the same on both sides).  ``new``'s own signals
    only lower it, so they are left out (most tokens a round trip makes are junk, and counting
    their signals costs more than it ever decides).  Tokens add: over the changed tokens of a
    span, ``max`` of a sum is at most the sum of the ``max``es.

    ``tight=False``: a looser bound at a fraction of the cost, from ``max(B - C) <= max(B) -
    min(C)``, ``max(B)`` at most the sum of ``_word_high`` over ``new``'s words and ``min(C)``
    at least the sum of ``_word_low`` over ``raw``'s (a group absent on one side is 0 there,
    and a script no profile has gives the same number to every language, so its difference
    stays exact).
    """
    if not tight:
        return _quick_raw(raw) + _quick_new(new)
    bound = _SIGNAL_WEIGHT * _signals(raw)
    raw_parts, new_parts = _token_parts(raw), _token_parts(new)
    for group in raw_parts.keys() | new_parts.keys():
        after, before = new_parts.get(group), raw_parts.get(group)
        if after is None:
            diff = -before
        elif before is None:
            diff = after
        else:
            diff = after - before
        bound += diff if isinstance(diff, float) else float(diff.max())
    return bound


def language_score(text: str) -> float:
    """How much ``text`` reads as language: mean bigram log-probability, minus mojibake signals.

    Higher is better; real sentences score about -4 to -7, mojibake far lower.
    """
    total, count = _evidence(text)
    if not count:  # no letters: nothing reads as a language
        return _UNSEEN + total
    return total / count
