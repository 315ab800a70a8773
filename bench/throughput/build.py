"""Build the throughput benchmark's inputs under bench/work/throughput/ (git-ignored).

1. ``pack/``: an Argos-layout ru->en pack the size of a real one -- a
   Transformer-base MarianMT (d_model 512, 6+6 layers, 8 heads, FFN 2048,
   32k shared vocabulary) with random weights, converted by CTranslate2's
   TransformersConverter to int8, and a SentencePiece model trained on the
   repository's ru/en corpus.  Random weights make output meaningless but cost
   exactly what a trained model costs per token, as long as the decoding length
   is fixed (the runner caps it).
2. ``corpus/``: N pages built like the seed document: its English body with a
   few varied sentences swapped in, and boilerplate repeated on every page
   (English UI lines and Russian ones such as "Заголовок открываемого
   материала"), plus varied Russian sentences, so that translation work
   repeats the way it does in scraped news.

    .venv/bin/python bench/throughput/build.py [--pages 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / "work" / "throughput"
SEED = ROOT / "seeds" / "000_0e5ec4742fbe5a91.txt"
CORPUS_TSV = ROOT / "language_packs" / "corpus" / "ru-en.tsv"
VOCAB = 32000

RU_BOILERPLATE = [
    "Заголовок открываемого материала",
    "Подписаться на рассылку",
    "Все новости",
    "Читать далее",
    "Фото: РИА Новости",
    "Поделиться в социальных сетях",
]
EN_BOILERPLATE = ["Subscribe", "Share this article", "Most read", "All news", "Cookie settings"]


def build_pack(out: Path) -> Path:
    """The random-weight base-sized pack, installed layout (metadata.json, model/, sentencepiece.model)."""
    import ctranslate2
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel

    torch.manual_seed(0)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "text.txt"
        lines = [part for line in CORPUS_TSV.read_text(encoding="utf-8").splitlines() for part in line.split("\t")]
        text.write_text("\n".join(lines + RU_BOILERPLATE) + "\n", encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(text), model_prefix=str(out / "sentencepiece"), vocab_size=8000,
            hard_vocab_limit=False, eos_id=0, unk_id=1, bos_id=-1, pad_id=-1,
            character_coverage=1.0, num_threads=2, minloglevel=2,
        )
        (out / "sentencepiece.vocab").unlink()
        sp = spm.SentencePieceProcessor(model_file=str(out / "sentencepiece.model"))
        # Real Argos packs have ~32k pieces; pad the model's vocabulary to that size.
        tokens = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
        tokens += [f"<extra_{i}>" for i in range(VOCAB - 1 - len(tokens))] + ["<pad>"]
        pad = len(tokens) - 1
        config = MarianConfig(
            vocab_size=len(tokens), decoder_vocab_size=len(tokens), d_model=512,
            encoder_layers=6, decoder_layers=6, encoder_attention_heads=8, decoder_attention_heads=8,
            encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=512,
            share_encoder_decoder_embeddings=True, tie_word_embeddings=True,
            pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad, forced_eos_token_id=0,
        )
        model = MarianMTModel(config)

        class Vocab:
            eos_token, unk_token = tokens[0], tokens[1]

            def get_vocab(self):
                return {t: i for i, t in enumerate(tokens)}

        class Converter(ctranslate2.converters.TransformersConverter):
            def load_tokenizer(self, *args, **kwargs):
                return Vocab()

        hf = Path(tmp) / "hf"
        model.save_pretrained(hf)
        Converter(str(hf)).convert(str(out / "model"), quantization="int8", force=True)
    metadata = {
        "package_version": "9.9", "argos_version": "1.9", "from_code": "ru", "from_name": "Russian",
        "to_code": "en", "to_name": "English", "type": "translate",
        "source": "bench/throughput/build.py: random weights, for timing only",
    }
    (out / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return out


def build_corpus(out: Path, pages: int, seed: int = 0) -> Path:
    """``pages`` text files: the seed page, varied, with boilerplate repeated on each."""
    rng = random.Random(seed)
    seed_lines = SEED.read_text(encoding="utf-8").splitlines()
    pairs = [line.split("\t") for line in CORPUS_TSV.read_text(encoding="utf-8").splitlines() if "\t" in line]
    ru_sentences = [ru for ru, _ in pairs]
    en_sentences = [en for _, en in pairs]
    if out.exists():
        shutil.rmtree(out)
    for n in range(pages):
        body = list(seed_lines)
        for _ in range(4):  # varied English sentences in the body
            body.insert(rng.randrange(len(body) + 1), rng.choice(en_sentences).capitalize() + ".")
        page = (
            rng.sample(EN_BOILERPLATE, 3)
            + body
            + rng.sample(RU_BOILERPLATE, 3)
            + [rng.choice(ru_sentences) for _ in range(3)]  # varied Russian lines
        )
        path = out / f"{n // 500:02d}" / f"page{n:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(page) + "\n", encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--skip-pack", action="store_true", help="keep an existing pack")
    args = parser.parse_args()
    if not (args.skip_pack and (WORK / "pack" / "model" / "model.bin").is_file()):
        build_pack(WORK / "pack")
    build_corpus(WORK / "corpus", args.pages)
    size = sum(p.stat().st_size for p in (WORK / "pack").rglob("*") if p.is_file())
    print(f"pack: {WORK / 'pack'} ({size / 1e6:.0f} MB); corpus: {args.pages} pages in {WORK / 'corpus'}")


if __name__ == "__main__":
    main()
