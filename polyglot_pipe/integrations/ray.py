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

import json
import os
import pickle
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from itertools import islice
from typing import Any

import pyarrow as pa
import ray
import ray.data

from polyglot_pipe.errors import ClusterError
from polyglot_pipe.model import RECORD_FIELDS
from polyglot_pipe.pipeline import Pipeline
from polyglot_pipe.stages.decode import NotTextError

__all__ = ["process_dataset", "RayPipeline", "run_cli", "ClusterError", "FRAGMENT_TYPE", "FragmentWorker", "DEFAULT_BATCH_SIZE"]

#: Records per batch: one batch is one translation chunk, deduplicated together.
DEFAULT_BATCH_SIZE = 64

#: Arrow types of the record schema's kinds (model.RECORD_FIELDS); texts are large_string,
#: since one fragment or document may pass 2 GB in a whole batch.
_ARROW_KIND = {
    "str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
    "list[str]": pa.list_(pa.string()), "object": pa.large_string(),  # a JSON object, as its JSON text
}
_LARGE_TEXT = frozenset({"original", "raw", "english", "space_before", "space_after"})

#: The fragment record (model.RECORD_FIELDS, without "doc") as an Arrow struct.
#: Arrow has no "absent": the keys JSONL leaves out (raw, error, cached,
#: encoding, space_before, doc_issues, source_path, source_attr) are null here instead.  A fixed type,
#: rather than Arrow's inference, keeps every batch's schema the same.
FRAGMENT_TYPE = pa.struct(
    [
        (f.name, pa.large_string() if f.name in _LARGE_TEXT else _ARROW_KIND[f.kind])
        for f in RECORD_FIELDS
        if f.name != "doc"
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
    and ``fragments_error`` (null, or why the record has no fragments).
    """

    def __init__(self, field: str, pipeline_options: dict[str, Any]):
        self.field = field
        self.pipeline = Pipeline(**pipeline_options)

    def __call__(self, batch: pa.Table) -> pa.Table:
        values = batch.column(self.field).to_pylist() if self.field in batch.column_names else [None] * batch.num_rows
        docs, errors = self._process(values)
        fragments = [[_fragment_row(r) for r in doc.to_records()] if doc else [] for doc in docs]
        messages = [error_message(None, exc) if exc else None for exc in errors]
        return _set_columns(
            batch,
            {"fragments": pa.array(fragments, pa.list_(FRAGMENT_TYPE)), "fragments_error": pa.array(messages, pa.string())},
        )

    def _process(self, values: list) -> tuple[list, list[Exception | None]]:
        """Documents for the values (None where a value failed) and the exceptions.

        The whole batch goes through ``process_many`` at once, so repeated
        fragments are translated once per batch.  Should anything still raise
        mid-batch, the batch is redone record by record, so one hostile record
        is marked with its error and the others go through.
        """
        docs: list = [None] * len(values)
        errors: list[Exception | None] = [None] * len(values)
        items = []
        for i, value in enumerate(values):
            if isinstance(value, (str, bytes)):
                items.append((str(i), value))
            elif value is None:
                errors[i] = ValueError(f"no text: field {self.field!r} is missing or null")
            else:
                errors[i] = TypeError(f"field {self.field!r} holds {type(value).__name__}, not text")

        def report(doc_id: str, exc: Exception) -> None:
            errors[int(doc_id)] = exc

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
                    errors[i] = exc
        return docs, errors


class DocumentWorker(FragmentWorker):
    """The worker behind RayPipeline: texts in (UTF-8 bytes, flagged), pickled Documents and exceptions out.

    Documents travel whole, so the driver writes them with the very code the
    single-machine run uses.  Text travels as bytes (``surrogatepass``) because
    JSON input can hold lone surrogates, which Arrow strings cannot.
    """

    def __call__(self, batch: pa.Table) -> pa.Table:
        flags = batch.column("is_text").to_pylist()
        values = [
            data.decode("utf-8", "surrogatepass") if is_text else data
            for data, is_text in zip(batch.column("data").to_pylist(), flags)
        ]
        docs, errors = self._process(values)
        return pa.table(
            {
                "seq": batch.column("seq"),
                "document": pa.array([pickle.dumps(d) if d else None for d in docs], pa.large_binary()),
                "exception": pa.array([pickle.dumps(_picklable(e)) if e else None for e in errors], pa.binary()),
            }
        )


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _fragment_row(record: dict) -> dict:
    record = dict(record)
    record.pop("doc", None)
    if "run" in record:  # the run signature, a JSON object: its JSON text in Arrow
        record["run"] = json.dumps(record["run"], ensure_ascii=False, sort_keys=True)
    unknown = record.keys() - _FRAGMENT_KEYS
    if unknown:  # a field written by model.fragment_record but missing from model.RECORD_FIELDS
        raise KeyError(f"fragment fields {sorted(unknown)} are missing from polyglot_pipe.integrations.ray.FRAGMENT_TYPE")
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
    """GPU or not, and the pool size: by default one actor per GPU, else one per ``cpus_per_worker`` CPUs."""
    if not ray.is_initialized():
        ray.init()
    resources = ray.cluster_resources()
    if gpus is None:
        gpus = resources.get("GPU", 0) >= 1
    elif gpus and resources.get("GPU", 0) < 1:  # GPU actors would wait forever for a GPU
        raise ClusterError("GPU workers asked for, but the Ray cluster has no GPU (use the CPU, or add GPU nodes)")
    if workers is None:
        workers = int(resources.get("GPU", 0)) if gpus else int(resources.get("CPU", 1) // cpus_per_worker)
        workers = max(workers, 1)
    return gpus, workers


def actor_pool(workers: int | tuple[int, int], blocks: int | None = None) -> "ray.data.ActorPoolStrategy":
    """A fixed pool of ``workers`` actors, or an autoscaling (min, max) one; never more than there are blocks."""
    low, high = workers if isinstance(workers, tuple) else (workers, workers)
    if blocks is not None:
        low, high = min(low, blocks), min(high, blocks)
    if low == high:
        return ray.data.ActorPoolStrategy(size=low)
    return ray.data.ActorPoolStrategy(min_size=low, max_size=high)


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
    **pipeline_kwargs,
) -> "ray.data.Dataset":
    """Each record of ``ds`` with its fragments added; every other field kept.

    ``ds[field]`` holds the text (str) or the raw page (bytes, decoded as the
    CLI decodes files).  Two columns are added (replaced if present):

    - ``fragments``: the record's fragment records (as ``Document.to_records()``,
      without "doc"; Arrow cannot leave keys out, so the optional ones are null);
      a record with empty text gets one "empty" fragment, as everywhere else;
    - ``fragments_error``: null, or one line saying why the record has no
      fragments (not text, binary bytes, a null field); the same names as the
      run command's ``--input-format jsonl`` output.  A bad record never
      stops the job.

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

    Other keyword arguments go to each actor's :class:`Pipeline` as they are
    (``max_batch_tokens=...``, say).

    Row order follows Ray Data: set
    ``ray.data.DataContext.get_current().execution_options.preserve_order = True``
    if you need the input order.
    """
    gpus, workers = worker_plan(workers, cpus_per_worker, gpus)
    options = pipeline_options(
        target=target, packs_dir=packs_dir, langs=langs, translate=translate, beam_size=beam_size,
        memory=memory, batch_size=batch_size, gpu=gpus, threads=cpus_per_worker,
    ) | pipeline_kwargs
    return _map(ds, field, options, actor_pool(workers), gpus, cpus_per_worker, batch_size)


def _map(ds, field, options, pool, gpus, cpus_per_worker, batch_size, worker=FragmentWorker):
    return ds.map_batches(
        worker,
        fn_constructor_args=(field, options),
        batch_format="pyarrow",
        batch_size=batch_size,
        compute=pool,
        num_gpus=1 if gpus else 0,
        num_cpus=None if gpus else cpus_per_worker,
    )


# -- the run command's Pipeline, on Ray


class RayPipeline:
    """``Pipeline.process_many``'s contract, with the work done by a Ray Data actor pool.

    Takes Pipeline's arguments, so the run command builds one in place of a
    Pipeline and writes exactly what it writes on one machine: Documents come
    back whole, in input order, and bad items go to ``on_error`` with the
    exception the Pipeline would have raised.  ``workers`` is the number of
    actors (default: as :func:`process_dataset`); ``threads`` the CPU threads
    of each (default 1).

    Items are taken ``window`` at a time, each window one Ray Data job (its
    actors load the packs once per window): the driver holds one window of
    inputs and results, never the whole corpus.
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
        chunk_size: int = DEFAULT_BATCH_SIZE,
        workers: int | tuple[int, int] | None = None,
        window: int = 10_000,
        **pipeline_kwargs,
    ):
        self.cpus = max(threads, 1)
        gpus = {"auto": None, "cpu": False, "cuda": True}[device]
        self.gpus, self.workers = worker_plan(workers, self.cpus, gpus)
        self.batch_size = max(1, chunk_size)
        self.window = window
        self.options = pipeline_options(
            target=target, packs_dir=packs_dir, langs=langs, translate=translate, beam_size=beam_size,
            memory=memory, batch_size=self.batch_size, gpu=self.gpus, threads=self.cpus,
        ) | pipeline_kwargs
        self._signature = dict(target=target, packs_dir=packs_dir, translate=translate, decoding=f"beam={beam_size}", langs=langs)

    def signature(self) -> dict:
        """The same signature a Pipeline with these options gives (polyglot_pipe.provenance)."""
        from polyglot_pipe.provenance import run_signature

        return run_signature(None, **self._signature)

    def process(self, data: str | bytes, doc_id: str = "0"):
        return next(self.process_many([(doc_id, data)]))

    def process_many(self, items: Iterable, on_error=None) -> Iterator:
        """Stream Documents, one per item, in order (see Pipeline.process_many)."""
        numbered = (item if isinstance(item, tuple) else (str(n), item) for n, item in enumerate(items))
        while True:
            window = list(islice(numbered, self.window))
            if not window:
                return
            results = self._run(window)
            for seq, (doc_id, _data) in enumerate(window):
                document, exception = results[seq]
                if exception is not None:
                    exc = pickle.loads(exception)
                    if on_error is None:
                        raise exc
                    on_error(doc_id, exc)
                else:
                    yield replace(pickle.loads(document), id=doc_id)

    def _run(self, window: list[tuple[str, str | bytes]]) -> dict[int, tuple]:
        rows = [
            {"seq": seq, "data": data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data,
             "is_text": isinstance(data, str)}
            for seq, (_doc_id, data) in enumerate(window)
        ]
        blocks = max(1, min(len(rows) // self.batch_size, 1000))
        ds = ray.data.from_items(rows, override_num_blocks=blocks)
        pool = actor_pool(self.workers, blocks)
        out = _map(ds, "data", self.options, pool, self.gpus, self.cpus, self.batch_size, worker=DocumentWorker)
        results: dict[int, tuple] = {}
        for batch in out.iter_batches(batch_format="pyarrow", batch_size=None):
            for seq, document, exception in zip(
                batch.column("seq").to_pylist(), batch.column("document").to_pylist(), batch.column("exception").to_pylist()
            ):
                results[seq] = (document, exception)
        return results


def run_cli(args, address: str | None) -> int:
    """``polyglot-pipe run --ray [ADDRESS] INPUT...``: the run command, its documents made on a Ray cluster.

    ``args`` are the parsed ``run`` arguments; ``address`` is the cluster's
    ("auto", "ray://head:10001", ...), or None for a local cluster (or the one
    this process is already connected to).  Everything else is the run
    command's own code (inputs, -o FILE or -o DIR, formats, memory, messages,
    exit status): only the Pipeline is swapped for a :class:`RayPipeline`,
    so the outputs are those of the single-machine run.  ``--workers N`` sets
    the number of actors.  Inputs are read on the driver and shipped to the
    workers; polyglot_pipe[ray] and the packs must be installed on every node.
    """
    import logging
    import sys

    from polyglot_pipe.io import batch as runner

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # the run command's stderr is its messages
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            print(f"polyglot-pipe: cannot reach the Ray cluster at {address or 'a new local cluster'}: {exc}", file=sys.stderr)
            return 2
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the run command shows its own progress

        def make_pipeline(**options) -> RayPipeline:
            return RayPipeline(**(options | {"workers": getattr(args, "workers", None)}))

        try:
            return runner.run(args, make_pipeline=make_pipeline)
        except ClusterError as exc:
            print(f"polyglot-pipe: {exc}", file=sys.stderr)
            return 2
    finally:
        if started_here:
            ray.shutdown()
