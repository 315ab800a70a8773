"""Cut a text into fragments: lines and sentences, that tile the text exactly.

Two cuts, in order:
1. lines (scraped pages put one UI string per line, so lines never join);
2. sentence ends, including sentences glued without a space ("hikes.Police")
   and a capitalised caption glued to the sentence after it ("PRYANIKOVProtesters").

Where the language changes inside a sentence ("Chats Заголовок открываемого
материала", "The function mprotect() неверное выражение is present.") is not
decided here: identify.py's word-level decoder decides it, from the language
evidence of the words, in one place for every script (a script change is
evidence, not a rule: "Я использую Python каждый день" stays one Russian
fragment because "Python" cannot pay for two switches).

Why not a library: pysbd and stanza split sentences well but are orders of
magnitude slower than a regex pass (this stage must run at megabytes per second),
and neither splits on script changes.  The rules here are small and tested.
"""

from __future__ import annotations

from collections.abc import Iterator

import regex

from polyglot_pipe.langdata.scripts import dominant_script
from polyglot_pipe.model import Document, Fragment

__all__ = ["segment_document", "fragment_spans", "sentence_starts"]

_LINE_RE = regex.compile(r"[^\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")
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


def fragment_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each fragment, in order; gaps between them are whitespace."""
    for block_start, block_end in _blocks(text):
        for start, end in _sentences(text, block_start, block_end):
            start, end = _trim(text, start, end)
            if start < end:
                yield start, end


def sentence_starts(text: str, start: int, end: int) -> Iterator[int]:
    """Positions in ``text[start:end]`` where a sentence starts after a sentence end and its
    white space: a fragment starts there, whatever comes before ``start`` (the punctuation
    must follow a letter or digit, so a run of it is seen whole), for polyglot_pipe.io.blocks."""
    for m in _SENTENCE_END_RE.finditer(text, start, end):
        punct = m.start("end")
        if punct > start and text[punct - 1].isalnum() and not _is_abbreviation(text, start, punct, m.group("end")):
            yield m.end("space")


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
