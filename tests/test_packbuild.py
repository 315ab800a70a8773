"""Tests for polyglot_pipe.packs.build and the committed language packs."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from polyglot_pipe.packs import build as pb

ROOT = Path(__file__).resolve().parent.parent
PACKS_DIR = ROOT / "language_packs"
PACKS = {
    "ru": PACKS_DIR / "translate-ru_en-1_0.argosmodel",
    "de": PACKS_DIR / "translate-de_en-1_0.argosmodel",
}

TOY_PAIRS = [
    ("Файл не найден", "File not found"),
    ("Отказано в доступе", "Permission denied"),
    ("Нет такого файла или каталога", "No such file or directory"),
    ("Неверный аргумент", "Invalid argument"),
    ("Операция не позволена", "Operation not permitted"),
    ("Показать эту справку и выйти", "display this help and exit"),
    ("Показать информацию о версии и выйти", "output version information and exit"),
    ("Недостаточно памяти", "memory exhausted"),
    ("Ошибка записи", "write error"),
    ("Ошибка чтения", "read error"),
    ("Каталог не пуст", "Directory not empty"),
    ("Файл существует", "File exists"),
    ("Устройство занято", "Device or resource busy"),
    ("Слишком много открытых файлов", "Too many open files"),
    ("Нет места на устройстве", "No space left on device"),
    ("Прервано", "Interrupted"),
]


def _torch_stack():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("ctranslate2")
    pytest.importorskip("sentencepiece")


# --------------------------------------------------------------------------- light tests


def test_module_import_does_not_import_torch():
    code = ("import sys, polyglot_pipe.packs.build as m; "
            "bad = [x for x in ('torch', 'transformers', 'ctranslate2', 'sentencepiece') "
            "if x in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_add_arguments_parses_cli():
    from polyglot_pipe.cli import build as build_cli

    parser = argparse.ArgumentParser()
    build_cli.add_arguments(parser)
    args = parser.parse_args(["c.tsv", "--from", "ru", "--to", "en", "-o", "x.argosmodel",
                              "--size", "small", "--steps", "10", "--seed", "3",
                              "--device", "auto", "--vocab-size", "500",
                              "--package-version", "1.1"])
    assert (args.corpus, args.from_code, args.to_code, args.output) == \
        ("c.tsv", "ru", "en", "x.argosmodel")
    assert (args.size, args.steps, args.seed, args.device) == ("small", 10, 3, "auto")
    assert args.quantization == "int8" and args.vocab_size == 500
    assert args.package_version == "1.1" and args.epochs is None
    assert (args.batch_tokens, args.bucketing, args.dev_corpus, args.resume) == (512, "global", None, False)
    with pytest.raises(SystemExit):
        parser.parse_args(["c.tsv", "--from", "ru", "--to", "en", "-o", "x",
                           "--steps", "1", "--epochs", "1"])


def test_read_corpus_skips_malformed(tmp_path):
    p = tmp_path / "c.tsv"
    p.write_text("a\tb\nno tab here\n\nx\ty\tz\n\tempty\nc\td\n", encoding="utf-8")
    c = pb.read_corpus(p)
    assert c.pairs == [("a", "b"), ("c", "d")]
    assert c.skipped == 3
    assert len(c.sha256) == 64


def test_package_dirname():
    assert pb.package_dirname("ru", "en", "1.0") == "translate-ru_en-1_0"


# --------------------------------------------------------------------------- training parity


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory):
    """A tiny MarianMT trained on 16 pairs, converted float32 and int8."""
    _torch_stack()
    tmp = tmp_path_factory.mktemp("toy")
    sp = pb.train_sentencepiece(TOY_PAIRS, tmp / "sp", vocab_size=200, seed=0)
    data = pb.encode_pairs(sp, TOY_PAIRS)
    model = pb.make_model(sp.get_piece_size() + 1, "tiny")
    # chunked batching, as the 1.0 packs
    pb.train_model(model, data, steps=120, seed=0, progress=False, bucketing="chunks")
    f32 = pb.convert_to_ctranslate2(model, sp, tmp / "f32", quantization=None)
    i8 = pb.convert_to_ctranslate2(model, sp, tmp / "i8", quantization="int8")
    return sp, model, f32, i8


def _hf_generate(model, sp, text, num_beams):
    import torch

    ids = torch.tensor([sp.encode(text)])  # no </s> on the source side, like Argos
    with torch.no_grad():
        # early_stopping=True: stop once num_beams hypotheses are finished, which is
        # CTranslate2's beam search (patience 1); transformers' default keeps searching
        # and, on this toy model, sometimes finds a better ending CTranslate2 never looks for
        out = model.generate(input_ids=ids, num_beams=num_beams, do_sample=False,
                             early_stopping=True, max_length=64)[0].tolist()
    drop = {0, model.config.pad_token_id}  # </s> and the decoder start token
    return [sp.id_to_piece(i) for i in out if i not in drop]


def test_pad_embedding_row_stays_zero(toy_model):
    _, model, _, _ = toy_model
    pad = model.config.pad_token_id
    assert float(model.get_input_embeddings().weight[pad].detach().abs().sum()) == 0.0
    assert float(model.get_output_embeddings().weight[pad].detach().abs().sum()) == 0.0


@pytest.mark.parametrize("beam", [1, 4])
def test_ctranslate2_matches_transformers(toy_model, beam):
    import ctranslate2

    sp, model, f32, _ = toy_model
    tr = ctranslate2.Translator(str(f32), device="cpu")
    srcs = [s for s, _ in TOY_PAIRS]
    res = tr.translate_batch([sp.encode(s, out_type=str) for s in srcs],
                             beam_size=beam, max_decoding_length=63)
    for src, r in zip(srcs, res):
        ours, theirs = r.hypotheses[0], _hf_generate(model, sp, src, beam)
        # the converted model gives each target the probability the trained one gives it
        for hyp in {tuple(ours), tuple(theirs)}:
            ct2 = sum(tr.score_batch([sp.encode(src, out_type=str)], [list(hyp)])[0].log_probs)
            assert ct2 == pytest.approx(_hf_log_prob(model, sp, src, hyp), abs=2e-3), (src, hyp)
        # the same search over the same probabilities finds the same translation
        assert ours == theirs, (src, beam)


def _hf_log_prob(model, sp, text, pieces) -> float:
    """Sum of the trained model's log-probabilities of ``pieces`` and </s> after ``text``."""
    import torch

    ids = torch.tensor([sp.encode(text)])
    labels = torch.tensor([[sp.piece_to_id(p) for p in pieces] + [model.config.eos_token_id]])
    with torch.no_grad():
        logits = model(input_ids=ids, labels=labels).logits
    log_probs = torch.log_softmax(logits[0], dim=-1)
    return float(log_probs[torch.arange(labels.shape[1]), labels[0]].sum())


def test_int8_argos_decoding_memorised(toy_model):
    import ctranslate2

    sp, _, _, i8 = toy_model
    tr = ctranslate2.Translator(str(i8), device="cpu")
    hyps = pb.translate(tr, sp, [s for s, _ in TOY_PAIRS])
    good = sum(h == t for h, (_, t) in zip(hyps, TOY_PAIRS))
    assert good >= 14, list(zip(hyps, TOY_PAIRS))


def test_training_is_deterministic(tmp_path):
    _torch_stack()
    import torch

    sp = pb.train_sentencepiece(TOY_PAIRS, tmp_path / "sp", vocab_size=200, seed=0)
    data = pb.encode_pairs(sp, TOY_PAIRS)
    states = []
    for disturb in (1, 2):
        torch.manual_seed(disturb)  # different global RNG state before each run
        pb.set_determinism(0)       # what build_pack does before building the model
        m = pb.make_model(sp.get_piece_size() + 1, "tiny")
        pb.train_model(m, data, steps=8, seed=0, progress=False)
        states.append({k: v.clone() for k, v in m.state_dict().items()})
    assert states[0].keys() == states[1].keys()
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k


def test_build_pack_end_to_end(tmp_path):
    _torch_stack()
    corpus = tmp_path / "toy.tsv"
    corpus.write_text("".join(f"{s}\t{t}\n" for s, t in TOY_PAIRS) + "broken line\n",
                      encoding="utf-8")
    out = pb.build_pack(corpus, "ru", "en", tmp_path / "toy.argosmodel", steps=10,
                        vocab_size=200, progress=False)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        meta = json.loads(zf.read("translate-ru_en-1_0/metadata.json"))
    assert {"translate-ru_en-1_0/metadata.json", "translate-ru_en-1_0/sentencepiece.model",
            "translate-ru_en-1_0/README.md", "translate-ru_en-1_0/model/model.bin"} <= names
    assert meta["corpus"]["pairs"] == 16 and meta["corpus"]["skipped_lines"] == 1
    assert meta["training"]["steps"] == 10 and "train_exact_match" in meta
    # a seeded rebuild gives the same tokenizer and the same weights
    again = pb.build_pack(corpus, "ru", "en", tmp_path / "again.argosmodel", steps=10,
                          vocab_size=200, progress=False, evaluate=False)
    import sentencepiece as spm

    top = "translate-ru_en-1_0"
    with zipfile.ZipFile(out) as a, zipfile.ZipFile(again) as b:
        assert a.read(f"{top}/model/model.bin") == b.read(f"{top}/model/model.bin")
        # the .model file embeds the (temporary) training paths: compare the pieces
        sps = [spm.SentencePieceProcessor(model_proto=z.read(f"{top}/sentencepiece.model"))
               for z in (a, b)]
    assert [(sps[0].id_to_piece(i), sps[0].get_score(i)) for i in range(sps[0].get_piece_size())] \
        == [(sps[1].id_to_piece(i), sps[1].get_score(i)) for i in range(sps[1].get_piece_size())]


def test_global_bucketing_pads_less_than_chunks():
    """Sorting the whole corpus by length, not 2,048-pair chunks, puts pairs of one length
    together: on a corpus of mixed lengths far less of each batch is padding."""
    import random

    rng = random.Random(1)
    data = [([5] * n, [6] * (n + rng.randint(0, 3))) for n in (rng.randint(1, 120) for _ in range(20_000))]
    shares = {how: pb.padding_share(data, pb._batches(data, 4096, random.Random(0), how)) for how in pb.BUCKETING}
    assert shares["global"] < shares["chunks"] / 3, shares
    batches = pb._batches(data, 4096, random.Random(0), "global")
    assert sorted(i for b in batches for i in b) == list(range(len(data)))  # every pair once per epoch


def _toy_corpus(tmp_path):
    corpus, dev = tmp_path / "toy.tsv", tmp_path / "dev.tsv"
    corpus.write_text("".join(f"{s}\t{t}\n" for s, t in TOY_PAIRS[:12]), encoding="utf-8")
    dev.write_text("".join(f"{s}\t{t}\n" for s, t in TOY_PAIRS[12:]), encoding="utf-8")
    return corpus, dev


def _build_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "polyglot_pipe.cli.build", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, **kw)


def test_dev_set_is_scored_and_the_best_weights_are_packed(tmp_path):
    _torch_stack()
    pytest.importorskip("sacrebleu")
    corpus, dev = _toy_corpus(tmp_path)
    out = pb.build_pack(corpus, "ru", "en", tmp_path / "toy.argosmodel", steps=30, vocab_size=200,
                        progress=False, evaluate=False, dev_corpus=dev, eval_every=10)
    with zipfile.ZipFile(out) as zf:
        meta = json.loads(zf.read("translate-ru_en-1_0/metadata.json"))
    history = meta["dev"]["history"]
    assert [step for step, _ in history] == [10, 20, 30]
    assert meta["dev"]["chrf"] == max(chrf for _, chrf in history)
    assert meta["dev"]["best_step"] in (10, 20, 30) and meta["dev"]["pairs"] == 4
    assert meta["training"]["stopped"] == "steps" and meta["training"]["bucketing"] == "global"


def test_time_budget_stops_training_and_still_packs(tmp_path):
    _torch_stack()
    corpus, _ = _toy_corpus(tmp_path)
    out = pb.build_pack(corpus, "ru", "en", tmp_path / "toy.argosmodel", steps=100_000, vocab_size=200,
                        progress=False, evaluate=False, time_budget=3)
    with zipfile.ZipFile(out) as zf:
        meta = json.loads(zf.read("translate-ru_en-1_0/metadata.json"))
    assert meta["training"]["stopped"] == "time budget"
    assert 0 < meta["training"]["steps"] < 100_000


def test_a_killed_build_resumes_from_its_checkpoint(tmp_path):
    """SIGKILL a real build after its first checkpoint; --resume goes on from there and
    ends where an uninterrupted build ends."""
    import os
    import signal
    import time

    _torch_stack()
    corpus, _ = _toy_corpus(tmp_path)
    common = [corpus, "--from", "ru", "--to", "en", "--steps", 400, "--eval-every", 20,
              "--vocab-size", 200, "--no-eval", "-q"]
    work = tmp_path / "ckpt"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "polyglot_pipe.cli.build", *map(str, common),
                             "-o", tmp_path / "a.argosmodel", "--checkpoint-dir", work],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not (work / "checkpoint.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the build ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "a.argosmodel").exists()
    resumed = _build_cli(*common, "-o", tmp_path / "a.argosmodel", "--checkpoint-dir", work, "--resume", env=env)
    assert resumed.returncode == 0, resumed.stderr
    fresh = _build_cli(*common, "-o", tmp_path / "b.argosmodel", env=env)
    assert fresh.returncode == 0, fresh.stderr
    top = "translate-ru_en-1_0"
    with zipfile.ZipFile(tmp_path / "a.argosmodel") as a, zipfile.ZipFile(tmp_path / "b.argosmodel") as b:
        meta = json.loads(a.read(f"{top}/metadata.json"))
        assert meta["training"]["steps"] == 400
        assert a.read(f"{top}/model/model.bin") == b.read(f"{top}/model/model.bin")


def test_build_options_that_cannot_work_are_one_line_errors(tmp_path):
    corpus, _ = _toy_corpus(tmp_path)
    resume = _build_cli(corpus, "--from", "ru", "--to", "en", "-o", tmp_path / "x.argosmodel", "--resume")
    assert resume.returncode == 1 and resume.stderr.count("\n") == 1 and "--checkpoint-dir" in resume.stderr
    missing = _build_cli(tmp_path / "nope.tsv", "--from", "ru", "--to", "en", "-o", tmp_path / "x.argosmodel")
    assert missing.returncode == 1 and "nope.tsv" in missing.stderr and "Traceback" not in missing.stderr
    _torch_stack()
    import torch

    if not torch.cuda.is_available():
        cuda = _build_cli(corpus, "--from", "ru", "--to", "en", "-o", tmp_path / "x.argosmodel", "--device", "cuda")
        assert cuda.returncode == 1 and "no CUDA GPU" in cuda.stderr and "Traceback" not in cuda.stderr


# --------------------------------------------------------------------------- committed packs


def _extract(pack: Path, dest: Path) -> Path:
    with zipfile.ZipFile(pack) as zf:
        tops = {n.split("/", 1)[0] for n in zf.namelist()}
        assert len(tops) == 1, tops
        zf.extractall(dest)
    return dest / tops.pop()


@pytest.fixture(scope="module", params=sorted(PACKS))
def committed_pack(request, tmp_path_factory):
    lang = request.param
    pack = PACKS[lang]
    if not pack.exists():
        pytest.fail(f"missing committed pack {pack}")
    return lang, pack, _extract(pack, tmp_path_factory.mktemp(f"pack-{lang}"))


def test_committed_pack_layout_and_metadata(committed_pack):
    lang, pack, root = committed_pack
    assert pack.stat().st_size < 5_000_000
    assert root.name == f"translate-{lang}_en-1_0"
    for rel in ("metadata.json", "README.md", "sentencepiece.model",
                "model/model.bin", "model/config.json"):
        assert (root / rel).is_file(), rel
    meta = json.loads((root / "metadata.json").read_text(encoding="utf-8"))
    assert meta["from_code"] == lang and meta["to_code"] == "en"
    assert meta["from_name"] == {"ru": "Russian", "de": "German"}[lang]
    assert meta["to_name"] == "English"
    assert meta["type"] == "translate"
    assert meta["package_version"] == "1.0" and meta["argos_version"] == "1.9"
    assert meta["source"] == "polyglot_pipe packbuild"
    corpus = PACKS_DIR / "corpus" / f"{lang}-en.tsv"
    assert meta["corpus"]["sha256"] == pb.read_corpus(corpus).sha256
    assert meta["training"]["seed"] == 0


def test_committed_pack_translates_training_sentences(committed_pack):
    ctranslate2 = pytest.importorskip("ctranslate2")
    spm = pytest.importorskip("sentencepiece")
    lang, _, root = committed_pack
    sp = spm.SentencePieceProcessor(model_file=str(root / "sentencepiece.model"))
    tr = ctranslate2.Translator(str(root / "model"), device="cpu")
    pairs = pb.read_corpus(PACKS_DIR / "corpus" / f"{lang}-en.tsv").pairs
    sample = pairs[:60]
    results = tr.translate_batch([sp.encode(s, out_type=str) for s, _ in sample],
                                 beam_size=4, num_hypotheses=1, length_penalty=0.2,
                                 replace_unknowns=True)
    hyps = [sp.decode(r.hypotheses[0]) for r in results]
    good = [h == t for h, (_, t) in zip(hyps, sample)]
    meta = json.loads((root / "metadata.json").read_text(encoding="utf-8"))
    # The sample's hit rate should be in line with the whole corpus' rate.
    assert sum(good) / len(good) >= max(0.3, meta["train_exact_match"] - 0.2), \
        [(h, t) for h, (_, t), ok in zip(hyps, sample, good) if not ok][:10]
    # argostranslate's own token handling: join pieces, '▁' -> ' '
    argos = ["".join(r.hypotheses[0]).replace("▁", " ").strip() for r in results]
    assert argos == hyps


def test_committed_pack_readable_by_argostranslate(committed_pack):
    package = pytest.importorskip("argostranslate.package")
    lang, _, root = committed_pack
    pkg = package.Package(root)
    assert pkg.from_code == lang and pkg.to_code == "en"
    assert pkg.package_version == "1.0"
