"""Throughput: our batch run against the naive integration and against raw CTranslate2.

Needs bench/throughput/build.py first (the base-sized random-weight pack and the
corpus under bench/work/throughput/).  Everything is measured in one run, on
one machine, so the ratios are what to read; absolute figures are noisy.

    .venv/bin/python bench/throughput/run.py [--pages 2000] [--beam 4] [--length 24]

Measured:
- non-translation stages alone (decode, repair, segment, label), one process: MB/s per core;
- ours, end to end (Pipeline.process_many, worker processes, memory off): pages, MB,
  fragments and output tokens per second, with the time spent in CTranslate2;
- the limit: ``translate_batch`` over exactly the unique texts our run translated,
  pre-tokenized, sorted, batched by tokens (nothing else timed);
- the naive integration: one ``translate_batch`` call per fragment occurrence (no
  dedup, no batching), timed on a sample of occurrences and scaled to all of them;
- the three interleaved slice by slice (see ``measure``), as the machine is shared;
- peak memory (max RSS) of process_many over a growing line-per-document input.

Output length is fixed (min = max decoding length) because random weights decode
to arbitrary lengths: every translated piece costs exactly ``--length`` tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / "work" / "throughput"


def peak_rss_mb(who=resource.RUSAGE_SELF) -> float:
    """Peak resident memory.  For this process, VmHWM: ru_maxrss survives exec, so a child
    started from a big parent would report the parent's peak."""
    if who == resource.RUSAGE_SELF:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
    return resource.getrusage(who).ru_maxrss / 1024


def pages(limit: int) -> list[Path]:
    return sorted((WORK / "corpus").rglob("*.txt"))[:limit]


def packs_dir() -> Path:
    """The bench pack installed as a packages directory (a symlinked folder)."""
    folder = WORK / "packages"
    folder.mkdir(exist_ok=True)
    link = folder / "translate-ru_en-9_9"
    if not link.exists():
        link.symlink_to(WORK / "pack", target_is_directory=True)
    return folder


def stages_alone(files: list[Path]) -> dict:
    """Decode+repair+segment, then labelling, one process, on English-dominant pages."""
    from polyglot_pipe.pipeline import load_document
    from polyglot_pipe.stages.identify import LanguageIdentifier

    data = [(str(f), f.read_bytes()) for f in files]
    mb = sum(len(d) for _, d in data) / 1e6
    identify = LanguageIdentifier()
    identify(load_document("Warm-up line. Заголовок."))
    t0 = time.perf_counter()
    docs = [load_document(d, i) for i, d in data]
    t1 = time.perf_counter()
    docs = [identify(doc) for doc in docs]
    t2 = time.perf_counter()
    fragments = sum(len(d.fragments) for d in docs)
    english = sum(f.lang == "en" for d in docs for f in d.fragments) / fragments
    return {
        "pages": len(data), "mb": round(mb, 3), "fragments": fragments, "english_share": round(english, 3),
        "load_mb_s": round(mb / (t1 - t0), 2), "label_mb_s": round(mb / (t2 - t1), 2),
        "all_mb_s_per_core": round(mb / (t2 - t0), 3), "seconds": round(t2 - t0, 2),
    }


def measure(files: list[Path], args) -> dict:
    """Ours, the limit and the naive way, interleaved slice by slice.

    The machine is shared, and its load moves on a scale of minutes: measuring
    ours for ten minutes and then the references would compare different loads.
    So the corpus is cut into slices; after our run over a slice, the limit
    translates exactly the new unique texts ours sent to the pack for it, and
    the naive way translates a sample of that slice's fragment occurrences.
    One Pipeline serves all slices, so dedup across the whole run is kept.
    """
    import ctranslate2
    import sentencepiece

    from polyglot_pipe import Pipeline
    from polyglot_pipe.stages.translate import LoadedPack

    asked: list[str] = []
    spent = [0.0]
    real = LoadedPack.translate

    def timed(self, texts, **kwargs):  # measures, does not replace: the real call runs
        asked.extend(texts)
        t = time.perf_counter()
        try:
            return real(self, texts, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t

    LoadedPack.translate = timed
    pipeline = Pipeline(
        packs_dir=packs_dir(), beam_size=args.beam, threads=args.threads, memory=None,
        workers=args.workers, chunk_size=args.chunk_size,
        max_decoding_length=args.length, min_decoding_length=args.length,
    )
    pipeline.translator.pack_for("ru")  # load the model before the clock starts, as a warm run would
    raw = ctranslate2.Translator(
        str(WORK / "pack" / "model"), device="cpu", compute_type="int8",
        inter_threads=1, intra_threads=args.threads or min(4, os.cpu_count() or 1),
    )
    tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(WORK / "pack" / "sentencepiece.model"))
    raw.translate_batch([["▁a"]] * 8, beam_size=args.beam, max_decoding_length=4)  # warm-up
    # Argos's decoding options, as LoadedPack.translate passes them, for all three ways.
    decode = dict(
        beam_size=args.beam, num_hypotheses=1, length_penalty=0.2, replace_unknowns=True,
        max_decoding_length=args.length, min_decoding_length=args.length,
    )

    ours_s = limit_s = naive_s = 0.0
    fragments = translated = naive_calls = 0
    occurrences_total = 0
    size = len(files) // args.slices + 1
    for k in range(0, len(files), size):
        part = files[k : k + size]
        already = len(asked)
        occurrences: list[str] = []
        t0 = time.perf_counter()
        for doc in pipeline.process_many((str(f), f.read_bytes()) for f in part):
            for frag in doc.fragments:
                fragments += 1
                if frag.method.startswith("argos:"):
                    translated += 1
                    occurrences.append(frag.original)
        ours_s += time.perf_counter() - t0
        occurrences_total += len(occurrences)

        batch = sorted((tokenizer.encode(t, out_type=str) for t in asked[already:]), key=len)
        t0 = time.perf_counter()
        if batch:
            raw.translate_batch(batch, max_batch_size=4096, batch_type="tokens", **decode)
        limit_s += time.perf_counter() - t0

        step = max(1, len(occurrences) // (args.naive_sample // args.slices or 1))
        sample = occurrences[::step][: args.naive_sample // args.slices or 1]
        t0 = time.perf_counter()
        for text in sample:
            raw.translate_batch([tokenizer.encode(text, out_type=str)], **decode)
        naive_s += time.perf_counter() - t0
        naive_calls += len(sample)
        print(f"  slice {k // size + 1}: ours {ours_s:.0f}s, limit {limit_s:.0f}s, naive sample {naive_s:.0f}s",
              file=sys.stderr)
    LoadedPack.translate = real

    mb = sum(f.stat().st_size for f in files) / 1e6
    tokens = len(asked) * args.length
    naive_all = naive_s / naive_calls * occurrences_total
    return {
        "ours": {
            "pages": len(files), "mb": round(mb, 2), "fragments": fragments,
            "translated_fragments": translated, "unique_translated": len(asked),
            "seconds": round(ours_s, 2), "ct2_seconds": round(spent[0], 2),
            "pages_s": round(len(files) / ours_s, 2), "mb_s": round(mb / ours_s, 3),
            "fragments_s": round(fragments / ours_s, 1),
            "translated_fragments_s": round(translated / ours_s, 1),
            "output_tokens_s": round(tokens / ours_s, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "peak_rss_largest_worker_mb": round(peak_rss_mb(resource.RUSAGE_CHILDREN), 1),
        },
        "limit": {"texts": len(asked), "seconds": round(limit_s, 2), "output_tokens_s": round(tokens / limit_s, 1)},
        "naive": {
            "sample_calls": naive_calls, "sample_seconds": round(naive_s, 2),
            "output_tokens_s": round(naive_calls * args.length / naive_s, 1),
            "estimated_seconds_all": round(naive_all, 1), "occurrences": occurrences_total,
        },
    }


def memory_probe(megabytes: float) -> None:
    """In a fresh process: stream a lines file of about ``megabytes`` through process_many, print peak RSS."""
    from polyglot_pipe import Pipeline

    path = WORK / f"lines-{megabytes}MB.txt"
    if not path.exists():
        with open(path, "wb") as out:
            written = 0
            for f in pages(10**9):
                data = f.read_bytes()
                out.write(data)
                written += len(data)
                if written >= megabytes * 1e6:
                    break
    before = peak_rss_mb()

    def lines():
        with open(path, "rb") as fh:
            for n, line in enumerate(fh):
                yield str(n), line.rstrip(b"\n")

    t0 = time.perf_counter()
    count = sum(1 for _ in Pipeline(translate=False).process_many(lines()))
    print(json.dumps({
        "input_mb": round(path.stat().st_size / 1e6, 2), "documents": count,
        "seconds": round(time.perf_counter() - t0, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1), "rss_after_imports_mb": round(before, 1),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--beam", type=int, default=4, help="beam size (4: Argos's own setting)")
    parser.add_argument("--length", type=int, default=24, help="output tokens per translated piece")
    parser.add_argument("--threads", type=int, default=0, help="CTranslate2 threads (default: up to 4)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk-size", type=int, default=64)
    parser.add_argument("--stage-pages", type=int, default=200, help="pages for the stages-alone figure")
    parser.add_argument("--naive-sample", type=int, default=100, help="calls timed for the naive figure")
    parser.add_argument("--slices", type=int, default=10, help="slices to interleave ours and the references in")
    parser.add_argument("--memory-sizes", default="0.5,1,2,4", help="MB of line input for the peak-memory figure")
    parser.add_argument("--memory-probe", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args.memory_probe)
        return
    if not (WORK / "pack" / "model" / "model.bin").is_file():
        sys.exit("run bench/throughput/build.py first")

    files = pages(args.pages)
    results: dict = {"settings": {k: v for k, v in vars(args).items() if k != "memory_probe"}, "cpus": os.cpu_count()}
    print(f"stages alone on {args.stage_pages} pages ...", file=sys.stderr)
    results["stages"] = stages_alone(files[: args.stage_pages])
    print(f"ours, the limit and naive on {len(files)} pages, {args.slices} slices ...", file=sys.stderr)
    results.update(measure(files, args))
    results["memory"] = []
    for size in args.memory_sizes.split(","):
        print(f"peak memory, {size} MB of lines ...", file=sys.stderr)
        probe = subprocess.run(
            [sys.executable, __file__, "--memory-probe", size], capture_output=True, text=True, check=True
        )
        results["memory"].append(json.loads(probe.stdout.strip().splitlines()[-1]))

    o, lim, nv, st = results["ours"], results["limit"], results["naive"], results["stages"]
    # The naive integration runs the same CPU stages, in one process, then one call per fragment.
    naive_e2e = o["mb"] / st["all_mb_s_per_core"] + nv["estimated_seconds_all"]
    results["ratios"] = {
        "ours_vs_naive_end_to_end": round(naive_e2e / o["seconds"], 1),
        "ours_vs_naive_translation": round(nv["estimated_seconds_all"] / o["ct2_seconds"], 1),
        "ours_end_to_end_vs_limit": round(lim["seconds"] / o["seconds"], 3),
        "ours_translation_vs_limit": round(lim["seconds"] / o["ct2_seconds"], 3),
    }
    (WORK / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
