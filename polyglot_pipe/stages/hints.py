"""Language hints from outside the text (an HTML ``lang`` attribute), applied after labelling.

Kept apart from ``identify.py`` on purpose: the identifier labels text; this
step only revisits fragments that carry a declared language, using the
identifier's own per-fragment evidence (``LanguageIdentifier.evidence``: the
candidates for the fragment's script and their log-likelihoods).

The rule is Bayesian and bounded: the declared language gets a prior boost of
``HINT_NATS`` (``HINT_NATS_ROOT`` when the claim is page-wide, on ``<html>`` or
``<body>``: pages often claim ``lang="en"`` over foreign chrome) over the other
candidates, the fragment's evidence is added, and the hint wins only when the
posterior still prefers it.  So a ``<span lang="ru">`` on a short Russian word is
``ru`` even where the word alone looks Bulgarian, but a paragraph the page calls
English that is plainly German stays German.  A hint for a language that does
not write the fragment's script (``lang="ru"`` on "Email") is no evidence at all,
and letterless fragments stay "und".  The confidence is that posterior, calibrated as
the identifier's own (``identify.calibrated_confidence``: the hint is one more prior on
the same log scale).

The boosts are chosen, not tuned, on the identifier's own scale: an element's
own claim pulls as far as the document prior can at most (identify's
PRIOR_WEIGHT x ln(1 / PRIOR_FLOOR) = 3 x ln 1000 ~ 20.7 nats), a page-wide claim a
third of that.  On that scale one short word differs by 10-20 nats between close
languages ("След." scores bg 16 nats above ru) and a ten-word sentence by hundreds,
so only short strings are swayed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from polyglot_pipe.model import Document
from polyglot_pipe.stages.identify import calibrated_confidence

__all__ = ["HINT_NATS", "HINT_NATS_ROOT", "apply_lang_hints"]

HINT_NATS = 20.0
HINT_NATS_ROOT = 7.0


def apply_lang_hints(doc: Document, hints: Sequence[tuple[str, bool] | None], identifier) -> Document:
    """``hints[i]``: (declared language, page-wide?) for fragment i, or None."""
    if not any(hints) or len(hints) != len(doc.fragments):
        return doc
    if not (hasattr(identifier, "evidence") and hasattr(getattr(identifier, "model", None), "labels")):
        return doc  # an identifier without per-fragment evidence: the hints cannot be weighed (tests say so)
    labels = identifier.model.labels
    changed = False
    fragments = list(doc.fragments)
    for i, (frag, hint) in enumerate(zip(fragments, hints)):
        if hint is None:
            continue
        lang, page_wide = hint
        if frag.lang == lang:
            continue
        ev = identifier.evidence(frag.original, frag.script)
        if ev.decided is not None or ev.loglik is None or len(ev.candidates) < 2:
            continue  # the script decides (or no letters): a declaration cannot overrule that
        columns = [k for k, j in enumerate(ev.candidates) if labels[j] == lang]
        if not columns:
            continue  # the declared language does not write this script
        boost = np.zeros(len(ev.candidates))
        boost[columns] = HINT_NATS_ROOT if page_wide else HINT_NATS
        scores = np.asarray(ev.loglik, dtype=float) + boost
        if int(scores.argmax()) in columns:
            chosen = np.zeros(len(ev.candidates), dtype=bool)
            chosen[columns] = True
            fragments[i] = frag.labelled(lang, calibrated_confidence(scores, chosen))
            changed = True
    return doc.replace_fragments(fragments) if changed else doc
