"""The Pipeline: decode -> repair -> segment -> identify -> translate, as plain composed stages.

Everything before translation runs one document at a time (in worker
processes when ``workers`` > 1); translation runs in this process on chunks of
documents so that a whole chunk's fragments share one batched, deduplicated
call per pack, while memory stays bounded by the chunk size and the workers'
small window of documents in flight.
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from polyglot_pipe.model import Document, Edit
from polyglot_pipe.stages.decode import decode_bytes
from polyglot_pipe.stages.identify import LanguageIdentifier
from polyglot_pipe.stages.repair import repair_text
from polyglot_pipe.stages.segment import segment_document

__all__ = ["Block", "Pipeline", "attach_repairs", "is_html", "load_document", "load_page", "process"]



@dataclass(frozen=True, slots=True)
class Block:
    """One block of a document too long to hold whole (polyglot_pipe.io.blocks cuts it
    where no stage looks across), with the whole document's prior ``votes``
    (``LanguageIdentifier.document_votes``), so that it is labelled as in one piece.
    ``encoding`` is the document's, for its first block.  Its Document has
    ``meta["block"]`` = (index, last, cut_unsafe), for io.blocks.BlockCursor."""

    text: str
    votes: dict
    encoding: str | None = None
    index: int = 0
    last: bool = True
    cut_unsafe: bool = False  # cut where fragments may differ from one piece (CUT_ISSUE)

    def __len__(self) -> int:
        return len(self.text)


#: doc_issues of a block cut where no safe cut was found (polyglot_pipe.io.blocks).
CUT_ISSUE = "cut-for-memory"

Item = str | bytes | Block | tuple[str, str | bytes | Block]


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


def is_html(data: str | bytes, doc_id: str, html: bool | None) -> bool:
    """``html``: True/False decide; None: a name ending in .html/.htm, or data that starts like a page."""
    if html is not None:
        return html
    if doc_id.lower().endswith((".html", ".htm", ".xhtml")):
        return True
    from polyglot_pipe.stages.html import looks_like_html

    return looks_like_html(data)


def load_page(data: str | bytes, doc_id: str = "0") -> Document:
    """An HTML page: its readable text (``polyglot_pipe.stages.html``), repaired and segmented.

    ``meta["html"]`` keeps the page and its runs, their offsets mapped into the
    repaired text, for the lang hints, the records' ``source_path`` and the page writer.
    """
    from polyglot_pipe.stages.html import extract_page

    page = extract_page(data)
    doc = load_document(page.text, doc_id)
    doc = replace(doc, encoding=page.encoding, issues=(*page.issues, *doc.issues), meta={})
    runs = page.runs
    if doc.edits:
        edits = sorted(doc.edits, key=lambda e: e.raw_start)
        runs = tuple(
            replace(run, start=_repaired_position(edits, run.start, "start"), end=_repaired_position(edits, run.end, "end"))
            for run in runs
        )
    doc.meta["html"] = replace(page, runs=runs)
    return doc


def _repaired_position(edits: Sequence[Edit], pos: int, side: str) -> int:
    """Map a position in the raw text to the repaired text; inside an edit, snap outwards."""
    shift = 0
    for edit in edits:
        if pos < edit.raw_start or (side == "end" and pos == edit.raw_start):
            break
        if pos < edit.raw_end or (side == "end" and pos == edit.raw_end):
            return edit.start if side == "start" else edit.end
        shift = edit.end - edit.raw_end
    return pos + shift


def _finish_page(doc: Document, identifier) -> Document:
    """After labelling a page: its ``lang`` attributes as evidence, and each fragment's source in the page."""
    page = doc.meta.get("html")
    if page is None:
        return doc
    from polyglot_pipe.stages.hints import apply_lang_hints
    from polyglot_pipe.stages.html import fragment_sources

    sources = fragment_sources(page.runs, doc.fragments)
    doc = apply_lang_hints(doc, [s.pop("_hint", None) for s in sources], identifier)
    doc.meta["sources"] = sources
    return doc


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
    memory: a translation memory (polyglot_pipe.memory.TranslationMemory), True for
        the default one in the user cache, a path for one there, or None for none.
    chunk_size: documents translated together; bounds memory in process_many.
    workers: processes for the CPU stages (decode, repair, segment, label) in
        process_many; 1 does them in this process.  Output order never changes.
    max_batch_tokens, max_decoding_length, min_decoding_length: CTranslate2's
        batching and decoding limits (the lengths are for benchmarks).
    on_missing_pack: called with a language code when a confidently labelled
        language has no pack, before its fragments are marked "no-pack"; it may
        install one (``run --install-missing`` does, from the index).
    html: True reads every input as an HTML page (its text, ``lang`` attributes as
        evidence, records gain ``source_path``); False never; None (default) when the
        id ends in .html/.htm or the data starts like a page (a doctype, ``<html>``).

    Threads may share one Pipeline: labelling (the n-gram model's word store is
    shared and grows as words are seen) and translation (the loaded models, the run
    cache, the memory's connection) each take a lock, so results are those of a
    single thread.  ``with Pipeline(...) as p:`` (or ``close()``) releases the
    worker processes, the loaded models and the memory's database.
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
        workers: int = 1,
        max_batch_tokens: int = 4096,
        max_decoding_length: int = 256,
        min_decoding_length: int = 0,
        on_missing_pack=None,
        html: bool | None = None,
    ):
        from polyglot_pipe.langdata.codes import normalise_code
        from polyglot_pipe.stages.translate import Translator

        target = normalise_code(target, "target")
        if memory is True or isinstance(memory, (str, os.PathLike)):
            from polyglot_pipe.memory import TranslationMemory

            memory = TranslationMemory(None if memory is True else memory)
        self.target = target
        self.identifier = LanguageIdentifier(langs=langs)
        self.translator = (
            Translator(
                target,
                packs_dir,
                device=device,
                beam_size=beam_size,
                threads=threads,
                memory=memory or None,
                max_batch_tokens=max_batch_tokens,
                max_decoding_length=max_decoding_length,
                min_decoding_length=min_decoding_length,
                on_missing_pack=on_missing_pack,
            )
            if translate
            else None
        )
        self.html = html
        self.chunk_size = max(1, chunk_size)
        self.workers = max(1, workers)
        self._pool = None  # worker processes, started on first use and kept for later calls
        self._lock = threading.Lock()  # starting and stopping the pool

    def close(self) -> None:
        """Stop the worker processes, unload the models and close the memory (all come back if used again).

        Workers also stop when the program exits, and on their own when it is killed."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if self.translator is not None:
            self.translator.close()

    def signature(self) -> dict:
        """What produces this pipeline's records (polyglot_pipe.provenance): version, packs, settings."""
        from polyglot_pipe.provenance import run_signature

        return run_signature(self)

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def label(self, data: str | bytes, doc_id: str = "0") -> Document:
        """Every stage but translation."""
        return label_document(self.identifier, data, doc_id, self.html)

    def process(self, data: str | bytes, doc_id: str = "0") -> Document:
        """One document, all in this process (no workers to start for one document)."""
        return self._translate([self.label(data, doc_id)])[0]

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
        if self.workers > 1:
            labelled = self._label_in_workers(items, on_error)
        else:
            labelled = self._label_all(items, on_error)
        for chunk in _chunks(labelled, self.chunk_size, _CHUNK_CHARS):
            yield from self._translate(chunk)

    def _translate(self, docs: list[Document]) -> list[Document]:
        if self.translator is None:
            return [_mark_untranslated(doc, self.target) for doc in docs]
        return self.translator.translate_documents(docs)

    def _label_all(self, items, on_error) -> Iterator[Document]:
        for batch in _batches(items):
            for doc_id, doc in label_documents(self.identifier, batch, self.html):
                if not isinstance(doc, Exception):
                    yield doc
                elif on_error is None:
                    raise doc
                else:
                    on_error(doc_id, doc)

    def _label_in_workers(self, items, on_error) -> Iterator[Document]:
        """``_label_all`` spread over worker processes, in order, with a bounded window in flight.

        Items travel in small batches (fewer round trips for one-line documents);
        at most ``3 * workers`` batches are in flight, so a huge input is never
        read far ahead.  Workers are spawned, not forked: this process may hold
        CTranslate2's threads, which a fork would copy in an unknown state.  They are
        kept for the next call (starting them costs a second or two); ``close`` stops them.
        """
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(self.identifier.langs, os.getpid(), self.html),
                )
            pool = self._pool
        in_flight: deque = deque()

        def results(future) -> Iterator[Document]:
            for doc_id, doc in future.result():
                if isinstance(doc, Exception):
                    if on_error is None:
                        raise doc
                    on_error(doc_id, doc)
                else:
                    yield doc

        try:
            for batch in _batches(items):
                in_flight.append(pool.submit(_label_batch, batch))
                while len(in_flight) >= 3 * self.workers:
                    yield from results(in_flight.popleft())
            while in_flight:
                yield from results(in_flight.popleft())
        finally:
            for future in in_flight:  # a stream left early: drop what it no longer needs
                future.cancel()


def _chunks(docs: Iterator[Document], size: int, chars: int) -> Iterator[list[Document]]:
    """Lists of ``size`` documents, or fewer holding ``chars`` characters of text: a
    chunk of long documents (blocks of a big file) must not hold dozens of megabytes."""
    chunk: list[Document] = []
    held = 0
    for doc in docs:
        chunk.append(doc)
        held += len(doc.text)
        if len(chunk) >= size or held >= chars:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk


#: Text translated together at most (characters), whatever ``chunk_size`` says.
_CHUNK_CHARS = 1 << 20

# Work labelled together (sent to one worker at a time): a few documents, or about a megabyte.
_BATCH_DOCS = 16
_BATCH_BYTES = 1 << 20


def _batches(items: Iterable[Item]) -> Iterator[list[tuple[str, str | bytes]]]:
    """(id, data) pairs in batches of ``_BATCH_DOCS`` documents or ``_BATCH_BYTES``, read lazily."""
    batch: list[tuple[str, str | bytes]] = []
    size = 0
    for index, item in enumerate(items):
        doc_id, data = item if isinstance(item, tuple) else (str(index), item)
        if isinstance(data, Block):  # up to a megabyte itself: labelled alone, so memory holds one
            if batch:
                yield batch
                batch, size = [], 0
            yield [(doc_id, data)]
            continue
        batch.append((doc_id, data))
        size += len(data)
        if len(batch) >= _BATCH_DOCS or size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


_worker_identifier: LanguageIdentifier | None = None


_worker_html: bool | None = None


def label_document(identifier, data: str | bytes, doc_id: str, html: bool | None = None) -> Document:
    """Decode, repair, segment and label one text or page."""
    [(_, doc)] = label_documents(identifier, [(doc_id, data)], html)
    if isinstance(doc, Exception):
        raise doc
    return doc


def label_documents(identifier, batch, html: bool | None = None) -> list[tuple[str, Document | Exception]]:
    """``label_document`` for several (id, data) pairs, each result a Document or the
    exception its item raised.  The words of all their fragments are scored in one pass
    (``LanguageIdentifier.prefetch``): for one-line documents that pass was most of the cost.
    A Block is plain text, labelled with its document's votes."""
    loaded: list[tuple[str, Document | Exception, bool, dict | None]] = []
    for doc_id, data in batch:
        try:
            if isinstance(data, Block):
                block = (data.index, data.last, data.cut_unsafe)
                doc = replace(load_document(data.text, doc_id), encoding=data.encoding, meta={"block": block})
                loaded.append((doc_id, doc, False, data.votes))
                continue
            page = is_html(data, doc_id, html)
            loaded.append((doc_id, load_page(data, doc_id) if page else load_document(data, doc_id), page, None))
        except Exception as exc:
            loaded.append((doc_id, exc, False, None))
    identifier.prefetch(doc for _, doc, _, _ in loaded if isinstance(doc, Document))
    out: list[tuple[str, Document | Exception]] = []
    for doc_id, doc, page, votes in loaded:
        if isinstance(doc, Document):
            try:
                labelled = identifier(doc, votes)
                doc = _finish_page(labelled, identifier) if page else labelled
            except Exception as exc:
                doc = exc
        out.append((doc_id, doc))
    return out


def _start_worker(langs, parent: int | None = None, html=None) -> None:
    """Ctrl-C is the parent's to handle (it stops the pool); a worker would only print a traceback.

    A worker dies with its parent: killed (SIGKILL, SIGTERM) the parent cannot stop
    the pool, so each worker watches its parent's pid and exits once it has gone
    (it is re-parented: ``getppid`` changes).
    """
    import signal

    global _worker_identifier, _worker_html
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent,), name="watch-parent", daemon=True).start()
    _worker_identifier = LanguageIdentifier(langs=langs)
    _worker_html = html


#: how often a worker looks whether its parent is still there
_PARENT_POLL_S = 0.5


def _exit_with_parent(parent: int) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_S)
    os._exit(1)


def _label_batch(batch: list[tuple[str, str | bytes]]) -> list[tuple[str, Document | Exception]]:
    """In a worker: label each document; an error travels back as the exception, for ``on_error``."""
    return [
        (doc_id, doc if not isinstance(doc, Exception) or _picklable(doc) else RuntimeError(f"{type(doc).__name__}: {doc}"))
        for doc_id, doc in label_documents(_worker_identifier, batch, _worker_html)
    ]


def _picklable(exc: Exception) -> bool:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return False
    return True


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


def translate(text: str, source: str, target: str = "en", packs_dir: str | os.PathLike | None = None, *, beam_size: int = 4):
    """Render ``text``, known to be in ``source``, with the installed pack: a ``Rendering``
    (text, method, translation_score, quality).  For a text of unknown or mixed language,
    use ``process``: it labels each fragment first."""
    from polyglot_pipe.stages.translate import translate_text

    return translate_text(text, source, target, packs_dir, beam_size=beam_size)
