"""Grid-search the identifier's knobs on the dev split (never on test).

Isolated items: n-gram smoothing (alpha), weight of each n-gram order, and the
weight of the global language prior.  Prints accuracy for each setting, best last.

Usage: python bench/langid/tune.py
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from run_eval import load  # noqa: E402

from polyglot_pipe import _lang_model  # noqa: E402
from polyglot_pipe._lang_prior import GLOBAL_PRIOR  # noqa: E402
from polyglot_pipe.scripts import dominant_script, script_group  # noqa: E402


def order_scores(model, text):
    """Log-likelihood per profile, split by n-gram order (3 x profiles)."""
    out = np.zeros((3, len(model.profiles)))
    script = dominant_script(text)
    for _, _, word in model.words(text):
        if script_group(dominant_script(word)) != script_group(script):
            continue
        for gram in _lang_model._ngrams(word):
            row = model.index.get(gram)
            if row is not None:
                out[len(gram) - 1] += model.logp[row]
    return out


def main() -> None:
    items = [i for i in load(HERE / "data" / "eval.jsonl.gz", "dev") if i["kind"] in ("short", "sentence")]
    for alpha in (0.5 / 10000, 2 / 10000, 1e-3):
        model = _lang_model.NgramModel(alpha=alpha)
        prior = np.log(np.array([GLOBAL_PRIOR.get(label, 1e-4) for label in model.labels]))
        prior -= prior.max()
        rows = []
        for item in items:
            script = script_group(dominant_script(item["text"]))
            candidates = model.scripts.get(script, ())
            if len(candidates) < 2:
                continue
            rows.append((item, list(candidates), order_scores(model, item["text"])))
        results = []
        for w1, w3, g in itertools.product((0.5, 1.0), (1.0, 1.5, 2.0), (0.0, 0.5, 1.0, 2.0, 4.0)):
            right = {"short": [0, 0], "sentence": [0, 0], "short_en": [0, 0]}
            for item, cand, scores in rows:
                total = w1 * scores[0] + scores[1] + w3 * scores[2] + g * prior
                label = model.labels[cand[int(np.argmax(total[cand]))]]
                ok = label in item["ok"]
                right[item["kind"]][0] += ok
                right[item["kind"]][1] += 1
                if item["kind"] == "short" and item["lang"] == "en":
                    right["short_en"][0] += ok
                    right["short_en"][1] += 1
            acc = {k: r / max(n, 1) for k, (r, n) in right.items()}
            results.append((acc["short"] + acc["sentence"], alpha, w1, w3, g, acc))
        for r in sorted(results, key=lambda r: r[0])[-6:]:
            print(f"alpha={r[1]:.0e} w1={r[2]} w3={r[3]} prior={r[4]}: "
                  + " ".join(f"{k} {v:.3f}" for k, v in r[5].items()))  # fmt: skip


if __name__ == "__main__":
    main()
