"""Repair mojibake span by span, recording each change as an Edit.

ftfy repairs UTF-8 that was decoded with a single-byte code page, but it leaves
alone the legacy confusions of old Cyrillic, Greek and Central European text
(cp1251 shown as cp1252: "Çàãîëîâîê"; koi8-r shown as cp1251: "ъБЗПМПЧПЛ").  No
maintained library repairs those, so this module tries each such round trip
(``text.encode(shown_as).decode(really)``) itself and keeps a result only when
*language evidence* says it is clearly better: character-bigram frequencies
taken from langdetect's own language profiles, plus hard signals of mojibake
(two scripts inside one word, lower->upper case flips inside a word, symbols
or C1 controls between letters).

ftfy's ``fix_encoding`` (never ``fix_text``: its quote and width normalisation
would change clean text) handles the UTF-8 kinds; UTF-8 shown as cp1251,
cp1250 or cp1253, which ftfy mostly misses, is one more round trip here.

Decisions are made per run of suspicious (non-ASCII) words inside one line, so
a line mixing clean English and a broken Russian phrase gets only the broken
phrase repaired, and each word is changed only if the repair leaves it
cleaner.  Line breaks are never touched; pure-ASCII lines cost one
``str.isascii`` call.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import lru_cache

import ftfy
import ftfy.bad_codecs  # noqa: F401  (registers the "sloppy-windows-125x" codecs)
import regex

from polyglot_pipe.langdata.scripts import script_of
from polyglot_pipe.model import Edit

__all__ = ["repair_text", "language_score", "ROUND_TRIPS", "RoundTrip"]


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """Text whose bytes were in ``really`` but were shown as ``shown_as``."""

    name: str
    shown_as: str
    really: str
    #: the gain in log-probability per changed character it needs; Latin-to-Latin
    #: repairs need more, because clean accented Latin text is everywhere.  Tuned (in
    #: sample) on bench/encoding's sentences: ``python bench/encoding/run.py --margins``
    #: prints, per round trip, the best gain on clean text and on text it broke.
    margin: float = 1.0

    @property
    def repertoire(self) -> frozenset[str]:
        """The non-ASCII characters ``shown_as`` can encode: text with none of them never changes."""
        return _repertoire(self.shown_as)

    def undo(self, text: str) -> str | None:
        """The text as it should have been shown, or None when this round trip cannot apply."""
        try:
            return text.encode(self.shown_as).decode(self.really)
        except (UnicodeError, LookupError):
            return None

    def undo_words(self, text: str) -> str:
        """``undo`` word by word, leaving words it cannot apply to (clean Greek beside broken Russian).

        For the single-byte code pages used here (ASCII-compatible, one byte per
        character) undoing the whole text at once gives the same result when it
        succeeds, and ASCII words never change, so only a failure is redone per
        non-ASCII word.
        """
        whole = self.undo(text)
        if whole is not None and self.really != "utf-8":
            return whole
        return _NON_ASCII_TOKEN_RE.sub(lambda m: self.undo(m.group()) or m.group(), text)


@lru_cache(maxsize=None)
def _repertoire(codec: str) -> frozenset[str]:
    return frozenset(bytes([b]).decode(codec, errors="ignore") for b in range(0x80, 0x100)) - {""}


# "sloppy" codecs decode the five bytes cp125x leaves undefined as C1 controls,
# as browsers do, so every byte survives the round trip.
ROUND_TRIPS: tuple[RoundTrip, ...] = (
    RoundTrip("utf-8-as-cp1252", "sloppy-windows-1252", "utf-8", margin=0.0),
    RoundTrip("utf-8-as-latin-1", "latin-1", "utf-8", margin=0.0),
    RoundTrip("utf-8-as-cp1251", "sloppy-windows-1251", "utf-8", margin=0.0),
    RoundTrip("utf-8-as-cp1250", "sloppy-windows-1250", "utf-8", margin=0.0),
    RoundTrip("utf-8-as-cp1253", "sloppy-windows-1253", "utf-8", margin=0.0),
    RoundTrip("cp1251-as-cp1252", "sloppy-windows-1252", "cp1251"),
    RoundTrip("cp1251-as-latin-1", "latin-1", "cp1251"),
    RoundTrip("koi8-r-as-cp1251", "sloppy-windows-1251", "koi8_r"),
    RoundTrip("koi8-u-as-cp1251", "sloppy-windows-1251", "koi8_u"),
    RoundTrip("koi8-r-as-latin-1", "latin-1", "koi8_r"),
    RoundTrip("cp866-as-cp1251", "sloppy-windows-1251", "cp866"),
    RoundTrip("cp1253-as-cp1252", "sloppy-windows-1252", "cp1253"),
    RoundTrip("cp1253-as-latin-1", "latin-1", "cp1253"),
    RoundTrip("cp1250-as-cp1252", "sloppy-windows-1252", "cp1250", margin=4.0),
    RoundTrip("cp1250-as-latin-1", "latin-1", "cp1250", margin=4.0),
)


_TOKEN_RE = regex.compile(r"[^ \t\r\n\f\v]+")
#: A token (as _TOKEN_RE) with at least one non-ASCII character.
_NON_ASCII_TOKEN_RE = regex.compile(r"(?<![^ \t\r\n\f\v])[\x00-\x08\x0e-\x1f\x21-\x7f]*[^\x00-\x7f][^ \t\r\n\f\v]*")
_ASCII_LETTERS_RE = regex.compile(r"[A-Za-z]")


from polyglot_pipe.langdata.letters import (  # noqa: E402  (the scorer, shared with decode)
    _MAX_CACHED_LINE,
    _MAX_CACHED_LINES,
    _evidence,
    _signals,
    language_score,
)


def _letter_share(text: str) -> float:
    visible = len(text) - sum(map(str.isspace, text))
    return sum(map(str.isalpha, text)) / visible if visible else 0.0


def _enough_change(raw: str, repaired: str) -> bool:
    """Whether a same-length round trip changed enough letters to be judged.

    One changed letter only counts when it stays in the script of the letters
    around it (Polish "du¿a" -> "duża"), never when it brings in another script
    (French "à" -> Cyrillic "а").
    """
    changed = [b for a, b in zip(raw, repaired) if a != b and b.isalpha()]
    if len(changed) != 1:
        return len(changed) > 1
    kept = [c for a, c in zip(raw, repaired) if a == c and c.isalpha()]
    return bool(kept) and script_of(changed[0]) == script_of(kept[-1])


# --------------------------------------------------------------------------
# Finding spans and choosing repairs
# --------------------------------------------------------------------------


def _runs(line: str) -> list[list[tuple[int, int]]]:
    """Groups of token spans to decide together: non-ASCII tokens, joined across short ASCII gaps."""
    runs: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    gap: list[tuple[int, int]] = []
    gap_words = 0
    for m in _TOKEN_RE.finditer(line):
        token = m.group()
        if not token.isascii():
            if current:
                current.extend(gap)
            current.append(m.span())
            gap, gap_words = [], 0
        elif current:
            gap.append(m.span())
            if _ASCII_LETTERS_RE.search(token):
                gap_words += 1
                if gap_words > 3:
                    runs.append(current)
                    current, gap, gap_words = [], [], 0
    if current:
        runs.append(current)
    return runs


def _ftfy_name(plan) -> str:
    short = {"sloppy-windows-1252": "cp1252", "sloppy-windows-1251": "cp1251",
             "sloppy-windows-1250": "cp1250", "sloppy-windows-1253": "cp1253",
             "sloppy-windows-1254": "cp1254", "latin-1": "latin-1"}
    names = []
    shown_as = None
    for step, arg in plan:
        if step == "encode":
            shown_as = short.get(arg, arg)
        elif step == "decode" and shown_as:
            really = "utf-8" if arg.startswith("utf-8") else arg  # ftfy's "utf-8-variants" too
            names.append(f"{really}-as-{shown_as}")
            shown_as = None
    return "+".join(names) or "ftfy:" + "+".join(arg for _, arg in plan)


def _undo(name: str, text: str, plan) -> str | None:
    if plan is not None:
        try:
            return ftfy.apply_plan(text, plan)
        except (UnicodeError, LookupError, ValueError):
            return None
    trip = _BY_NAME[name]
    return trip.undo(text) if trip.really == "utf-8" else trip.undo_words(text)


_BY_NAME = {rt.name: rt for rt in ROUND_TRIPS}


#: Characters of context on each side of a span when judging it.
_CONTEXT = 100
_TRACE: list | None = None  # (round trip, gain) pairs land here when set: used to tune the margins
#: A span needs a word of this many letters before a legacy round trip may change it (one "à" is
#: no evidence).  Chosen on bench/encoding's set (``python bench/encoding/run.py``): 2 let clean
#: two-letter words flip, 4 left short Slovene/Croatian words broken; bench/README.md "Repair".
MIN_LETTERS = 3


def _choose(span: str, before: str = "", after: str = "") -> tuple[str, str, object] | None:
    """The best repair of ``span`` as (name, repaired, ftfy plan or None), or None to leave it.

    ftfy's fix_encoding is trusted when it decodes the span as UTF-8 outright
    (it is conservative and changes no clean text of our controls).  Its
    piecemeal fixes and our legacy round trips must read clearly better,
    judged with the words around the span (``before``, ``after``) so that one
    Portuguese "não" is read as Portuguese, not as Romanian "năo".
    """
    fixed, plan = ftfy.fix_encoding_and_explain(span)
    raw_cache: list[tuple[float, int]] = []

    def raw() -> tuple[float, int]:  # scored only when some repair is worth judging
        if not raw_cache:
            raw_cache.append(_evidence(before + span + after))
        return raw_cache[0]

    if fixed == span or not plan:
        fixed = plan = None
    elif any(step not in ("encode", "decode") for step, _ in plan):
        # ftfy's piecemeal fixes ("Ã " as a lost "à") must show evidence
        fixed_total, fixed_count = _evidence(before + fixed + after)
        raw_total, raw_count = raw()
        gain = fixed_total / max(fixed_count, 1) - raw_total / max(raw_count, 1)
        if _signals(fixed) >= _signals(span) and gain < 1.0:
            fixed = plan = None
    raw_letters = _letter_share(span)
    non_ascii = {c for c in set(span) if c > "\x7f"}
    best: tuple[float, str, str] | None = None
    for rt in ROUND_TRIPS:
        # exact shortcuts: a UTF-8 trip needs every character encodable, a single-byte
        # trip changes nothing when no character is (Cyrillic under cp1252)
        if rt.really == "utf-8":
            if not non_ascii <= rt.repertoire:
                continue
        elif non_ascii.isdisjoint(rt.repertoire):
            continue
        # UTF-8 must decode the whole span; single-byte trips go word by word
        repaired = rt.undo(span) if rt.really == "utf-8" else rt.undo_words(span)
        if repaired is None or repaired == span or repaired == fixed:
            continue
        if len(repaired) == len(span):
            # single-byte round trip: judge the changed characters, not the whole span
            if not _enough_change(span, repaired) or _letter_share(repaired) < raw_letters:
                continue
            changed_words = [r for w, r in zip(_TOKEN_RE.findall(span), _TOKEN_RE.findall(repaired)) if w != r]
            if max(sum(map(str.isalpha, w)) for w in changed_words) < MIN_LETTERS:
                continue
            total, count = _evidence(before + repaired + after)
            changed = sum(map(operator.ne, span, repaired))
            gain = (total - raw()[0]) / changed
        else:
            total, count = _evidence(before + repaired + after)
            raw_total, raw_count = raw()
            gain = total / max(count, 1) - raw_total / max(raw_count, 1)
        if _TRACE is not None:
            _TRACE.append((rt.name, gain))
        if gain >= rt.margin or (rt.really == "utf-8" and _signals(repaired) < _signals(span)):
            # a strict UTF-8 decode that reads no worse beats any single-byte round trip
            rank = (rt.really == "utf-8", gain)
            if best is None or rank > best[0]:
                best = (rank, rt.name, repaired)
    if fixed is not None:
        # ftfy wins when it decoded the span as UTF-8 outright; its piecemeal
        # fixes (decode_inconsistent_utf8) yield to a round trip that reads better
        if best is not None and any(step != "encode" and step != "decode" for step, _ in plan):
            total, count = _evidence(before + fixed + after)
            ours_total, ours_count = _evidence(before + best[2] + after)
            if ours_total / max(ours_count, 1) > total / max(count, 1):
                return best[1], best[2], None
        return _ftfy_name(plan), fixed, plan
    if best is None:
        return None
    return best[1], best[2], None


def _repair_run(line: str, run: list[tuple[int, int]], max_rounds: int) -> list[tuple[int, int, str, str]]:
    """Repair one run of a line: (start, end, new text, repair name) per changed unit.

    A unit is one token while the chosen repair splits at spaces (every
    single-byte round trip does), else the whole run.
    """
    units = [[a, b, line[a:b], []] for a, b in run]
    for _ in range(max_rounds):
        pieces, seps = [], []
        for i, (a, b, cur, _names) in enumerate(units):
            pieces.append(cur)
            seps.append(line[b : units[i + 1][0]] if i + 1 < len(units) else "")
        current = "".join(p + s for p, s in zip(pieces, seps))
        before = line[max(0, units[0][0] - _CONTEXT) : units[0][0]]
        after = line[units[-1][1] : units[-1][1] + _CONTEXT]
        choice = _choose(current, before, after)
        if choice is None:
            break
        name, whole, plan = choice
        undone = [_undo(name, p, plan) for p in pieces]
        if plan is None:
            undone = [p if u is None else u for p, u in zip(pieces, undone)]
        if all(u is not None for u in undone) and "".join(u + s for u, s in zip(undone, seps)) == whole:
            changed = False
            for unit, new in zip(units, undone):
                if new == unit[2]:
                    continue
                # a legacy round trip must not push junk into a word that had none
                if plan is None and not name.startswith("utf-8") and (
                    _signals(new) > _signals(unit[2]) or _letter_share(new) < _letter_share(unit[2])
                ):
                    continue
                unit[2] = new
                unit[3].append(name)
                changed = True
            if not changed:
                break
        else:
            names = [n for u in units for n in u[3]]
            units = [[units[0][0], units[-1][1], whole, list(dict.fromkeys(names)) + [name]]]
    return [(a, b, cur, "+".join(names)) for a, b, cur, names in units if names and cur != line[a:b]]


_LINE_CACHE: dict[tuple[str, int], tuple[tuple[int, int, str, str], ...]] = {}


def _repair_line(line: str, max_rounds: int) -> tuple[tuple[int, int, str, str], ...]:
    """(start, end, new text, repair name) per change in one line.

    Repairs never look past the line, so the result depends on the line alone
    and is cached: scraped pages repeat their non-ASCII boilerplate ("Все
    новости", "© AFP"), which then costs one dict look-up.
    """
    key = (line, max_rounds)
    cached = _LINE_CACHE.get(key)
    if cached is None:
        cached = tuple(change for run in _runs(line) for change in _repair_run(line, run, max_rounds))
        if len(line) <= _MAX_CACHED_LINE and _TRACE is None:  # tracing must see every decision
            if len(_LINE_CACHE) >= _MAX_CACHED_LINES:
                _LINE_CACHE.clear()
            _LINE_CACHE[key] = cached
    return cached


def repair_text(text: str, *, max_rounds: int = 2) -> tuple[str, tuple[Edit, ...]]:
    """The repaired text and the edits that made it; line breaks are never touched.

    Each Edit covers one repaired word (or one run of words when the repair does
    not split at spaces); ``Edit.repair`` names the round trip undone, e.g.
    "cp1251-as-cp1252".  Text outside the edits is unchanged.
    """
    if text.isascii():
        return text, ()
    out: list[str] = []
    edits: list[Edit] = []
    raw_pos = 0  # input consumed so far
    new_pos = 0  # length of the output so far
    line_start = 0
    for line in text.split("\n"):
        if not line.isascii():
            for a, b, new, name in _repair_line(line, max_rounds):
                ra, rb = line_start + a, line_start + b
                out.append(text[raw_pos:ra])
                new_pos += ra - raw_pos
                out.append(new)
                edits.append(Edit(new_pos, new_pos + len(new), ra, rb, name))
                new_pos += len(new)
                raw_pos = rb
        line_start += len(line) + 1
    if not edits:
        return text, ()
    out.append(text[raw_pos:])
    return "".join(out), tuple(edits)
