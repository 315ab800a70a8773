"""Concurrent requests, batched into the same pipelines on one worker thread.

Why one thread: CTranslate2 already uses several cores per call, the
translation memory's SQLite connection belongs to the thread that opened it, and
the win is batching, not parallel Python: requests that arrive while a batch
is running wait in the queue, and the next batch takes all of them (up to
``max_docs`` documents), so their fragments go through one deduplicated,
length-sorted CTranslate2 call per pack instead of one call each.

A request that waited past its timeout is answered with an error and dropped
from the queue before any work is spent on it; a full queue refuses at once
(the service answers 429), so a burst cannot pile up unbounded work.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from polyglot_pipe.errors import QueueFullError
from polyglot_pipe.model import Document

__all__ = ["Batcher", "Job"]


@dataclass(eq=False)
class Job:
    key: tuple  # which pipeline (see ``Batcher.pipeline_for``)
    items: list[str]
    label_only: bool
    future: asyncio.Future
    results: list = field(default_factory=list)


class Batcher:
    """``await batcher.submit(key, texts)`` -> one Document (or exception) per text.

    ``make_pipeline(key)`` builds the Pipeline for a key the first time it is
    needed, on the worker thread; pipelines are kept for the server's life.
    """

    def __init__(
        self,
        make_pipeline: Callable[[tuple], object],
        *,
        max_docs: int = 256,
        max_queue: int = 512,
    ):
        self.make_pipeline = make_pipeline
        self.max_docs = max_docs
        self.max_queue = max_queue
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="polyglot-pipe-batch")
        self._pipelines: dict[tuple, object] = {}
        self._lock = threading.Lock()
        self.batches = 0  # batches run, and documents in them: for /health and the bench
        self.documents = 0

    async def start(self) -> None:
        self._queue = asyncio.Queue(self.max_queue)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=True, cancel_futures=True)
        for pipeline in self._pipelines.values():
            close = getattr(pipeline, "close", None)
            if close:
                close()

    async def submit(self, key: tuple, items: Sequence[str], *, label_only: bool = False, timeout: float = 60.0) -> list:
        """Documents for ``items`` (an item that failed comes back as its exception).
        Raises QueueFullError, or asyncio.TimeoutError after ``timeout`` seconds."""
        assert self._queue is not None, "Batcher.start() was not awaited"
        future = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait(Job(key, list(items), label_only, future))
        except asyncio.QueueFull:
            raise QueueFullError(f"{self._queue.qsize()} requests are waiting") from None
        return await asyncio.wait_for(future, timeout)

    def run_sync(self, fn: Callable, *args):
        """Run ``fn`` on the worker thread (for work that must not race the batches)."""
        return asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            size = len(jobs[0].items)
            while size < self.max_docs and not self._queue.empty():
                job = self._queue.get_nowait()
                jobs.append(job)
                size += len(job.items)
            jobs = [job for job in jobs if not job.future.done()]  # timed out while waiting
            if not jobs:
                continue
            try:
                await loop.run_in_executor(self._executor, self._work, jobs)
            except Exception as exc:  # never let one batch stop the service
                for job in jobs:
                    job.results = [exc] * len(job.items)
            for job in jobs:
                if not job.future.done():
                    job.future.set_result(job.results)

    def pipeline_for(self, key: tuple):
        with self._lock:
            pipeline = self._pipelines.get(key)
            if pipeline is None:
                pipeline = self._pipelines[key] = self.make_pipeline(key)
            return pipeline

    def _work(self, jobs: list[Job]) -> None:
        """On the worker thread: the jobs of each pipeline together, in one process_many."""
        self.batches += 1
        groups: dict[tuple, list[Job]] = {}
        for job in jobs:
            groups.setdefault((job.key, job.label_only), []).append(job)
        for (key, label_only), members in groups.items():
            try:
                pipeline = self.pipeline_for(key)
            except Exception as exc:
                for job in members:
                    job.results = [exc] * len(job.items)
                continue
            if label_only:
                for job in members:
                    job.results = [_safe(pipeline.label, text, str(i)) for i, text in enumerate(job.items)]
                continue
            items = [(f"{n}:{i}", text) for n, job in enumerate(members) for i, text in enumerate(job.items)]
            failed: dict[str, Exception] = {}
            done: dict[str, Document] = {}
            try:
                for doc in pipeline.process_many(items, on_error=failed.__setitem__):
                    done[doc.id] = doc
            except Exception as exc:
                for doc_id, _ in items:
                    if doc_id not in done:
                        failed.setdefault(doc_id, exc)
            self.documents += len(items)
            for n, job in enumerate(members):
                job.results = [done.get(f"{n}:{i}") or failed.get(f"{n}:{i}") for i in range(len(job.items))]


def _safe(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:
        return exc
