"""`polyglot-pipe run`: inputs -> Pipeline -> records -> outputs, with honest messages on stderr.

Outputs:
- no ``-o``: everything to stdout;
- ``-o FILE``: everything into one file, written atomically;
- ``-o DIR`` (an existing folder, or a path ending in "/"): one output per input,
  mirroring the input's path relative to the folder given (a file given by name
  lands at the top), its extension replaced by the format's (``a/page.txt`` ->
  ``DIR/a/page.jsonl``; when two inputs would share a name, both keep their own
  extension too: ``page.txt.jsonl``, ``page.md.jsonl``).

Every output is written to a temporary file beside it and renamed into place
when complete, so an output that exists is complete, and one that is newer than
its input is up to date: a re-run skips it (``--force`` redoes it).  Temporary
files of a killed run are removed by the next run into the same folder.

Input formats: ``auto`` (the default: ``text``, but a file named .html/.htm or
starting like a page is read as ``html``), ``text`` (a file is a document),
``html`` (a file is a page: its readable text, see ``stages/html.py``), ``lines`` (each line is one),
``jsonl`` (the ``--field`` of each record is one; the record is written back with
its ``fragments`` added).  Lines and records are streamed, never read whole.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from polyglot_pipe.io.sources import Source, SourceError, iter_sources
from polyglot_pipe.io.writers import Summary, get_writer
from polyglot_pipe.io.writers.jsonl import dumps
from polyglot_pipe.pipeline import Pipeline
from polyglot_pipe.stages.decode import NotTextError, looks_binary
from polyglot_pipe.util.atomic import AtomicFile, remove_dead_leftovers
from polyglot_pipe.util.progress import ProgressBar

__all__ = ["run"]

PROG = "polyglot-pipe"
EXTENSIONS = {"jsonl": ".jsonl", "html": ".html", "md": ".md", "tsv": ".tsv", "html-page": ".html"}
#: --input-format -> Pipeline(html=...): auto-detect pages, never, always
_HTML_OPTION = {"auto": None, "text": False, "html": True, "lines": False, "jsonl": None}


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


@dataclass
class _Job:
    """One input and where its records go (``out`` None: the shared output)."""

    source: Source
    out: Path | None = None


@dataclass(eq=False)
class _Sink:
    """An output being written: records stream into a temporary file, renamed when complete."""

    path: Path | None  # None: stdout
    format: str
    summary: Summary
    live: list  # the sinks with a temporary file open, to remove theirs if the run is interrupted
    always: bool = False  # write even without records (the one shared output)
    _file: object = None
    _atomic: AtomicFile | None = None
    _held: list = field(default_factory=list)  # records of formats that need them all at once
    _pages: dict = field(default_factory=dict)  # html-page: doc id -> its stages.html.Page
    written: bool = False
    signature: dict | None = None  # given to the output's first fragment record as "run"

    def _open(self):
        if self._file is None:
            if self.path is None:
                self._file = sys.stdout
            else:
                self._atomic = AtomicFile(self.path)
                self._file = self._atomic.open()
                self.live.append(self)
        return self._file

    def add(self, records: list[dict], line: dict | None = None, page=None) -> None:
        """Fragment records of one document; ``line`` replaces them in the output (JSONL input)."""
        if page is not None and self.format == "html-page" and records:
            self._pages[records[0]["doc"]] = page
        for record in records:
            self.summary.add_record(record)
        if records and self.signature is not None and not self.written:
            records[0] = {**records[0], "run": self.signature}
            if line is not None:
                line = {**line, "fragments": records}
        self.written = True
        if line is not None:
            self._open().write(dumps(line) + "\n")
        elif self.format == "jsonl":
            out = self._open()
            for record in records:
                out.write(dumps(record) + "\n")
        else:
            self._held.extend(records)

    def finish(self) -> None:
        """Complete the output: write what was held, then rename into place."""
        if not self.written and not self.always:
            return  # nothing for this input (it failed): no output, so the next run tries again
        out = self._open()
        if self.format == "html-page":
            get_writer(self.format)(self._held, out, self.summary, pages=self._pages)
            self._held, self._pages = [], {}
        elif self.format != "jsonl":
            get_writer(self.format)(self._held, out, self.summary)
            self._held = []
        if self.path is None:
            out.flush()
            return
        self._atomic.commit()
        self._file = self._atomic = None
        self.live.remove(self)

    def abandon(self) -> None:
        if self._atomic is not None:
            self._atomic.abandon()
            self._file = self._atomic = None


def run(args: argparse.Namespace, make_pipeline=Pipeline) -> int:
    """Run the command; ``make_pipeline`` builds the Pipeline from its keyword options
    (polyglot_pipe.integrations.ray passes one that makes a RayPipeline)."""
    input_format = getattr(args, "input_format", "auto")
    if input_format == "jsonl" and args.format != "jsonl":
        _say("--input-format jsonl writes the records back as JSONL: use --format jsonl")
        return 2
    if args.format == "html-page" and input_format == "lines":
        _say("--format html-page writes one page per input document: not with --input-format lines")
        return 2
    out_dir = _output_dir(args.output)
    if out_dir is not None and "-" in args.inputs:
        _say("-o DIR writes one output per input file; stdin (-) has no name: use -o FILE or stdout")
        return 2

    errors: list[str] = []
    failures: dict[str, str] = {}

    def report(doc_id: str, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, (NotTextError, SourceError)) else f"{type(exc).__name__}: {exc}"
        if not message.startswith(doc_id):
            message = f"{doc_id}: {message}"
        errors.append(message)
        failures[doc_id] = message
        _say(message)

    jobs, skipped = _plan(args, out_dir, errors)
    if args.format == "html-page" and out_dir is None and len(jobs) > 1:
        _say(f"--format html-page writes one page per input, and {len(jobs)} inputs were given: use -o DIR/")
        return 2
    for message in errors:
        _say(message)
    if skipped and not args.quiet:
        _say(f"skipped {skipped} input(s) whose output is up to date (--force redoes them)")

    try:
        langs = parse_langs(args.langs)
    except ValueError as exc:
        _say(str(exc))
        return 2
    pipeline = make_pipeline(
        target=args.target,
        packs_dir=args.packs_dir,
        langs=langs,
        translate=not args.no_translate,
        device=args.device,
        beam_size=args.beam_size,
        threads=args.threads,
        memory=_memory(args),
        chunk_size=getattr(args, "chunk_size", 64),
        workers=_workers(args, jobs, input_format),
        **({} if _HTML_OPTION.get(input_format) is None else {"html": _HTML_OPTION[input_format]}),
        **({"on_missing_pack": _pack_installer(args)} if getattr(args, "install_missing", False) else {}),
    )
    signature = pipeline.signature() if hasattr(pipeline, "signature") else None
    summary = Summary(target=args.target, signature=signature)
    live: list[_Sink] = []
    shared = None
    if out_dir is None:
        shared = _Sink(
            Path(args.output) if args.output else None, args.format, summary, live, always=True, signature=signature
        )

    # What was sent to the pipeline, in order: (doc id, sink, JSONL record) per document,
    # and (None, sink, None) where an input ends, so its output completes then.
    sent: deque = deque()
    progress = ProgressBar("inputs", len(jobs), enabled=not args.quiet, documents=0)
    documents = 0

    def items() -> Iterator[tuple[str, bytes | str]]:
        for job in jobs:
            sink = shared if job.out is None else _Sink(
                job.out, args.format, Summary(target=args.target, signature=signature), live, signature=signature
            )
            for doc_id, data, record in _units(job.source, input_format, getattr(args, "field", "text"), report):
                sent.append((doc_id, sink, record))
                if data is not None:
                    yield doc_id, data
            sent.append((None, sink, None))

    def settle(until: str | None) -> None:
        """Write out what the pipeline dropped (failed documents) and complete finished inputs."""
        while sent:
            doc_id, sink, record = sent[0]
            if doc_id is not None and doc_id == until:
                return
            sent.popleft()
            if doc_id is None:
                if sink is not shared:
                    sink.finish()
                    _merge(summary, sink.summary)
                progress.advance(1, documents=documents)
            elif record is not None:  # a JSONL record that could not be processed: kept, with the reason
                sink.add([], line={**record, "fragments": [], "fragments_error": failures.get(doc_id, "failed")})

    try:
        with progress:
            for doc in pipeline.process_many(items(), on_error=report):
                settle(until=doc.id)
                _doc_id, sink, record = sent.popleft()
                records = doc.to_records()
                sink.add(records, line=None if record is None else {**record, "fragments": records}, page=doc.meta.get("html"))
                documents += 1
            settle(until=None)
            if shared is not None:
                shared.finish()
    except BaseException:
        for sink in list(live):
            sink.abandon()
        raise
    finally:
        if hasattr(pipeline, "close"):
            pipeline.close()

    for lang, command in summary.missing_packs().items():
        _say(f"no {lang}->{args.target} pack installed ({summary.no_pack[lang]} fragments left untranslated): {command}")
    summary.failed_inputs = len(errors)
    if not args.quiet:
        _say(summary.line().removeprefix(f"{PROG}: "))
    return 1 if errors else 0


def parse_langs(value: str | None) -> list[str] | None:
    """--langs ru,en,de -> ["ru", "en", "de"]; an unknown code is a ValueError naming it."""
    if not value:
        return None
    from polyglot_pipe.stages.identify import LanguageIdentifier

    langs = [code.strip() for code in value.split(",") if code.strip()]
    LanguageIdentifier(langs=langs)  # checks the codes
    return langs


def _pack_installer(args: argparse.Namespace):
    """For --install-missing: install a language's pack from the index when the run first needs it.

    Offline (or with a broken index) it says so once and stops trying, so the
    run goes on with "no-pack" fragments.
    """
    from polyglot_pipe.packs.install import install_missing

    gave_up = False

    def install(lang: str) -> None:
        nonlocal gave_up
        if gave_up:
            return
        said: list[str] = []

        def say(message: str) -> None:
            said.append(message)
            _say(message)

        installed = install_missing(
            [lang], args.target, args.packs_dir, say=say, progress=sys.stderr.isatty() and not args.quiet
        )
        # An index without this pair is no reason to stop; being offline or a broken index is.
        gave_up = not installed and not all("has none" in message for message in said)

    return install


def _output_dir(output: str | None) -> Path | None:
    """The rule: -o names a folder when it is an existing folder or ends with a slash."""
    if not output:
        return None
    if Path(output).is_dir() or output.endswith(("/", os.sep)):
        return Path(output)
    return None


def _plan(args, out_dir: Path | None, errors: list[str]) -> tuple[list[_Job], int]:
    """Every input, with its output when writing to a folder; up-to-date ones are left out and counted."""
    jobs: list[_Job] = []
    for name in args.inputs:
        root = Path(name) if name != "-" and Path(name).is_dir() else None
        for source in iter_sources([name], errors):
            if out_dir is not None and _is_within(source.path, out_dir):
                continue  # our own outputs, when the folder is inside an input folder
            if out_dir is None:
                jobs.append(_Job(source))  # everything goes to the one shared output
            else:
                jobs.append(_Job(source, source.path.relative_to(root) if root else Path(source.path.name)))
    if out_dir is None:
        return jobs, 0

    remove_dead_leftovers(out_dir)
    ext = EXTENSIONS[args.format]
    names: dict[Path, int] = {}
    for job in jobs:
        names[job.out.with_suffix(ext)] = names.get(job.out.with_suffix(ext), 0) + 1
    planned: list[_Job] = []
    skipped = 0
    taken: set[Path] = set()
    for job in jobs:
        short = job.out.with_suffix(ext)
        out = out_dir / (short if names[short] == 1 else job.out.with_name(job.out.name + ext))
        if out in taken or out.resolve() == job.source.path.resolve():
            errors.append(f"{job.source.id}: its output {out} would overwrite another file of this run; skipped")
            continue
        taken.add(out)
        if not getattr(args, "force", False) and _up_to_date(out, job.source.path):
            skipped += 1
            continue
        planned.append(_Job(job.source, out))
    return planned, skipped


def _up_to_date(out: Path, source: Path) -> bool:
    """Outputs appear only by rename when complete, so existing and newer than the input is enough."""
    try:
        return out.stat().st_mtime_ns >= source.stat().st_mtime_ns
    except OSError:
        return False


def _is_within(path: Path | None, folder: Path) -> bool:
    if path is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _units(source: Source, input_format: str, field_name: str, report) -> Iterator[tuple[str, object, dict | None]]:
    """The documents of one input: (doc id, text or bytes or None when unusable, JSONL record or None)."""
    if input_format in ("text", "auto", "html"):
        try:
            data = source.read()
        except SourceError as exc:
            report(source.id, exc)
            return
        if looks_binary(data[:4096]):
            report(source.id, NotTextError("a binary file, not text"))
            return
        yield source.id, data, None
        return
    try:
        stream = sys.stdin.buffer if source.path is None else open(source.path, "rb")
    except OSError as exc:
        report(source.id, SourceError(f"{source.id}: cannot read ({exc.strerror or exc})"))
        return
    try:
        for number, line in enumerate(stream, 1):
            doc_id = f"{source.id}:{number}"
            line = line.rstrip(b"\r\n")
            if input_format == "lines":
                yield doc_id, line, None
                continue
            if not line.strip():
                continue  # blank lines separate nothing in JSONL
            record, problem = _parse_record(line, field_name)
            if problem:
                report(doc_id, SourceError(problem))
                yield doc_id, None, record
            else:
                yield doc_id, record[field_name], record
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _parse_record(line: bytes, field_name: str) -> tuple[dict, str | None]:
    try:
        record = json.loads(line)
    except ValueError as exc:
        return {"input": line.decode("utf-8", "replace")}, f"not a JSON record ({exc})"
    if not isinstance(record, dict):
        return {"input": record}, "not a JSON object"
    if field_name not in record:
        return record, f'no "{field_name}" field (choose the field with --field)'
    if not isinstance(record[field_name], str):
        return record, f'the "{field_name}" field is {type(record[field_name]).__name__}, not text'
    return record, None


def _memory(args):
    if args.no_translate or getattr(args, "no_memory", False):
        return None
    from polyglot_pipe.memory import TranslationMemory

    return TranslationMemory(getattr(args, "memory_path", None))


def _workers(args, jobs: list[_Job], input_format: str) -> int:
    """--workers, else one per core, but no more than there are inputs (streams count as many)."""
    if getattr(args, "workers", None):
        return args.workers
    cores = os.cpu_count() or 1
    if input_format in ("text", "auto", "html"):
        return max(1, min(cores, len(jobs)))
    size = sum(job.source.path.stat().st_size for job in jobs if job.source.path is not None)
    return cores if size > (1 << 20) else 1


def _merge(total: Summary, part: Summary) -> None:
    total.documents += part.documents
    total.fragments += part.fragments
    total.languages.update(part.languages)
    total.translated += part.translated
    total.cached += part.cached
    total.no_pack.update(part.no_pack)
    total.failed += part.failed
