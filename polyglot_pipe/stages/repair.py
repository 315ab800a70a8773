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
    _LINEAR_LIMIT,
    _MAX_CACHED,
    _MAX_CACHED_LINE,
    _MAX_CACHED_LINES,
    _evidence,
    _gain_bound,
    _quick_new,
    _quick_raw,
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


#: Slack for rounding when a bound rules a round trip out: ``_evidence`` totals of texts under
#: ``_LINEAR_LIMIT`` characters are sums of a few thousand terms, each at most about 25 in size,
#: so their rounding error is below 1e-7; a bound must fall short by more than this.
_BOUND_SLACK = 1e-6
_ASCII_SPACE = frozenset(" \t\r\n\f\v")
#: The round trips that map one character to one, and the UTF-8 ones.
_SINGLE_BYTE = tuple(rt for rt in ROUND_TRIPS if rt.really != "utf-8")
_UTF8 = tuple(rt for rt in ROUND_TRIPS if rt.really == "utf-8")
_SINGLE_BYTE_REPERTOIRES = tuple((rt, rt.repertoire) for rt in _SINGLE_BYTE)
_UTF8_REPERTOIRES = tuple((rt, rt.repertoire) for rt in _UTF8)
#: token -> (UTF-8 round trips it rules out, quick bounds of the single-byte ones); see _token_info
_TOKEN_INFO: dict[str, tuple[frozenset[str], tuple[tuple[str, float], ...]]] = {}
#: token -> tight bounds of the single-byte round trips (as in _token_info)
_TIGHT_BOUNDS: dict[str, tuple[tuple[str, float], ...]] = {}


def _single_byte_bounds(token: str, non_ascii: set[str], tight: bool) -> tuple[tuple[str, float], ...]:
    """(name, bound) for each single-byte round trip that changes ``token`` (its non-ASCII
    characters ``non_ascii``): an upper bound on the evidence it gains (``_gain_bound``) less
    its margin times the characters it changes.  A round trip that cannot encode or decode
    the token leaves it as it is (``undo_words``)."""
    bounds: dict[str, tuple[int, float]] = {}  # koi8-r and koi8-u mostly give the same text
    out = []
    raw = None
    for rt, repertoire in _SINGLE_BYTE_REPERTOIRES:
        if not non_ascii <= repertoire:
            continue  # a character it cannot encode: undo gives None, the token stays
        new = rt.undo(token)
        if new is None or new == token:
            continue
        known = bounds.get(new)
        if known is None:
            if tight:
                gain = _gain_bound(token, new)
            else:  # _gain_bound(token, new, tight=False), its raw part once
                if raw is None:
                    raw = _quick_raw(token)
                gain = raw + _quick_new(new)
            known = bounds[new] = (sum(map(operator.ne, token, new)), gain)
        out.append((rt.name, known[1] - rt.margin * known[0]))
    return tuple(out)


def _token_info(token: str) -> tuple[frozenset[str], tuple[tuple[str, float], ...]]:
    """What one non-ASCII token (no ASCII white space) tells about the round trips of any span
    holding it, cached since words recur:

    * the UTF-8 round trips that fail on the span: those whose code page lacks one of the
      token's characters (``_choose``'s repertoire test fails), and those whose decoding of
      the token fails (ASCII bytes are never part of a UTF-8 sequence, so the span's bytes
      decode only where each token's do);
    * quick bounds of the single-byte round trips (``_single_byte_bounds``).
    """
    hit = _TOKEN_INFO.get(token)
    if hit is None:
        non_ascii = {c for c in token if c > "\x7f"}
        dead = frozenset(
            rt.name for rt, repertoire in _UTF8_REPERTOIRES if not non_ascii <= repertoire or rt.undo(token) is None
        )
        if len(_TOKEN_INFO) >= _MAX_CACHED:
            _TOKEN_INFO.clear()
        hit = _TOKEN_INFO[token] = (dead, _single_byte_bounds(token, non_ascii, tight=False))
    return hit


def _tight_bounds(token: str) -> tuple[tuple[str, float], ...]:
    hit = _TIGHT_BOUNDS.get(token)
    if hit is None:
        if len(_TIGHT_BOUNDS) >= _MAX_CACHED:
            _TIGHT_BOUNDS.clear()
        hit = _TIGHT_BOUNDS[token] = _single_byte_bounds(token, {c for c in token if c > "\x7f"}, tight=True)
    return hit


def _ruled_out(tokens: list[str]) -> set[str]:
    """The names of the round trips that surely lose on a span whose non-ASCII tokens are
    ``tokens`` (the span and its context shorter than ``_LINEAR_LIMIT``, cut at white space).

    UTF-8 ones: a token rules them out (``_token_info``).  Single-byte ones: ``undo_words``
    undoes each token on its own (the whole span at once gives the same text, and ASCII
    tokens never change), so a round trip changes the span iff it changes one of its tokens,
    and the span's bound on ``total - raw total`` (``_gain_bound``) less margin x changed
    characters is the sum of its tokens'.  Where that sum is negative the gain per changed
    character stays below the margin and ``_choose`` would pass the round trip over; where
    no token changes, ``repaired == span`` and it would too.  The quick bounds settle most
    spans; the tight ones are summed only for the round trips left.
    """
    out: set[str] = set()
    excess: dict[str, float] = {}
    for token in tokens:
        dead, quick = _token_info(token)
        out |= dead
        for name, value in quick:
            excess[name] = excess.get(name, 0.0) + value
    left = [rt.name for rt in _SINGLE_BYTE if excess.get(rt.name, -1.0) >= -_BOUND_SLACK]
    if left:
        excess = dict.fromkeys(left, 0.0)
        for token in tokens:
            for name, value in _tight_bounds(token):
                if name in excess:
                    excess[name] += value
        left = [name for name in left if excess[name] >= -_BOUND_SLACK]
    out.update(rt.name for rt in _SINGLE_BYTE)
    out.difference_update(left)
    return out


def _badness_test():
    """A cheap necessary condition for ``ftfy.badness.is_bad``, or None where it cannot be built.

    ftfy's ``fix_encoding_and_explain`` returns the text as it is, with an empty plan,
    whenever ``is_bad`` finds nothing (its first step: ASCII or "not is_bad" is left
    alone), and ``is_bad`` is one search of ``BADNESS_RE``.  That regex is a list of
    alternatives, each a short run of characters from fixed sets ("[ВГРС][c1 bad ...][ВГРС]",
    "вЂ", ...).  Read from its parse: for each alternative, the character sets that every
    match holds one character of (sets that are only possibly there, categories such as white space, negated
    classes and anchors ask nothing).  A text without one character of each set of any
    alternative cannot match.  As bit masks: one bit per (alternative, set), each
    alternative a block with a guard bit above it; a text's mask ORs its characters' bits,
    and an alternative is complete when adding its lowest bit carries into its guard.
    """
    try:
        import re

        import ftfy.badness

        try:
            from re import _constants as C, _parser as P  # Python 3.11+
        except ImportError:  # pragma: no cover
            import sre_constants as C  # type: ignore[no-redef]
            import sre_parse as P  # type: ignore[no-redef]

        pattern = ftfy.badness.BADNESS_RE
        if pattern.flags & re.IGNORECASE:
            return None

        def charset(op, av):
            if op is C.LITERAL:
                return frozenset(chr(av))
            if op is C.IN:
                out: set[str] = set()
                for o, a in av:
                    if o is C.LITERAL:
                        out.add(chr(a))
                    elif o is C.RANGE:
                        out.update(map(chr, range(a[0], a[1] + 1)))
                    else:  # a category or a negation: any character may do
                        return None
                return frozenset(out)
            return None

        def needs(items) -> list[list[frozenset[str]]]:
            """Alternatives, each the list of sets a match holds a character of."""
            alternatives: list[list[frozenset[str]]] = [[]]
            for op, av in items:
                chars = charset(op, av)
                if chars is not None:
                    alternatives = [a + [chars] for a in alternatives]
                    continue
                if op is C.BRANCH:
                    inner = [n for sub in av[1] for n in needs(sub.data)]
                elif op is C.SUBPATTERN and not (av[1] & re.IGNORECASE):
                    inner = needs(av[-1].data)
                elif op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[0] >= 1:
                    inner = needs(av[2].data)
                else:  # optional, anchors, categories, any character: asks nothing
                    continue
                alternatives = [a + n for a in alternatives for n in inner]
            return alternatives

        alternatives = needs(P.parse(pattern.pattern, pattern.flags).data)
        if len(alternatives) > 1000:
            return None
    except Exception:  # pragma: no cover  (another ftfy or Python: no shortcut)
        return None
    masks: dict[str, int] = {}
    lowest = guards = every = 0
    bit = 0
    for sets in alternatives:
        if not sets:
            return None  # an alternative that needs nothing: no shortcut
        lowest |= 1 << bit
        for chars in sets:
            every |= 1 << bit
            for ch in chars:
                masks[ch] = masks.get(ch, 0) | 1 << bit
            bit += 1
        guards |= 1 << bit
        bit += 1
    return masks, lowest, guards


_BADNESS = _badness_test()


def _may_be_bad(text: str) -> bool:
    """False only where ``ftfy.badness.is_bad(text)`` is surely False (``_badness_test``)."""
    if _BADNESS is None:
        return True
    masks, lowest, guards = _BADNESS
    have = 0
    for ch in set(text):
        have |= masks.get(ch, 0)
    return bool((have + lowest) & guards)  # some alternative has all its sets


def _ftfy_fix(span: str):
    """``ftfy.fix_encoding_and_explain(span)``, without the call where ``is_bad`` surely finds
    nothing (then ftfy gives the text back with an empty plan)."""
    if not _may_be_bad(span):
        return span, []
    return ftfy.fix_encoding_and_explain(span)


def _choose(span: str, before: str = "", after: str = "") -> tuple[str, str, object] | None:
    """The best repair of ``span`` as (name, repaired, ftfy plan or None), or None to leave it.

    ftfy's fix_encoding is trusted when it decodes the span as UTF-8 outright
    (it is conservative and changes no clean text of our controls).  Its
    piecemeal fixes and our legacy round trips must read clearly better,
    judged with the words around the span (``before``, ``after``) so that one
    Portuguese "não" is read as Portuguese, not as Romanian "năo".
    """
    fixed, plan = _ftfy_fix(span)
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
    raw_letters = None
    non_ascii = None
    # the evidence of a short text is a sum over its tokens (``_gain_bound``): the round trips
    # are first bounded token by token, and most clean text needs no more
    if (
        _TRACE is None  # tracing must see every gain
        and len(before) + len(span) + len(after) < _LINEAR_LIMIT
        and (not before or before[-1] in _ASCII_SPACE)
        and (not after or after[0] in _ASCII_SPACE)
    ):
        ruled_out = _ruled_out([t for t in _TOKEN_RE.findall(span) if not t.isascii()])
        if fixed is None and len(ruled_out) == len(ROUND_TRIPS):
            return None
    else:
        ruled_out = ()
    best: tuple[float, str, str] | None = None
    for rt in ROUND_TRIPS:
        if rt.name in ruled_out:
            continue
        if non_ascii is None:
            non_ascii = {c for c in set(span) if c > "\x7f"}
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
            if raw_letters is None:
                raw_letters = _letter_share(span)
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
