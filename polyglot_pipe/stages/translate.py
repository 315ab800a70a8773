"""Translate fragments with installed Argos packs, straight through CTranslate2.

Why not ``argostranslate.translate``: it imports stanza and torch, and at
translation time tries to download a sentence-splitter model (offline: URLError).
Our fragments are already sentences, so we feed the pack's own SentencePiece
tokens to its CTranslate2 model, as argostranslate does, with the same settings,
and gain what it lacks: one batched, deduplicated call per pack for a whole run.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from polyglot_pipe.errors import PackError
from polyglot_pipe.model import Document, Fragment, Rendering
from polyglot_pipe.packs.store import Pack, find_pack

__all__ = ["Translator", "LoadedPack", "NO_LANGUAGE", "check_translate_options"]

#: Labels that mean "nothing to translate": the text is its own rendering.
NO_LANGUAGE = "und"

# Beyond this many source tokens a fragment is translated in pieces: Argos packs
# are trained on sentences, and CTranslate2 truncates at max_input_length anyway.
_MAX_PIECE_TOKENS = 200

# Translations kept in-process so that text repeated across chunks of one run
# is translated once even without the persistent memory.
_RUN_CACHE_ENTRIES = 200_000


@dataclass
class LoadedPack:
    """A pack with its model and tokenizer loaded once."""

    pack: Pack
    translator: object
    tokenizer: object
    target_prefix: str | None

    @classmethod
    def load(cls, pack: Pack, *, device: str = "auto", compute_type: str = "auto", threads: int = 0) -> "LoadedPack":
        """Load once per run.  ``compute_type="auto"`` means int8 on CPU, CTranslate2's best choice on GPU."""
        import ctranslate2
        import sentencepiece

        spm_path = pack.path / "sentencepiece.model"
        if not spm_path.is_file():
            raise PackError(f"pack {pack.id} has no sentencepiece.model; only SentencePiece packs are supported")
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        if compute_type == "auto" and device == "cpu":
            compute_type = "int8"
        translator = ctranslate2.Translator(
            str(pack.path / "model"),
            device=device,
            compute_type=compute_type,
            inter_threads=1,
            intra_threads=threads or min(4, os.cpu_count() or 1),
        )
        tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(spm_path))
        return cls(pack, translator, tokenizer, pack.metadata.get("target_prefix") or None)

    def translate(
        self,
        texts: Sequence[str],
        *,
        beam_size: int = 4,
        max_batch_tokens: int = 4096,
        max_decoding_length: int = 256,
        min_decoding_length: int = 0,
    ) -> list[str]:
        """Translate unique texts in one batched call; the order of the result is the order of ``texts``."""
        return [text for text, _ in self.translate_scored(
            texts, beam_size=beam_size, max_batch_tokens=max_batch_tokens,
            max_decoding_length=max_decoding_length, min_decoding_length=min_decoding_length,
        )]

    def translate_scored(
        self,
        texts: Sequence[str],
        *,
        beam_size: int = 4,
        max_batch_tokens: int = 4096,
        max_decoding_length: int = 256,
        min_decoding_length: int = 0,
    ) -> list[tuple[str, float]]:
        """Like ``translate``, each rendering with the model's mean log-probability per
        output token (token-weighted over the pieces of a long text); 0 is certain.


        Pieces are sorted by length so each batch holds similar lengths (little
        padding) and batches are cut by tokens, not sentences.  The decoding
        lengths exist for benchmarks: a random-weight model decodes a fixed length.
        """
        pieces: list[list[str]] = []
        owners: list[int] = []
        for i, text in enumerate(texts):
            tokens = self.tokenizer.encode(text, out_type=str)
            for k in range(0, max(len(tokens), 1), _MAX_PIECE_TOKENS):
                pieces.append(tokens[k : k + _MAX_PIECE_TOKENS])
                owners.append(i)
        order = sorted(range(len(pieces)), key=lambda k: len(pieces[k]))
        batch = [pieces[k] for k in order]
        prefix = [[self.target_prefix]] * len(batch) if self.target_prefix else None
        results = self.translator.translate_batch(
            batch,
            target_prefix=prefix,
            beam_size=beam_size,
            num_hypotheses=1,
            length_penalty=_LENGTH_PENALTY,
            replace_unknowns=True,
            return_scores=True,
            max_batch_size=max_batch_tokens,
            batch_type="tokens",
            max_decoding_length=max_decoding_length,
            min_decoding_length=min_decoding_length,
        )
        outputs: list[list[str]] = [[] for _ in texts]
        decoded: list[str] = [""] * len(pieces)
        logprob: list[float] = [0.0] * len(pieces)
        lengths: list[int] = [1] * len(pieces)
        for position, result in zip(order, results):
            tokens = result.hypotheses[0]
            # CTranslate2 divides the summed log-probability by length ** length_penalty,
            # the length counting the end token; undo it to get the sum, then the mean.
            length = len(tokens) + 1
            logprob[position] = result.scores[0] * length**_LENGTH_PENALTY
            lengths[position] = length
            if self.target_prefix and tokens[:1] == [self.target_prefix]:
                tokens = tokens[1:]
            decoded[position] = self.tokenizer.decode(tokens)
        totals = [0.0] * len(texts)
        counts = [0] * len(texts)
        for k, owner in enumerate(owners):
            outputs[owner].append(decoded[k])
            totals[owner] += logprob[k]
            counts[owner] += lengths[k]
        return [
            (" ".join(part for part in parts if part), totals[i] / max(counts[i], 1))
            for i, parts in enumerate(outputs)
        ]

    def unknown_share(self, text: str) -> float:
        """The share of ``text``'s SentencePiece pieces that the pack's vocabulary does not hold."""
        ids = self.tokenizer.encode(text)
        if not ids:
            return 0.0
        unk = self.tokenizer.unk_id()
        return sum(1 for i in ids if i == unk) / len(ids)

    def hypotheses(self, text: str, n: int, *, beam_size: int = 4, max_decoding_length: int = 256) -> list[str]:
        """The model's ``n`` best renderings of one text, best first (the beam widened to
        at least ``n``), distinct; a text too long for one piece gets only its one rendering."""
        tokens = self.tokenizer.encode(text, out_type=str)
        if len(tokens) > _MAX_PIECE_TOKENS:
            return self.translate([text], beam_size=beam_size, max_decoding_length=max_decoding_length)
        (result,) = self.translator.translate_batch(
            [tokens],
            target_prefix=[[self.target_prefix]] if self.target_prefix else None,
            beam_size=max(beam_size, n),
            num_hypotheses=n,
            length_penalty=0.2,
            replace_unknowns=True,
            max_decoding_length=max_decoding_length,
        )
        found: dict[str, None] = {}
        for hypothesis in result.hypotheses:
            if self.target_prefix and hypothesis[:1] == [self.target_prefix]:
                hypothesis = hypothesis[1:]
            found[self.tokenizer.decode(hypothesis)] = None
        return list(found)


#: A rendering is marked ``quality: "low"`` (the pack is guessing) when the model's mean
#: log-probability per output token is below LOW_SCORE, or when more than HIGH_UNKNOWN_SHARE of
#: the source's SentencePiece pieces are unknown to the pack.  LOW_SCORE was read off the
#: held-out ru->en pairs of the committed pack (60 GNU messages, in-domain) as the loosest
#: threshold that catches nearly all of the worst quarter by sentence chrF: -0.3 catches 14 of
#: the 15 worst and flags 29 of 60 (-0.35: 11 of 15, flags 20); Spearman(score, chrF) = 0.61
#: (de->en: 0.20; -0.3 catches 10 of 15 and flags 44).  Reproduce:
#: ``python bench/score_vs_chrf.py language_packs/corpus/ru-en.heldout.tsv``.  Provisional: a set
#: from outside Debian/GNU should set it (bench/README.md, "Translation score vs chrF").
LOW_SCORE = -0.3
#: Not tuned: a tenth of the pieces unknown means whole words the pack has never seen.
HIGH_UNKNOWN_SHARE = 0.10


def rendering_quality(score: float | None, unknown_share: float = 0.0) -> str | None:
    """"low" when the score or the unknown share says the pack is guessing, "ok" otherwise;
    None when there is no score (a rendering remembered before scores were kept)."""
    if unknown_share > HIGH_UNKNOWN_SHARE:
        return "low"
    if score is None:
        return None
    return "low" if score < LOW_SCORE else "ok"


#: Argos's length penalty: scores are divided by length ** this (undone in ``translate_scored``).
_LENGTH_PENALTY = 0.2

#: Most CTranslate2 threads asked for, per core: far more only slows down, and 100000 crashes
#: CTranslate2 (a segfault creating the thread pool).
MAX_THREADS_PER_CORE = 4
#: Widest beam: Argos uses 4; beyond a few dozen, memory and time grow with no gain.
MAX_BEAM_SIZE = 64


def check_translate_options(*, device: str = "auto", beam_size: int = 4, threads: int = 0) -> None:
    """Raise OptionError naming the value when the translation settings cannot work, before any work."""
    from polyglot_pipe.errors import OptionError

    if device not in ("auto", "cpu", "cuda"):
        raise OptionError(f"--device {device}: choose auto, cpu or cuda")
    if not isinstance(beam_size, int) or not 1 <= beam_size <= MAX_BEAM_SIZE:
        raise OptionError(f"--beam-size {beam_size}: must be between 1 and {MAX_BEAM_SIZE}")
    most = MAX_THREADS_PER_CORE * (os.cpu_count() or 1)
    if not isinstance(threads, int) or not 0 <= threads <= most:
        raise OptionError(f"--threads {threads}: must be between 0 (automatic) and {most} ({MAX_THREADS_PER_CORE} per core)")
    if device == "cuda":
        import ctranslate2

        if ctranslate2.get_cuda_device_count() < 1:
            raise OptionError("--device cuda: no CUDA GPU is visible to CTranslate2 (use --device cpu or auto)")


#: How sure a label must be before a missing pack for it is worth installing.  Chosen by
#: hand; since confidences are calibrated (identify.CONFIDENCE_TEMPERATURE) it means "right
#: nine times in ten".  Checked on the bench/langid mixed documents: a pack would be asked
#: for a language not in the document in 0 of 100 dev and 0 of 100 test documents (1 and 3
#: with the raw posterior), and each document's foreign language still has a fragment at
#: 0.9 or more in 97 of 98 dev documents (as before) and 99 of 99 test ones.
INSTALL_CONFIDENCE = 0.9


class Translator:
    """The translation stage: finds, loads and runs packs; deduplicates across documents.

    ``memory`` (optional) is a translation memory with ``get_scored_many(pack, texts,
    decoding)`` and ``put_many(pack, pairs, decoding)`` (polyglot_pipe.memory);
    its hits are marked ``cached``.  Within one run, text already translated in
    an earlier chunk is reused from an in-process cache (not marked ``cached``:
    that flag means "from the persistent memory").

    ``on_missing_pack(lang)`` is asked once per language that has no pack but
    at least one fragment labelled with confidence >= INSTALL_CONFIDENCE, so a
    stray mislabel of a short string never triggers a large download.
    """

    def __init__(
        self,
        target: str = "en",
        packs_dir: str | os.PathLike | None = None,
        *,
        device: str = "auto",
        compute_type: str = "auto",
        beam_size: int = 4,
        threads: int = 0,
        memory=None,
        max_batch_tokens: int = 4096,
        max_decoding_length: int = 256,
        min_decoding_length: int = 0,
        on_missing_pack=None,
    ):
        from polyglot_pipe.langdata.codes import normalise_code

        check_translate_options(device=device, beam_size=beam_size, threads=threads)
        self.target = normalise_code(target, "target")
        self.on_missing_pack = on_missing_pack
        self.packs_dir = packs_dir
        self.device = device
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.threads = threads
        self.memory = memory
        self.max_batch_tokens = max_batch_tokens
        self.max_decoding_length = max_decoding_length
        self.min_decoding_length = min_decoding_length
        self._run_cache: OrderedDict[tuple[str, str], tuple] = OrderedDict()
        self._loaded: dict[str, LoadedPack | Exception | None] = {}
        self._lock = threading.RLock()

    def __call__(self, doc: Document) -> Document:
        return self.translate_documents([doc])[0]

    def close(self) -> None:
        """Unload the models and close the memory's database (both come back if used again)."""
        with self._lock:
            self._loaded.clear()
            self._run_cache.clear()
        if self.memory is not None and hasattr(self.memory, "close"):
            self.memory.close()

    def pack_for(self, lang: str, may_install: bool = False) -> LoadedPack | Exception | None:
        """The loaded pack lang->target, None when none is installed, the error when it won't load."""
        if lang not in self._loaded:
            pack = find_pack(lang, self.target, self.packs_dir)
            if pack is None and may_install and self.on_missing_pack is not None:
                self.on_missing_pack(lang)
                pack = find_pack(lang, self.target, self.packs_dir)
            if pack is None:
                if may_install or self.on_missing_pack is None:
                    self._loaded[lang] = None  # asked (or no one to ask): settled for this run
                return None
            try:
                self._loaded[lang] = LoadedPack.load(
                    pack, device=self.device, compute_type=self.compute_type, threads=self.threads
                )
            except Exception as exc:  # a broken pack fails its fragments, not the run
                self._loaded[lang] = exc
        return self._loaded[lang]

    def translate_documents(self, docs: Sequence[Document]) -> list[Document]:
        """Translate every fragment that needs it, all documents together, one batch per pack.

        One call at a time (threads sharing a Translator share its models, caches and memory)."""
        with self._lock:
            return self._translate_documents(docs)

    def _translate_documents(self, docs: Sequence[Document]) -> list[Document]:
        wanted: dict[str, dict[str, None]] = {}
        confident: set[str] = set()
        for doc in docs:
            for frag in doc.fragments:
                if self._is_source(frag):
                    continue
                wanted.setdefault(frag.lang, {})[frag.original] = None
                if frag.lang_confidence >= INSTALL_CONFIDENCE:
                    confident.add(frag.lang)

        # (lang, text) -> (english, method, status, error, cached, translation_score, quality)
        done: dict[tuple[str, str], tuple] = {}
        for lang, texts in wanted.items():
            loaded = self.pack_for(lang, may_install=lang in confident)
            if loaded is None:
                for text in texts:
                    done[lang, text] = (None, "none", "no-pack", None, False, None, None)
                continue
            if isinstance(loaded, Exception):
                for text in texts:
                    done[lang, text] = (None, "none", "failed", f"pack failed to load: {loaded}", False, None, None)
                continue
            done.update(self._translate_with(loaded, lang, list(texts)))

        out = []
        for doc in docs:
            fragments = []
            for frag in doc.fragments:
                if self._is_source(frag):
                    fragments.append(replace(frag, english=frag.original, method="source", status="ok"))
                    continue
                english, method, status, error, cached, score, quality = done[frag.lang, frag.original]
                fragments.append(
                    replace(
                        frag, english=english, method=method, status=status, error=error, cached=cached,
                        translation_score=score, quality=quality,
                    )  # fmt: skip
                )
            out.append(doc.replace_fragments(fragments))
        return out

    def _is_source(self, frag: Fragment) -> bool:
        return frag.lang in (self.target, NO_LANGUAGE)

    @property
    def decoding(self) -> str:
        """The decoding settings that change a translation: part of the memory's key."""
        key = f"beam={self.beam_size}"
        if self.max_decoding_length != 256 or self.min_decoding_length:
            key += f",len={self.min_decoding_length}-{self.max_decoding_length}"
        return key

    def _translate_with(self, loaded: LoadedPack, lang: str, texts: list[str]) -> dict:
        method = loaded.pack.id
        results = {}
        todo = []
        for text in texts:
            seen = self._run_cache.get((lang, text))
            if seen is None:
                todo.append(text)
            else:
                results[lang, text] = seen
        if self.memory is not None and todo:
            hits = self._memory_call("get_scored_many", loaded.pack, todo, self.decoding) or {}
            for text, (english, score) in hits.items():
                quality = rendering_quality(score, loaded.unknown_share(text))
                results[lang, text] = self._remember(lang, text, (english, method, "ok", None, True, score, quality))
            todo = [t for t in todo if t not in hits]
        if not todo:
            return results
        try:
            translations = loaded.translate_scored(
                todo,
                beam_size=self.beam_size,
                max_batch_tokens=self.max_batch_tokens,
                max_decoding_length=self.max_decoding_length,
                min_decoding_length=self.min_decoding_length,
            )
        except Exception as exc:  # failures are not remembered: the next run tries again
            for text in todo:
                results[lang, text] = (None, "none", "failed", f"{type(exc).__name__}: {exc}", False, None, None)
            return results
        for text, (english, score) in zip(todo, translations):
            quality = rendering_quality(score, loaded.unknown_share(text))
            results[lang, text] = self._remember(lang, text, (english, method, "ok", None, False, score, quality))
        if self.memory is not None:
            items = [(text, english, score) for text, (english, score) in zip(todo, translations)]
            self._memory_call("put_many", loaded.pack, items, self.decoding)
        return results

    def _memory_call(self, name: str, *args):
        """A call to the memory; one it cannot serve (MemoryStoreError) is said once, and the run goes on without it."""
        from polyglot_pipe.errors import MemoryStoreError

        try:
            return getattr(self.memory, name)(*args)
        except MemoryStoreError as exc:
            import sys

            print(f"polyglot-pipe: {exc}; going on without the translation memory", file=sys.stderr)
            self.memory = None
            return None

    def _remember(self, lang: str, text: str, result: tuple) -> tuple:
        self._run_cache[lang, text] = result
        if len(self._run_cache) > _RUN_CACHE_ENTRIES:
            self._run_cache.popitem(last=False)
        return result


_DIRECT_PACKS: dict[tuple, LoadedPack] = {}
_DIRECT_LOCK = threading.Lock()


def translate_text(
    text: str, source: str, target: str = "en", packs_dir: str | os.PathLike | None = None, *, beam_size: int = 4
) -> Rendering:
    """Render ``text`` from ``source`` with the installed pack, for a caller who knows the
    language (no labelling).  PackError naming the pair when no pack is installed."""
    from polyglot_pipe.langdata.codes import normalise_code

    source, target = normalise_code(source, "source"), normalise_code(target, "target")
    check_translate_options(beam_size=beam_size)
    key = (source, target, str(packs_dir))
    with _DIRECT_LOCK:
        loaded = _DIRECT_PACKS.get(key)
        if loaded is None:
            pack = find_pack(source, target, packs_dir)
            if pack is None:
                raise PackError(f"no {source}->{target} pack installed: polyglot-pipe packs install {source} --to {target}")
            loaded = _DIRECT_PACKS[key] = LoadedPack.load(pack)
        ((english, score),) = loaded.translate_scored([text], beam_size=beam_size)
    return Rendering(
        english, source, target, loaded.pack.id, score, rendering_quality(score, loaded.unknown_share(text)) or "ok"
    )
