"""Build small, genuine Argos Translate packs from a parallel corpus.

Recipe (``polyglot-pipe packs build CORPUS.tsv --from ru --to en -o OUT.argosmodel``):

1. read a TSV corpus (``source<TAB>target`` per line; malformed lines are skipped
   and counted);
2. train a joint SentencePiece model (seeded, single-threaded, deterministic);
3. build a ``transformers`` MarianMTModel from scratch and train it (seeded,
   deterministic algorithms) -- the source side carries NO ``</s>`` because
   Argos feeds ``sp.encode(text, out_type=str)`` straight to CTranslate2;
4. convert it with ``ctranslate2.converters.TransformersConverter`` (int8 by
   default);
5. zip it in the Argos layout: ``translate-<from>_<to>-<ver>/`` holding
   ``metadata.json``, ``model/``, ``sentencepiece.model`` and ``README.md``.

Only the standard library is imported at module level; torch, transformers,
ctranslate2 and sentencepiece are imported inside the functions that need them.

Vocabulary layout (what CTranslate2's Marian loader expects): SentencePiece ids
``0 = </s>``, ``1 = <unk>``, then the pieces; the model vocabulary appends one
``<pad>`` token as the LAST id, which is also the decoder start token. The
converter drops that last row and makes the decoder start from a zero
embedding, so the ``<pad>`` embedding row is kept at exactly zero during
training (transformers 5.x no longer does it, and the tied output projection
would update it otherwise).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from polyglot_pipe.util.atomic import atomic_write

SIZES: dict[str, dict[str, int]] = {
    # d_model, layers, heads, feed-forward width
    "tiny": dict(d_model=256, encoder_layers=2, decoder_layers=2, heads=4, ffn_dim=1024),
    "small": dict(d_model=384, encoder_layers=4, decoder_layers=4, heads=6, ffn_dim=1536),
    "base": dict(d_model=512, encoder_layers=6, decoder_layers=6, heads=8, ffn_dim=2048),
}
DEFAULT_STEPS = {"tiny": 1200, "small": 6000, "base": 20000}
DEFAULT_VOCAB_SIZE = 3000
ARGOS_VERSION = "1.9"
MAX_TOKENS = 128          # per side, training truncation
MAX_POSITIONS = 256       # position table size (stored in the pack)
DECODE_KW = dict(beam_size=4, num_hypotheses=1, length_penalty=0.2, replace_unknowns=True)

LANGUAGE_NAMES = {
    "ar": "Arabic", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "fi": "Finnish", "fr": "French", "he": "Hebrew",
    "hi": "Hindi", "hu": "Hungarian", "it": "Italian", "ja": "Japanese", "ko": "Korean",
    "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sv": "Swedish", "tr": "Turkish", "uk": "Ukrainian", "zh": "Chinese",
}


def language_name(code: str) -> str:
    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    try:  # optional
        import langcodes  # type: ignore

        return langcodes.Language.get(code).display_name()
    except Exception:
        return code


# --------------------------------------------------------------------------- corpus


@dataclass
class Corpus:
    pairs: list[tuple[str, str]]
    skipped: int
    sha256: str


def read_corpus(path: str | os.PathLike) -> Corpus:
    """Read ``source<TAB>target`` lines; lines without exactly two non-empty
    fields are skipped (and counted)."""
    data = Path(path).read_bytes()
    pairs: list[tuple[str, str]] = []
    skipped = 0
    for raw in data.decode("utf-8", errors="replace").splitlines():
        if not raw.strip():
            continue
        fields = raw.split("\t")
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            skipped += 1
            continue
        pairs.append((fields[0].strip(), fields[1].strip()))
    return Corpus(pairs, skipped, hashlib.sha256(data).hexdigest())


# --------------------------------------------------------------------------- tokenizer


def train_sentencepiece(pairs: Sequence[tuple[str, str]], model_prefix: str | os.PathLike,
                        vocab_size: int, seed: int = 0) -> Any:
    """Train a joint (source+target) unigram SentencePiece model.

    Ids: 0 = ``</s>``, 1 = ``<unk>``; no ``<s>``/``<pad>`` (the model appends
    ``<pad>`` as its last id)."""
    import sentencepiece as spm

    model_prefix = str(model_prefix)
    text_path = model_prefix + ".txt"
    with open(text_path, "w", encoding="utf-8") as fh:
        for s, t in pairs:
            fh.write(s + "\n")
            fh.write(t + "\n")

    def _train(vs: int) -> None:
        spm.SentencePieceTrainer.train(
            input=text_path, model_prefix=model_prefix, vocab_size=vs,
            model_type="unigram", character_coverage=1.0,
            normalization_rule_name="identity",
            eos_id=0, unk_id=1, bos_id=-1, pad_id=-1,
            num_threads=1, shuffle_input_sentence=False, input_sentence_size=0,
            seed_sentencepiece_size=1000000,
            hard_vocab_limit=True, minloglevel=2,
        )

    try:
        _train(vocab_size)
    except RuntimeError as exc:  # tiny corpora: shrink to what the data allows
        msg = str(exc)
        import re

        m = re.search(r"<= (\d+)", msg)
        if not m:
            raise
        _train(int(m.group(1)))
    os.remove(text_path)
    return spm.SentencePieceProcessor(model_file=model_prefix + ".model")


# --------------------------------------------------------------------------- model


def make_model(vocab_size: int, size: str = "tiny", dropout: float | None = None) -> Any:
    """A fresh MarianMTModel; ``vocab_size`` includes the trailing ``<pad>``."""
    from transformers import MarianConfig, MarianMTModel

    if size not in SIZES:
        raise ValueError(f"unknown size {size!r} (choose from {', '.join(SIZES)})")
    s = SIZES[size]
    if dropout is None:
        dropout = 0.0 if size == "tiny" else 0.1
    pad = vocab_size - 1
    config = MarianConfig(
        vocab_size=vocab_size, decoder_vocab_size=vocab_size,
        d_model=s["d_model"],
        encoder_layers=s["encoder_layers"], decoder_layers=s["decoder_layers"],
        encoder_attention_heads=s["heads"], decoder_attention_heads=s["heads"],
        encoder_ffn_dim=s["ffn_dim"], decoder_ffn_dim=s["ffn_dim"],
        activation_function="swish", scale_embedding=True,
        share_encoder_decoder_embeddings=True, tie_word_embeddings=True,
        dropout=dropout, attention_dropout=0.0, activation_dropout=0.0,
        max_position_embeddings=MAX_POSITIONS,
        pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad,
        forced_eos_token_id=0, bos_token_id=None,
    )
    model = MarianMTModel(config)
    gc = model.generation_config
    gc.bad_words_ids = [[pad]]
    gc.max_length = 256
    gc.num_beams = 1
    zero_pad_embedding(model)
    return model


def zero_pad_embedding(model: Any) -> None:
    """Keep the ``<pad>`` (decoder start) embedding row at zero: CTranslate2
    starts the decoder from a zero vector."""
    import torch

    pad = model.config.pad_token_id
    with torch.no_grad():
        seen = set()
        for emb in (model.get_input_embeddings(), model.get_decoder().embed_tokens,
                    model.get_encoder().embed_tokens):
            if id(emb.weight) not in seen:
                seen.add(id(emb.weight))
                emb.weight[pad].zero_()
        out = model.get_output_embeddings()
        if id(out.weight) not in seen:
            out.weight[pad].zero_()


def encode_pairs(sp: Any, pairs: Sequence[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
    """Source: pieces only (no ``</s>``, as Argos feeds it); target: pieces + ``</s>``."""
    eos = 0
    srcs = sp.encode([s for s, _ in pairs])
    tgts = sp.encode([t for _, t in pairs])
    out = []
    for s, t in zip(srcs, tgts):
        out.append((s[:MAX_TOKENS], t[: MAX_TOKENS - 1] + [eos]))
    return out


def _batches(data: list[tuple[list[int], list[int]]], batch_tokens: int,
             rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches of indices (deterministic given ``rng``)."""
    idx = list(range(len(data)))
    rng.shuffle(idx)
    chunk = 2048
    batches: list[list[int]] = []
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c:c + chunk], key=lambda i: (len(data[i][0]), len(data[i][1])))
        cur: list[int] = []
        longest = 0
        for i in part:
            ln = max(len(data[i][0]), len(data[i][1]))
            if cur and max(longest, ln) * (len(cur) + 1) > batch_tokens:
                batches.append(cur)
                cur, longest = [], 0
            cur.append(i)
            longest = max(longest, ln)
        if cur:
            batches.append(cur)
    rng.shuffle(batches)
    return batches


def _collate(data, ids, pad):
    import torch

    src = [data[i][0] for i in ids]
    tgt = [data[i][1] for i in ids]
    ls, lt = max(len(x) for x in src), max(len(x) for x in tgt)
    input_ids = torch.full((len(ids), max(ls, 1)), pad, dtype=torch.long)
    attn = torch.zeros((len(ids), max(ls, 1)), dtype=torch.long)
    labels = torch.full((len(ids), lt), -100, dtype=torch.long)
    for r, (s, t) in enumerate(zip(src, tgt)):
        input_ids[r, : len(s)] = torch.tensor(s, dtype=torch.long)
        attn[r, : len(s)] = 1
        labels[r, : len(t)] = torch.tensor(t, dtype=torch.long)
    return input_ids, attn, labels


def set_determinism(seed: int) -> None:
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except Exception:
        pass
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def resolve_device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def train_model(model: Any, data: list[tuple[list[int], list[int]]], *, steps: int,
                seed: int = 0, device: str = "cpu", lr: float = 1e-3,
                batch_tokens: int = 512, warmup: int | None = None,
                progress: bool = True, log: Any = None) -> dict[str, Any]:
    """Train ``model`` for ``steps`` optimizer steps (cross-entropy, AdamW,
    linear warm-up + cosine decay). The ``<pad>`` row is re-zeroed after
    every step. Returns training stats."""
    import torch

    set_determinism(seed)
    device = resolve_device(device)
    model.to(device)
    model.train()
    pad = model.config.pad_token_id
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-9,
                            weight_decay=0.0)
    if warmup is None:
        warmup = max(1, min(400, steps // 10))

    def lr_at(step: int) -> float:
        if step < warmup:
            return lr * (step + 1) / warmup
        p = (step - warmup) / max(1, steps - warmup)
        return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))

    rng = random.Random(seed)
    batches: list[list[int]] = []
    step, epoch, ema = 0, 0, None
    t0 = time.perf_counter()
    bar = _Progress(steps, enabled=progress)
    try:
        while step < steps:
            if not batches:
                batches = _batches(data, batch_tokens, rng)
                epoch += 1
            ids = batches.pop()
            input_ids, attn, labels = (t.to(device) for t in _collate(data, ids, pad))
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            out = model(input_ids=input_ids, attention_mask=attn, labels=labels)
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            zero_pad_embedding(model)
            step += 1
            loss = float(out.loss.detach())
            ema = loss if ema is None else 0.98 * ema + 0.02 * loss
            bar.update(step, ema, epoch)
            if log is not None and (step % 100 == 0 or step == steps):
                log(f"step {step}/{steps} epoch {epoch} loss {ema:.4f} "
                    f"({time.perf_counter() - t0:.0f}s)")
    finally:
        bar.close()
    model.eval()
    return {"steps": steps, "epochs": epoch, "final_loss": round(ema or 0.0, 4),
            "train_seconds": round(time.perf_counter() - t0, 1), "device": device}


class _Progress:
    """rich progress bar on stderr (falls back to silence if rich is missing)."""

    def __init__(self, total: int, enabled: bool = True):
        self._p = None
        if not enabled:
            return
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
        except Exception:
            return
        self._p = Progress(
            TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("epoch {task.fields[epoch]}"),
            TimeElapsedColumn(), TimeRemainingColumn(),
            console=Console(stderr=True), transient=False,
        )
        self._p.start()
        self._task = self._p.add_task("train", total=total, loss="-", epoch=0)

    def update(self, step: int, loss: float, epoch: int) -> None:
        if self._p is not None:
            self._p.update(self._task, completed=step, loss=f"{loss:.3f}", epoch=epoch)

    def close(self) -> None:
        if self._p is not None:
            self._p.stop()
            self._p = None


# --------------------------------------------------------------------------- conversion


class _Vocab:
    """Minimal tokenizer stand-in for the CTranslate2 converter."""

    def __init__(self, tokens: list[str]):
        self._tokens = tokens
        self.eos_token = tokens[0]
        self.unk_token = tokens[1]

    def get_vocab(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self._tokens)}


def model_vocabulary(sp: Any) -> list[str]:
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())] + ["<pad>"]


def convert_to_ctranslate2(model: Any, sp: Any, out_dir: str | os.PathLike,
                           quantization: str | None = "int8") -> Path:
    """Save ``model`` and convert it with ``TransformersConverter``."""
    import ctranslate2

    tokens = model_vocabulary(sp)
    if len(tokens) != model.config.vocab_size:
        raise ValueError("vocabulary / model size mismatch")

    class _Converter(ctranslate2.converters.TransformersConverter):
        def load_tokenizer(self, tokenizer_class, model_name_or_path, **kwargs):
            return _Vocab(tokens)

    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except Exception:
        pass
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="packbuild-hf-") as tmp:
        model.to("cpu").save_pretrained(tmp)
        _Converter(tmp).convert(str(out_dir), quantization=quantization or None, force=True)
    return out_dir


# --------------------------------------------------------------------------- evaluation


def translate(translator: Any, sp: Any, texts: Sequence[str], **kw: Any) -> list[str]:
    """Decode exactly like argostranslate does."""
    opts = dict(DECODE_KW)
    opts.update(kw)
    tokens = [sp.encode(t, out_type=str) for t in texts]
    results = translator.translate_batch(tokens, max_batch_size=64, **opts)
    return [sp.decode(r.hypotheses[0]) for r in results]


def exact_match(translator: Any, sp: Any, pairs: Sequence[tuple[str, str]]) -> float:
    if not pairs:
        return 0.0
    hyps = translate(translator, sp, [s for s, _ in pairs])
    return sum(h == t for h, (_, t) in zip(hyps, pairs)) / len(pairs)


# --------------------------------------------------------------------------- packaging


def package_dirname(from_code: str, to_code: str, package_version: str) -> str:
    return f"translate-{from_code}_{to_code}-{package_version.replace('.', '_')}"


def write_package(out_path: Path, *, ct2_dir: Path, sp_model: Path, metadata: dict[str, Any],
                  readme: str) -> Path:
    top = package_dirname(metadata["from_code"], metadata["to_code"], metadata["package_version"])
    fixed_time = (2024, 1, 1, 0, 0, 0)  # reproducible zip entries

    def add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
        info = zipfile.ZipInfo(f"{top}/{name}", date_time=fixed_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        zf.writestr(info, data, compresslevel=9)

    with atomic_write(out_path, binary=True) as raw, zipfile.ZipFile(raw, "w") as zf:
        add(zf, "metadata.json", (json.dumps(metadata, indent=2, ensure_ascii=False) + "\n").encode())
        add(zf, "README.md", readme.encode("utf-8"))
        add(zf, "sentencepiece.model", sp_model.read_bytes())
        for f in sorted(ct2_dir.rglob("*")):
            if f.is_file():
                add(zf, "model/" + f.relative_to(ct2_dir).as_posix(), f.read_bytes())
    return out_path


def _readme(meta: dict[str, Any]) -> str:
    return (
        f"# {meta['from_name']} -> {meta['to_name']} ({meta['package_version']})\n\n"
        "A small Argos Translate pack trained from scratch by `polyglot-pipe packs build` "
        "on a small parallel corpus. It translates text from its training domain and "
        "little else; install a real Argos pack for general text.\n\n"
        f"- corpus: {meta['corpus']['name']} ({meta['corpus']['pairs']} pairs, "
        f"sha256 {meta['corpus']['sha256']})\n"
        f"- model: MarianMT `{meta['training']['size']}`, {meta['training']['steps']} steps, "
        f"seed {meta['training']['seed']}, CTranslate2 {meta['training']['quantization']}\n"
        f"- training pairs reproduced exactly: {meta.get('train_exact_match', 'n/a')}\n"
    )


# --------------------------------------------------------------------------- recipe


def build_pack(corpus: str | os.PathLike, from_code: str, to_code: str,
               out_path: str | os.PathLike, *, size: str = "tiny", steps: int | None = None,
               epochs: int | None = None, seed: int = 0, device: str = "cpu",
               quantization: str | None = "int8", vocab_size: int = DEFAULT_VOCAB_SIZE,
               package_version: str = "1.0", progress: bool = True,
               evaluate: bool = True, lr: float | None = None,
               batch_tokens: int = 512) -> Path:
    """Train and package an Argos Translate pack; returns ``out_path``.

    ``steps`` (optimizer steps) defaults by ``size``; ``epochs`` (passes over the
    corpus) may be given instead. With ``evaluate`` the fraction of training
    pairs the packed model reproduces exactly (Argos decoding) is stored in
    ``metadata.json`` as ``train_exact_match``."""
    import torch

    log = (lambda m: print(f"[packbuild] {m}", file=sys.stderr, flush=True)) if progress \
        else (lambda m: None)
    out_path = Path(out_path)
    corpus_path = Path(corpus)
    cp = read_corpus(corpus_path)
    if not cp.pairs:
        raise ValueError(f"{corpus_path}: no usable source<TAB>target lines")
    log(f"{corpus_path}: {len(cp.pairs)} pairs, {cp.skipped} malformed lines skipped")
    set_determinism(seed)
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="packbuild-") as tmp:
        tmpd = Path(tmp)
        sp = train_sentencepiece(cp.pairs, tmpd / "sentencepiece", vocab_size, seed)
        log(f"sentencepiece: {sp.get_piece_size()} pieces")
        data = encode_pairs(sp, cp.pairs)
        model = make_model(sp.get_piece_size() + 1, size)
        n_params = sum(p.numel() for p in model.parameters())
        if steps is None:
            if epochs is not None:
                n_batches = len(_batches(data, batch_tokens, random.Random(seed)))
                steps = max(1, epochs * n_batches)
            else:
                steps = DEFAULT_STEPS[size]
        log(f"model: {size}, {n_params / 1e6:.2f}M parameters, {steps} steps, "
            f"torch threads {torch.get_num_threads()}")
        if lr is None:
            lr = {"tiny": 1.5e-3, "small": 7e-4, "base": 5e-4}[size]
        stats = train_model(model, data, steps=steps, seed=seed, device=device, lr=lr,
                            batch_tokens=batch_tokens, progress=progress, log=log)
        ct2_dir = convert_to_ctranslate2(model, sp, tmpd / "model", quantization)
        meta: dict[str, Any] = {
            "package_version": package_version,
            "argos_version": ARGOS_VERSION,
            "from_code": from_code,
            "from_name": language_name(from_code),
            "to_code": to_code,
            "to_name": language_name(to_code),
            "type": "translate",
            "languages": [
                {"code": from_code, "name": language_name(from_code)},
                {"code": to_code, "name": language_name(to_code)},
            ],
            "links": [],
            "source": "polyglot_pipe packbuild",
            "corpus": {"name": corpus_path.name, "sha256": cp.sha256,
                       "pairs": len(cp.pairs), "skipped_lines": cp.skipped},
            "training": {"size": size, "steps": stats["steps"], "epochs": stats["epochs"],
                         "seed": seed, "final_loss": stats["final_loss"],
                         "train_seconds": stats["train_seconds"], "device": stats["device"],
                         "torch_threads": torch.get_num_threads(),
                         "parameters": n_params, "vocab_size": sp.get_piece_size(),
                         "quantization": quantization or "float32",
                         "source_eos": False},
        }
        if evaluate:
            import ctranslate2

            tr = ctranslate2.Translator(str(ct2_dir), device="cpu")
            em = exact_match(tr, sp, cp.pairs)
            meta["train_exact_match"] = round(em, 4)
            log(f"training pairs reproduced exactly: {em:.1%}")
            del tr
        write_package(out_path, ct2_dir=ct2_dir, sp_model=tmpd / "sentencepiece.model",
                      metadata=meta, readme=_readme(meta))
    log(f"wrote {out_path} ({out_path.stat().st_size / 1e6:.2f} MB) in "
        f"{time.perf_counter() - t_start:.0f}s")
    return out_path


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``polyglot-pipe packs build``."""
    parser.add_argument("corpus", metavar="CORPUS.tsv",
                        help="parallel corpus, one 'source<TAB>target' pair per line")
    parser.add_argument("--from", dest="from_code", required=True, help="source language code")
    parser.add_argument("--to", dest="to_code", required=True, help="target language code")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.argosmodel",
                        help="path of the .argosmodel to write")
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny",
                        help="model size (default: tiny)")
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--steps", type=int, default=None,
                   help="optimizer steps (default: %s)" %
                   ", ".join(f"{k} {v}" for k, v in DEFAULT_STEPS.items()))
    g.add_argument("--epochs", type=int, default=None, help="passes over the corpus instead of --steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    parser.add_argument("--quantization", default="int8",
                        help="CTranslate2 quantization (int8, int8_float32, float16, none; default int8)")
    parser.add_argument("--vocab-size", type=int, default=DEFAULT_VOCAB_SIZE,
                        help=f"SentencePiece vocabulary size (default {DEFAULT_VOCAB_SIZE})")
    parser.add_argument("--package-version", default="1.0")
    parser.add_argument("--no-eval", action="store_true",
                        help="skip measuring exact-match on the training pairs")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    quant = getattr(args, "quantization", "int8")
    if quant in (None, "", "none", "float32"):
        quant = None
    try:
        out = build_pack(
            args.corpus, args.from_code, args.to_code, args.output,
            size=args.size, steps=args.steps, epochs=getattr(args, "epochs", None),
            seed=args.seed, device=args.device, quantization=quant,
            vocab_size=args.vocab_size, package_version=args.package_version,
            progress=not getattr(args, "quiet", False),
            evaluate=not getattr(args, "no_eval", False),
        )
    except ImportError as exc:
        print(f"polyglot-pipe packs build: error: {exc} (building packs needs torch, "
              "transformers, ctranslate2 and sentencepiece: the [build] extra)", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"polyglot-pipe packs build: error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m polyglot_pipe.packs.build",
                                     description="Build an Argos Translate pack.")
    add_arguments(parser)
    return run(parser.parse_args(list(argv) if argv is not None else None))


if __name__ == "__main__":
    raise SystemExit(main())
