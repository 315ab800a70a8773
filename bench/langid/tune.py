"""Grid-search the identifier's knobs on the dev split (never on test).

Isolated items (short, sentence) for the model's knobs: n-gram smoothing
(alpha), whole-word frequency weight, global prior weight; mixed documents for
the document prior's weight and floor.  Prints one line per setting (slow: run
it in the background).  The chosen values are the defaults in
polyglot_pipe/stages/identify.py and polyglot_pipe/langdata/ngram_model.py.

Usage: python bench/langid/tune.py
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from run_eval import Pipe, load, score_isolated, score_mixed  # noqa: E402

import polyglot_pipe.stages.identify as identify  # noqa: E402
from polyglot_pipe.langdata import ngram_model as _lang_model  # noqa: E402


def main() -> None:
    items = load(HERE / "data" / "eval.jsonl.gz", "dev")
    short = [i for i in items if i["kind"] == "short"]
    sentences = [i for i in items if i["kind"] == "sentence"]
    mixed = [i for i in items if i["kind"] == "mixed"]
    for alpha, word_weight in itertools.product((0.5 / 10000, 2 / 10000), (1.0, 1.5, 2.0)):
        model = _lang_model.NgramModel(alpha=alpha, word_weight=word_weight)
        identify.load_model = lambda model=model: model
        for global_weight, prior_weight, floor in itertools.product((0.5, 1.0), (2.5, 3.0, 3.5, 4.0), (0.0003, 0.001, 0.003)):
            identify.GLOBAL_PRIOR_WEIGHT, identify.PRIOR_WEIGHT, identify.PRIOR_FLOOR = global_weight, prior_weight, floor
            pipe = Pipe()
            s, t, m = score_isolated(pipe, short), score_isolated(pipe, sentences), score_mixed(pipe, mixed)
            print(
                f"alpha={alpha:.0e} word={word_weight} global={global_weight} doc={prior_weight} floor={floor}: "
                f"short {s['all']:.3f} (en {s['en']:.3f}) sentence {t['all']:.3f} "
                + " ".join(f"{k} {v:.3f}" for k, v in m.items()),
                flush=True,
            )


if __name__ == "__main__":
    main()
