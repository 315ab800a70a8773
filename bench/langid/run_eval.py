"""Score language labels on the evaluation set built by build_eval.py.

Systems: raw langdetect per fragment (seeded, all its languages), lingua
(reference, if installed; restricted to the languages langdetect knows, so
both face the same choice) and polyglot_pipe's LanguageIdentifier.  Kinds:

* short: an isolated 1-4 word UI string; right when the label is any language
  the exact string is a translation in;
* sentence: an isolated sentence;
* mixed: English-dominant documents with foreign insertions, segmented by
  polyglot_pipe.stages.segment; "chars" = share of letters labelled with their gold
  language, "short in doc" = inserted 1-4 word lines (foreign and English)
  whose every letter is right, "en short in doc" = the English ones only.

Throughput: fragments per second over the mixed documents, one process, one
core; for polyglot_pipe also MB/s of segmentation + identification.

Usage: python bench/langid/run_eval.py [--split test|dev|all] [--no-lingua] [--markdown]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = HERE.parents[1] / "seeds" / "000_0e5ec4742fbe5a91.txt"
sys.path.insert(0, str(HERE.parents[1]))

from polyglot_pipe.langdata.scripts import dominant_script  # noqa: E402
from polyglot_pipe.model import Document, Fragment  # noqa: E402
from polyglot_pipe.stages.identify import LanguageIdentifier  # noqa: E402
from polyglot_pipe.stages.segment import segment_document  # noqa: E402


def load(path: Path, split: str) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        items = [json.loads(line) for line in fh]
    return [item for item in items if split == "all" or item["split"] == split]


class RawLangdetect:
    name = "langdetect (raw, per fragment)"

    def __init__(self):
        from langdetect import DetectorFactory, detect_langs

        DetectorFactory.seed = 0
        self._detect = detect_langs

    def label(self, text: str) -> str:
        from langdetect.lang_detect_exception import LangDetectException

        try:
            return self._detect(text)[0].lang.split("-")[0]
        except LangDetectException:
            return "und"

    def label_doc(self, doc: Document) -> list[tuple[Fragment, str]]:
        return [(f, self.label(f.original)) for f in doc.fragments]


class Lingua:
    name = "lingua (reference, per fragment)"

    def __init__(self, codes: set[str]):
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        aliases = {"no": "nb"}
        languages = []
        for code in sorted(codes):
            try:
                languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, aliases.get(code, code).upper())))
            except (AttributeError, ValueError):
                pass
        self._detector = LanguageDetectorBuilder.from_languages(*languages).build()
        self._back = {"nb": "no"}

    def label(self, text: str) -> str:
        lang = self._detector.detect_language_of(text)
        if lang is None:
            return "und"
        code = lang.iso_code_639_1.name.lower()
        return self._back.get(code, code)

    def label_doc(self, doc: Document) -> list[tuple[Fragment, str]]:
        return [(f, self.label(f.original)) for f in doc.fragments]


class Pipe:
    name = "polyglot_pipe"

    def __init__(self, **kwargs):
        self.identifier = LanguageIdentifier(**kwargs)
        self.whole = LanguageIdentifier(split_mixed=False, **kwargs)  # one label per isolated item

    def label(self, text: str) -> str:
        doc = Document(id="x", text=text, fragments=(single_fragment(text),))
        return self.whole(doc).fragments[0].lang

    def label_doc(self, doc: Document) -> list[tuple[Fragment, str]]:
        return [(f, f.lang) for f in self.identifier(doc).fragments]


def single_fragment(text: str) -> Fragment:
    return Fragment(start=0, end=len(text), original=text, script=dominant_script(text))


def score_isolated(system, items: list[dict]) -> dict:
    right = defaultdict(lambda: [0, 0])
    for item in items:
        ok = system.label(item["text"]) in item["ok"]
        for key in ("all", item["lang"]):
            right[key][0] += ok
            right[key][1] += 1
    return {key: r / n for key, (r, n) in right.items()}


def score_mixed(system, docs: list[dict]) -> dict:
    letters_right = letters = 0
    units = {"short": [0, 0], "en_short": [0, 0]}
    for item in docs:
        doc = segment_document(Document(id="m", text=item["text"]))
        predicted = [None] * len(item["text"])
        for frag, lang in system.label_doc(doc):
            for i in range(frag.start, frag.end):
                predicted[i] = lang
        gold = [None] * len(item["text"])
        for start, end, lang in item["spans"]:
            for i in range(start, end):
                gold[i] = lang
        text = item["text"]
        for i, ch in enumerate(text):
            if ch.isalpha() and gold[i] is not None:
                letters += 1
                letters_right += predicted[i] == gold[i]
        for start, end, lang, kind in item["units"]:
            ok = all(predicted[i] == lang for i in range(start, end) if text[i].isalpha())
            units["short"][0] += ok
            units["short"][1] += 1
            if lang == "en":
                units["en_short"][0] += ok
                units["en_short"][1] += 1
    return {
        "chars": letters_right / letters,
        "short_in_doc": units["short"][0] / max(units["short"][1], 1),
        "en_short_in_doc": units["en_short"][0] / max(units["en_short"][1], 1),
    }


def throughput(system, docs: list[dict]) -> tuple[float, float]:
    """(fragments per second, MB per second) labelling segmented documents."""
    segmented = [segment_document(Document(id="m", text=item["text"])) for item in docs]
    n_fragments = sum(len(d.fragments) for d in segmented)
    n_bytes = sum(len(item["text"].encode()) for item in docs)
    start = time.perf_counter()
    for doc in segmented:
        system.label_doc(doc)
    elapsed = time.perf_counter() - start
    return n_fragments / elapsed, n_bytes / elapsed / 1e6


def speed_trials(texts: list[str], warm_texts: list[str], trials: int = 7, repeat: int = 1) -> dict:
    """MB/s of raw langdetect called on every line, and of polyglot_pipe's segmentation
    + identification with cold caches (a fresh identifier, no word seen) and warm ones
    (its word cache filled by ``warm_texts``, other documents: a long run's vocabulary).

    The three are measured in turn, ``trials`` times, in CPU seconds of this process
    (time.process_time: the shared VM's other jobs do not count, as they would in
    wall time); each text set is run ``repeat`` times per trial (a small document
    is too quick to time once).  Returned: the median MB/s of each, and the median,
    lowest and highest per-trial ratio to langdetect.
    """
    raw = RawLangdetect()
    lines = [line for text in texts for line in text.splitlines() if line.strip()]
    n_mb = sum(len(text.encode()) for text in texts) * repeat / 1e6
    identifier = LanguageIdentifier()
    for text in warm_texts + texts:  # load the model and every script's word lists: a one-off, not timed
        identifier(segment_document(Document(id="w", text=text)))

    def pipeline(warm: bool) -> float:
        seconds = 0.0
        for _ in range(repeat):
            identifier.model.clear_words()
            identifier._evidence.clear()
            if warm:
                for text in warm_texts:
                    identifier(segment_document(Document(id="w", text=text)))
                identifier._evidence.clear()  # no fragment of the measured documents is cached
            start = time.process_time()
            for text in texts:
                identifier(segment_document(Document(id="m", text=text)))
            seconds += time.process_time() - start
        return n_mb / seconds

    results: dict[str, list[float]] = {"langdetect": [], "cold": [], "warm": []}
    for _ in range(trials):
        start = time.process_time()
        for _ in range(repeat):
            for line in lines:
                raw.label(line)
        results["langdetect"].append(n_mb / (time.process_time() - start))
        results["cold"].append(pipeline(warm=False))
        results["warm"].append(pipeline(warm=True))
    out = {name: statistics.median(values) for name, values in results.items()}
    for name in ("cold", "warm"):
        ratios = [a / b for a, b in zip(results[name], results["langdetect"])]
        out[f"{name}_ratio"] = (statistics.median(ratios), min(ratios), max(ratios))
    return out


def _ratio(r: tuple[float, float, float]) -> str:
    return f"x{r[0]:.1f} (trials x{r[1]:.1f}-{r[2]:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data" / "eval.jsonl.gz")
    parser.add_argument("--split", default="test", choices=("test", "dev", "all"))
    parser.add_argument("--no-lingua", action="store_true")
    parser.add_argument("--no-langdetect", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    items = load(args.data, args.split)
    short = [i for i in items if i["kind"] == "short"]
    sentences = [i for i in items if i["kind"] == "sentence"]
    mixed = [i for i in items if i["kind"] == "mixed"]
    langs = sorted({i["lang"] for i in items})

    systems = []
    if not args.no_langdetect:
        systems.append(RawLangdetect())
    if not args.no_lingua:
        try:
            import langdetect

            codes = {p.name.split("-")[0] for p in (Path(langdetect.__file__).parent / "profiles").iterdir()}
            systems.append(Lingua(codes))
        except ImportError:
            print("lingua not installed: skipped", file=sys.stderr)
    systems.append(Pipe())

    rows = []
    for system in systems:
        s = score_isolated(system, short)
        t = score_isolated(system, sentences)
        m = score_mixed(system, mixed)
        fps, mbps = throughput(system, mixed)
        rows.append((system.name, s, t, m, fps))
        print(f"{system.name}: short {s['all']:.3f} sentence {t['all']:.3f} mixed {m}, {fps:.0f} fragments/s", file=sys.stderr)
    other = [i for i in load(args.data, "dev" if args.split == "test" else "test")]
    warm_texts = [i["text"] for i in other if i["kind"] == "mixed"] + [
        i["text"] for i in other if i["kind"] == "sentence" and i["lang"] == "en"
    ]
    speed = None if args.no_langdetect else speed_trials([i["text"] for i in mixed], warm_texts)
    seed_text = SEED.read_text(encoding="utf-8")
    seed_speed = None if args.no_langdetect else speed_trials([seed_text], warm_texts, repeat=10)
    n_frag = sum(len(segment_document(Document(id="m", text=i["text"])).fragments) for i in mixed)
    print(
        f"Split {args.split}: {len(short)} short fragments, {len(sentences)} sentences, "
        f"{len(mixed)} mixed documents ({n_frag} fragments), {len(langs)} languages: {' '.join(langs)}.\n"
    )
    header = (
        "| system | short (isolated) | short en | short ru | sentences | sentences en | sentences ru "
        "| mixed: letters right | short in docs | en short in en docs | fragments/s |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, s, t, m, fps in rows:
        print(
            f"| {name} | {s['all']:.1%} | {s.get('en', 0):.1%} | {s.get('ru', 0):.1%} | {t['all']:.1%} "
            f"| {t.get('en', 0):.1%} | {t.get('ru', 0):.1%} | {m['chars']:.1%} | {m['short_in_doc']:.1%} "
            f"| {m['en_short_in_doc']:.1%} | {fps:,.0f} |"
        )
    for name, sp in (("English-dominant mixed documents", speed), (f"seed document ({len(seed_text.encode()):,} bytes)", seed_speed)):
        if sp:
            print(
                f"\nThroughput, {name}, one core, CPU time, median of 7 interleaved trials: raw langdetect per line "
                f"{sp['langdetect']:.3f} MB/s; polyglot_pipe segmentation + identification {sp['cold']:.2f} MB/s "
                f"with cold caches, {_ratio(sp['cold_ratio'])}; {sp['warm']:.2f} MB/s with the word cache warmed "
                f"on other documents, {_ratio(sp['warm_ratio'])}."
            )
    print("fragments/s above: labelling already-segmented fragments, after the accuracy pass (warm caches for polyglot_pipe).")


if __name__ == "__main__":
    main()
