"""Is ``lang_confidence`` calibrated?  Measure it on the eval set, and fit the map (dev only).

Every fragment of a split counts: the isolated short strings and sentences (one
fragment each, labelled as run_eval.py labels them) and the fragments of the
mixed documents (segmented by polyglot_pipe.stages.segment, then labelled, so
pieces the identifier split off count on their own).  A fragment is right when:

* short / sentence: its label is any language the item's text is a translation in;
* mixed: its label is the majority gold language of its letters.  A fragment with
  no gold letters (punctuation, numbers) has no gold and is skipped.

Fragments labelled "und" are skipped too: "und" claims no language (no letters,
or code, markup, a URL), so it has no language to be right about; how many
there were, and how many of them had gold letters, is printed.

Printed: expected calibration error (15 equal-width bins: the sum over bins of
|bin| / N x |accuracy - mean confidence|), the highest confidence of a wrong
label, and the reliability table (bin, count, mean confidence, accuracy).

``--fit`` (dev only) fits the map identify.py applies and prints its constants:
CONFIDENCE_TEMPERATURE, the one temperature that minimises the log loss of the
chosen label's confidence (scores / T, softmax), and MAX_CONFIDENCE, the dev
accuracy of the labels that temperature puts at 0.99 or more, rounded down to
the hundredth (what the reviews show).  It also prints a temperature per band
of fragment evidence (scored n-grams), to show whether one is enough.  The fit
needs each fragment's raw scores, recomputed here from the identifier's own
evidence and document prior; each row checks that they give back the label and
confidence the identifier wrote, so the fit works whatever constants are set.

Usage:
    python bench/langid/calibrate.py [--split dev|test|all] [--markdown]
    python bench/langid/calibrate.py --fit        # dev split; prints identify.py's CALIBRATION constants
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from run_eval import load, single_fragment  # noqa: E402

import polyglot_pipe.stages.identify as identify  # noqa: E402
from polyglot_pipe.model import Document  # noqa: E402
from polyglot_pipe.stages.segment import segment_document  # noqa: E402

N_BINS = 15


@dataclass(frozen=True)
class Row:
    """One labelled fragment: what it said, whether it was right, and what the fit needs."""

    kind: str  # short, sentence, mixed
    lang: str
    confidence: float
    correct: bool
    n_grams: int
    scores: np.ndarray | None  # raw log scores over the candidates; None when the script decided
    chosen: np.ndarray | None  # mask: the candidates that carry the chosen label (zh-cn and zh-tw)


def _row(identifier, votes, frag, kind: str, correct: bool) -> Row:
    """The fragment's row, its raw scores recomputed as identify's ``_decide`` makes them."""
    ev = identifier.evidence(frag.original, frag.script)
    if ev.decided is not None or len(ev.candidates) < 2:
        return Row(kind, frag.lang, frag.lang_confidence, correct, ev.n_grams, None, None)
    scores = np.asarray(ev.loglik + identifier._log_prior(ev, votes), dtype=np.float64)
    labels = identifier.model.labels
    chosen = np.array([labels[j] == frag.lang for j in ev.candidates])
    expected = identify.calibrated_confidence(scores, chosen)
    if not chosen[int(scores.argmax())] or not math.isclose(expected, frag.lang_confidence, abs_tol=1e-9):
        raise AssertionError(f"recomputed scores do not give the identifier's label/confidence: {frag!r}")
    return Row(kind, frag.lang, frag.lang_confidence, correct, ev.n_grams, scores, chosen)


def collect(items: list[dict]) -> tuple[list[Row], Counter]:
    """Rows for every fragment with a language label and a gold; counts of what was skipped."""
    whole = identify.LanguageIdentifier(split_mixed=False)  # one label per isolated item, as run_eval
    splitting = identify.LanguageIdentifier()
    rows: list[Row] = []
    skipped: Counter = Counter()
    for item in items:
        if item["kind"] in ("short", "sentence"):
            doc = Document(id="x", text=item["text"], fragments=(single_fragment(item["text"]),))
            identifier = whole
            labelled = identifier(doc).fragments
            golds = [set(item["ok"])]
        else:
            doc = segment_document(Document(id="m", text=item["text"]))
            identifier = splitting
            labelled = identifier(doc).fragments
            gold = [None] * len(item["text"])
            for start, end, lang in item["spans"]:
                gold[start:end] = [lang] * (end - start)
            golds = []
            for frag in labelled:
                letters = Counter(gold[i] for i in range(frag.start, frag.end) if item["text"][i].isalpha() and gold[i])
                golds.append({letters.most_common(1)[0][0]} if letters else None)
        votes = identifier._document_votes([identifier.evidence(f.original, f.script) for f in doc.fragments])
        for frag, ok in zip(labelled, golds):
            if frag.lang == identify.UNDETERMINED:
                skipped["und"] += 1
                skipped["und with gold letters"] += ok is not None
                continue
            if ok is None:
                skipped["no gold letters"] += 1
                continue
            rows.append(_row(identifier, votes, frag, item["kind"], frag.lang in ok))
    return rows, skipped


def reliability(confidence: np.ndarray, correct: np.ndarray) -> tuple[float, list[tuple]]:
    """(ECE, [(low, high, count, mean confidence, accuracy)] per non-empty bin), 15 equal-width bins."""
    bins = np.minimum((confidence * N_BINS).astype(int), N_BINS - 1)
    ece, table = 0.0, []
    for b in range(N_BINS):
        members = bins == b
        n = int(members.sum())
        if not n:
            continue
        mean_conf, accuracy = float(confidence[members].mean()), float(correct[members].mean())
        ece += n / len(confidence) * abs(accuracy - mean_conf)
        table.append((b / N_BINS, (b + 1) / N_BINS, n, mean_conf, accuracy))
    return ece, table


def report(rows: list[Row], skipped: Counter, split: str, markdown: bool) -> None:
    confidence = np.array([r.confidence for r in rows])
    correct = np.array([r.correct for r in rows])
    ece, table = reliability(confidence, correct)
    wrong = confidence[~correct]
    kinds = Counter(r.kind for r in rows)
    print(
        f"Split {split}: {len(rows)} labelled fragments ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); "
        f"skipped: {dict(skipped)}"
    )
    print(f"accuracy {correct.mean():.4f}, mean confidence {confidence.mean():.4f}, ECE {ece:.4f}")
    print(
        f"max confidence of a wrong label {wrong.max() if len(wrong) else float('nan'):.6f}; "
        f"wrong labels at >= 0.995 (shown as 1.00): {int((wrong >= 0.995).sum())}; "
        f"confidences of exactly 1.0: {int((confidence == 1.0).sum())} (wrong {int((wrong == 1.0).sum())})"
    )
    for kind in sorted(kinds):
        sub = [r for r in rows if r.kind == kind]
        e, _ = reliability(np.array([r.confidence for r in sub]), np.array([r.correct for r in sub]))
        print(f"  {kind}: ECE {e:.4f} over {len(sub)}")
    if markdown:
        print("\n| confidence bin | fragments | mean confidence | accuracy |\n|---|---|---|---|")
        for low, high, n, mean_conf, accuracy in table:
            print(f"| {low:.2f}–{high:.2f} | {n:,} | {mean_conf:.3f} | {accuracy:.3f} |")
    else:
        print(f"{'bin':>11} {'count':>6} {'mean conf':>9} {'accuracy':>8}")
        for low, high, n, mean_conf, accuracy in table:
            print(f"{low:.2f}-{high:.2f} {n:6d} {mean_conf:9.4f} {accuracy:8.4f}")


def _padded(rows: list[Row]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores (padded with -inf), chosen masks and correctness of the scored rows, as matrices."""
    width = max(len(r.scores) for r in rows)
    scores = np.full((len(rows), width), -np.inf)
    chosen = np.zeros((len(rows), width), dtype=bool)
    for k, r in enumerate(rows):
        scores[k, : len(r.scores)] = r.scores
        chosen[k, : len(r.scores)] = r.chosen
    return scores, chosen, np.array([r.correct for r in rows])


def _tempered(scores: np.ndarray, chosen: np.ndarray, temperature: float) -> np.ndarray:
    z = np.exp((scores - scores.max(axis=1, keepdims=True)) / temperature)
    return (z * chosen).sum(axis=1) / z.sum(axis=1)


def fit_temperature(scores: np.ndarray, chosen: np.ndarray, correct: np.ndarray) -> float:
    """The temperature (to 0.01, between 0.5 and 200) of least log loss of the chosen label's confidence."""

    def loss(t: float) -> float:
        p = np.clip(_tempered(scores, chosen, t), 1e-12, 1 - 1e-12)
        return float(-np.where(correct, np.log(p), np.log1p(-p)).mean())

    grid = np.geomspace(0.5, 200, 241)  # 2.5% apart, then refined around the best
    best = grid[int(np.argmin([loss(t) for t in grid]))]
    fine = np.arange(best * 0.97, best * 1.03, 0.01)
    return round(float(fine[int(np.argmin([loss(t) for t in fine]))]), 2)


def fit(items: list[dict]) -> None:
    rows, _ = collect(items)
    scored = [r for r in rows if r.scores is not None]
    decided = [r for r in rows if r.scores is None]
    scores, chosen, correct = _padded(scored)
    temperature = fit_temperature(scores, chosen, correct)
    tempered = _tempered(scores, chosen, temperature)
    top = tempered >= 0.99
    ceiling = math.floor(100 * correct[top].mean()) / 100
    n_wrong = sum(not r.correct for r in decided)
    print(f"dev: {len(scored)} scored labels, {len(decided)} decided by the script ({n_wrong} wrong)")
    print(f"labels at >= 0.99 after the temperature: {int(top.sum())}, right {correct[top].mean():.4f}")
    print(f"CONFIDENCE_TEMPERATURE = {temperature}\nMAX_CONFIDENCE = {ceiling}")
    n_grams = np.array([r.n_grams for r in scored])
    edges = (0, 20, 30, 45, 70, 100, 150, 250, 10**9)
    banded = tempered.copy()
    for low, high in zip(edges, edges[1:]):
        members = (n_grams >= low) & (n_grams < high)
        t = fit_temperature(scores[members], chosen[members], correct[members])
        banded[members] = _tempered(scores[members], chosen[members], t)
        print(f"  n-grams {low}-{high}: {int(members.sum())} labels, temperature {t}")
    everything = [*decided, *scored]
    right = np.array([r.correct for r in everything])

    def ece(confidence: np.ndarray) -> float:
        both = np.concatenate([[r.confidence for r in decided], np.minimum(confidence, ceiling)])
        return reliability(both, right)[0]

    print(f"dev ECE with the cap: one temperature {ece(tempered):.4f}, a temperature per band {ece(banded):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data" / "eval.jsonl.gz")
    parser.add_argument("--split", default="dev", choices=("test", "dev", "all"))
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--fit", action="store_true", help="fit the map on dev (implies --split dev)")
    args = parser.parse_args()
    if args.fit:
        fit(load(args.data, "dev"))
        return
    rows, skipped = collect(load(args.data, args.split))
    report(rows, skipped, args.split, args.markdown)


if __name__ == "__main__":
    main()
