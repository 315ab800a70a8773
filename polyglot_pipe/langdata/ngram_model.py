"""langdetect's n-gram profiles, scored exactly instead of by random sampling.

langdetect's ``Detector`` estimates a naive-Bayes posterior by drawing n-grams
at random (hence a seed) in pure Python (hence ~10 ms a call).  The sum it
approximates is cheap to compute exactly: log P(text | lang) =
sum over n-grams of log(P(n-gram | lang) + alpha).  Every n-gram comes from one
word padded with spaces (langdetect resets its buffer at every space), so the
sum splits into per-word vectors, which repeat a lot in real text and are
cached.  The profiles, the text normalisation and the n-gram rules are
langdetect's own (``langdetect.utils.ngram.NGram``), so this is langdetect's
model, made exact, deterministic and fast; no library exposes that.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np

from polyglot_pipe.errors import SetupError
from polyglot_pipe.langdata.lexicon import Lexicons, load_lexicons
from polyglot_pipe.langdata.profiles import load_profiles
from polyglot_pipe.langdata.scripts import (
    COMMON,
    dominant_script,
    script_group,
    script_of,
)

__all__ = ["NgramModel", "load_model"]

#: langdetect's smoothing: alpha / BASE_FREQ added to every n-gram probability (langdetect's
#: own default; python bench/langid/tune.py also tries 2e-4, which was no better on dev).
ALPHA = 0.5 / 10000
#: langdetect profile name -> the label we output (ISO 639-1).
LABEL_OF = {"zh-cn": "zh", "zh-tw": "zh"}
#: A profile competes inside a script when that script holds this share of its letters.
SCRIPT_SHARE = 0.2

_URL_RE = re.compile(r"https?://[-_.?&~;+=/#0-9A-Za-z]{1,2076}|www\.[-_.?&~;+=/#0-9A-Za-z]+")
_MAIL_RE = re.compile(r"[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}")
_TOKEN_RE = re.compile(r"[^ ]+")
_span = re.Match.span
_MAX_CACHED_WORDS = 100_000
#: n-gram rows gathered at once when words are summed (x ~55 profiles x 8 bytes: ~29 MB);
#: a text's memory no longer grows with its longest word (a 1 MB word took 1.6 GB).
_ROWS_PER_GATHER = 1 << 16
#: Weight of whole-word frequency evidence against the n-gram log-likelihood (tuned on the bench/langid dev split: python bench/langid/tune.py).
WORD_WEIGHT = 2.0
#: P(word | language) for a word missing from that language's list (lists stop near 1e-6).
FREQUENCY_FLOOR = 1e-7
#: How much less (log) a language without a wordfreq list is assumed to use a word than
#: the language that uses it most (tuned on the bench/langid dev split: python bench/langid/tune.py).
UNLISTED_PENALTY = 1.0
#: P(word | language) for a word only the word list (``_lexicon``) of a language without a
#: wordfreq list has (chosen on the bench/langid dev split among 1e-6, 1e-5, 1e-4: bench/README.md "Issue 13").
LEXICON_FREQUENCY = 1e-5


class _Normaliser(dict):
    """str.translate table that applies langdetect's per-character normalisation lazily."""

    def __missing__(self, code: int) -> str:
        from langdetect.utils.ngram import NGram

        ch = chr(code)
        if ch.isalpha() or unicodedata.category(ch).startswith("M"):
            out = NGram.normalize(ch)
        else:
            out = " "  # digits, punctuation, symbols: no language evidence
        self[code] = out
        return out


class NgramModel:
    """All langdetect profiles as one (n-gram x profile) matrix of log-probabilities."""

    def __init__(self, profile_dir: Path | None = None, alpha: float = ALPHA, word_weight: float | None = WORD_WEIGHT):
        profiles = load_profiles(Path(profile_dir) if profile_dir is not None else None)
        self.profiles: tuple[str, ...] = tuple(p.name for p in profiles)
        self.labels: tuple[str, ...] = tuple(LABEL_OF.get(name, name) for name in self.profiles)
        self.index: dict[str, int] = {}
        for profile in profiles:
            for gram in profile.freq:
                if gram not in self.index:
                    self.index[gram] = len(self.index)
        probs = np.zeros((len(self.index), len(profiles)), dtype=np.float64)
        for j, profile in enumerate(profiles):
            n_words = profile.n_words
            rows = [self.index[g] for g in profile.freq]
            counts = np.fromiter(profile.freq.values(), dtype=np.float64, count=len(rows))
            lengths = np.fromiter((len(g) for g in profile.freq), dtype=np.int64, count=len(rows))
            totals = np.array([max(n, 1) for n in n_words], dtype=np.float64)[lengths - 1]
            probs[rows, j] = counts / totals
        # one extra row of zeros: where an n-gram no profile has points, so that a word's
        # rows can be gathered without filtering (it adds nothing to the sum, as in langdetect)
        self.logp = np.vstack([np.log(probs + alpha), np.zeros((1, len(profiles)))])
        self._unknown_row = len(self.index)
        # the n-grams as integers (code points, 21 bits each), sorted: a batch of words is
        # looked up with one searchsorted instead of a dict look-up per n-gram
        keys = np.array([_gram_key(gram) for gram in self.index], dtype=np.int64)
        order = np.argsort(keys)
        self._gram_keys = keys[order]
        self._gram_rows = np.fromiter(self.index.values(), dtype=np.intp, count=len(self.index))[order]
        self.scripts: dict[str, tuple[int, ...]] = self._profile_scripts(profiles)
        self._normaliser = _Normaliser()
        self.frequencies = WordFrequencies(self.profiles, self.scripts, word_weight) if word_weight else None
        # The word store: each word seen gets a row (its evidence over all profiles) and,
        # in parallel arrays, its n-gram count, script group and capitalisation,
        # so that a fragment's words are gathered with one numpy index, not a loop.
        self._word_ids: dict[str, int] = {}  # word -> row; -1: no n-gram we know, no evidence
        self.word_vectors = np.zeros((1024, len(self.profiles)))
        self.word_ngrams = np.zeros(1024, dtype=np.int64)
        self.word_groups = np.zeros(1024, dtype=np.int64)
        self.word_capital = np.zeros(1024, dtype=bool)
        # the word-list part of each row (WORD_WEIGHT x relative log frequency), apart: the
        # decoder in identify.py weighs it more for one word than a fragment's sum does
        self.word_frequency_part = np.zeros((1024, len(self.profiles)), dtype=np.float32)
        self._n_words = 0
        self._group_codes: dict[str, int] = {}

    @staticmethod
    def _profile_scripts(profiles) -> dict[str, tuple[int, ...]]:
        """Script group -> the profiles whose letters are at least SCRIPT_SHARE in it."""
        by_script: dict[str, list[int]] = {}
        for j, profile in enumerate(profiles):
            mass: Counter[str] = Counter()
            for gram, count in profile.freq.items():
                if len(gram) == 1 and gram != " ":
                    script = script_of(gram)
                    if script != COMMON:
                        mass[script_group(script)] += count
            total = sum(mass.values()) or 1
            for script, count in mass.items():
                if count / total >= SCRIPT_SHARE:
                    by_script.setdefault(script, []).append(j)
        return {script: tuple(js) for script, js in by_script.items()}

    def normalise(self, text: str) -> str:
        """langdetect's cleaning: no URLs or e-mail addresses, its character classes;
        same length as ``text`` so offsets still point into it."""
        if "@" in text or "http" in text or "www." in text:
            text = _MAIL_RE.sub(lambda m: " " * len(m.group()), text)
            text = _URL_RE.sub(lambda m: " " * len(m.group()), text)
        return text.translate(self._normaliser)

    def words(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, word) of each word of ``text``, as written (split where langdetect's
        normalisation leaves a space: punctuation, digits, URLs)."""
        return [(start, end, text[start:end]) for start, end in map(_span, _TOKEN_RE.finditer(self.normalise(text)))]

    def group_code(self, group: str) -> int:
        """A small integer for a script group, as ``word_groups`` stores it."""
        code = self._group_codes.get(group)
        if code is None:
            code = self._group_codes[group] = len(self._group_codes)
        return code

    def clear_words(self) -> None:
        """Forget every word (the arrays are kept for reuse)."""
        self._word_ids.clear()
        self._n_words = 0

    def word_ids(self, words: Sequence[str]) -> np.ndarray:
        """Row of each word in the word store (-1: no evidence), scoring new ones first.
        A word's row is its evidence per profile: the sum of log P(n-gram | profile)
        over its n-grams, plus WORD_WEIGHT x log P(word | language) from the word lists."""
        self.score_words(words)
        return np.fromiter(map(self._word_ids.__getitem__, words), dtype=np.intp, count=len(words))

    def score_words(self, words: Iterable[str]) -> None:
        """Put every word not yet seen into the word store, in one batch.

        A word's first sight is most of the cost of labelling: its n-grams, its
        wordfreq buckets, its word-list bits.  A document's new words are done
        together, so each of these is a few numpy calls per batch, not per word.
        """
        words = list(dict.fromkeys(words))
        ids = self._word_ids
        new = [word for word in words if word not in ids]
        if not new:
            return
        if len(ids) + len(new) > _MAX_CACHED_WORDS:
            self.clear_words()  # bounded memory on endless vocabularies; this batch is scored again
            ids = self._word_ids
            new = [word for word in words if word not in ids]
        unknown = self._unknown_row
        rows, starts_all = self.ngram_rows([word.translate(self._normaliser) for word in new])
        # reduceat needs non-empty segments: a word with no n-gram at all (only
        # punctuation once normalised) takes no rows, so it is left out of the starts
        nonempty = np.flatnonzero(np.diff(np.append(starts_all, len(rows))))
        counts = np.zeros(len(new), dtype=np.int64)  # n-grams some profile has, per word
        if len(nonempty):
            counts[nonempty] = np.add.reduceat((rows != unknown).astype(np.int64), starts_all[nonempty])
        for i in np.flatnonzero(counts == 0).tolist():
            ids[new[i]] = -1  # no n-gram we know: no evidence
        known = np.flatnonzero(counts)
        if not len(known):
            return
        # each word's rows summed: logp[rows].sum(axis=0) for all words at once (equal up to rounding, ~1e-13)
        sums = _row_sums(self.logp, rows, starts_all[nonempty])
        vectors = sums[np.searchsorted(nonempty, known)]
        known_words = [new[i] for i in known.tolist()]
        groups = ["Latin" if word.isascii() else script_group(dominant_script(word)) for word in known_words]
        ngram_part = vectors.copy() if self.frequencies is not None else vectors
        if self.frequencies is not None:
            by_group: dict[str, list[int]] = {}
            for k, group in enumerate(groups):
                by_group.setdefault(group, []).append(k)
            for group, members in by_group.items():
                block = vectors[members]
                self.frequencies.add_log_frequencies(block, [known_words[k] for k in members], group)
                vectors[members] = block
        first = self._n_words
        self._reserve(first + len(known_words))
        last = first + len(known_words)
        self.word_vectors[first:last] = vectors
        self.word_ngrams[first:last] = counts[known]
        self.word_groups[first:last] = [self.group_code(group) for group in groups]
        self.word_capital[first:last] = [word[:1].isupper() for word in known_words]
        self.word_frequency_part[first:last] = vectors - ngram_part
        ids.update(zip(known_words, range(first, last)))
        self._n_words = last

    def ngram_rows(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The matrix row of every n-gram of every (normalised) word, word after word,
        each word's in ``_ngrams``'s order (so sums are bit for bit the same), with
        ``_unknown_row`` for n-grams no profile has; and where each word's n-grams start.

        Words in which the capital-word rule cannot fire (no capital after the first
        letter: nearly all) are done at once with numpy: the 3L+1 n-grams of " word "
        are the unigrams, bigrams and trigrams at known offsets, encoded as integers
        and found by binary search.  The rest go through ``_ngrams``.
        """
        unknown = self._unknown_row
        simple = np.array([bool(w) and " " not in w and w[1:].lower() == w[1:] for w in words], dtype=bool)
        lengths = np.fromiter(map(len, words), dtype=np.intp, count=len(words))
        others = {i: [self.index.get(g, unknown) for g in _ngrams(words[i])] for i in np.flatnonzero(~simple).tolist()}
        sizes = np.where(simple, 3 * lengths + 1, 0)
        for i, grams in others.items():
            sizes[i] = len(grams)
        starts = np.cumsum(sizes) - sizes
        rows = np.empty(int(sizes.sum()), dtype=np.intp)
        fast = np.flatnonzero(simple)
        if len(fast):
            n = lengths[fast]
            padded = "".join(f" {words[i]} " for i in fast.tolist())
            codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
            first = np.cumsum(n + 2) - n - 1  # where each word's first letter is in ``padded``
            j = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)  # each letter's index in its word
            word_n = np.repeat(n, n)
            pos = np.repeat(first, n) + j
            base = np.repeat(starts[fast], n)
            before, here, after = codes[pos - 1], codes[pos], codes[pos + 1]
            last = first + n - 1
            # _ngrams's order: u0 b0 (u_j b_j t_j-1 for j >= 1) b_L t_L-1
            slots = np.concatenate([
                base + np.where(j == 0, 0, 3 * j - 1),  # unigrams
                base + np.where(j == 0, 1, 3 * j),  # bigrams ending at each letter
                base + np.where(j == word_n - 1, 3 * word_n, 3 * j + 4),  # trigrams centred on each letter
                starts[fast] + 3 * n - 1,  # the bigram of the last letter and the space
            ])  # fmt: skip
            keys = np.concatenate([here, before << 21 | here, before << 42 | here << 21 | after, codes[last] << 21 | 32])
            found = np.minimum(np.searchsorted(self._gram_keys, keys), len(self._gram_keys) - 1)
            rows[slots] = np.where(self._gram_keys[found] == keys, self._gram_rows[found], unknown)
        for i, grams in others.items():
            rows[starts[i] : starts[i] + len(grams)] = grams
        return rows, starts

    def _reserve(self, n: int) -> None:
        if n <= len(self.word_ngrams):
            return
        size = max(n, min(2 * len(self.word_ngrams), _MAX_CACHED_WORDS))
        for name in ("word_vectors", "word_ngrams", "word_groups", "word_capital", "word_frequency_part"):
            old = getattr(self, name)
            grown = np.zeros((size, *old.shape[1:]), dtype=old.dtype)
            grown[: len(old)] = old
            setattr(self, name, grown)


def _row_sums(logp: np.ndarray, rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``np.add.reduceat(logp[rows], starts, axis=0)`` gathering at most _ROWS_PER_GATHER rows at a time.

    Words are summed in runs that fit (each word's sum is the same reduceat over
    the same rows, so bit for bit today's); a single word with more n-grams than
    that (over ~21,000 letters) is summed as counts of its distinct n-grams, equal
    up to rounding and linear in its length.
    """
    if len(rows) <= _ROWS_PER_GATHER:
        return np.add.reduceat(logp[rows], starts, axis=0)
    ends = np.append(starts[1:], len(rows))
    out = np.empty((len(starts), logp.shape[1]), dtype=logp.dtype)
    i = 0
    while i < len(starts):
        lo = int(starts[i])
        j = max(int(np.searchsorted(ends, lo + _ROWS_PER_GATHER, side="right")), i + 1)
        hi = int(ends[j - 1])
        if hi - lo > _ROWS_PER_GATHER:  # one long word
            distinct, counts = np.unique(rows[lo:hi], return_counts=True)
            out[i] = counts.astype(logp.dtype) @ logp[distinct]
        else:
            out[i:j] = np.add.reduceat(logp[rows[lo:hi]], starts[i:j] - lo, axis=0)
        i = j
    return out


class WordFrequencies:
    """log P(word | language) from wordfreq's "small" lists, one value per langdetect profile.

    Why: character n-grams cannot tell "Se connecter" (French) from English;
    whole-word frequencies can.  wordfreq ships its lists inside the package (no
    download).  Languages it has no list for:

    * with a committed word list (af, cy, et, sq, sw; ``_lexicon``, membership
      only): a word in the list that a listed language uses counts as used
      UNLISTED_PENALTY nats less than by its top user (no frequency to say more:
      "ongeldig" stays Dutch); one in the list that no listed language uses, at
      LEXICON_FREQUENCY ("lêer" is Afrikaans); a word not in the list that a listed
      language uses counts as missing, as it would for a listed language (Tagalog
      is no longer won by Estonian for want of evidence against it);
    * without one (so, ...), each word counts as used UNLISTED_PENALTY nats less than
      by the language that uses it most: n-grams decide.

    Lists load lazily, per script, the first time a word of that script is scored (~1 s for Latin).
    """

    #: langdetect profile -> wordfreq language code, where they differ.
    CODES = {"no": "nb", "hr": "sh", "tl": "fil", "zh-cn": None, "zh-tw": None, "ja": None, "ko": None, "th": None}

    def __init__(self, profiles: tuple[str, ...], scripts: dict[str, tuple[int, ...]], weight: float = WORD_WEIGHT):
        try:
            import wordfreq
        except ImportError as exc:  # a dependency of the package: say which, not just "No module"
            raise SetupError("language identification needs wordfreq: pip install 'wordfreq>=3.1'") from exc

        self._wordfreq = wordfreq
        self.profiles = profiles
        self.weight = weight
        self._script_of_profile = {}
        for script, members in scripts.items():
            for j in members:
                self._script_of_profile.setdefault(j, script)
        self._tables: dict[str, _Lists] = {}
        self.available = set(wordfreq.available_languages("small"))

    def _load(self, script: str) -> "_Lists":
        """The lists of this script's languages, merged into one index: one dict
        look-up per word instead of one per language (those look-ups, in tables of
        30-60 thousand words each, were half the cost of a word seen for the first
        time).  Each word maps to its (language column, frequency bucket) pairs,
        read from wordfreq's raw bucket lists as ``get_frequency_dict`` reads them
        (a word listed twice in one language keeps its last bucket); equal pair
        tuples are shared, so the index takes about what the per-language dicts took."""
        known, codes = [], []
        for j, name in enumerate(self.profiles):
            code = self.CODES.get(name, name)
            if self._script_of_profile.get(j) == script and code in self.available:
                known.append(j)
                codes.append(code)
        unlisted = [j for j, s in self._script_of_profile.items() if s == script and j not in known]
        lexicons = load_lexicons()
        with_lexicon = [j for j in unlisted if lexicons is not None and self.profiles[j] in lexicons.languages]
        unlisted = [j for j in unlisted if j not in with_lexicon]
        index: dict[str, tuple[tuple[int, int], ...]] = {}
        shared: dict[tuple, tuple] = {}
        n_buckets = 1
        for column, code in enumerate(codes):
            buckets = self._wordfreq.get_frequency_list(code, "small")
            n_buckets = max(n_buckets, len(buckets))
            for bucket_index, bucket in enumerate(buckets):
                pair = (column, bucket_index)
                for word in bucket:
                    pairs = index.get(word, ())
                    if pairs and pairs[-1][0] == column:
                        pairs = pairs[:-1]  # listed twice in this language: the last bucket wins
                    pairs += (pair,)
                    index[word] = shared.setdefault(pairs, pairs)
        self._wordfreq.get_frequency_list.cache_clear()  # the index holds what we need of them
        bucket_logs = np.log(np.array([self._wordfreq.cB_to_freq(-i) for i in range(n_buckets)]))
        lists = _Lists(np.array(known, dtype=np.int64), unlisted, index, bucket_logs, with_lexicon, lexicons)
        self._tables[script] = lists
        return lists

    def add_log_frequencies(self, vectors: np.ndarray, words: Sequence[str], script: str) -> None:
        """Add weight x (log P(word | language) - its maximum over the languages with a list)
        to each row of ``vectors`` (one row per word, one column per profile), in place."""
        lists = self._tables.get(script) or self._load(script)
        if not len(lists.known):
            return
        get = lists.index.get
        logs = np.full((len(words), len(lists.known)), np.log(np.array([FREQUENCY_FLOOR]))[0])
        cells = [(row, column, bucket) for row, word in enumerate(words) for column, bucket in get(word.lower(), ())]
        if cells:
            rows, columns, buckets = np.array(cells, dtype=np.int64).T
            logs[rows, columns] = lists.bucket_logs[buckets]
        top = logs.max(axis=1, keepdims=True)
        vectors[:, lists.known] += self.weight * (logs - top)
        if lists.unlisted:
            vectors[:, lists.unlisted] -= self.weight * UNLISTED_PENALTY
        if lists.with_lexicon:
            member = lists.lexicons.contains(words, [self.profiles[j] for j in lists.with_lexicon])
            floor = np.log(FREQUENCY_FLOOR)
            assumed = top - UNLISTED_PENALTY  # what a language without any list gets
            someone = top > floor  # a listed language uses the word
            logs = np.where(
                member, np.where(someone, assumed, np.log(LEXICON_FREQUENCY)), np.where(someone, floor, assumed)
            )
            vectors[:, lists.with_lexicon] += self.weight * (logs - top)


@dataclass(frozen=True)
class _Lists:
    """One script's wordfreq lists, merged: word -> ((column in ``known``, bucket), ...)."""

    known: np.ndarray  # profiles with a list
    unlisted: list[int]  # profiles of the script without one
    index: dict[str, tuple[tuple[int, int], ...]]
    bucket_logs: np.ndarray  # log frequency of each bucket
    with_lexicon: list[int]  # profiles of the script without a list but with a word list (``_lexicon``)
    lexicons: Lexicons | None


def _gram_key(gram: str) -> int:
    """An n-gram (1-3 characters) as one integer: its code points, 21 bits each."""
    key = 0
    for ch in gram:
        key = key << 21 | ord(ch)
    return key


def _ngrams(word: str) -> list[str]:
    """langdetect's n-grams of one space-padded word, with its rule that skips
    the inside of all-capital words (acronyms say little about the language).

    Most words have no two capitals in a row, so the rule never fires: their
    n-grams are slices of " word ", in the order langdetect's loop makes them.
    """
    length = len(word)
    if length and " " not in word and not any(map(operator.and_, map(str.isupper, word), map(str.isupper, word[1:]))):
        padded = " " + word + " "
        bigrams = [padded[i : i + 2] for i in range(length + 1)]
        trigrams = [padded[i : i + 3] for i in range(length)]
        out = [word[0], bigrams[0]]
        out += chain.from_iterable(zip(word[1:], bigrams[1:length], trigrams))
        out += (bigrams[length], trigrams[length - 1])
        return out
    return _ngrams_loop(word)


def _ngrams_loop(word: str) -> list[str]:
    """langdetect's n-gram loop (``langdetect.utils.ngram.NGram``), for any word."""
    grams = " "
    capital = False
    out = []
    for ch in word + " ":
        last = grams[-1]
        if last == " ":
            grams = " "
            capital = False
            if ch == " ":
                continue
        elif len(grams) >= 3:
            grams = grams[1:]
        grams += ch
        if ch.isupper():
            if last.isupper():
                capital = True
        else:
            capital = False
        if capital:
            continue
        for n in (1, 2, 3):
            if len(grams) < n:
                break
            gram = grams[-n:]
            if gram != " ":
                out.append(gram)
    return out


@lru_cache(maxsize=1)
def load_model() -> NgramModel:
    """The model, built once per process (about 0.3 s)."""
    return NgramModel()
