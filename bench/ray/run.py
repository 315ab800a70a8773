"""Throughput of polyglot_pipe.integrations.ray on a local Ray cluster: one process, then 1 and 2 Ray workers.

Uses the throughput benchmark's inputs (a base-sized ru->en pack with random
weights and seed-like pages; see bench/throughput/build.py).  Random weights
cost what trained ones cost per token as long as the decoding length is fixed,
so every translation decodes exactly ``--decode-tokens`` tokens.

    .venv/bin/python bench/throughput/build.py          # once
    .venv/bin/python bench/ray/run.py [--pages 200]

Each configuration is timed on 2 pages (the fixed cost: actors start and
load the pack, Ray Data schedules) and on ``--pages`` pages; the steady rate
is (pages - 2) / (difference).  A throw-away job first starts Ray's worker
processes.  The one-process run also reports pages per CPU-second, the
per-core figure that other processes on a shared machine disturb least.
All in one run, so ratios compare like with like; results go to
bench/work/ray/results.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / "work"
PACKS = WORK / "throughput"  # holds pack/ (an installed pack) and corpus/
OUT = WORK / "ray"


def load_pages(count: int) -> list[dict]:
    files = sorted((PACKS / "corpus").rglob("*.txt"))[:count]
    if len(files) < count:
        sys.exit(f"{PACKS / 'corpus'} has {len(files)} pages, {count} asked: run bench/throughput/build.py")
    return [{"id": str(f.relative_to(PACKS)), "data": f.read_bytes()} for f in files]


BATCH = 16


def time_single(items: list[dict], decode: dict) -> dict:
    """One process, no Ray: the Pipeline with one CTranslate2 thread."""
    from polyglot_pipe import Pipeline

    wall, cpu = time.perf_counter(), time.process_time()
    pipeline = Pipeline(packs_dir=PACKS, threads=1, device="cpu", chunk_size=BATCH, **decode)
    docs = list(pipeline.process_many([(i["id"], i["data"]) for i in items]))
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
            "fragments": sum(len(d.fragments) for d in docs),
            "translated": sum(f.method.startswith("argos:") for d in docs for f in d.fragments)}


class ActorCpu:
    """CPU seconds used by the pool's actors, read from /proc while the job runs.

    Wall time on a shared 2-core machine says as much about the neighbours as
    about us; CPU time per page does not.  Ray titles an actor's process
    "ray::MapWorker(MapBatches(FragmentWorker))"; the last reading of each
    process counts (up to one interval of an actor's last work is missed).
    """

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, interval: float = 0.2):
        import threading

        self.seen: dict[int, float] = {}
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @classmethod
    def reading(cls) -> dict[int, float]:
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if b"FragmentWorker))" not in (entry / "cmdline").read_bytes():
                    continue
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / cls.TICK
        return found

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.seen.update(self.reading())
            self._stop.wait(self.interval)

    def __enter__(self) -> "ActorCpu":
        self.before = self.reading()  # a previous job's actors may still be winding down
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.seen.items())


def time_ray(items: list[dict], workers: int, decode: dict) -> dict:
    with ActorCpu() as cpu:
        result = _time_ray(items, workers, decode)
    result["cpu_s"] = cpu.seconds
    return result


def _time_ray(items: list[dict], workers: int, decode: dict) -> dict:
    import ray.data

    from polyglot_pipe.integrations.ray import process_dataset

    wall = time.perf_counter()
    ds = ray.data.from_items(items, override_num_blocks=max(1, len(items) // BATCH))
    out = process_dataset(ds, "data", packs_dir=PACKS, workers=workers, cpus_per_worker=1, gpus=False,
                          batch_size=BATCH, **decode)
    fragments = 0
    for batch in out.select_columns(["fragments"]).iter_batches(batch_format="pyarrow", batch_size=None):
        fragments += sum(len(f) for f in batch.column("fragments").to_pylist())
    return {"wall_s": time.perf_counter() - wall, "fragments": fragments}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--decode-tokens", type=int, default=24, help="tokens decoded per translation")
    args = parser.parse_args()
    decode = {"max_decoding_length": args.decode_tokens, "min_decoding_length": args.decode_tokens}

    import ray
    import ray.data

    pages = load_pages(args.pages)
    results = {"pages": args.pages, "decode_tokens": args.decode_tokens, "batch": BATCH, "cpus": os.cpu_count(),
               "load_average_before": os.getloadavg()[0], "runs": {}}

    def record(name: str, fixed: dict, full: dict) -> None:
        steady = (args.pages - 2) / max(full["wall_s"] - fixed["wall_s"], 1e-9)
        run = {"fixed_s": round(fixed["wall_s"], 2), "total_s": round(full["wall_s"], 2),
               "pages_per_s": round(args.pages / full["wall_s"], 3), "steady_pages_per_s": round(steady, 3),
               "fragments_per_page": round(full["fragments"] / args.pages, 1)}
        run["pages_per_cpu_s"] = round(args.pages / full["cpu_s"], 3)  # the actors' CPU, for Ray
        run["steady_pages_per_cpu_s"] = round((args.pages - 2) / max(full["cpu_s"] - fixed["cpu_s"], 1e-9), 3)
        if "translated" in full:
            run["translated_fragments_per_page"] = round(full["translated"] / args.pages, 2)
        results["runs"][name] = run
        print(f"{name:>15}: {json.dumps(run)}", flush=True)

    record("one process", time_single(pages[:2], decode), time_single(pages, decode))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    time_ray(pages[:4], 2, decode)  # start Ray's worker processes
    for workers in (1, 2):
        record(f"ray, {workers} worker{'s' * (workers > 1)}", time_ray(pages[:2], workers, decode),
               time_ray(pages, workers, decode))
    ray.shutdown()

    runs = results["runs"]
    results["scaling_2_vs_1"] = round(runs["ray, 2 workers"]["steady_pages_per_s"] / runs["ray, 1 worker"]["steady_pages_per_s"], 3)
    results["ray_1_vs_one_process"] = round(runs["ray, 1 worker"]["steady_pages_per_s"] / runs["one process"]["steady_pages_per_s"], 3)
    results["per_core_pages_per_s"] = runs["one process"]["steady_pages_per_cpu_s"]
    results["ray_cpu_per_page_2_vs_1"] = round(runs["ray, 1 worker"]["steady_pages_per_cpu_s"] / runs["ray, 2 workers"]["steady_pages_per_cpu_s"], 3)
    results["load_average_after"] = os.getloadavg()[0]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in results.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
