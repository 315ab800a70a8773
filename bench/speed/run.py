"""CPU time of the non-translation stages on text that does not repeat (issue 16).

Needs bench/speed/data/ (bench/speed/build.py).  One process, one core; CPU
time (time.process_time) so that neighbours on the shared machine disturb it
least.  Per corpus (en-dominant, ru-dominant man pages), document by
document, interleaved:

* ours: decode (the document's UTF-8 bytes), repair, segment (+ repair
  attachment), label, each stage timed on its own;
* raw langdetect, ``detect`` on every non-blank line (every ``--ref-every``-th
  document, scaled to MB/s on the bytes it saw);
* lingua (``lingua-language-detector``, the ``bench`` extra), all languages,
  ``detect_language_of`` on every non-blank line, same documents.

Then ``--input-format lines``: the short documents of lines.txt.gz through the
CLI's path (Pipeline.process_many without translation, one process, after a
warm-up on 300 other lines that loads every script's tables), documents per CPU-second;
and the old repetitive corpus (bench/work/throughput/corpus, if built) beside.

    .venv/bin/python bench/speed/run.py [--ref-every 10] [--lines 20000] [--out bench/work/speed/results.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

STAGES = ("decode", "repair", "segment", "label")


def corpus(name: str) -> list[dict]:
    with gzip.open(HERE / "data" / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


class Ours:
    def __init__(self):
        from polyglot_pipe.stages.identify import LanguageIdentifier

        self.identify = LanguageIdentifier()
        self.identify(self.load(b"Warm-up line. \xd0\x97\xd0\xb0\xd0\xb3.", {}))

    def load(self, data: bytes, t: dict):
        from polyglot_pipe.model import Document
        from polyglot_pipe.pipeline import attach_repairs
        from polyglot_pipe.stages.decode import decode_bytes
        from polyglot_pipe.stages.repair import repair_text
        from polyglot_pipe.stages.segment import segment_document

        c0 = time.process_time()
        d = decode_bytes(data)
        c1 = time.process_time()
        text, edits = repair_text(d.text)
        c2 = time.process_time()
        doc = Document(id="0", text=text, raw_text=d.text, encoding=d.encoding, edits=edits, issues=d.issues)
        doc = attach_repairs(segment_document(doc))
        c3 = time.process_time()
        for k, v in zip(STAGES, (c1 - c0, c2 - c1, c3 - c2)):
            t[k] = t.get(k, 0.0) + v
        return doc

    def __call__(self, data: bytes, t: dict):
        doc = self.load(data, t)
        c = time.process_time()
        doc = self.identify(doc)
        t["label"] = t.get("label", 0.0) + time.process_time() - c
        return doc


def raw_langdetect():
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0

    def run(lines):
        for line in lines:
            try:
                detect(line)
            except LangDetectException:
                pass

    return run


def lingua():
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError:
        return None
    det = LanguageDetectorBuilder.from_all_languages().build()

    def run(lines):
        for line in lines:
            det.detect_language_of(line)

    return run


def measure_corpus(name: str, ours: Ours, refs: dict, every: int) -> dict:
    docs = corpus(name)
    t: dict = {}
    ref_t = {k: 0.0 for k in refs}
    ref_bytes = 0
    mb = 0.0
    frags = foreign = 0
    for i, d in enumerate(docs):
        data = d["text"].encode()
        mb += len(data) / 1e6
        doc = ours(data, t)
        frags += len(doc.fragments)
        foreign += sum(f.lang not in (name, "und", None) for f in doc.fragments)
        if i % every == 0:
            lines = [x for x in d["text"].splitlines() if x.strip()]
            ref_bytes += len(data)
            for k, fn in refs.items():
                c = time.process_time()
                fn(lines)
                ref_t[k] += time.process_time() - c
    total = sum(t.values())
    out = {
        "documents": len(docs), "mb": round(mb, 3), "fragments": frags,
        "other_language_share_of_fragments": round(foreign / max(frags, 1), 3),
        "cpu_s": {k: round(v, 3) for k, v in t.items()}, "cpu_s_total": round(total, 3),
        "mb_s_per_core": round(mb / total, 3),
        "stage_mb_s": {k: round(mb / v, 2) for k, v in t.items() if v},
    }
    for k, v in ref_t.items():
        out[f"{k}_per_line_mb_s"] = round(ref_bytes / 1e6 / v, 3) if v else None
    return out


def measure_lines(n: int) -> dict:
    """--input-format lines: io.sources reads one document per line; label each, one process."""
    from polyglot_pipe import Pipeline

    with gzip.open(HERE / "data" / "lines.txt.gz", "rt", encoding="utf-8") as fh:
        every = fh.read().splitlines()
    lines, warm = every[:n], every[-300:]  # warm-up: other strings, every script's tables loaded
    # what io/batch.py does for --input-format lines: one process_many over the lines, no translation
    pipe = Pipeline(memory=None, html=False, translate=False)
    c = time.process_time()
    for _ in pipe.process_many([(str(i), line.encode()) for i, line in enumerate(warm)]):
        pass
    startup = time.process_time() - c
    c = time.process_time()
    for _ in pipe.process_many([(str(i), line.encode()) for i, line in enumerate(lines)]):
        pass
    s = time.process_time() - c
    return {"documents": len(lines), "cpu_s": round(s, 3), "documents_per_s": round(len(lines) / s, 1),
            "warm_up_cpu_s_300_docs": round(startup, 3)}


def measure_repetitive(ours: Ours, limit: int = 300) -> dict | None:
    """The seed-built corpus of bench/throughput (built here if missing: its build_corpus)."""
    folder = ROOT / "bench" / "work" / "throughput" / "corpus"
    if not folder.exists():
        sys.path.insert(0, str(ROOT / "bench" / "throughput"))
        from build import build_corpus

        build_corpus(folder, 2000)
    files = sorted(folder.rglob("*.txt"))[:limit]
    t: dict = {}
    mb = 0.0
    for f in files:
        data = f.read_bytes()
        mb += len(data) / 1e6
        ours(data, t)
    return {"pages": len(files), "mb": round(mb, 3), "mb_s_per_core": round(mb / sum(t.values()), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-every", type=int, default=10)
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--corpora", default="en,ru")
    ap.add_argument("--no-refs", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "work" / "speed" / "results.json")
    args = ap.parse_args()
    ours = Ours()
    refs = {}
    if not args.no_refs:
        refs["langdetect"] = raw_langdetect()
        if (lg := lingua()) is not None:
            refs["lingua"] = lg
    for fn in refs.values():  # load their models before the clock runs (lingua loads lazily)
        fn(["Warm-up line.", "Строка для разогрева.", "Ligne d'échauffement."])
    result = {name: measure_corpus(name, ours, refs, args.ref_every) for name in args.corpora.split(",")}
    if args.lines:
        result["lines"] = measure_lines(args.lines)
    result["repetitive"] = measure_repetitive(ours)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
