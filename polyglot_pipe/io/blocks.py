"""Long documents in blocks: memory bounded for any input, the records of one piece.

A megabyte of text costs about 150 MB at its peak in the CPU stages, so a file of
more than ``BLOCK_CHARS`` characters is never decoded and labelled whole.  Two passes
read it (the file, not memory, holds it between them):

1. decode it incrementally, cut it into blocks, repair and segment each, and add its
   fragments' votes to the document prior (``LanguageIdentifier.document_votes``);
2. read it again and give each block, with the whole document's votes, to the
   pipeline (a ``pipeline.Block``); ``BlockCursor`` shifts each block's records
   (offsets, indexes) to their place in the document.

Where a block is cut, and why no fragment changes:

- after a "\\n": repair never looks past a line (it splits the text at "\\n") and
  segmentation never joins lines; white space at the start of the next block belongs to
  the ``space_after`` of the fragment before, which ``BlockCursor`` holds back for it;
- inside a line only at a sentence start (``segment.sentence_starts``) whose
  ``_QUIET`` characters on both sides are ASCII, with four words of letters before
  it: repair decides per run of non-ASCII words (a run ends after four ASCII words)
  with 100 characters of context on each side, so no run and no context crosses it;
- votes are added fragment by fragment in document order, as in one piece, so every
  block sees the same prior, to the last bit.

A line with no such cut in a block's length (random characters, one huge word) is cut
at its last white space (else anywhere): the first record after that cut carries
``doc_issues: ["cut-for-memory"]``, since fragments next to it may differ from one piece.
Text that is not UTF-8 (a legacy code page, UTF-16) is still read whole.
"""

from __future__ import annotations

import codecs
import ctypes
import ctypes.util
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass

import regex

from polyglot_pipe.errors import SourceError
from polyglot_pipe.model import RECORD_FIELDS
from polyglot_pipe.pipeline import CUT_ISSUE, Block, load_document
from polyglot_pipe.stages.segment import sentence_starts

__all__ = ["BLOCK_CHARS", "CUT_ISSUE", "BlockCursor", "find_cut", "iter_blocks", "plan_blocks"]

#: The most characters a block holds.  A megabyte of text takes ~150 MB at its peak above
#: the ~300 MB of a started pipeline, and the bounded caches (evidence, words, lines) take
#: up to ~150 MB more on a long text: a quarter megabyte keeps a run within 600 MB
#: (bench/README.md "Long files in blocks").
BLOCK_CHARS = 1 << 18
#: Bytes read at a time.
_READ_BYTES = 1 << 20
#: Characters on each side of a cut inside a line that must be ASCII (repair's context is 100).
_QUIET = 128
#: A word with an ASCII letter, as repair's runs count them (polyglot_pipe.stages.repair._runs).
_LETTER_WORD_RE = regex.compile(r"(?<![^ \t\r\n\f\v])[^ \t\r\n\f\v]*[A-Za-z][^ \t\r\n\f\v]*(?=[ \t\r\n\f\v])")
_FIELD_ORDER = tuple(f.name for f in RECORD_FIELDS)
#: The last white space followed by something else (searched backwards).
_LAST_SPACE_RE = regex.compile(r"(?r)\s(?=\S)")


@dataclass(frozen=True, slots=True)
class BlockPlan:
    """What pass 1 found: each block's length in characters, whether the cut before it
    may change fragments, the document's votes, its encoding, and the file it read."""

    lengths: tuple[int, ...]
    unsafe: tuple[bool, ...]
    votes: dict
    encoding: str
    stat: tuple[int, int]


def _decoded_pieces(path: os.PathLike, encoding: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    with open(path, "rb") as stream:
        while True:
            data = stream.read(_READ_BYTES)
            text = decoder.decode(data, final=not data)
            if text:
                yield text
            if not data:
                return


def _cuts(pieces: Iterator[str], size: int) -> Iterator[tuple[str, bool, bool]]:
    """(block text, whether the cut before it may change fragments, whether it is the last),
    blocks of at most ``size`` characters."""
    buffer = ""
    unsafe = False
    for piece in pieces:
        buffer += piece
        while len(buffer) > size:
            cut, safe = find_cut(buffer, size // 2, size - _QUIET)
            yield buffer[:cut], unsafe, False
            buffer, unsafe = buffer[cut:], not safe
    yield buffer, unsafe, True


def _release_memory() -> None:
    """Give freed heap back to the system (glibc keeps it, and a block's numpy temporaries
    leave holes that later blocks do not fill): the peak stays that of one block."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None where there is none (macOS, musl)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def find_cut(text: str, lo: int, hi: int) -> tuple[int, bool]:
    """Where in ``text[lo:hi]`` to end a block, and whether that cut changes no fragment
    (the module's docstring says why those cuts are safe)."""
    at = text.rfind("\n", lo - 1, hi - 1)
    if at >= 0:
        return at + 1, True
    best = None
    for start in sentence_starts(text, lo - _QUIET, hi):
        if start >= lo and _quiet(text, start):
            best = start  # the last one: blocks as long as allowed
    if best is not None:
        return best, True
    space = _LAST_SPACE_RE.search(text, lo - 1, hi)
    return (space.end(), False) if space else (hi, False)


def _quiet(text: str, at: int) -> bool:
    window = text[at - _QUIET : at + _QUIET]
    return window.isascii() and len(_LETTER_WORD_RE.findall(text, at - _QUIET + 1, at)) >= 4


def plan_blocks(path: os.PathLike, identifier, size: int = BLOCK_CHARS) -> BlockPlan | None:
    """Pass 1 over a UTF-8 file: its blocks and votes; None when it is one block or not
    UTF-8 (then it is read whole, as before)."""
    with open(path, "rb") as stream:
        head = stream.read(4)
    if b"\x00" in head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    stat = os.stat(path)
    lengths: list[int] = []
    unsafe: list[bool] = []
    votes: dict = {}
    try:
        for text, cut_unsafe, last in _cuts(_decoded_pieces(path, encoding), size):
            if last and not lengths:
                return None  # all of it fits in one block
            votes = identifier.document_votes(load_document(text), votes)
            _release_memory()
            lengths.append(len(text))
            unsafe.append(cut_unsafe)
    except UnicodeDecodeError:
        return None
    return BlockPlan(tuple(lengths), tuple(unsafe), votes, encoding, (stat.st_size, stat.st_mtime_ns))


def iter_blocks(path: os.PathLike, plan: BlockPlan, size: int = BLOCK_CHARS) -> Iterator[Block]:
    """Pass 2: the blocks again, each with the document's votes."""
    stat = os.stat(path)
    if (stat.st_size, stat.st_mtime_ns) != plan.stat:
        raise SourceError(f"{path}: changed while it was being read")
    count = len(plan.lengths)
    seen = 0  # blocks read again as pass 1 cut them; any other block means the file changed
    try:
        for text, _, _ in _cuts(_decoded_pieces(path, plan.encoding), size):
            if seen == count or len(text) != plan.lengths[seen]:
                seen = -1
                break
            _release_memory()  # what the block before freed
            yield Block(text, plan.votes, plan.encoding if seen == 0 else None, seen, seen == count - 1, plan.unsafe[seen])
            seen += 1
    except UnicodeDecodeError:
        seen = -1
    if seen != count:
        raise SourceError(f"{path}: changed while it was being read")


class BlockCursor:
    """Puts each block's records at their place in the whole document's records.

    A block may start with white space (a cut after "\n"): in one piece it belongs to
    the ``space_after`` of the fragment before, so each block's last record is held
    back until the next block says how its white space goes on."""

    def __init__(self) -> None:
        self._reset(None)

    def _reset(self, encoding: str | None) -> None:
        self.chars = self.fragments = 0
        self.encoding = encoding
        self.held: dict | None = None
        self.leading = ""  # white space before the document's first fragment

    def records(self, doc) -> list[dict]:
        """The records of a block's Document (``doc.meta["block"]`` = (index, last, cut_unsafe))
        that are complete now, each as processing the whole document would have written it."""
        index, last, cut_unsafe = doc.meta["block"]
        if index == 0:
            self._reset(doc.encoding)
        out: list[dict] = []
        if self.held is not None:
            self.held["space_after"] += doc.space_before
        elif self.fragments == 0:
            self.leading += doc.space_before
        records = doc.to_records() if doc.fragments else []
        for i, record in enumerate(records):
            record["start"] += self.chars
            record["end"] += self.chars
            record["index"] += self.fragments
            for name in ("encoding", "space_before", "doc_issues"):
                record.pop(name, None)
            if i == 0 and cut_unsafe:
                record["doc_issues"] = [CUT_ISSUE]
            if record["index"] == 0:
                record.update(encoding=self.encoding, **({"space_before": self.leading} if self.leading else {}))
            out.append(_in_field_order(record))
        self.chars += len(doc.text)
        self.fragments += len(records)
        if self.held is not None:
            out.insert(0, self.held)
            self.held = None
        if out and not last:
            self.held = out.pop()
        if last and self.fragments == 0:  # nothing but white space: one "empty" record, as in one piece
            empty = doc.to_records()[0]
            empty.update(encoding=self.encoding, space_after=self.leading)
            out.append(empty)
        return out


def _in_field_order(record: dict) -> dict:
    return {name: record[name] for name in _FIELD_ORDER if name in record}
