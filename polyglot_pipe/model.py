"""The data model: one Document owns the text, Fragments point into it by offset.

Everything here is immutable and stdlib-only, so every stage can import it and
no stage can change a document behind another's back: stages return new
documents with ``dataclasses.replace``.

Offsets are Python ``str`` indices (code points), ``end`` exclusive.  JavaScript
readers of the JSONL must convert: it counts UTF-16 units.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from polyglot_pipe.errors import DocumentError

__all__ = ["Edit", "Fragment", "Document", "STATUSES", "RecordField", "RECORD_FIELDS", "fragment_record"]

#: Fragment statuses, in the order a fragment moves through them.
#: "pending" only exists between segmentation and translation; "skipped" marks
#: foreign fragments of a run without translation; "empty" marks the one record
#: of a document that holds no text at all.
STATUSES = ("pending", "ok", "no-pack", "failed", "skipped", "empty")


@dataclass(frozen=True, slots=True)
class Edit:
    """One repair: ``text[start:end]`` was ``raw_text[raw_start:raw_end]`` before ``repair`` ran.

    Repairs never cross a line break, so line *i* of the raw text is line *i*
    of the repaired text, and every raw character is still reachable.
    """

    start: int
    end: int
    raw_start: int
    raw_end: int
    repair: str


@dataclass(frozen=True, slots=True)
class Fragment:
    """A sentence-sized piece of one language and one script.

    ``original`` is the repaired text ``Document.text[start:end]``; it never
    starts or ends with whitespace.  The whitespace that follows it (up to the
    next fragment, or the end of the document) is ``space_after``, so the
    fragments plus their spaces rebuild the document exactly.
    """

    start: int
    end: int
    original: str
    space_after: str = ""
    script: str = "Zyyy"
    lang: str = "und"
    lang_confidence: float = 0.0
    english: str | None = None
    method: str = "none"
    status: str = "pending"
    error: str | None = None
    raw: str | None = None
    repairs: tuple[str, ...] = ()
    cached: bool = False
    translation_score: float | None = None  # the model's mean log-probability per output token
    quality: str | None = None  # "ok" or "low" (the pack is guessing), for model renderings
    lang_reason: str | None = None  # why "und": "code" (markup, code, URLs, key=value runs)

    def labelled(self, lang: str, lang_confidence: float, lang_reason: str | None = None) -> Fragment:
        """This fragment with a language label.  Why not ``dataclasses.replace``: it
        costs twice as much, and labelling makes one per fragment (on repetitive
        pages, a third of the labelling time went there)."""
        return Fragment(
            self.start, self.end, self.original, self.space_after, self.script, lang, lang_confidence,
            self.english, self.method, self.status, self.error, self.raw, self.repairs, self.cached,
            self.translation_score, self.quality, lang_reason,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rendering:
    """One text rendered by a pack (``polyglot_pipe.translate``): the English (or other
    target) text, the pack that made it, the model's mean log-probability per output token,
    and ``quality`` ("low" when the pack is guessing)."""

    text: str
    source: str
    target: str
    method: str
    translation_score: float
    quality: str


@dataclass(frozen=True, slots=True)
class Document:
    """A decoded, repaired text and the fragments that tile it.

    ``raw_text`` is the text as decoded (before repair); ``text`` is after
    repair; ``edits`` say which spans changed.  ``space_before`` is the
    whitespace before the first fragment.
    """

    id: str
    text: str
    raw_text: str | None = None
    encoding: str | None = None
    edits: tuple[Edit, ...] = ()
    fragments: tuple[Fragment, ...] = ()
    space_before: str = ""
    issues: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.raw_text is None:
            object.__setattr__(self, "raw_text", self.text)
        if self.fragments:
            _check_tiling(self)

    def rebuild(self) -> str:
        """The text, put back together from the fragments: proof nothing was lost."""
        return self.space_before + "".join(f.original + f.space_after for f in self.fragments)

    def replace_fragments(self, fragments) -> "Document":
        return replace(self, fragments=tuple(fragments))

    def to_records(self) -> list[dict]:
        """One record per fragment; a document with no text gets one "empty" record, so it is never lost."""
        if not self.fragments:
            empty = Fragment(0, 0, "", space_after=self.text, english="", method="source", status="empty")
            return [fragment_record(replace(self, space_before=""), 0, empty)]
        records = [fragment_record(self, i, f) for i, f in enumerate(self.fragments)]
        sources = self.meta.get("sources")  # HTML input: where each fragment sits in the page
        if sources is not None and len(sources) == len(records):
            for record, source in zip(records, sources):
                record.update(source)
        return records


@dataclass(frozen=True, slots=True)
class RecordField:
    """One field of the output record: its name, its value's type, and whether every record has it.

    kind: "str", "int", "float", "bool", "list[str]" or "object" (a JSON object);
    nullable: the value may be null; always: present in every record (else only where it applies).
    """

    name: str
    kind: str
    nullable: bool = False
    always: bool = True


#: The output record, in the order fragment_record writes it: the one schema the JSONL,
#: the review's reader and the Ray integration's Arrow type are all derived from.
RECORD_FIELDS: tuple[RecordField, ...] = (
    RecordField("doc", "str"),
    RecordField("index", "int"),
    RecordField("start", "int"),
    RecordField("end", "int"),
    RecordField("original", "str"),
    RecordField("raw", "str", always=False),  # only when a repair changed the text
    RecordField("repairs", "list[str]"),
    RecordField("script", "str"),
    RecordField("lang", "str"),
    RecordField("lang_confidence", "float"),
    RecordField("lang_reason", "str", always=False),  # "code" when the text is code or markup, not a language
    RecordField("english", "str", nullable=True),
    RecordField("method", "str"),
    RecordField("status", "str"),
    RecordField("translation_score", "float", always=False),  # model renderings only
    RecordField("quality", "str", always=False),  # model renderings only: "ok" or "low"
    RecordField("error", "str", nullable=True, always=False),
    RecordField("cached", "bool", always=False),
    RecordField("encoding", "str", nullable=True, always=False),  # record 0 of a document
    RecordField("space_before", "str", always=False),  # record 0, when the text starts with whitespace
    RecordField("doc_issues", "list[str]", always=False),  # record 0, when decoding had doubts
    RecordField("space_after", "str"),
    RecordField("source_path", "str", always=False),  # HTML input: a CSS path to the element holding the text
    RecordField("source_attr", "str", always=False),  # HTML input: the attribute it came from (alt, title, ...)
    RecordField("run", "object", always=False),  # the first record of an output: the run signature
)


def fragment_record(doc: Document, index: int, frag: Fragment) -> dict:
    """The JSONL record of one fragment (field names are the public contract)."""
    record = {
        "doc": doc.id,
        "index": index,
        "start": frag.start,
        "end": frag.end,
        "original": frag.original,
    }
    if frag.raw is not None and frag.raw != frag.original:
        record["raw"] = frag.raw
    record.update(
        repairs=list(frag.repairs),
        script=frag.script,
        lang=frag.lang,
        lang_confidence=round(frag.lang_confidence, 4),
    )
    if frag.lang_reason is not None:
        record["lang_reason"] = frag.lang_reason
    record.update(
        english=frag.english,
        method=frag.method,
        status=frag.status,
    )
    if frag.translation_score is not None:
        record["translation_score"] = round(frag.translation_score, 4)
    if frag.quality is not None:
        record["quality"] = frag.quality
    if frag.error:
        record["error"] = frag.error
    if frag.cached:
        record["cached"] = True
    if index == 0:
        record["encoding"] = doc.encoding
        if doc.space_before:
            record["space_before"] = doc.space_before
        if doc.issues:
            record["doc_issues"] = list(doc.issues)
    record["space_after"] = frag.space_after
    return record


def _check_tiling(doc: Document) -> None:
    pos = len(doc.space_before)
    for frag in doc.fragments:
        if frag.start != pos:
            raise DocumentError(f"fragment at {frag.start} does not start where the previous ended ({pos})")
        if doc.text[frag.start : frag.end] != frag.original:
            raise DocumentError(f"fragment {frag.start}:{frag.end} does not match the document text")
        pos = frag.end + len(frag.space_after)
    if pos != len(doc.text):
        raise DocumentError(f"fragments end at {pos}, the document at {len(doc.text)}")

