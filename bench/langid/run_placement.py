"""Score language labels per placement on the set built by build_placement.py (issue 13).

A segment (a unit of the gold) is right when more than half of its non-space
characters carry one of its languages (``ok``).  Systems:

* polyglot_pipe: segment_document + LanguageIdentifier, as run_eval.py runs it;
* raw langdetect per line (seeded): the line's label applies to all its characters;
* lingua per line, restricted to langdetect's languages;
* lingua's ``detect_multiple_languages_of`` per line: its spans label the characters.

Columns: each placement (between = spaced + glued), foreign segments of at most
4 words, English short lines, the English word of a chrome line, and chars
right (non-space characters with a gold language).  ``--errors N`` prints
polyglot_pipe's top confusions per placement with examples.

Usage: python bench/langid/run_placement.py [--split dev|test|all] [--no-lingua] [--no-langdetect] [--markdown] [--errors 3]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from run_eval import Lingua, Pipe, RawLangdetect, load

from polyglot_pipe.model import Document
from polyglot_pipe.stages.segment import segment_document

_LINE = re.compile(r"[^\n]+")
COLUMNS = (
    ("own_line", "own line", 0.98),
    ("between_sentences", "between (spaced)", None),
    ("between_glued", "between (glued)", None),
    ("between", "between sentences", 0.97),
    ("inside_sentence", "inside a sentence", 0.95),
    ("chrome", "page chrome", 0.97),
    ("le4", "foreign ≤ 4 words", 0.95),
    ("en_short_line", "English short lines", 0.99),
    ("chrome_en", "chrome English word", None),
    ("chars", "chars right", 0.99),
)


class PipeDoc:
    name = "polyglot_pipe"

    def __init__(self):
        self.pipe = Pipe()

    def char_labels(self, text: str) -> list:
        labels = [None] * len(text)
        doc = segment_document(Document(id="p", text=text))
        for frag, lang in self.pipe.label_doc(doc):
            labels[frag.start : frag.end] = [lang] * (frag.end - frag.start)
        return labels


class PerLine:
    def __init__(self, system, name):
        self.system, self.name = system, name

    def char_labels(self, text: str) -> list:
        labels = [None] * len(text)
        for m in _LINE.finditer(text):
            if m.group().strip():
                labels[m.start() : m.end()] = [self.system.label(m.group())] * (m.end() - m.start())
        return labels


class LinguaMultiple:
    name = "lingua detect_multiple_languages_of, per line"

    def __init__(self, lingua: Lingua):
        self.detector, self.back = lingua._detector, lingua._back

    def char_labels(self, text: str) -> list:
        labels = [None] * len(text)
        for m in _LINE.finditer(text):
            line = m.group()
            for r in self.detector.detect_multiple_languages_of(line):
                code = r.language.iso_code_639_1.name.lower()
                code = self.back.get(code, code)
                labels[m.start() + r.start_index : m.start() + r.end_index] = [code] * (r.end_index - r.start_index)
        return labels


def score(system, docs: list[dict], errors: dict | None = None) -> dict:
    right: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    chars = [0, 0]
    for doc in docs:
        text = doc["text"]
        labels = system.char_labels(text)
        for start, end, lang in doc["spans"]:
            for i in range(start, end):
                if not text[i].isspace():
                    chars[0] += labels[i] == lang
                    chars[1] += 1
        for unit in doc["units"]:
            got = Counter(labels[i] for i in range(unit["start"], unit["end"]) if not text[i].isspace())
            n = sum(got.values())
            ok = sum(c for lang, c in got.items() if lang in unit["ok"]) * 2 > n
            keys = [unit["placement"]]
            if unit["placement"].startswith("between_"):
                keys.append("between")
            if unit["placement"] in ("own_line", "between_sentences", "between_glued", "inside_sentence", "chrome"):
                keys.append("foreign")
                if unit["n_words"] <= 4:
                    keys.append("le4")
            for key in keys:
                right[key][0] += ok
                right[key][1] += 1
            if not ok and errors is not None:
                line_start = text.rfind("\n", 0, unit["start"]) + 1
                line_end = text.find("\n", unit["end"])
                wrong = got.most_common(1)[0][0]
                errors[unit["placement"]].append(
                    (f"{unit['lang']}→{wrong}", text[unit["start"] : unit["end"]], text[line_start:line_end])
                )
    out = {key: (r / n, r, n) for key, (r, n) in right.items()}
    out["chars"] = (chars[0] / chars[1], *chars)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data" / "placement.jsonl.gz")
    parser.add_argument("--split", default="test", choices=("test", "dev", "all"))
    parser.add_argument("--no-lingua", action="store_true")
    parser.add_argument("--no-langdetect", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--errors", type=int, default=0, help="examples per confusion of polyglot_pipe's errors")
    args = parser.parse_args()
    docs = load(args.data, args.split)
    systems = [PipeDoc()]
    if not args.no_langdetect:
        systems.append(PerLine(RawLangdetect(), "langdetect (raw, per line)"))
    if not args.no_lingua:
        import langdetect

        codes = {p.name.split("-")[0] for p in (Path(langdetect.__file__).parent / "profiles").iterdir()}
        lingua = Lingua(codes)
        systems.append(PerLine(lingua, "lingua (per line)"))
        systems.append(LinguaMultiple(lingua))
    errors: dict[str, list] = defaultdict(list)
    rows = []
    for system in systems:
        start = time.perf_counter()
        rows.append((system.name, score(system, docs, errors if isinstance(system, PipeDoc) else None)))
        print(f"{system.name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    n_units = Counter(u["placement"] for d in docs for u in d["units"])
    print(f"Split {args.split}: {len(docs)} documents, {sum(n_units.values())} units {dict(sorted(n_units.items()))}\n")
    if args.markdown:
        print("| system | " + " | ".join(label for _, label, _ in COLUMNS) + " |")
        print("|---|" + "---|" * len(COLUMNS))
        print("| target | " + " | ".join(f"≥ {t:.0%}" if t else "" for _, _, t in COLUMNS) + " |")
        for name, res in rows:
            print(f"| {name} | " + " | ".join(f"{res[k][0]:.1%}" if k in res else "" for k, _, _ in COLUMNS) + " |")
    else:
        for name, res in rows:
            print(name)
            for key, label, target in COLUMNS:
                if key in res:
                    acc, r, n = res[key]
                    mark = "" if target is None else (" met" if acc >= target else f" NOT met (target {target:.0%})")
                    print(f"  {label:22s} {acc:7.1%}  ({r}/{n}){mark}")
    if args.errors:
        print("\npolyglot_pipe errors per placement (gold→label, count, examples):")
        for placement in sorted(errors):
            wrong = errors[placement]
            print(f"- {placement}: {len(wrong)} wrong")
            kinds = Counter(kind for kind, _, _ in wrong)
            for kind, count in kinds.most_common(6):
                examples = [(seg, line) for k, seg, line in wrong if k == kind][: args.errors]
                shown = "; ".join(f"{seg[:60]!r} in {line[:140]!r}" for seg, line in examples)
                print(f"    {kind} ×{count}: {shown}")


if __name__ == "__main__":
    main()
