"""Word lists (membership only) for languages wordfreq has no frequency list for.

Built by ``tools/make_lexicons.py`` from spell-checker dictionaries and lemmatiser
tables and stored as Bloom filters; ``_lang_model.WordFrequencies`` uses them so
that Afrikaans, Welsh, Estonian, Albanian and Swahili words count as evidence
the way wordfreq's words do for the other languages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

LEXICON_PATH = Path(__file__).with_name("lexicons.npz")
#: Bloom filter parameters: k hash positions per word, sized for this false-positive rate.
HASHES = 7
FALSE_POSITIVES = 0.01
_KEY = b"polyglot_pipe"


def word_hashes(words: Sequence[str]) -> np.ndarray:
    """Two independent 64-bit hashes per word (from one blake2b digest): (n, 2) uint64.
    Stable across runs and machines, unlike ``hash()``."""
    digest = hashlib.blake2b
    joined = b"".join(digest(w.encode("utf-8", "surrogatepass"), digest_size=16, key=_KEY).digest() for w in words)
    return np.frombuffer(joined, dtype="<u8").reshape(len(words), 2)


def bloom_positions(hashes: np.ndarray, n_bits) -> np.ndarray:
    """The HASHES bit positions of each word (double hashing): (n, HASHES) int64 for one
    filter of ``n_bits`` bits, (n, len(n_bits), HASHES) for several sizes at once."""
    steps = np.arange(HASHES, dtype=np.uint64)
    sizes = np.asarray(n_bits, dtype=np.uint64)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps, as a hash should
        mixed = hashes[:, :1] + steps * (hashes[:, 1:] | np.uint64(1))
    if sizes.ndim:
        return (mixed[:, None, :] % sizes[None, :, None]).astype(np.int64)
    return (mixed % sizes).astype(np.int64)


class Lexicons:
    """The committed lists; ``contains`` answers for many words and languages at once."""

    def __init__(self, path: Path = LEXICON_PATH):
        with np.load(path) as data:
            names = sorted(name for name in data.files if name != "meta")
            arrays = [data[name] for name in names]
            self.meta = json.loads(str(data["meta"]))
        # one bit array for all the lists, so a batch of words is one gather for every language
        self._bits = np.concatenate(arrays)
        sizes = np.array([a.size * 8 for a in arrays], dtype=np.uint64)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.uint64)
        self._where = {name: (sizes[i], offsets[i]) for i, name in enumerate(names)}

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._where)

    def contains(self, words: Sequence[str], langs: Sequence[str]) -> np.ndarray:
        """(len(words), len(langs)) bool: is the lower-cased word in that language's list
        (1% false positives; a language without a list: False)."""
        out = np.zeros((len(words), len(langs)), dtype=bool)
        columns = [k for k, lang in enumerate(langs) if lang in self._where]
        if not len(words) or not columns:
            return out
        sizes, offsets = (np.array([self._where[langs[k]][i] for k in columns], dtype=np.uint64) for i in (0, 1))
        hashes = word_hashes([w.lower() for w in words])
        positions = bloom_positions(hashes, sizes) + offsets.astype(np.int64)[None, :, None]  # (words, langs, HASHES)
        bits = (self._bits[positions >> 3] >> (positions & 7).astype(np.uint8)) & 1
        out[:, columns] = bits.all(axis=2)
        return out


@lru_cache(maxsize=1)
def load_lexicons() -> Lexicons | None:
    """The committed lists, or None if the file is missing (a trimmed install): the
    identifier then falls back to treating those languages as having no list."""
    return Lexicons() if LEXICON_PATH.exists() else None
