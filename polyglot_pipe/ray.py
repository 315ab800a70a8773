"""The same pipeline on Ray Data, for corpora one machine cannot get through.

Install with ``pip install 'polyglot_pipe[ray]'``.  Nothing here is home-made
distribution: Ray Data already is the engine for batch inference with stateful
model workers (actor pools, GPU scheduling, task retries, actor restarts).  We
only supply the worker: a class that builds one :class:`~polyglot_pipe.Pipeline`
per actor (so each actor loads each pack's CTranslate2 translator once) and
maps a batch of records to the same records with their fragments added.

``import ray`` below is the Ray package (absolute imports), not this module.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import ray
import ray.data

from .decode import NotTextError
from .pipeline import Pipeline

__all__ = ["process_dataset", "FRAGMENT_TYPE", "FragmentWorker", "DEFAULT_BATCH_SIZE"]

#: Records per batch: one batch is one translation chunk, deduplicated together.
DEFAULT_BATCH_SIZE = 64

#: The fragment record (model.fragment_record, without "doc") as an Arrow struct.
#: Arrow has no "absent": the keys JSONL leaves out (raw, error, cached,
#: encoding, space_before, doc_issues) are null here instead.  A fixed type,
#: rather than Arrow's inference, keeps every batch's schema the same.
FRAGMENT_TYPE = pa.struct(
    [
        ("index", pa.int64()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("original", pa.large_string()),
        ("raw", pa.large_string()),
        ("repairs", pa.list_(pa.string())),
        ("script", pa.string()),
        ("lang", pa.string()),
        ("lang_confidence", pa.float64()),
        ("english", pa.large_string()),
        ("method", pa.string()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("cached", pa.bool_()),
        ("encoding", pa.string()),
        ("space_before", pa.large_string()),
        ("doc_issues", pa.list_(pa.string())),
        ("space_after", pa.large_string()),
    ]
)
_FRAGMENT_KEYS = frozenset(FRAGMENT_TYPE.names)


def error_message(doc_id: str | None, exc: Exception) -> str:
    """One line for a record that could not be processed (the runner's wording)."""
    message = str(exc) if isinstance(exc, NotTextError) else f"{type(exc).__name__}: {exc}"
    return message if not doc_id or message.startswith(doc_id) else f"{doc_id}: {message}"


class FragmentWorker:
    """One actor of the pool: a Pipeline built once, then called on batch after batch.

    ``__call__`` takes and returns a ``pyarrow.Table``: Arrow batches carry any
    extra fields of the records through untouched (pandas would turn lists into
    numpy arrays).  It adds two columns: ``fragments`` (list of FRAGMENT_TYPE)
    and ``error`` (null, or why the record has no fragments).
    """

    def __init__(self, field: str, pipeline_options: dict[str, Any], *, lines_for: str | None = None):
        self.field = field
        self.pipeline = Pipeline(**pipeline_options)
        #: The CLI wants each document's exact JSONL lines (absent keys stay absent),
        #: with its id from this column; the library wants Arrow fragments.
        self.lines_for = lines_for

    def __call__(self, batch: pa.Table) -> pa.Table:
        values = batch.column(self.field).to_pylist() if self.field in batch.column_names else [None] * batch.num_rows
        ids = batch.column(self.lines_for).to_pylist() if self.lines_for else [None] * len(values)
        docs, errors = self._process(values, ids)
        if self.lines_for:
            from .output.jsonl import dumps

            lines = ["".join(dumps(r) + "\n" for r in doc.to_records()) if doc else None for doc in docs]
            return _set_columns(batch, {"lines": pa.array(lines, pa.large_string()), "error": pa.array(errors, pa.string())})
        fragments = [[_fragment_row(r) for r in doc.to_records()] if doc else [] for doc in docs]
        return _set_columns(
            batch,
            {"fragments": pa.array(fragments, pa.list_(FRAGMENT_TYPE)), "error": pa.array(errors, pa.string())},
        )

    def _process(self, values: list, ids: list[str | None]) -> tuple[list, list[str | None]]:
        """Documents for the values (None where a value failed) and the errors.

        The whole batch goes through ``process_many`` at once, so repeated
        fragments are translated once per batch.  Should anything still raise
        mid-batch, the batch is redone record by record, so one hostile record
        is marked with its error and the others go through.
        """
        docs: list = [None] * len(values)
        errors: list[str | None] = [None] * len(values)
        items = []
        for i, value in enumerate(values):
            if isinstance(value, (str, bytes)):
                items.append((str(i), value))
            elif value is None:
                errors[i] = error_message(ids[i], ValueError(f"no text: field {self.field!r} is missing or null"))
            else:
                errors[i] = error_message(ids[i], TypeError(f"field {self.field!r} holds {type(value).__name__}, not text"))

        def report(doc_id: str, exc: Exception) -> None:
            errors[int(doc_id)] = error_message(ids[int(doc_id)], exc)

        try:
            for doc in self.pipeline.process_many(items, on_error=report):
                docs[int(doc.id)] = doc
        except Exception:
            for doc_id, value in items:
                i = int(doc_id)
                if docs[i] is not None or errors[i] is not None:
                    continue
                try:
                    docs[i] = self.pipeline.process(value, doc_id)
                except Exception as exc:
                    errors[i] = error_message(ids[i], exc)
        if self.lines_for:  # the records carry the source's name as doc id, as in the single-machine run
            from dataclasses import replace

            docs = [replace(doc, id=ids[i]) if doc else None for i, doc in enumerate(docs)]
        return docs, errors


def _fragment_row(record: dict) -> dict:
    record = dict(record)
    record.pop("doc", None)
    unknown = record.keys() - _FRAGMENT_KEYS
    if unknown:  # a new field in model.fragment_record must be added to FRAGMENT_TYPE
        raise KeyError(f"fragment fields {sorted(unknown)} are missing from polyglot_pipe.ray.FRAGMENT_TYPE")
    return record


def _set_columns(table: pa.Table, columns: dict[str, pa.Array]) -> pa.Table:
    for name, column in columns.items():
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, column)
    return table


def pipeline_options(
    *,
    target: str = "en",
    packs_dir: str | os.PathLike | None = None,
    langs: Sequence[str] | None = None,
    translate: bool = True,
    beam_size: int = 4,
    memory=None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    gpu: bool = False,
    threads: int = 1,
) -> dict[str, Any]:
    """The Pipeline arguments each actor builds its own Pipeline from (all picklable)."""
    return dict(
        target=target,
        packs_dir=str(packs_dir) if packs_dir else None,
        langs=list(langs) if langs else None,
        translate=translate,
        device="cuda" if gpu else "cpu",
        beam_size=beam_size,
        threads=threads,
        memory=memory,
        chunk_size=batch_size,
    )


def worker_plan(workers: int | tuple[int, int] | None, cpus_per_worker: int, gpus: bool | None) -> tuple[bool, Any]:
    """GPU or not, and the actor pool: by default one actor per GPU, else one per ``cpus_per_worker`` CPUs."""
    if not ray.is_initialized():
        ray.init()
    resources = ray.cluster_resources()
    if gpus is None:
        gpus = resources.get("GPU", 0) >= 1
    if workers is None:
        workers = int(resources.get("GPU", 0)) if gpus else int(resources.get("CPU", 1) // cpus_per_worker)
        workers = max(workers, 1)
    if isinstance(workers, tuple):
        return gpus, ray.data.ActorPoolStrategy(min_size=workers[0], max_size=workers[1])
    return gpus, ray.data.ActorPoolStrategy(size=workers)


def process_dataset(
    ds: "ray.data.Dataset",
    field: str = "text",
    *,
    target: str = "en",
    packs_dir: str | os.PathLike | None = None,
    langs: Sequence[str] | None = None,
    translate: bool = True,
    beam_size: int = 4,
    memory=None,
    workers: int | tuple[int, int] | None = None,
    cpus_per_worker: int = 1,
    gpus: bool | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> "ray.data.Dataset":
    """Each record of ``ds`` with its fragments added; every other field kept.

    ``ds[field]`` holds the text (str) or the raw page (bytes, decoded as the
    CLI decodes files).  Two columns are added (replaced if present):

    - ``fragments``: the record's fragment records (as ``Document.to_records()``,
      without "doc"; Arrow cannot leave keys out, so the optional ones are null);
      a record with empty text gets one "empty" fragment, as everywhere else;
    - ``error``: null, or one line saying why the record has no fragments
      (not text, binary bytes, a null field).  A bad record never stops the job.

    Workers: an actor pool of ``workers`` actors (an int, or (min, max) to
    autoscale; default one per GPU when the cluster has GPUs, else one per
    ``cpus_per_worker`` CPUs).  Each actor builds one Pipeline and loads each
    pack it needs once: one CTranslate2 translator per pack per actor, on its
    GPU when ``gpus`` (default: when the cluster has any), else on
    ``cpus_per_worker`` CPU threads.  Fault tolerance is Ray Data's own: an
    actor pool restarts a dead actor and retries the batch it held (its
    defaults, max_restarts=-1 and max_task_retries=-1), and a batch's output
    counts only once it is complete, so no record is lost or doubled.

    Deduplication: a batch of ``batch_size`` records is one translation chunk,
    so a fragment repeated within it is translated once; an actor also keeps
    what it translated in memory (the Translator's run cache), so repeats in
    its later batches are free too.  Nothing is shared between actors unless
    ``memory`` (a ``polyglot_pipe.memory.TranslationMemory``) is given: each
    actor then opens that SQLite file itself.  Actors on one machine share it
    (WAL mode; a translation one actor commits is a hit for the others'
    later batches).  On a multi-node cluster the path names a file on each
    node's own disk, so hits are per node: never point it at a network file
    system, where SQLite locking is unsafe.

    Row order follows Ray Data: set
    ``ray.data.DataContext.get_current().execution_options.preserve_order = True``
    if you need the input order.
    """
    gpus, pool = worker_plan(workers, cpus_per_worker, gpus)
    options = pipeline_options(
        target=target, packs_dir=packs_dir, langs=langs, translate=translate, beam_size=beam_size,
        memory=memory, batch_size=batch_size, gpu=gpus, threads=cpus_per_worker,
    )
    return _map(ds, field, options, pool, gpus, cpus_per_worker, batch_size)


def _map(ds, field, options, pool, gpus, cpus_per_worker, batch_size, lines_for=None):
    return ds.map_batches(
        FragmentWorker,
        fn_constructor_args=(field, options),
        fn_constructor_kwargs={"lines_for": lines_for},
        batch_format="pyarrow",
        batch_size=batch_size,
        compute=pool,
        num_gpus=1 if gpus else 0,
        num_cpus=None if gpus else cpus_per_worker,
    )


# -- polyglot-pipe run --ray [ADDRESS]


def run_cli(args, address: str | None) -> int:
    """``polyglot-pipe run --ray [ADDRESS] INPUT...``: the run command's job, on a Ray cluster.

    ``args`` are the parsed ``run`` arguments; ``address`` is the cluster's
    ("auto", "ray://host:10001", ...), or None to start a local one (or use
    the one this process is already connected to).  The outputs, stderr
    messages and exit status are those of the single-machine run: the same
    Pipeline makes the same records, written in input order.

    Inputs are read here, on the driver, and shipped to the workers, so they
    need not be visible from the cluster's nodes; polyglot_pipe[ray] and the
    packs must be installed on every node.  For corpora larger than the
    driver's memory, read them with a ``ray.data.read_*`` function and call
    :func:`process_dataset`.
    """
    import json
    import logging
    import sys

    from .output import Summary, get_writer
    from .sources import SourceError, iter_sources, looks_binary

    errors: list[str] = []

    def say(message: str) -> None:
        print(f"polyglot-pipe: {message}", file=sys.stderr)

    def report(message: str) -> None:
        errors.append(message)
        say(message)

    items: list[dict] = []
    walk_problems: list[str] = []
    shown = 0
    for source in iter_sources(args.inputs, walk_problems):
        for message in walk_problems[shown:]:
            report(message)
        shown = len(walk_problems)
        try:
            data = source.read()
        except SourceError as exc:
            report(str(exc))
            continue
        if looks_binary(data[:4096]):
            report(error_message(source.id, NotTextError("a binary file, not text")))
            continue
        items.append({"id": source.id, "data": data})
    for message in walk_problems[shown:]:
        report(message)

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        if args.quiet:
            context.enable_progress_bars = False
            logging.getLogger("ray.data").setLevel(logging.WARNING)
        cpus = max(args.threads, 1)
        gpus = {"auto": None, "cpu": False, "cuda": True}[args.device]
        gpus, pool = worker_plan(getattr(args, "ray_workers", None), cpus, gpus)
        options = pipeline_options(
            target=args.target,
            packs_dir=args.packs_dir if address else packages_dir_of(args.packs_dir),
            langs=[code.strip() for code in args.langs.split(",")] if args.langs else None,
            translate=not args.no_translate,
            beam_size=args.beam_size,
            memory=getattr(args, "memory", None),
            gpu=gpus,
            threads=cpus,
        )
        summary = Summary(target=args.target)

        def records():
            if not items:
                return
            ds = _map(ray.data.from_items(items), "data", options, pool, gpus, cpus, DEFAULT_BATCH_SIZE, lines_for="id")
            for batch in ds.select_columns(["lines", "error"]).iter_batches(batch_format="pyarrow", batch_size=None):
                for lines, error in zip(batch.column("lines").to_pylist(), batch.column("error").to_pylist()):
                    if error is not None:
                        report(error)
                        continue
                    for line in lines.splitlines():
                        record = json.loads(line)
                        summary.add_record(record)
                        yield record

        _write(args, records, summary, get_writer(args.format))
    finally:
        if started_here:
            ray.shutdown()

    for lang, command in summary.missing_packs().items():
        say(f"no {lang}->{args.target} pack installed ({summary.no_pack[lang]} fragments left untranslated): {command}")
    summary.failed_inputs = len(errors)
    if not args.quiet:
        say(summary.line().removeprefix("polyglot-pipe: "))
    return 1 if errors else 0


def packages_dir_of(packs_dir) -> str:
    """The packs folder this machine uses: a local cluster's workers then look in the same place."""
    from .packs import packages_dir

    return str(packages_dir(packs_dir))


def _write(args, records, summary, writer) -> None:
    """Write as the single-machine run does: to the -o file (atomically), else stdout."""
    import sys
    import tempfile
    from pathlib import Path

    stream = records() if args.format == "jsonl" else list(records())
    if not args.output:
        writer(stream, sys.stdout, summary)
        sys.stdout.flush()
        return
    path = Path(args.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            writer(stream, out, summary)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
