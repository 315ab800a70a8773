"""Build small, genuine Argos Translate packs from a parallel corpus.

Recipe (``polyglot-pipe packs build CORPUS.tsv --from ru --to en -o OUT.argosmodel``; the
argparse front end is polyglot_pipe/cli/build.py):

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
from typing import Any, Sequence

from polyglot_pipe.errors import OptionError, PackError
from polyglot_pipe.util.atomic import atomic_write
from polyglot_pipe.util.progress import ProgressBar

SIZES: dict[str, dict[str, int]] = {
    # d_model, layers, heads, feed-forward width
    "tiny": dict(d_model=256, encoder_layers=2, decoder_layers=2, heads=4, ffn_dim=1024),
    # the largest that trains at ~1,500 tokens/s on one CPU thread (issue 14's measure)
    "compact": dict(d_model=256, encoder_layers=3, decoder_layers=3, heads=4, ffn_dim=1024),
    "small": dict(d_model=384, encoder_layers=4, decoder_layers=4, heads=6, ffn_dim=1536),
    "base": dict(d_model=512, encoder_layers=6, decoder_layers=6, heads=8, ffn_dim=2048),
}
DEFAULT_STEPS = {"tiny": 1200, "compact": 20000, "small": 6000, "base": 20000}
LEARNING_RATES = {"tiny": 1.5e-3, "compact": 1e-3, "small": 7e-4, "base": 5e-4}
#: Training pairs re-translated (beam 4) to measure exact match: a sample, not all
#: (a beam pass over 600k pairs takes hours).
EXACT_MATCH_SAMPLE = 2000
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
        raise OptionError(f"--size {size!r}: choose from {', '.join(SIZES)}")
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


#: How batches are cut: "global" sorts the whole corpus by length (little padding: every
#: batch holds pairs of about the same length), "chunks" sorts within 2,048-pair chunks
#: (the batching the committed 1.0 packs were trained with; ~40% padding on big corpora).
BUCKETING = ("global", "chunks")


def _batches(data: list[tuple[list[int], list[int]]], batch_tokens: int,
             rng: random.Random, bucketing: str = "global") -> list[list[int]]:
    """Length-bucketed batches of indices, each at most ``batch_tokens`` (padded) tokens
    per side, in shuffled order (deterministic given ``rng``)."""
    idx = list(range(len(data)))
    rng.shuffle(idx)
    chunk = 2048 if bucketing == "chunks" else max(1, len(idx))
    batches: list[list[int]] = []
    for c in range(0, len(idx), chunk):
        # sorted() is stable: pairs of one length keep their shuffled order
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


def padding_share(data: list[tuple[list[int], list[int]]], batches: list[list[int]]) -> float:
    """Share of the batched token slots that are padding (both sides)."""
    real = padded = 0
    for ids in batches:
        for side in (0, 1):
            lengths = [len(data[i][side]) for i in ids]
            real += sum(lengths)
            padded += max(lengths) * len(lengths)
    return 1 - real / padded if padded else 0.0


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
    """"cpu", "cuda" or "auto" (CUDA when a GPU is there); "cuda" without one is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise OptionError("--device 'cuda': torch sees no CUDA GPU here (use --device cpu or auto)")
    if device not in ("cpu", "cuda"):
        raise OptionError(f"--device {device!r}: choose cpu, cuda or auto")
    return device


@dataclass
class DevSet:
    """Pairs held out from training, scored with chrF while training runs: the source
    as token ids (as the model reads it) and the reference as text."""

    sources: list[list[int]]
    references: list[str]


def dev_chrf(model: Any, sp: Any, dev: DevSet, device: str, batch_size: int = 64) -> float:
    """chrF (sacrebleu) of the model's greedy renderings of the dev set."""
    import sacrebleu
    import torch

    pad = model.config.pad_token_id
    model.eval()
    hyps: list[str] = []
    with torch.no_grad():
        order = sorted(range(len(dev.sources)), key=lambda i: len(dev.sources[i]))
        out: dict[int, str] = {}
        for b in range(0, len(order), batch_size):
            ids = order[b:b + batch_size]
            longest = max(1, max(len(dev.sources[i]) for i in ids))
            input_ids = torch.full((len(ids), longest), pad, dtype=torch.long)
            attn = torch.zeros((len(ids), longest), dtype=torch.long)
            for r, i in enumerate(ids):
                src = dev.sources[i]
                input_ids[r, :len(src)] = torch.tensor(src, dtype=torch.long)
                attn[r, :len(src)] = 1
            gen = model.generate(input_ids=input_ids.to(device), attention_mask=attn.to(device),
                                 num_beams=1, do_sample=False, max_new_tokens=MAX_TOKENS)
            for r, i in enumerate(ids):
                out[i] = sp.decode([t for t in gen[r].tolist() if t not in (0, pad)])
        hyps = [out[i] for i in range(len(dev.sources))]
    model.train()
    return float(sacrebleu.corpus_chrf(hyps, [dev.references]).score)


@dataclass
class TrainingLimits:
    """When training stops: after ``steps`` optimizer steps, after ``time_budget`` seconds
    of training (None: no limit), or when the dev chrF, measured every ``eval_every``
    steps, has not improved for ``patience`` evaluations (None: never early)."""

    steps: int
    time_budget: float | None = None
    eval_every: int = 500
    patience: int | None = None


_CHECKPOINT = "checkpoint.pt"


def train_model(model: Any, data: list[tuple[list[int], list[int]]], *, steps: int,
                seed: int = 0, device: str = "cpu", lr: float = 1e-3,
                batch_tokens: int = 512, warmup: int | None = None,
                progress: bool = True, log: Any = None, bucketing: str = "global",
                dev: DevSet | None = None, sp: Any = None, limits: TrainingLimits | None = None,
                checkpoint_dir: str | os.PathLike | None = None, resume: bool = False) -> dict[str, Any]:
    """Train ``model`` (cross-entropy, AdamW, linear warm-up + cosine decay over ``steps``).

    With ``dev`` (and ``sp`` to decode it) the model is scored with chrF every
    ``limits.eval_every`` steps and the best-scoring weights are the ones kept.
    With ``checkpoint_dir`` everything needed to go on (weights, optimizer, the
    remaining batches, random states, the best weights so far) is written there at
    each evaluation and at the end; ``resume`` starts from it.  The ``<pad>`` row is
    re-zeroed after every step.  Returns training stats."""
    import torch

    limits = limits or TrainingLimits(steps=steps)
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
    state: dict[str, Any] = {"step": 0, "epoch": 0, "ema": None, "batches": [], "elapsed": 0.0,
                             "best_chrf": None, "best_step": None, "best_weights": None,
                             "evals_without_gain": 0, "history": []}
    checkpoint = Path(checkpoint_dir) / _CHECKPOINT if checkpoint_dir is not None else None
    if resume:
        if checkpoint is None or not checkpoint.exists():
            raise PackError(f"--resume: no checkpoint at '{checkpoint}'")
        saved = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        rng.setstate(saved["rng"])
        torch.set_rng_state(saved["torch_rng"])
        state = saved["state"]
        if log is not None:
            log(f"resumed from {checkpoint} at step {state['step']} ({state['elapsed']:.0f}s trained)")

    def save_checkpoint() -> None:
        if checkpoint is None:
            return
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(checkpoint, binary=True) as fh:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "rng": rng.getstate(),
                        "torch_rng": torch.get_rng_state(), "state": state}, fh)

    def evaluate() -> None:
        if dev is None or sp is None:
            return
        chrf = dev_chrf(model, sp, dev, device)
        state["history"].append((state["step"], round(chrf, 2)))
        if state["best_chrf"] is None or chrf > state["best_chrf"]:
            state["best_chrf"], state["best_step"], state["evals_without_gain"] = chrf, state["step"], 0
            state["best_weights"] = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
        else:
            state["evals_without_gain"] += 1
        if log is not None:
            log(f"step {state['step']}: dev chrF {chrf:.2f} (best {state['best_chrf']:.2f} at step {state['best_step']})")

    stopped = "steps"
    t0 = time.perf_counter() - state["elapsed"]
    with ProgressBar("training", total=steps, enabled=progress, transient=False,
                     loss="-", epoch=state["epoch"], chrF="-") as bar:
        bar.update(state["step"])
        while state["step"] < steps:
            if limits.time_budget is not None and time.perf_counter() - t0 >= limits.time_budget:
                stopped = "time budget"
                break
            if limits.patience is not None and state["evals_without_gain"] >= limits.patience:
                stopped = "no dev gain"
                break
            if not state["batches"]:
                state["batches"] = _batches(data, batch_tokens, rng, bucketing)
                state["epoch"] += 1
            ids = state["batches"].pop()
            input_ids, attn, labels = (t.to(device) for t in _collate(data, ids, pad))
            for g in opt.param_groups:
                g["lr"] = lr_at(state["step"])
            out = model(input_ids=input_ids, attention_mask=attn, labels=labels)
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            zero_pad_embedding(model)
            state["step"] += 1
            loss = float(out.loss.detach())
            state["ema"] = loss if state["ema"] is None else 0.98 * state["ema"] + 0.02 * loss
            state["elapsed"] = time.perf_counter() - t0
            if state["step"] % limits.eval_every == 0:
                evaluate()
                save_checkpoint()
            bar.update(state["step"], loss=f"{state['ema']:.3f}", epoch=state["epoch"],
                       chrF="-" if state["best_chrf"] is None else f"{state['best_chrf']:.1f}")
            if log is not None and (state["step"] % 100 == 0 or state["step"] == steps):
                log(f"step {state['step']}/{steps} epoch {state['epoch']} loss {state['ema']:.4f} "
                    f"({state['elapsed']:.0f}s)")
    if dev is not None and sp is not None and (not state["history"] or state["history"][-1][0] != state["step"]):
        evaluate()
    state["elapsed"] = time.perf_counter() - t0
    save_checkpoint()
    if state["best_weights"] is not None:
        model.load_state_dict(state["best_weights"])
    model.eval()
    return {"steps": state["step"], "epochs": state["epoch"], "final_loss": round(state["ema"] or 0.0, 4),
            "train_seconds": round(state["elapsed"], 1), "device": device, "stopped": stopped,
            "dev_chrf": None if state["best_chrf"] is None else round(state["best_chrf"], 2),
            "best_step": state["best_step"], "dev_history": state["history"],
            "padding_share": round(padding_share(data, _batches(data, batch_tokens, random.Random(seed), bucketing)), 3)}


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
        raise PackError(f"vocabulary of {len(tokens)} pieces but a model of {model.config.vocab_size} rows")

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
               batch_tokens: int = 512, bucketing: str = "global",
               dev_corpus: str | os.PathLike | None = None, eval_every: int = 500,
               patience: int | None = None, time_budget: float | None = None,
               checkpoint_dir: str | os.PathLike | None = None, resume: bool = False) -> Path:
    """Train and package an Argos Translate pack; returns ``out_path``.

    ``steps`` (optimizer steps) defaults by ``size``; ``epochs`` (passes over the
    corpus) may be given instead.  ``dev_corpus`` (pairs never trained on: hold out
    whole packages, not random lines) is scored with chrF every ``eval_every`` steps
    and the best weights are packed; ``patience`` evaluations without gain stop early,
    ``time_budget`` seconds stop training whatever the step.  ``checkpoint_dir`` keeps
    what ``resume`` needs to go on after an interruption.  With ``evaluate`` the share
    of (a sample of) training pairs the packed model reproduces exactly is stored in
    ``metadata.json`` as ``train_exact_match``."""
    import torch

    log = (lambda m: print(f"[packbuild] {m}", file=sys.stderr, flush=True)) if progress \
        else (lambda m: None)
    if size not in SIZES:
        raise OptionError(f"--size {size!r}: choose from {', '.join(SIZES)}")
    if bucketing not in BUCKETING:
        raise OptionError(f"--bucketing {bucketing!r}: choose from {', '.join(BUCKETING)}")
    if batch_tokens < MAX_TOKENS:
        raise OptionError(f"--batch-tokens {batch_tokens}: at least {MAX_TOKENS}, the longest pair")
    if eval_every < 1:
        raise OptionError(f"--eval-every {eval_every}: at least 1")
    if resume and checkpoint_dir is None:
        raise OptionError("--resume needs --checkpoint-dir")
    device = resolve_device(device)
    out_path = Path(out_path)
    corpus_path = Path(corpus)
    try:
        cp = read_corpus(corpus_path)
        dev_cp = read_corpus(dev_corpus) if dev_corpus is not None else None
    except OSError as exc:
        raise PackError(f"cannot read corpus '{exc.filename}': {exc.strerror}") from None
    if not cp.pairs:
        raise PackError(f"corpus '{corpus_path}': no usable source<TAB>target lines")
    if dev_cp is not None and not dev_cp.pairs:
        raise PackError(f"dev corpus '{dev_corpus}': no usable source<TAB>target lines")
    log(f"{corpus_path}: {len(cp.pairs)} pairs, {cp.skipped} malformed lines skipped")
    set_determinism(seed)
    t_start = time.perf_counter()
    plan = {"corpus_sha256": cp.sha256, "dev_sha256": dev_cp.sha256 if dev_cp else None, "size": size,
            "vocab_size": vocab_size, "seed": seed, "batch_tokens": batch_tokens, "bucketing": bucketing}
    with tempfile.TemporaryDirectory(prefix="packbuild-") as tmp:
        tmpd = Path(tmp)
        work = Path(checkpoint_dir) if checkpoint_dir is not None else tmpd
        work.mkdir(parents=True, exist_ok=True)
        sp_prefix = work / "sentencepiece"
        if resume:
            try:
                saved_plan = json.loads((work / "plan.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise PackError(f"--resume: no readable plan.json in '{work}'") from None
            changed = sorted(k for k in plan if saved_plan.get(k) != plan[k])
            if changed:
                raise PackError(f"--resume: '{work}' was started with other settings ({', '.join(changed)})")
            import sentencepiece as spm

            sp = spm.SentencePieceProcessor(model_file=str(sp_prefix) + ".model")
        else:
            sp = train_sentencepiece(cp.pairs, sp_prefix, vocab_size, seed)
            if checkpoint_dir is not None:
                with atomic_write(work / "plan.json") as fh:
                    fh.write(json.dumps(plan, indent=2) + "\n")
        log(f"sentencepiece: {sp.get_piece_size()} pieces")
        data = encode_pairs(sp, cp.pairs)
        dev = None
        if dev_cp is not None:
            dev = DevSet([ids for ids, _ in encode_pairs(sp, dev_cp.pairs)], [t for _, t in dev_cp.pairs])
        model = make_model(sp.get_piece_size() + 1, size)
        n_params = sum(p.numel() for p in model.parameters())
        if steps is None:
            if epochs is not None:
                n_batches = len(_batches(data, batch_tokens, random.Random(seed), bucketing))
                steps = max(1, epochs * n_batches)
            else:
                steps = DEFAULT_STEPS[size]
        log(f"model: {size}, {n_params / 1e6:.2f}M parameters, {steps} steps, "
            f"torch threads {torch.get_num_threads()}, device {device}")
        if lr is None:
            lr = LEARNING_RATES[size]
        limits = TrainingLimits(steps=steps, time_budget=time_budget, eval_every=eval_every, patience=patience)
        stats = train_model(model, data, steps=steps, seed=seed, device=device, lr=lr,
                            batch_tokens=batch_tokens, progress=progress, log=log, bucketing=bucketing,
                            dev=dev, sp=sp, limits=limits, checkpoint_dir=checkpoint_dir, resume=resume)
        log(f"training stopped ({stats['stopped']}) after {stats['steps']} steps, {stats['train_seconds']:.0f}s"
            + (f"; best dev chrF {stats['dev_chrf']:.2f} at step {stats['best_step']}" if stats["dev_chrf"] is not None else ""))
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
                         "source_eos": False, "batch_tokens": batch_tokens, "bucketing": bucketing,
                         "padding_share": stats["padding_share"], "stopped": stats["stopped"]},
        }
        if dev_cp is not None:
            meta["dev"] = {"name": Path(dev_corpus).name, "sha256": dev_cp.sha256, "pairs": len(dev_cp.pairs),
                           "chrf": stats["dev_chrf"], "best_step": stats["best_step"],
                           "history": stats["dev_history"]}
        if evaluate:
            import ctranslate2

            tr = ctranslate2.Translator(str(ct2_dir), device="cpu")
            sample = cp.pairs if len(cp.pairs) <= EXACT_MATCH_SAMPLE else \
                random.Random(seed).sample(cp.pairs, EXACT_MATCH_SAMPLE)
            em = exact_match(tr, sp, sample)
            meta["train_exact_match"] = round(em, 4)
            log(f"training pairs reproduced exactly: {em:.1%} (of {len(sample)})")
            del tr
        write_package(out_path, ct2_dir=ct2_dir, sp_model=Path(str(sp_prefix) + ".model"),
                      metadata=meta, readme=_readme(meta))
    log(f"wrote {out_path} ({out_path.stat().st_size / 1e6:.2f} MB) in "
        f"{time.perf_counter() - t_start:.0f}s")
    return out_path
