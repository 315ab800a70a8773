"""Cut a text into fragments: sentences of one script, that tile the text exactly.

Three cuts, in order:
1. lines (scraped pages put one UI string per line, so lines never join);
2. script changes inside a line ("Chats Заголовок" -> "Chats" | "Заголовок"),
   except for a short run sandwiched inside another script's sentence
   ("Я использую Python каждый день" stays one fragment);
3. sentence ends, including sentences glued without a space ("hikes.Police")
   and a capitalised caption glued to the sentence after it ("PRYANIKOVProtesters").

Why not a library: pysbd and stanza split sentences well but are orders of
magnitude slower than a regex pass (this stage must run at megabytes per second),
and neither splits on script changes.  The rules here are small and tested.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import regex

from polyglot_pipe.langdata.scripts import (
    COMMON,
    dominant_script,
    script_group,
    script_of,
)
from polyglot_pipe.model import Document, Fragment

__all__ = ["segment_document", "fragment_spans"]

_LINE_RE = regex.compile(r"[^\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")
_WORD_RE = regex.compile(r"[\p{L}\p{M}]+")
_SPACE_RE = regex.compile(r"\s")

# A sentence end followed by space and something that starts a sentence.
_SENTENCE_END_RE = regex.compile(
    r"""(?P<end>[.!?…‼⁇⁈⁉;]+|[؟۔।॥])["'”’»)\]]*(?P<space>\s+)"""
    r"""(?=(?:[-–—]\s+)?["'“‘«„(\[¿¡]*[\p{Lu}\p{Lt}\p{Lo}\p{N}])"""
)
# CJK full stops need no space after them.
_CJK_END_RE = regex.compile(r"[。！？]+[」』）\"”’]*")
# Sentences glued together: "hikes.Police", or an all-caps caption and a sentence.
_GLUED_RE = regex.compile(r"(?<=\p{Ll}{2}[.!?])(?=\p{Lu}\p{Ll})|(?<=\p{Lu}{4})(?=\p{Lu}\p{Ll}{2})")
# Words before a full stop that do not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st jr sr vs etc e.g i.e inc ltd co corp gen sen rep gov no nr fig
    jan feb mar apr jun jul aug sep sept oct nov dec mt ft approx dept est vol pp ca cf al
    z.b bzw usw ggf vgl hr fr str nr. т.е т.д т.п др г гг ул им см стр тыс млн млрд руб
    mme mlle p.ex av sr sra dña núm pág""".split()
)
_MAX_SANDWICH_WORDS = 3


def fragment_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each fragment, in order; gaps between them are whitespace."""
    for block_start, block_end in _blocks(text):
        for piece_start, piece_end in _script_pieces(text, block_start, block_end):
            for start, end in _sentences(text, piece_start, piece_end):
                start, end = _trim(text, start, end)
                if start < end:
                    yield start, end


def segment_document(doc: Document) -> Document:
    """The document with its fragments set (any earlier fragments are replaced)."""
    text = doc.text
    spans = list(fragment_spans(text))
    fragments = []
    for i, (start, end) in enumerate(spans):
        next_start = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        original = text[start:end]
        fragments.append(
            Fragment(
                start=start,
                end=end,
                original=original,
                space_after=text[end:next_start],
                script=dominant_script(original),
            )
        )
    space_before = text[: spans[0][0]] if spans else text
    return Document(
        id=doc.id,
        text=text,
        raw_text=doc.raw_text,
        encoding=doc.encoding,
        edits=doc.edits,
        fragments=tuple(fragments),
        space_before=space_before,
        issues=doc.issues,
        meta=doc.meta,
    )


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _blocks(text: str) -> Iterator[tuple[int, int]]:
    """Lines.  Scraped pages put one UI string per line ("log in or register",
    "loader"), so a line never continues into the next one."""
    for m in _LINE_RE.finditer(text):
        start, end = _trim(text, m.start(), m.end())
        if start < end:
            yield start, end


def _script_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a block where its letters change script."""
    if text[start:end].isascii():
        return [(start, end)]
    runs = _script_runs(text, start, end)
    if len(runs) < 2:
        return [(start, end)]
    runs = _absorb_sandwiched(runs)
    pieces = []
    piece_start = start
    for left, right in zip(runs, runs[1:]):
        cut = _cut_between(text, left[2], right[1])
        pieces.append((piece_start, cut))
        piece_start = cut
    pieces.append((piece_start, end))
    return pieces


def _script_runs(text: str, start: int, end: int) -> list[list]:
    """[group, start, end, words] for each stretch of letters of one script group."""
    runs: list[list] = []
    for m in _WORD_RE.finditer(text, start, end):
        word = m.group()
        if word.isascii():
            parts = [("Latin", m.start(), m.end())]
        else:
            parts = _split_word_by_script(word, m.start())
        for group, s, e in parts:
            if runs and runs[-1][0] == group:
                runs[-1][2] = e
                runs[-1][3] += 1
            else:
                runs.append([group, s, e, 1])
    return runs


def _split_word_by_script(word: str, offset: int) -> list[tuple[str, int, int]]:
    parts: list[tuple[str, int, int]] = []
    current = None
    part_start = 0
    for i, ch in enumerate(word):
        script = script_of(ch)
        if script == COMMON:  # a combining mark continues its base letter
            continue
        group = script_group(script)
        if group != current:
            if current is not None:
                parts.append((current, offset + part_start, offset + i))
            current, part_start = group, i
    if current is None:
        current = COMMON
    parts.append((current, offset + part_start, offset + len(word)))
    return parts


def _absorb_sandwiched(runs: list[list]) -> list[list]:
    """A short run between two runs of one other script is a name or a term inside their sentence."""
    merged: list[list] = []
    for run in runs:
        merged.append(list(run))
        while (
            len(merged) >= 3
            and merged[-1][0] == merged[-3][0]
            and merged[-2][0] != merged[-1][0]
            and merged[-2][3] <= _MAX_SANDWICH_WORDS
            and merged[-2][3] < merged[-3][3] + merged[-1][3]
        ):
            right = merged.pop()
            middle = merged.pop()
            merged[-1][2] = right[2]
            merged[-1][3] += middle[3] + right[3]
    return merged


def _cut_between(text: str, left_end: int, right_start: int) -> int:
    """Where to cut between two runs: at the first space, or before an opening quote or bracket."""
    for i in range(left_end, right_start):
        ch = text[i]
        if ch.isspace() or unicodedata.category(ch) in ("Ps", "Pi"):
            return i
    return right_start


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cuts = []
    for m in _SENTENCE_END_RE.finditer(text, start, end):
        if _is_abbreviation(text, start, m.start("end"), m.group("end")):
            continue
        cuts.append(m.start("space"))
    if not text[start:end].isascii():
        cuts.extend(m.end() for m in _CJK_END_RE.finditer(text, start, end) if m.end() < end)
    cuts.extend(m.start() for m in _GLUED_RE.finditer(text, start, end))
    if not cuts:
        return [(start, end)]
    spans = []
    previous = start
    for cut in sorted(set(cuts)):
        if previous < cut:
            spans.append((previous, cut))
            previous = cut
    spans.append((previous, end))
    return spans


def _is_abbreviation(text: str, block_start: int, punct_start: int, punct: str) -> bool:
    if punct != ".":
        return False
    word_start = punct_start
    while word_start > block_start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:punct_start].lstrip("\"'“‘«(([").lower()
    if not word:
        return False
    if word in _ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Smith"
    if "." in word and all(len(part) <= 2 for part in word.split(".")):
        return True  # "U.S", "e.g", "т.е"
    return word.isdigit() and len(word) <= 2  # "4. Januar": an ordinal, not an end
