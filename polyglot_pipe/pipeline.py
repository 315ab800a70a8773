"""The Pipeline: decode -> repair -> segment -> identify -> translate, as plain composed stages.

Everything before translation runs one document at a time; translation runs on
chunks of documents so that a whole chunk's fragments share one batched,
deduplicated call per pack, while memory stays bounded by the chunk size.
"""

from __future__ import annotations

import os
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from itertools import islice

from .decode import decode_bytes
from .identify import LanguageIdentifier
from .model import Document, Edit
from .repair import repair_text
from .segment import segment_document

__all__ = ["Pipeline", "process", "load_document", "attach_repairs"]

Item = str | bytes | tuple[str, str | bytes]


def load_document(data: str | bytes, doc_id: str = "0") -> Document:
    """Decode (bytes only), repair and segment: a document ready for labelling."""
    issues: tuple[str, ...] = ()
    encoding = None
    if isinstance(data, bytes):
        decoded = decode_bytes(data)
        raw_text, encoding, issues = decoded.text, decoded.encoding, decoded.issues
    else:
        raw_text = data
    text, edits = repair_text(raw_text)
    doc = Document(id=doc_id, text=text, raw_text=raw_text, encoding=encoding, edits=edits, issues=issues)
    return attach_repairs(segment_document(doc))


def attach_repairs(doc: Document) -> Document:
    """Give each fragment the names of the repairs it overlaps and its text as received."""
    if not doc.edits:
        return doc
    edits = sorted(doc.edits, key=lambda e: e.start)
    starts = [e.start for e in edits]
    fragments = []
    for frag in doc.fragments:
        touched = [e for e in edits[max(bisect_right(starts, frag.start) - 1, 0) :] if e.start < frag.end and e.end > frag.start]
        if not touched:
            fragments.append(frag)
            continue
        raw_start = _raw_position(edits, starts, frag.start, side="start")
        raw_end = _raw_position(edits, starts, frag.end, side="end")
        names = tuple(dict.fromkeys(e.repair for e in touched))
        fragments.append(replace(frag, raw=doc.raw_text[raw_start:raw_end], repairs=names))
    return doc.replace_fragments(fragments)


def _raw_position(edits: Sequence[Edit], starts: list[int], pos: int, side: str) -> int:
    """Map a position in the repaired text to the raw text; inside an edit, snap outwards."""
    i = (bisect_right(starts, pos) if side == "start" else bisect_left(starts, pos)) - 1
    if i < 0:
        return pos
    edit = edits[i]
    if side == "start" and pos < edit.end:
        return edit.raw_start
    if side == "end" and pos <= edit.end:
        return edit.raw_end
    return edit.raw_end + (pos - edit.end)


class Pipeline:
    """The configuration of a run, and the stages bound to it.

    target: the language renderings are made in ("en").
    packs_dir: where packs are installed (default: argostranslate's directory).
    langs: candidate languages, when the caller knows them.
    translate: False stops after labelling (foreign fragments get status "skipped").
    memory: a translation memory (see polyglot_pipe.memory), or None.
    chunk_size: documents translated together; bounds memory in process_many.
    """

    def __init__(
        self,
        target: str = "en",
        packs_dir: str | os.PathLike | None = None,
        *,
        langs: Sequence[str] | None = None,
        translate: bool = True,
        device: str = "auto",
        beam_size: int = 4,
        threads: int = 0,
        memory=None,
        chunk_size: int = 64,
    ):
        from .translate import Translator

        self.target = target
        self.identifier = LanguageIdentifier(langs=langs)
        self.translator = (
            Translator(target, packs_dir, device=device, beam_size=beam_size, threads=threads, memory=memory)
            if translate
            else None
        )
        self.chunk_size = chunk_size

    def label(self, data: str | bytes, doc_id: str = "0") -> Document:
        """Every stage but translation."""
        return self.identifier(load_document(data, doc_id))

    def process(self, data: str | bytes, doc_id: str = "0") -> Document:
        return next(self.process_many([(doc_id, data)]))

    def process_many(
        self,
        items: Iterable[Item],
        on_error: Callable[[str, Exception], None] | None = None,
    ) -> Iterator[Document]:
        """Stream Documents, one per item, in order.

        Items are texts, bytes, or (id, text-or-bytes) pairs; bare items get their
        index as id.  A bad item (binary data, say) raises, unless ``on_error`` is
        given: then it is told, and the stream goes on.
        """
        labelled = self._label_all(items, on_error)
        while True:
            chunk = list(islice(labelled, self.chunk_size))
            if not chunk:
                return
            if self.translator is not None:
                chunk = self.translator.translate_documents(chunk)
            else:
                chunk = [_mark_untranslated(doc, self.target) for doc in chunk]
            yield from chunk

    def _label_all(self, items, on_error) -> Iterator[Document]:
        for index, item in enumerate(items):
            doc_id, data = item if isinstance(item, tuple) else (str(index), item)
            try:
                yield self.label(data, doc_id)
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(doc_id, exc)


def _mark_untranslated(doc: Document, target: str) -> Document:
    """Without translation, source-language fragments still carry their rendering."""
    fragments = []
    for frag in doc.fragments:
        if frag.lang in (target, "und"):
            fragments.append(replace(frag, english=frag.original, method="source", status="ok"))
        else:
            fragments.append(replace(frag, status="skipped"))
    return doc.replace_fragments(fragments)


_default: Pipeline | None = None


def process(data: str | bytes, doc_id: str = "0") -> Document:
    """Process one text or bytes with the default pipeline (English target, installed packs)."""
    global _default
    if _default is None:
        _default = Pipeline()
    return _default.process(data, doc_id)
