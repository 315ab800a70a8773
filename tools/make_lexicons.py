"""Generates polyglot_pipe/langdata/lexicons.npz: word lists for the Latin-script languages wordfreq has no list for.

Why: whole-word frequencies (wordfreq) are what tells close languages apart, but
wordfreq has no list for Afrikaans, Welsh, Estonian, Albanian or Swahili.  Without
one, Afrikaans loses its sentences to Dutch and Estonian wins sentences that are
not Estonian (see bench/README.md).  Spell-checker dictionaries and lemmatiser
tables are the open word lists these languages have; they say which words a
language has, not how often it uses them, so the identifier uses them as
membership only (``polyglot_pipe/langdata/lexicon.py``).

Sources (versions pinned; Debian bookworm packages, PyPI):
  af  hunspell-af 1:7.5.0-1 (af_ZA, expanded with hunspell's unmunch)
  sq  myspell-sq 1.6.4-1.2 (sq_AL, expanded with unmunch)
  sw  hunspell-sw 1:7.5.0-1 (sw_TZ, expanded with unmunch)
  cy  simplemma 2.0.0 (its Welsh table: word forms and lemmas)
  et  simplemma 2.0.0 (its Estonian table; hunspell's Estonian expands to 15 million forms)

Licences: af and sw LGPL-2.1+, sq GPL-2+ (Debian copyright files), simplemma MIT.
Each list is stored as a Bloom filter (1% false positives, 7 hashes): the lists
hold 3.9 million words, which would take ~15 MB as hashes and far more as text.

Run (needs apt-get, dpkg-deb and pip; downloads, so not at run time):
    python tools/make_lexicons.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from polyglot_pipe.langdata.lexicon import (
    FALSE_POSITIVES,
    HASHES,
    LEXICON_PATH,
    bloom_positions,
    word_hashes,
)

DEBIAN = {  # language -> (package, version, hunspell dictionary name)
    "af": ("hunspell-af", "1:7.5.0-1", "af_ZA"),
    "sq": ("myspell-sq", "1.6.4-1.2", "sq_AL"),
    "sw": ("hunspell-sw", "1:7.5.0-1", "sw_TZ"),
}
UNMUNCH = ("hunspell-tools", "1.7.1-1")
SIMPLEMMA = ("simplemma", "2.0.0", ("cy", "et"))


def _debian_words(work: Path) -> dict[str, set[str]]:
    packages = [f"{name}={version}" for name, version, _ in DEBIAN.values()] + ["=".join(UNMUNCH)]
    subprocess.run(["apt-get", "download", *packages], cwd=work, check=True)
    for deb in work.glob("*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "x")], check=True)
    unmunch = work / "x/usr/bin/unmunch"
    words = {}
    for lang, (_, _, name) in DEBIAN.items():
        dic, aff = (work / "x/usr/share/hunspell" / f"{name}.{ext}" for ext in ("dic", "aff"))
        encoding = "utf-8"
        for line in aff.read_bytes().splitlines():
            if line.startswith(b"SET "):
                encoding = line.split()[1].decode()
        out = subprocess.run([str(unmunch), str(dic), str(aff)], capture_output=True, check=True).stdout
        words[lang] = set(out.decode(encoding, errors="replace").split())
    return words


def _simplemma_words(work: Path) -> dict[str, set[str]]:
    name, version, langs = SIMPLEMMA
    target = work / "simplemma"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), f"{name}=={version}"],
        check=True,
    )
    sys.path.insert(0, str(target))
    from simplemma.strategies.dictionaries.dictionary_factory import (
        DefaultDictionaryFactory,
    )

    factory = DefaultDictionaryFactory()
    words = {}
    for lang in langs:
        table = factory.get_dictionary(lang)
        entries = list(table) + list(table.values())
        words[lang] = {e.decode() if isinstance(e, bytes) else e for e in entries}
    return words


def bloom(words: set[str]) -> np.ndarray:
    """A Bloom filter of ``words`` (lower-cased), as bytes, sized for FALSE_POSITIVES."""
    words = sorted({w.strip().lower() for w in words if w.strip()})
    n_bits = int(np.ceil(-len(words) * np.log(FALSE_POSITIVES) / np.log(2) ** 2 / 8)) * 8
    bits = np.zeros(n_bits, dtype=bool)
    for start in range(0, len(words), 200_000):
        bits[bloom_positions(word_hashes(words[start : start + 200_000]), n_bits).ravel()] = True
    return np.packbits(bits, bitorder="little")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        words = _debian_words(work) | _simplemma_words(work)
    arrays = {lang: bloom(words[lang]) for lang in sorted(words)}
    meta = {lang: {"words": len({w.lower() for w in words[lang]}), "bytes": int(arrays[lang].size)} for lang in arrays}
    meta["hashes"] = HASHES
    np.savez(LEXICON_PATH, meta=np.array(json.dumps(meta)), **arrays)
    print(json.dumps(meta), "->", LEXICON_PATH)


if __name__ == "__main__":
    main()
