"""Label each fragment's language: langdetect's profiles, scored exactly, with the document as context.

Why not plain ``langdetect.detect`` per fragment: it samples n-grams at random
(labels change between runs unless seeded), costs ~10 ms a call, and has no
context, so one-word UI strings come out as anything ("Subscribe" -> ro).
Here the same profiles are scored exactly (``_lang_model``, plus whole-word
frequencies from wordfreq, which tell "Se connecter" from English where
character n-grams cannot, and word lists for the languages wordfreq lacks,
``_lexicon``), then:

1. candidates are the languages that write the fragment's script (and, with
   ``langs=``, that the user allows); a script one language writes decides alone;
2. the document's own confident text sets a prior per script (leave-one-out,
   floored so real foreign text still wins), added in log space;
3. a long fragment with a clearly foreign run of words inside it ("... the
   "Fitxers d'entrada" situations ...") is split there (conservatively).

Confidence is the posterior probability of the chosen language.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from polyglot_pipe.errors import OptionError
from polyglot_pipe.langdata.ngram_model import NgramModel, load_model
from polyglot_pipe.langdata.prior import GLOBAL_PRIOR
from polyglot_pipe.langdata.scripts import (
    COMMON,
    SCRIPT_DECIDES,
    dominant_script,
    script_group,
)
from polyglot_pipe.model import Document, Fragment

__all__ = ["LanguageIdentifier", "UNDETERMINED"]

UNDETERMINED = "und"

#: Weight of how common a language is in general (log space; tuned on dev).
GLOBAL_PRIOR_WEIGHT = 0.5
#: Weight of the document prior against the fragment's own log-likelihood.
PRIOR_WEIGHT = 3.0
#: Share of the document's evidence a language absent from it still gets in the prior:
#: the prior's pull is bounded (PRIOR_WEIGHT x log(1 / PRIOR_FLOOR) nats), however long
#: the document, so a foreign line with clear evidence ("Se connecter") still wins.
PRIOR_FLOOR = 0.001
#: A fragment's vote in the document prior is capped: one long paragraph must not drown the rest.
MAX_VOTE = 200
#: A run of words inside a fragment is split off when another language beats the
#: fragment's by this many nats over it, and it has at least SPLIT_MIN_WORDS words.
SPLIT_MARGIN = 20.0
SPLIT_MIN_WORDS = 2
SPLIT_MIN_FRAGMENT_WORDS = 6
MAX_SPLIT_DEPTH = 3
ALL_CAPS_TRUST = 0.4
#: No word (outside URLs, e-mail addresses, numbers) this long: no language, "und".
MIN_LETTERS = 2
_SENTENCE_MARK_RE = re.compile(r"[.!?;:…。]")
_SHARED_LABELS = frozenset({"zh"})
_KANA_RE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What one fragment's text says on its own: log-likelihood per candidate profile."""

    candidates: tuple[int, ...]  # profile indices; empty: nothing to score
    loglik: np.ndarray | None  # over candidates
    n_grams: int
    decided: str | None = None  # a label the script (or lack of letters) decides alone
    spans: tuple[tuple[int, int], ...] = ()  # the scored words, kept for long fragments only
    rows: np.ndarray | None = None  # per scored word, log-likelihood over candidates
    names: np.ndarray | None = None  # True for a capitalised word after the first: likely a name
    vote: np.ndarray | None = None  # this fragment's say in the document prior
    best: int = 0  # the candidate its own evidence prefers
    #: per candidate: no run of words gains more for it against ``best``, before any prior
    run_bounds: np.ndarray | None = None


_LABEL_LOCK = threading.RLock()


class LanguageIdentifier:
    """Stateful stage: holds the n-gram model and caches per word and per fragment.

    ``langs`` restricts candidates (ISO 639-1 codes, e.g. ("ru", "en", "de")); a
    fragment in a script none of them writes keeps the unrestricted candidates,
    so a stray Greek line is still "el" rather than a forced wrong label.
    ``seed`` is accepted for compatibility: scoring is exact, nothing is random.
    """

    def __init__(self, langs: Sequence[str] | None = None, seed: int = 0, *, split_mixed: bool = True):
        self.model: NgramModel = load_model()
        self.seed = seed
        self.split_mixed = split_mixed
        self.langs = self._check_langs(langs)
        self._allowed = (
            None if self.langs is None else {j for j, label in enumerate(self.model.labels) if label in self.langs}
        )
        self._candidates: dict[str, tuple[int, ...]] = {}
        self._evidence: dict[tuple[str, str], _Evidence] = {}
        self._global: dict[tuple[int, ...], np.ndarray] = {}
        self._candidate_columns: dict[tuple[int, ...], np.ndarray] = {}

    def _check_langs(self, langs: Sequence[str] | None) -> tuple[str, ...] | None:
        if not langs:
            return None
        if isinstance(langs, str):  # "ru,en,de", as --langs gives it
            langs = langs.split(",")
        known = set(self.model.labels) | set(SCRIPT_DECIDES.values())
        cleaned = tuple(dict.fromkeys(code.strip().lower() for code in langs if code.strip()))
        unknown = [code for code in cleaned if code not in known]
        if unknown:
            raise OptionError(
                f"unknown language code(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cleaned or None

    # -- evidence ---------------------------------------------------------------

    def candidates(self, script: str) -> tuple[int, ...]:
        """Profiles that compete for a fragment of this script."""
        try:
            return self._candidates[script]
        except KeyError:
            pass
        found = self.model.scripts.get(script_group(script), ())
        if self._allowed is not None and any(j in self._allowed for j in found):
            found = tuple(j for j in found if j in self._allowed)
        self._candidates[script] = found
        return found

    def _columns(self, candidates: tuple[int, ...]) -> np.ndarray:
        columns = self._candidate_columns.get(candidates)
        if columns is None:
            columns = self._candidate_columns[candidates] = np.array(candidates, dtype=np.intp)
        return columns

    def evidence(self, text: str, script: str) -> _Evidence:
        key = (text, script)
        cached = self._evidence.get(key)
        if cached is None:
            cached = self._compute_evidence(text, script)
            if len(self._evidence) > 100_000:
                self._evidence.clear()
            self._evidence[key] = cached
        return cached

    def _evidence_many(self, keys: Iterable[tuple[str, str]]) -> None:
        """Cache the evidence of fragments (text, script) not seen yet, their new words
        scored in one batch (a document's words together cost less than one by one)."""
        plans = [(key, self._plan(*key)) for key in dict.fromkeys(keys) if key not in self._evidence]
        if not plans:
            return
        to_score = [plan for _, plan in plans if isinstance(plan, tuple)]
        scored = iter(self._score_many(to_score))
        if len(self._evidence) + len(plans) > 100_000:
            self._evidence.clear()
        for key, plan in plans:
            self._evidence[key] = next(scored) if isinstance(plan, tuple) else plan

    def _compute_evidence(self, text: str, script: str) -> _Evidence:
        plan = self._plan(text, script)
        return self._score_many([plan])[0] if isinstance(plan, tuple) else plan

    def _plan(self, text: str, script: str) -> _Evidence | tuple:
        """The evidence when no word needs scoring (a deciding script, no letters), else
        what ``_score`` needs: (text, trust, script group, candidates, words)."""
        if script == COMMON:
            return _Evidence((), None, 0, decided=UNDETERMINED)
        if script == "Han" and _KANA_RE.search(text):
            script = "Hiragana"
        if script in SCRIPT_DECIDES:
            return _Evidence((), None, 0, decided=SCRIPT_DECIDES[script])
        candidates = self.candidates(script)
        if not candidates:
            return _Evidence((), None, 0, decided=UNDETERMINED)
        trust = 1.0
        if text.isupper():
            # langdetect skips the inside of capital words, so "KOMMANDO" would say
            # nothing; lowercased it speaks, but capitals are often names and credits: less weight.
            text, trust = text.lower(), ALL_CAPS_TRUST
        return text, trust, script_group(script), candidates, self.model.words(text)

    def _score_many(self, plans: list[tuple]) -> list[_Evidence]:
        """Evidence of many fragments from their words' log-likelihoods, summed.

        All the fragments' words are gathered from the word store at once, and the
        sums, votes and split bounds are computed per candidate set (i.e. per
        script) in a few numpy calls: a dozen numpy calls per fragment was most of
        the labelling time on pages of many short lines.
        """
        out: list[_Evidence | None] = [None] * len(plans)
        if not plans:
            return []
        model = self.model
        n_words = [len(plan[4]) for plan in plans]
        ids = model.word_ids([word for plan in plans for _, _, word in plan[4]])
        spans = np.array([span[:2] for plan in plans for span in plan[4]], dtype=np.intp).reshape(-1, 2)
        owner = np.repeat(np.arange(len(plans)), n_words)  # the plan each word belongs to
        groups = np.array([model.group_code(plan[2]) for plan in plans], dtype=np.int64)
        # a Latin brand name inside a Russian sentence says nothing about Russian
        kept = (ids >= 0) & (model.word_groups[np.maximum(ids, 0)] == groups[owner])
        by_candidates: dict[tuple[int, ...], list[int]] = {}
        for i, plan in enumerate(plans):
            by_candidates.setdefault(plan[3], []).append(i)
        for candidates, members in by_candidates.items():
            chosen = np.zeros(len(plans), dtype=bool)
            chosen[members] = True
            words = np.flatnonzero(kept & chosen[owner])  # in plan order, then word order
            n_kept = np.bincount(owner[words], minlength=len(plans))
            rows_ids = ids[words]
            longest = np.zeros(len(plans), dtype=np.intp)
            n_grams = np.zeros(len(plans), dtype=np.int64)
            scored = [i for i in members if n_kept[i]]
            starts = np.concatenate([[0], np.cumsum(n_kept[scored])[:-1]]).astype(np.intp)
            if scored:  # reduceat needs non-empty segments
                longest[scored] = np.maximum.reduceat(spans[words, 1] - spans[words, 0], starts)
                n_grams[scored] = np.add.reduceat(model.word_ngrams[rows_ids], starts)
            for i in members:
                if not n_kept[i] or longest[i] < MIN_LETTERS:
                    out[i] = _Evidence((), None, 0, decided=UNDETERMINED)  # "T" in "2022-01-06T10:00" is no language
                elif len(candidates) == 1:
                    out[i] = _Evidence(candidates, np.zeros(1), int(n_grams[i]))
            if len(candidates) == 1 or not scored:
                continue
            rows = model.word_vectors[rows_ids].take(self._columns(candidates), axis=1)
            trust = np.array([plans[i][1] for i in scored])
            if (trust != 1.0).any():
                rows *= np.repeat(trust, n_kept[scored])[:, None]
            loglik = np.add.reduceat(rows, starts, axis=0)
            votes = _softmax(loglik) * np.minimum(n_grams[scored], MAX_VOTE)[:, None]
            best = loglik.argmax(axis=1)
            ends = np.append(starts[1:], len(words))
            # a capitalised word after the first is likely a name: no vote in a split
            names = model.word_capital[rows_ids].copy()
            names[starts] = False
            diff = rows - rows[np.arange(len(words)), np.repeat(best, n_kept[scored])][:, None]
            diff[names] = 0.0
            # No run of words can gain more than all the words that favour a language, summed.
            bounds = np.add.reduceat(np.maximum(diff, 0.0), starts, axis=0)
            for k, i in enumerate(scored):
                if out[i] is not None:
                    continue
                if n_kept[i] < SPLIT_MIN_FRAGMENT_WORDS:
                    out[i] = _Evidence(candidates, loglik[k], int(n_grams[i]), vote=votes[k], best=int(best[k]))
                    continue
                a, b = starts[k], ends[k]
                out[i] = _Evidence(
                    candidates, loglik[k], int(n_grams[i]), spans=tuple(map(tuple, spans[words[a:b]].tolist())),
                    rows=rows[a:b], names=names[a:b], vote=votes[k], best=int(best[k]), run_bounds=bounds[k],
                )  # fmt: skip
        return out  # type: ignore[return-value]

    # -- decision ---------------------------------------------------------------

    def __call__(self, doc: Document) -> Document:
        # The n-gram model (one per process, shared by every identifier) keeps a word store
        # that grows, and is cleared, as words are seen; so are this identifier's caches:
        # threads label one at a time, or one could read rows another is rewriting.
        with _LABEL_LOCK:
            return self._label(doc)

    def _label(self, doc: Document) -> Document:
        fragments = doc.fragments
        self._evidence_many((f.original, f.script) for f in fragments)
        evidence = [self.evidence(f.original, f.script) for f in fragments]
        votes = self._document_votes(evidence)
        decisions = self._decide_document(evidence, votes)
        labelled: list[Fragment] = []
        for frag, ev, (lang, confidence, profile, log_prior) in zip(fragments, evidence, decisions):
            frag = frag.labelled(lang, confidence)
            if self.split_mixed and self._may_hold_foreign_run(ev, profile, log_prior):
                labelled.extend(self._split_mixed(doc.text, frag, ev, profile, votes))
            else:
                labelled.append(frag)
        return replace(doc, fragments=tuple(labelled))

    def _decide_document(self, evidence: list[_Evidence], votes) -> list[tuple]:
        """``_decide`` for every fragment, plus its log prior: one set of numpy operations
        per script instead of a dozen per fragment (per-fragment numpy calls on 30-element
        arrays were most of the labelling time on English-dominant pages)."""
        decisions: list[tuple] = [None] * len(evidence)  # type: ignore[list-item]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, ev in enumerate(evidence):
            if ev.decided is not None or len(ev.candidates) < 2:
                decisions[i] = (*self._decide(ev, votes), None)
            else:
                groups.setdefault(ev.candidates, []).append(i)
        labels = self.model.labels
        for candidates, members in groups.items():
            loglik = np.array([evidence[i].loglik for i in members])
            own = np.array([evidence[i].vote for i in members])
            context = np.maximum(votes[candidates] - own, 0.0)
            context = context + PRIOR_FLOOR * context.sum(axis=1, keepdims=True) + 1.0
            log_prior = self._global_prior(candidates) + PRIOR_WEIGHT * np.log(
                context / context.sum(axis=1, keepdims=True)
            )
            scores = loglik + log_prior
            posterior = np.exp(scores - scores.max(axis=1, keepdims=True))
            posterior /= posterior.sum(axis=1, keepdims=True)
            best = posterior.argmax(axis=1)
            for row, i in enumerate(members):
                profile = candidates[best[row]]
                label = labels[profile]
                if label in _SHARED_LABELS:  # zh-cn and zh-tw both say "zh"
                    confidence = float(sum(p for j, p in zip(candidates, posterior[row]) if labels[j] == label))
                else:
                    confidence = float(posterior[row, best[row]])
                decisions[i] = (label, min(1.0, confidence), profile, log_prior[row])
        return decisions

    def pipe(self, docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            yield self(doc)

    def _document_votes(self, evidence: list[_Evidence]) -> dict[tuple[int, ...], np.ndarray]:
        """Per candidate set (i.e. per script): each fragment's posterior, weighted by its evidence."""
        votes: dict[tuple[int, ...], np.ndarray] = {}
        for ev in evidence:
            if ev.decided is not None or len(ev.candidates) < 2:
                continue
            vote = ev.vote
            if ev.candidates in votes:
                votes[ev.candidates] = votes[ev.candidates] + vote
            else:
                votes[ev.candidates] = vote
        return votes

    def _log_prior(self, ev: _Evidence, votes) -> np.ndarray:
        """Log prior over the fragment's candidates: how common each language is
        (tempered), plus what the rest of the document says (leave-one-out, floored)."""
        prior = self._global_prior(ev.candidates)
        total = votes.get(ev.candidates)
        if total is None:
            return prior
        context = np.maximum(total - ev.vote, 0.0)
        context = context + PRIOR_FLOOR * context.sum() + 1.0
        return prior + PRIOR_WEIGHT * np.log(context / context.sum())

    def _global_prior(self, candidates: tuple[int, ...]) -> np.ndarray:
        cached = self._global.get(candidates)
        if cached is None:
            shares = np.array([GLOBAL_PRIOR.get(self.model.labels[j], 1e-4) for j in candidates])
            cached = GLOBAL_PRIOR_WEIGHT * np.log(shares / shares.sum())
            self._global[candidates] = cached
        return cached

    def _posterior(self, ev: _Evidence, votes) -> np.ndarray:
        return _softmax(ev.loglik + self._log_prior(ev, votes))

    def _decide(self, ev: _Evidence, votes) -> tuple[str, float, int | None]:
        """(label, confidence, winning profile index or None)."""
        if ev.decided is not None:
            return ev.decided, 1.0, None
        if len(ev.candidates) == 1:
            return self.model.labels[ev.candidates[0]], 1.0, ev.candidates[0]
        posterior = self._posterior(ev, votes)
        best = int(np.argmax(posterior))
        profile = ev.candidates[best]
        label = self.model.labels[profile]
        confidence = float(posterior[best])
        if label in _SHARED_LABELS:  # zh-cn and zh-tw both say "zh"
            confidence = float(sum(p for j, p in zip(ev.candidates, posterior) if self.model.labels[j] == label))
        return label, min(1.0, confidence), profile

    @staticmethod
    def _may_hold_foreign_run(ev: _Evidence, profile: int | None, log_prior: np.ndarray | None) -> bool:
        """Cheap test before the split search, which could not find a run otherwise:
        a run gains at most all the words that favour its language, less the prior's
        preference for the fragment's language (the search's own penalty)."""
        if profile is None or ev.rows is None or log_prior is None:
            return False
        if profile != ev.candidates[ev.best]:
            return True
        return bool((ev.run_bounds - (log_prior[ev.best] - log_prior)).max() >= SPLIT_MARGIN)

    # -- refining the segmentation ------------------------------------------------

    def _split_mixed(self, text: str, frag: Fragment, ev: _Evidence, profile: int, votes, depth: int = 0):
        """Split off a run of words that another language clearly beats the fragment's on.

        Kadane's maximum-sum run, for every candidate at once, over per-word
        log-likelihood differences less the prior's preference for the fragment's
        language; split only when the run has enough words, the margin is large,
        and both the run and what is left have letters.  The cut snaps to a nearby
        sentence mark; what is left is checked again (several insertions per line).
        """
        cut = self._find_foreign_run(frag.original, ev, profile, votes)
        if cut is None:
            return [frag]
        out: list[Fragment] = []
        pieces = [(piece, dominant_script(piece.original)) for piece in _cut_fragment(text, frag, cut)]
        self._evidence_many((piece.original, script) for piece, script in pieces)  # one batch
        for piece, script in pieces:
            piece_ev = self.evidence(piece.original, script)
            lang, confidence, piece_profile = self._decide(piece_ev, votes)
            piece = replace(piece, script=script, lang=lang, lang_confidence=confidence)
            if (
                depth < MAX_SPLIT_DEPTH
                and piece_profile is not None
                and len(piece_ev.candidates) > 1
                and self._may_hold_foreign_run(piece_ev, piece_profile, self._log_prior(piece_ev, votes))
            ):
                out.extend(self._split_mixed(text, piece, piece_ev, piece_profile, votes, depth + 1))
            else:
                out.append(piece)
        return out

    def _find_foreign_run(self, local: str, ev: _Evidence, profile: int, votes) -> tuple[int, int] | None:
        """(start, end) inside ``local`` of a clearly foreign run of words, or None."""
        if ev.rows is None:
            return None
        words = ev.spans
        own = ev.candidates.index(profile)
        diff = ev.rows - ev.rows[:, [own]]
        diff[ev.names] = 0.0  # a capitalised word mid-sentence is a name: no vote
        log_prior = self._log_prior(ev, votes)
        run = _best_runs(diff, penalty=log_prior[own] - log_prior)
        if run is None:
            return None
        gain, first, last = run
        if gain < SPLIT_MARGIN or last - first + 1 < SPLIT_MIN_WORDS:
            return None
        ends_sentence = [bool(_SENTENCE_MARK_RE.search(local, words[i][1], words[i + 1][0])) for i in range(len(words) - 1)]
        first = _snap(first, lambda i: i == 0 or ends_sentence[i - 1], len(words))
        last = _snap(last, lambda i: i == len(words) - 1 or ends_sentence[i], len(words))
        if first > last or (first == 0 and last == len(words) - 1):
            return None
        # Cut at the whitespace around the run's words, so quotes and punctuation stay attached.
        cut_start = words[first][0]
        while cut_start > 0 and not local[cut_start - 1].isspace():
            cut_start -= 1
        cut_end = words[last][1]
        while cut_end < len(local) and not local[cut_end].isspace():
            cut_end += 1
        return cut_start, cut_end


def _snap(index: int, is_boundary, n: int, reach: int = 2) -> int:
    """The nearest word index within ``reach`` that sits at a sentence boundary, else ``index``."""
    for distance in range(reach + 1):
        for candidate in (index - distance, index + distance):
            if 0 <= candidate < n and is_boundary(candidate):
                return candidate
    return index


def _cut_fragment(text: str, frag: Fragment, cut: tuple[int, int]) -> list[Fragment]:
    """The fragment as two or three fragments, cut at ``cut`` (offsets inside it); tiling kept."""
    local = frag.original
    pieces = [(0, cut[0]), (cut[0], cut[1]), (cut[1], len(local))]
    pieces = [(s, e) for s, e in pieces if local[s:e].strip()]
    pieces = _merge_letterless(local, pieces)
    trimmed = []
    for s, e in pieces:
        piece = local[s:e]
        trimmed.append((frag.start + s + len(piece) - len(piece.lstrip()), frag.start + s + len(piece.rstrip())))
    out = []
    for i, (start, end) in enumerate(trimmed):
        space_after = frag.space_after if i + 1 == len(trimmed) else text[end : trimmed[i + 1][0]]
        out.append(replace(frag, start=start, end=end, original=text[start:end], space_after=space_after))
    return out


def _merge_letterless(text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A piece with no letters ('".') joins its neighbour: it is no language."""
    merged: list[tuple[int, int]] = []
    for s, e in pieces:
        if merged and not any(ch.isalpha() for ch in text[s:e]):
            merged[-1] = (merged[-1][0], e)
        elif merged and not any(ch.isalpha() for ch in text[merged[-1][0] : merged[-1][1]]):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _best_runs(diff: np.ndarray, penalty: np.ndarray) -> tuple[float, int, int] | None:
    """The contiguous run of rows with the largest sum in any column, less that
    column's penalty: (gain, first row, last row)."""
    cumulative = np.vstack([np.zeros((1, diff.shape[1])), np.cumsum(diff, axis=0)])
    low = np.minimum.accumulate(cumulative, axis=0)
    gains = cumulative[1:] - low[:-1]  # best run ending at each row, per column
    ends = np.argmax(gains, axis=0)
    best = gains[ends, np.arange(diff.shape[1])] - penalty
    column = int(np.argmax(best))
    gain = float(best[column])
    if gain <= 0:
        return None
    end = int(ends[column])
    start = int(np.flatnonzero(cumulative[: end + 1, column] == low[end, column])[-1])
    return gain, start, end


def _softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis: of one vector, or of each row."""
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)
