"""`polyglot-pipe run`: inputs -> Pipeline -> records -> outputs, with honest messages on stderr.

Outputs:
- neither ``-o`` nor ``--output-dir``: everything to stdout;
- ``-o FILE``: everything into one file, written atomically; never one of the inputs;
- ``--output-dir DIR``: one output per input, mirroring the input's path relative
  to the folder given (a file given by name lands at the top), its extension
  replaced by the format's (``a/page.txt`` -> ``DIR/a/page.jsonl``; when two inputs
  would share a name, both keep their own extension too: ``page.txt.jsonl``,
  ``page.md.jsonl``; a name too long for the file system is cut and given a short
  hash).  ``-o DIR/`` (a trailing slash, or an existing folder) still means
  ``--output-dir DIR``, with a one-line deprecation warning.

Every output is written to a temporary file beside it and renamed into place
when complete, so an output that exists is complete.  "Up to date" means the same
input *and* the same run signature (polyglot_pipe.provenance: version, packs,
decoding and label settings): with ``--output-dir``, the folder holds a small journal,
``.polyglot-pipe-state.jsonl`` (a line appended as each output is renamed into place;
compacted atomically), that records for each output the input it came from
(absolute path, size, modification time in ns) and the digest of the signature
that made it.  A re-run skips the outputs whose record
matches (``--force`` redoes them), redoes the others, and removes an output of
this format that it recorded for an input which now has another output name
(``c.jsonl`` once ``c.md`` appears beside ``c.txt``).  Temporary files of a killed
run (``-o FILE`` or ``--output-dir``) are removed by the next run.

Input formats: ``auto`` (the default: ``text``, but a file named .html/.htm or
starting like a page is read as ``html``), ``text`` (a file is a document),
``html`` (a file is a page: its readable text, see ``stages/html.py``), ``lines`` (each line is one),
``jsonl`` (the ``--field`` of each record is one; the record is written back with
its ``fragments`` added).  Lines and records are streamed, never read whole.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from polyglot_pipe.errors import OptionError
from polyglot_pipe.io.sources import Source, SourceError, iter_sources
from polyglot_pipe.io.writers import Summary, get_writer
from polyglot_pipe.io.writers.jsonl import dumps
from polyglot_pipe.io.blocks import BlockCursor
from polyglot_pipe.pipeline import Pipeline, is_html
from polyglot_pipe.stages.decode import NotTextError, looks_binary
from polyglot_pipe.util.atomic import AtomicFile, atomic_write, remove_dead_leftovers
from polyglot_pipe.util.progress import ProgressBar

__all__ = ["run"]

PROG = "polyglot-pipe"
EXTENSIONS = {"jsonl": ".jsonl", "html": ".html", "md": ".md", "tsv": ".tsv", "html-page": ".html"}
#: --input-format -> Pipeline(html=...): auto-detect pages, never, always
_HTML_OPTION = {"auto": None, "text": False, "html": True, "lines": False, "jsonl": None}
STATE_FILE = ".polyglot-pipe-state.jsonl"
#: bytes a file name may take (NAME_MAX on Linux and macOS)
_NAME_MAX = 255


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
    error: str | None = None  # why this output could not be written (its input is reported, the run goes on)

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
        if self.error is not None:
            return
        try:
            self._add(records, line)
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        if self.path is None:
            raise exc
        self.error = f"cannot write {self.path} ({exc.strerror or exc})"
        self.abandon()

    def _add(self, records: list[dict], line: dict | None) -> None:
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

    def finish(self) -> bool:
        """Complete the output: write what was held, then rename into place; False when none was written."""
        if self.error is not None or (not self.written and not self.always):
            return False  # nothing for this input (it failed): no output, so the next run tries again
        try:
            self._finish()
        except OSError as exc:
            self._fail(exc)
            return False
        return True

    def _finish(self) -> None:
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
            try:
                self._atomic.abandon()
            except OSError:
                pass
            self._file = self._atomic = None
        if self in self.live:
            self.live.remove(self)


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
    try:
        out_dir, out_file = _outputs(args)
        check_run_options(args)
        langs = parse_langs(args.langs)
    except (OptionError, ValueError) as exc:
        _say(str(exc))
        return 2
    if out_dir is not None and "-" in args.inputs:
        _say("--output-dir writes one output per input file; stdin (-) has no name: use -o FILE or stdout")
        return 2
    if out_file is not None:
        refused = _refuse_overwriting_an_input(out_file, args.inputs)
        if refused:
            _say(refused)
            return 2
        remove_dead_leftovers(out_file.parent, name=out_file.name, recursive=False)

    errors: list[str] = []
    failures: dict[str, str] = {}

    def report(doc_id: str, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, (NotTextError, SourceError)) else f"{type(exc).__name__}: {exc}"
        if not message.startswith(doc_id):
            message = f"{doc_id}: {message}"
        errors.append(message)
        failures[doc_id] = message
        _say(message)

    jobs = _plan(args, out_dir, out_file, errors)
    if args.format == "html-page" and out_dir is None and len(jobs) > 1:
        _say(f"--format html-page writes one page per input, and {len(jobs)} inputs were given: use --output-dir DIR")
        return 2
    for message in errors:
        _say(message)

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
    try:
        signature = pipeline.signature() if hasattr(pipeline, "signature") else None
        state = None
        if out_dir is not None:
            state = _State(out_dir, signature)
            jobs, skipped = state.plan(jobs, args.format, force=getattr(args, "force", False))
            if skipped and not args.quiet:
                _say(f"skipped {skipped} input(s) whose output is up to date (--force redoes them)")
        return _execute(args, pipeline, jobs, input_format, signature, state, out_file, errors, failures, report)
    finally:
        if hasattr(pipeline, "close"):
            pipeline.close()


def _execute(args, pipeline, jobs, input_format, signature, state, out_file, errors, failures, report) -> int:
    summary = Summary(target=args.target, signature=signature)
    live: list[_Sink] = []
    shared = None
    if state is None:
        shared = _Sink(out_file, args.format, summary, live, always=True, signature=signature)

    # What was sent to the pipeline, in order: (doc id, sink, JSONL record) per document,
    # and (None, sink, job) where an input ends, so its output completes then.
    sent: deque = deque()
    progress = ProgressBar("inputs", len(jobs), enabled=not args.quiet, documents=0)
    documents = 0
    identifier = getattr(pipeline, "identifier", None)  # long text files go in blocks when it is there
    cursor = BlockCursor()

    def items() -> Iterator[tuple[str, bytes | str]]:
        for job in jobs:
            sink = shared if job.out is None else _Sink(
                job.out, args.format, Summary(target=args.target, signature=signature), live, signature=signature
            )
            for doc_id, data, record in _units(job.source, input_format, getattr(args, "field", "text"), report, identifier):
                sent.append((doc_id, sink, record))
                if data is not None:
                    yield doc_id, data
            sent.append((None, sink, job))

    def settle(until: str | None) -> None:
        """Write out what the pipeline dropped (failed documents) and complete finished inputs."""
        while sent:
            doc_id, sink, record = sent[0]
            if doc_id is not None and doc_id == until:
                return
            sent.popleft()
            if doc_id is None:
                if sink is not shared:
                    if record.source.id in failures:  # a long file that failed in its middle: no partial output
                        sink.abandon()
                    elif sink.finish():
                        state.done(record)
                    elif sink.error is not None:
                        report(record.source.id, OSError(sink.error))
                    _merge(summary, sink.summary)
                progress.advance(1, documents=documents)
            elif record is not None:  # a JSONL record that could not be processed: kept, with the reason
                sink.add([], line={**record, "fragments": [], "fragments_error": failures.get(doc_id, "failed")})

    try:
        with progress:
            for doc in pipeline.process_many(items(), on_error=report):
                settle(until=doc.id)
                _doc_id, sink, record = sent.popleft()
                records = cursor.records(doc) if "block" in doc.meta else doc.to_records()
                documents += "block" not in doc.meta or doc.meta["block"][0] == 0
                sink.add(records, line=None if record is None else {**record, "fragments": records}, page=doc.meta.get("html"))
            settle(until=None)
            if shared is not None:
                shared.finish()
    except OSError as exc:  # the one shared output (or stdout) cannot be written: nothing more can be done
        for sink in list(live):
            sink.abandon()
        _say(f"cannot write {out_file or 'stdout'} ({exc.strerror or exc})")
        return 1
    except BaseException:
        for sink in list(live):
            sink.abandon()
        raise
    finally:
        if state is not None:
            state.save()

    for lang, command in summary.missing_packs().items():
        _say(f"no {lang}->{args.target} pack installed ({summary.no_pack[lang]} fragments left untranslated): {command}")
    summary.failed_inputs = len(errors)
    if not args.quiet:
        _say(summary.line().removeprefix(f"{PROG}: "))
    if summary.failed and not summary.translated:
        _say(f"every translation failed ({summary.failed} fragments); see the \"error\" field of the records")
    return 1 if errors or summary.failed else 0


def check_run_options(args: argparse.Namespace) -> None:
    """Options checked before any work: one OptionError naming the bad value (the CLI exits 2)."""
    from polyglot_pipe.stages.translate import check_translate_options

    from polyglot_pipe.langdata.codes import normalise_code

    if getattr(args, "target", None) is not None:
        args.target = normalise_code(args.target, "--to")
    if getattr(args, "workers", None) is not None and args.workers < 1:
        raise OptionError(f"--workers {args.workers}: must be at least 1")
    if getattr(args, "chunk_size", 64) < 1:
        raise OptionError(f"--chunk-size {args.chunk_size}: must be at least 1")
    if not args.no_translate:
        check_translate_options(device=args.device, beam_size=args.beam_size, threads=args.threads)


def _outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """(output folder, output file): ``--output-dir DIR`` is the folder; ``-o`` is a file.

    ``-o DIR/`` (a trailing slash, or an existing folder) is still read as the folder, with a warning.
    """
    output, output_dir = args.output, getattr(args, "output_dir", None)
    if output and output_dir:
        raise OptionError(f"-o {output} and --output-dir {output_dir}: give one (-o FILE, or --output-dir DIR)")
    if output_dir:
        if Path(output_dir).exists() and not Path(output_dir).is_dir():
            raise OptionError(f"--output-dir {output_dir}: exists and is not a folder")
        return Path(output_dir), None
    if not output or output == "-":
        return None, None
    if Path(output).is_dir() or output.endswith(("/", os.sep)):
        _say(f"-o {output}: a folder given to -o is deprecated; write --output-dir {output.rstrip('/' + os.sep) or output}")
        return Path(output), None
    return None, Path(output)


def _refuse_overwriting_an_input(out_file: Path, inputs: list[str]) -> str | None:
    for name in inputs:
        if name != "-" and _same_file(Path(name), out_file):
            return f"-o {out_file}: that is the input {name}; refusing to write over it (choose another output)"
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


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


def _plan(args, out_dir: Path | None, out_file: Path | None, errors: list[str]) -> list[_Job]:
    """Every input, with its output when writing to a folder (up-to-date ones are left for ``_State.plan``)."""
    jobs: list[_Job] = []
    for name in args.inputs:
        root = Path(name) if name != "-" and Path(name).is_dir() else None
        for source in iter_sources([name], errors):
            if out_dir is not None and _is_within(source.path, out_dir):
                continue  # our own outputs, when the folder is inside an input folder
            if out_file is not None and root is not None and _same_file(source.path, out_file):
                continue  # our own output, inside an input folder
            if out_dir is None:
                jobs.append(_Job(source))  # everything goes to the one shared output
            else:
                jobs.append(_Job(source, source.path.relative_to(root) if root else Path(source.path.name)))
    if out_dir is None:
        return jobs

    remove_dead_leftovers(out_dir)
    ext = EXTENSIONS[args.format]
    names: dict[Path, int] = {}
    for job in jobs:
        names[job.out.with_suffix(ext)] = names.get(job.out.with_suffix(ext), 0) + 1
    planned: list[_Job] = []
    taken: set[Path] = set()
    for job in jobs:
        short = job.out.with_suffix(ext)
        out = out_dir / _fit_name(short if names[short] == 1 else job.out.with_name(job.out.name + ext))
        if out in taken or _same_file(out, job.source.path):
            errors.append(f"{job.source.id}: its output {out} would overwrite another file of this run; skipped")
            continue
        taken.add(out)
        planned.append(_Job(job.source, out))
    return planned


def _fit_name(path: Path) -> Path:
    """``path`` with a name the file system accepts: one too long is cut, with a hash of the whole kept."""
    name = os.fsencode(path.name)
    if len(name) <= _NAME_MAX:
        return path
    ext = os.fsencode(path.suffix) if len(os.fsencode(path.suffix)) < 16 else b""
    tag = b"~" + hashlib.sha256(name).hexdigest()[:12].encode()
    stem = name[: _NAME_MAX - len(tag) - len(ext)]
    while stem:  # don't cut a UTF-8 character in half
        try:
            stem.decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            if exc.start < len(stem) - 4:
                break  # not UTF-8 anyway (a non-UTF-8 name): bytes are fine
            stem = stem[:-1]
    return path.with_name(os.fsdecode(stem + tag + ext))


class _State:
    """What ``--output-dir`` knows of its outputs: ``DIR/.polyglot-pipe-state.jsonl``, a journal.

    One line per output completed: ``{"output": path relative to DIR, "input": absolute
    path, "size": bytes, "mtime_ns": int, "signature": signature digest}`` (or
    ``{"output": ..., "removed": true}``), appended once the output has been renamed
    into place; the last line for an output wins, and a torn last line (a run killed
    while appending) is ignored.  An output is up to date when it exists and its entry
    matches the input's size and mtime and this run's signature.  So a killed run
    loses no finished output's record, and an output without one is redone, never
    wrongly skipped.  The journal is compacted (rewritten atomically) when it has
    grown to twice the outputs it describes.
    """

    def __init__(self, folder: Path, signature: dict | None):
        from polyglot_pipe.provenance import signature_digest

        self.folder = folder
        self.path = folder / STATE_FILE
        self.digest = signature_digest(signature) if signature else None
        self.entries, self._lines = self._load()
        self._journal = None

    def _load(self) -> tuple[dict[str, dict], int]:
        entries: dict[str, dict] = {}
        lines = 0
        try:
            with open(self.path, encoding="utf-8", errors="replace") as journal:
                for line in journal:
                    lines += 1
                    try:
                        entry = json.loads(line)
                        key = entry["output"]
                    except (ValueError, KeyError, TypeError):
                        continue  # a torn line, or not ours
                    if entry.get("removed"):
                        entries.pop(key, None)
                    else:
                        entries[key] = entry
        except OSError:
            pass  # none yet: everything is done, and recorded
        return entries, lines

    def _key(self, out: Path) -> str:
        return str(out.relative_to(self.folder))

    def _entry(self, out: Path, source: Path) -> dict | None:
        try:
            stat = source.stat()
        except OSError:
            return None
        return {"output": self._key(out), "input": str(source.absolute()), "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns, "signature": self.digest}

    def plan(self, jobs: list[_Job], fmt: str, force: bool) -> tuple[list[_Job], int]:
        """The jobs to do (the others are up to date); removes this format's stale outputs of these inputs."""
        todo: list[_Job] = []
        skipped = 0
        planned = {self._key(job.out) for job in jobs}
        inputs = {str(job.source.path.absolute()) for job in jobs}
        ext = EXTENSIONS[fmt]
        for key, entry in list(self.entries.items()):
            if key not in planned and entry.get("input") in inputs and key.endswith(ext):
                try:
                    (self.folder / key).unlink(missing_ok=True)  # this input's output has another name now
                except OSError:
                    continue
                self._append({"output": key, "removed": True})
                del self.entries[key]
        for job in jobs:
            entry = self.entries.get(self._key(job.out))
            if (
                not force and self.digest and entry is not None and job.out.is_file()
                and entry == self._entry(job.out, job.source.path)
            ):
                skipped += 1
            else:
                todo.append(job)
        return todo, skipped

    def done(self, job: _Job) -> None:
        entry = self._entry(job.out, job.source.path)
        if entry is not None and self.digest:
            self.entries[entry["output"]] = entry
            self._append(entry)

    def _append(self, entry: dict) -> None:
        try:
            if self._journal is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._journal = open(self.path, "a", encoding="utf-8")
            # ensure_ascii: a non-UTF-8 file name (lone surrogates) is written as escapes, read back the same
            self._journal.write(json.dumps(entry) + "\n")
            self._journal.flush()
            self._lines += 1
        except OSError as exc:
            _say(f"{self.path}: cannot record which outputs are up to date ({exc.strerror or exc})")

    def save(self) -> None:
        """Close the journal; compact it when it holds many more lines than outputs."""
        if self._journal is not None:
            try:
                self._journal.close()
            except OSError:
                pass
            self._journal = None
        if self._lines <= 2 * len(self.entries) + 16:
            return
        entries, _ = self._load()  # another run may have added lines meanwhile
        try:
            with atomic_write(self.path, fsync=False) as out:
                for entry in entries.values():
                    out.write(json.dumps(entry) + "\n")
        except OSError:
            pass  # the journal stays as it was: still right, only longer
        self._lines = len(entries)


def _is_within(path: Path | None, folder: Path) -> bool:
    if path is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _units(source: Source, input_format: str, field_name: str, report, identifier=None) -> Iterator[tuple[str, object, dict | None]]:
    """The documents of one input: (doc id, text or bytes or None when unusable, JSONL record or None).

    A text file longer than a block (``identifier`` given) comes as its blocks (polyglot_pipe.io.blocks)."""
    if input_format in ("text", "auto", "html"):
        if identifier is not None and input_format != "html":
            try:
                blocks = _blocks(source, input_format, identifier)
                if blocks is not None:
                    for block in blocks:
                        yield source.id, block, None
                    return
            except OSError as exc:
                report(source.id, SourceError(f"{source.id}: cannot read ({exc.strerror or exc})"))
                return
            except SourceError as exc:
                report(source.id, exc)
                return
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


def _blocks(source: Source, input_format: str, identifier):
    """The blocks of a long plain-text file (pass 1 runs here), or None to read it whole."""
    from polyglot_pipe.io.blocks import BLOCK_CHARS, iter_blocks, plan_blocks

    if source.path is None or source.path.stat().st_size <= BLOCK_CHARS:
        return None
    with open(source.path, "rb") as stream:
        head = stream.read(4096)
    if looks_binary(head) or (input_format == "auto" and is_html(head, source.id, None)):
        return None
    plan = plan_blocks(source.path, identifier)
    return None if plan is None else iter_blocks(source.path, plan)


def _parse_record(line: bytes, field_name: str) -> tuple[dict, str | None]:
    try:
        record = json.loads(line)
    except ValueError as exc:
        return {"input": line.decode("utf-8", "replace")}, f"not a JSON record ({exc})"
    except RecursionError:
        return {"input": line[:200].decode("utf-8", "replace") + "..."}, "a JSON record nested too deep to read"
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
    total.low_quality += part.low_quality
    total.no_pack.update(part.no_pack)
    total.failed += part.failed
