"""CPU inference speed of each `packs build --size`, for the size/quality trade-off (issue 14).

For every size in ``polyglot_pipe.packs.build.SIZES`` a MarianMT with random weights and an
8,000-piece SentencePiece vocabulary (the recipe's ``--vocab-size 8000``) is converted to int8
CTranslate2 exactly as ``packs build`` converts a trained one.  Random weights cost what trained
ones cost per token as long as the output length is fixed, so every rendering decodes exactly
``--tokens`` pieces (min = max decoding length).  Sources: Russian lines of
bench/speed/data/ru.jsonl.gz (real man-page text, no line twice).  Decoding as Argos does (beam 4,
``DECODE_KW``), one thread, batches of 32; sizes are timed in interleaved rounds, CPU time.

    .venv/bin/python bench/packsize/run.py [--lines 256] [--rounds 3] [--out bench/work/packsize/results.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEED_DATA = ROOT / "bench" / "speed" / "data"
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def russian_lines(n: int) -> list[str]:
    """``n`` distinct Russian lines of 3-40 words from the speed bench's Russian man pages."""
    with gzip.open(SPEED_DATA / "ru.jsonl.gz", "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    seen, out = set(), []
    for text in texts:
        for line in text.splitlines():
            line = " ".join(line.split())
            if line not in seen and 3 <= len(line.split()) <= 40 and len(_CYRILLIC.findall(line)) > len(line) / 2:
                seen.add(line)
                out.append(line)
    random.Random(0).shuffle(out)
    return out[:n]


def build(size: str, sp, work: Path) -> tuple[Path, int]:
    import torch

    from polyglot_pipe.packs import build as pb

    torch.manual_seed(0)
    model = pb.make_model(sp.get_piece_size() + 1, size)
    parameters = sum(p.numel() for p in model.parameters())
    return pb.convert_to_ctranslate2(model, sp, work / size, quantization="int8"), parameters


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=256)
    ap.add_argument("--tokens", type=int, default=24, help="target pieces decoded per rendering")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "work" / "packsize" / "results.json")
    args = ap.parse_args()

    import ctranslate2

    from polyglot_pipe.packs import build as pb

    lines = russian_lines(args.lines)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # a joint vocabulary like the recipe's: Russian man-page lines and English catalog strings
        with gzip.open(SPEED_DATA / "en.jsonl.gz", "rt", encoding="utf-8") as fh:
            english = [ln for line in fh for ln in json.loads(line)["text"].splitlines() if ln.strip()][:20000]
        pairs = list(zip(russian_lines(20000), english))
        sp = pb.train_sentencepiece(pairs, work / "sp", vocab_size=8000, seed=0)
        source = [sp.encode(line, out_type=str) for line in lines]
        source_pieces = sum(map(len, source))
        models = {}
        for size in pb.SIZES:
            path, parameters = build(size, sp, work)
            models[size] = {
                "translator": ctranslate2.Translator(str(path), device="cpu", inter_threads=1, intra_threads=1),
                "parameters": parameters,
                "int8_mb": round(sum(f.stat().st_size for f in path.iterdir()) / 1e6, 1),
                "cpu_s": [],
            }
        options = dict(pb.DECODE_KW, max_batch_size=32, min_decoding_length=args.tokens,
                       max_decoding_length=args.tokens)
        for m in models.values():  # warm-up
            m["translator"].translate_batch(source[:8], **options)
        for _ in range(args.rounds):
            for m in models.values():
                c = time.process_time()
                results = m["translator"].translate_batch(source, **options)
                m["cpu_s"].append(time.process_time() - c)
                assert all(len(r.hypotheses[0]) == args.tokens for r in results)
    report = {
        "lines": len(lines), "source_pieces": source_pieces, "target_pieces_each": args.tokens,
        "ctranslate2": ctranslate2.__version__, "decode": {k: v for k, v in options.items()},
        "sizes": {},
    }
    for size, m in models.items():
        cpu = statistics.median(m["cpu_s"])
        report["sizes"][size] = {
            "config": pb.SIZES[size], "parameters": m["parameters"], "int8_mb": m["int8_mb"],
            "cpu_s": [round(c, 3) for c in m["cpu_s"]],
            "renderings_per_s": round(len(lines) / cpu, 1),
            "source_plus_target_tokens_per_s": round((source_pieces + len(lines) * args.tokens) / cpu),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print("| size | config | parameters | int8 MB | renderings/s | source+target tokens/s |")
    print("|---|---|---:|---:|---:|---:|")
    for size, r in report["sizes"].items():
        c = r["config"]
        print(f"| {size} | d{c['d_model']}, {c['encoder_layers']}+{c['decoder_layers']} layers, FFN {c['ffn_dim']} "
              f"| {r['parameters'] / 1e6:.1f} M | {r['int8_mb']} | {r['renderings_per_s']} "
              f"| {r['source_plus_target_tokens_per_s']:,} |")


if __name__ == "__main__":
    main()
