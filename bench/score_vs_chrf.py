"""Spearman correlation of LoadedPack.translate_scored's score with per-fragment chrF.

Usage: PYTHONPATH=$PWD python bench/score_vs_chrf.py language_packs/corpus/ru-en.heldout.tsv
Needs sacrebleu (chrF) installed.
"""

import sys
import tempfile
from pathlib import Path

from sacrebleu.metrics import CHRF

from polyglot_pipe.packs.store import install_pack_file
from polyglot_pipe.stages.translate import LoadedPack


def ranks(values):
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2
        i = j + 1
    return out


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb)


def main(tsv: str, archive: str = "language_packs/translate-ru_en-1_0.argosmodel") -> None:
    lines = Path(tsv).read_text(encoding="utf-8").splitlines()
    pairs = [line.split("\t")[:2] for line in lines if "\t" in line]
    with tempfile.TemporaryDirectory() as tmp:
        loaded = LoadedPack.load(install_pack_file(archive, Path(tmp)), threads=1)
        scored = loaded.translate_scored([src for src, _ in pairs])
    chrf = CHRF()
    chrfs = [chrf.sentence_score(hyp, [ref]).score for (hyp, _), (_, ref) in zip(scored, pairs)]
    scores = [s for _, s in scored]
    print(f"n={len(pairs)} spearman(score, chrF)={spearman(scores, chrfs):.3f}")
    worst = sorted(range(len(pairs)), key=chrfs.__getitem__)[: max(1, len(pairs) // 4)]
    for threshold in (-0.3, -0.35, -0.4, -0.45, -0.5, -0.7, -1.0):
        low = {i for i, s in enumerate(scores) if s < threshold}
        caught = len(low & set(worst))
        print(f"threshold {threshold}: low={len(low)} catches {caught}/{len(worst)} of the worst quarter")


if __name__ == "__main__":
    main(*sys.argv[1:])
