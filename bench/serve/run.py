"""Load test of `polyglot-pipe serve` on loopback, against calling the library directly.

    nice -n 10 .venv/bin/python bench/serve/run.py --clients 50 --seconds 30

Texts: the Russian sentences of the real pages in tests/data/html/aptitude/ru (the
aptitude manual), each request one sentence with "номер N" inserted, so no
two requests are the same text and every one needs a real translation (no memory
hit, no in-process cache hit).  Pack: our committed ru->en pack (language_packs/).
The server runs in its own process with the translation memory off, CTranslate2 on
--threads; the clients are threads with one keep-alive connection each, POSTing
LibreTranslate JSON to /translate (source "ru", so detection does not differ).

Phases, interleaved (library, service, library), one run:
- library, one call per text: ``Pipeline.process(text)`` in a loop, as a naive
  service would; latency per call;
- service: N concurrent clients for S seconds; requests/s, p50/p99 latency;
- library, batched: the same number of texts through one ``process_many``: the
  best throughput the library offers this workload (what the server's batching aims at).
Writes bench/work/serve/results.json and prints a table.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PACK = ROOT / "language_packs" / "translate-ru_en-1_0.argosmodel"
PAGES = ROOT / "tests" / "data" / "html" / "aptitude" / "ru"


def sentences() -> list[str]:
    from polyglot_pipe.stages.html import extract_page

    found: list[str] = []
    for page in sorted(PAGES.glob("*.html")):
        for line in extract_page(page.read_bytes()).text.split("\n"):
            for sentence in re.split(r"(?<=[.!?:])\s+", line.strip()):
                if len(sentence.split()) >= 3 and re.search("[а-яА-Я]", sentence):
                    found.append(sentence)
    return found


def texts(base: list[str], n: int, offset: int = 0) -> list[str]:
    """Distinct texts: a sentence with "номер N" put before its final mark, inside the
    fragment (a trailing "(N)" would be a fragment of its own, and the sentence a cache hit)."""
    out = []
    for i in range(n):
        sentence = base[(offset + i) % len(base)]
        body, mark = (sentence[:-1], sentence[-1]) if sentence[-1] in ".!?:" else (sentence, "")
        out.append(f"{body} номер {offset + i}{mark}")
    return out


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def library_sequential(pipeline, items: list[str], seconds: float) -> dict:
    latencies = []
    started = time.perf_counter()
    for text in items:
        t0 = time.perf_counter()
        pipeline.process(text)
        latencies.append(time.perf_counter() - t0)
        if time.perf_counter() - started > seconds:
            break
    wall = time.perf_counter() - started
    return {"requests": len(latencies), "wall_s": wall, "rps": len(latencies) / wall,
            "p50_ms": 1000 * percentile(latencies, 0.5), "p99_ms": 1000 * percentile(latencies, 0.99)}  # fmt: skip


def library_batched(pipeline, items: list[str]) -> dict:
    started = time.perf_counter()
    n = sum(1 for _ in pipeline.process_many(items))
    wall = time.perf_counter() - started
    return {"requests": n, "wall_s": wall, "rps": n / wall}


def serve_load(port: int, base: list[str], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = [0]
    stop = time.perf_counter() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.perf_counter() < stop:
            with lock:
                n = counter[0]
                counter[0] += 1
            body = json.dumps({"q": texts(base, 1, 100_000 + n)[0], "source": "ru", "target": "en"})
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/translate", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                payload = response.read()
                ok = response.status == 200 and "translatedText" in json.loads(payload)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                ok, payload = False, str(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            elapsed = time.perf_counter() - t0
            with lock:
                (latencies.append(elapsed) if ok else errors.append(payload[:200].decode("utf-8", "replace")))
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"requests": len(latencies), "errors": len(errors), "error_sample": errors[:3], "wall_s": wall,
            "rps": len(latencies) / wall, "p50_ms": 1000 * percentile(latencies, 0.5),
            "p99_ms": 1000 * percentile(latencies, 0.99), "clients": clients}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=2, help="CTranslate2 threads, server and library alike")
    parser.add_argument("--out", default=str(ROOT / "bench" / "work" / "serve" / "results.json"))
    args = parser.parse_args()

    from polyglot_pipe import Pipeline
    from polyglot_pipe.packs.store import install_pack_file

    base = sentences()
    work = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    packs = work / "packs"
    install_pack_file(PACK, packs)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLYGLOT_PIPE_CACHE_DIR": str(work / "cache")}
    server = subprocess.Popen(
        [sys.executable, "-m", "polyglot_pipe", "serve", "--port", str(port), "--packs-dir", str(packs),
         "--no-memory", "--threads", str(args.threads), "--max-queue", "4096", "--timeout", "300"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    results: dict = {"sentences": len(base), "clients": args.clients, "seconds": args.seconds, "threads": args.threads}
    try:
        for _ in range(300):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health")
                break
            except OSError:
                time.sleep(0.1)
        # warm both up (pack load, first call)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/translate", json.dumps({"q": base[0], "source": "ru", "target": "en"}), {"Content-Type": "application/json"})
        conn.getresponse().read()
        pipeline = Pipeline(packs_dir=packs, memory=None, threads=args.threads, html=False)
        pipeline.process(base[0])

        loadavg_before = os.getloadavg()
        results["library_sequential_1"] = library_sequential(pipeline, texts(base, 10_000, 1_000_000), args.seconds / 3)
        results["serve"] = serve_load(port, base, args.clients, args.seconds)
        results["library_sequential_2"] = library_sequential(pipeline, texts(base, 10_000, 2_000_000), args.seconds / 3)
        results["library_batched"] = library_batched(pipeline, texts(base, results["serve"]["requests"], 3_000_000))
        results["loadavg_before_after"] = [loadavg_before, os.getloadavg()]
    finally:
        server.terminate()
        server.wait(10)

    seq_rps = statistics.mean([results["library_sequential_1"]["rps"], results["library_sequential_2"]["rps"]])
    results["ratio_serve_to_library_sequential"] = results["serve"]["rps"] / seq_rps
    results["ratio_serve_to_library_batched"] = results["serve"]["rps"] / results["library_batched"]["rps"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    s, l1, l2, b = results["serve"], results["library_sequential_1"], results["library_sequential_2"], results["library_batched"]
    print(f"sentences: {len(base)} distinct bases; clients {args.clients}, {args.seconds:g} s; threads {args.threads}")
    print("| phase | requests | req/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    print(f"| library, one call per text (1) | {l1['requests']} | {l1['rps']:.1f} | {l1['p50_ms']:.1f} | {l1['p99_ms']:.1f} |")
    print(f"| service, {args.clients} clients | {s['requests']} (errors {s['errors']}) | {s['rps']:.1f} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} |")
    print(f"| library, one call per text (2) | {l2['requests']} | {l2['rps']:.1f} | {l2['p50_ms']:.1f} | {l2['p99_ms']:.1f} |")
    print(f"| library, one process_many | {b['requests']} | {b['rps']:.1f} | - | - |")
    print(f"service / library one-by-one: {results['ratio_serve_to_library_sequential']:.2f}x; "
          f"service / library batched: {results['ratio_serve_to_library_batched']:.2f}x; load {results['loadavg_before_after']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
