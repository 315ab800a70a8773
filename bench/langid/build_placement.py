"""Build the placement evaluation set (issue 13): where foreign text sits in an English page.

Same real sources as build_eval.py (Debian gettext catalogs and rendered man
pages, its readers and filters: ``collect``), a separate file
(``data/placement.jsonl.gz``) so the figures of ``eval.jsonl.gz`` stay
comparable.  Each item is an English-dominant document: English man-page prose
lines and English short UI lines (real msgids of 1-4 words), with one foreign
language whose segments are placed

* ``own_line``: a line of its own;
* ``between_sentences``: between two English sentences of a line, spaces around;
* ``between_glued``: the same, glued without a space on one side or both
  ("...the file.Datei anzeigen The next...");
* ``inside_sentence``: inside a real English sentence, at a word boundary;
* ``chrome``: after a short English UI word on one line (a real 1-2 word msgid,
  "Chats Заголовок открываемого материала").

Foreign segments are UI strings (msgstrs of 1-4 words; and of 5-10 words for
chrome) and prose sentences (man pages, long msgstrs), so about half are 1-4
words.  They pass build_eval's filters (script, untranslated paragraphs,
``looks_english``) and one more: a short string that is also an English msgid
("Video", "Status") is dropped, as it is English too.  ``ok`` lists every
language the exact string is a translation in (as the isolated short items do).
``n_words``: word tokens, or for ja/zh (no spaces) letters / 2.

Units (gold char spans) mark each foreign segment (``placement`` above), each
English short line (``en_short_line``) and each chrome English word
(``chrome_en``).  Split by source: a dev document draws every piece (English
and foreign) from dev sources (catalog domain, man page) only, a test document
from test sources only.

Usage: python bench/langid/build_placement.py [--src /tmp/langid_src] [--out bench/langid/data/placement.jsonl.gz]
Deterministic for a given set of packages.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from build_eval import _WORD, EXPECTED_SCRIPT, collect, fetch, looks_english, split_of

PLACEMENTS = ("own_line", "between_sentences", "between_glued", "inside_sentence", "chrome")
N_DOCS_PER_SPLIT = 200
#: An English UI line as pages show them: words only, maybe a final ! or ?
_EN_UI = re.compile(r"[A-Za-z][A-Za-z'’ -]*[A-Za-z][!?]?")
_FINAL_STOP = re.compile(r"[.!?。！？]+$")


def n_words(lang: str, text: str) -> int:
    if lang in ("ja", "zh"):
        return max(1, sum(ch.isalpha() for ch in text) // 2)
    return len(_WORD.findall(text))


_EMPTY_QUOTES = re.compile(r"""['"“„«‘‚]\s*['"”»’]""")  # a placeholder removed from quotes


def pools_by_split(pools: dict) -> dict:
    short, string_langs, long_ui, ui_words, prose = (
        pools[k] for k in ("short", "string_langs", "long_ui", "ui_words", "prose")
    )
    out = {split: defaultdict(lambda: defaultdict(list)) for split in ("dev", "test")}

    def put(kind, lang, text, source):
        if _EMPTY_QUOTES.search(text):
            return
        out[split_of(source)][kind][lang].append(text)

    for text, source in sorted(prose["en"].items()):
        if len(_WORD.findall(text)) >= 4:
            put("en_prose", "en", text, source)
    common = ui_words["en"]
    for text, source in sorted(short["en"].items()):
        words = text.split()
        if not (_EN_UI.fullmatch(text) and sum(ch.isalpha() for ch in text) >= 3):
            continue
        # UI words, not credits ("Jay Lepreau") or fragments of options ("SGI xlv")
        if any(common[w.lower().strip("!?")] < 5 for w in words) or (len(words) > 1 and all(w[0].isupper() for w in words)):
            continue
        put("en_short", "en", text, source)
        if len(words) <= 2:
            put("chrome_en", "en", text, source)
    for lang in sorted(short):
        if lang == "en":
            continue
        latin = EXPECTED_SCRIPT.get(lang, "Latin") == "Latin"
        for text, source in sorted(short[lang].items()):
            langs = string_langs[text.casefold()]
            if "en" in langs or sum(ch.isalpha() for ch in text) < 3:
                continue
            if latin and looks_english(text, lang, ui_words):
                continue
            put("f_short", lang, text, source)
        for pool in (prose.get(lang, {}), long_ui.get(lang, {})):
            for text, source in sorted(pool.items()):
                if latin and looks_english(text, lang, ui_words):
                    continue
                put("f_sentence", lang, text, source)
        for text, source in sorted(long_ui.get(lang, {}).items()):
            if n_words(lang, text) <= 10 and not (latin and looks_english(text, lang, ui_words)):
                put("f_long_ui", lang, text, source)
    return out


def build_split(split: str, pool: dict, string_langs: dict, rng: random.Random) -> list[dict]:
    langs = sorted(
        lang for lang in pool["f_sentence"] if len(pool["f_sentence"][lang]) >= 10 and len(pool["f_short"][lang]) >= 10
    )
    en_prose, en_short, chrome_en = pool["en_prose"]["en"], pool["en_short"]["en"], pool["chrome_en"]["en"]
    long_hosts = [s for s in en_prose if len(s.split(" ")) >= 6]
    docs = []
    for n in range(N_DOCS_PER_SPLIT):
        lang = langs[n % len(langs)]
        f_short, f_sentence = pool["f_short"][lang], pool["f_sentence"][lang]
        f_long_ui = pool["f_long_ui"][lang] or f_short

        def foreign(kind: str) -> tuple[str, list[str], str]:
            if kind == "short":
                text = rng.choice(f_short)
                return text, sorted(string_langs[text.casefold()] | {lang}), "ui"
            if kind == "long_ui":
                return rng.choice(f_long_ui), [lang], "ui"
            if kind == "phrase":  # a sentence of at most 12 words
                few = [s for s in f_sentence if n_words(lang, s) <= 12] or f_sentence
                return rng.choice(few), [lang], "prose"
            return rng.choice(f_sentence), [lang], "prose"

        lines: list[list[tuple]] = []  # pieces (text, lang or None, unit or None)
        for _ in range(rng.randint(8, 14)):
            if rng.random() < 0.25:
                lines.append([(rng.choice(en_short), "en", dict(placement="en_short_line"))])
            else:
                lines.append([(" ".join(rng.choice(en_prose) for _ in range(rng.randint(1, 3))), "en", None)])
        for _ in range(rng.randint(3, 6)):
            placement = rng.choice(PLACEMENTS)
            if placement in ("own_line", "between_sentences", "between_glued"):
                text, ok, source = foreign("short" if rng.random() < 0.45 else "sentence")
            elif placement == "inside_sentence":
                text, ok, source = foreign("short" if rng.random() < 0.6 else "phrase")
                text = _FINAL_STOP.sub("", text) or text
            else:
                text, ok, source = foreign("short" if rng.random() < 0.6 else "long_ui")
            unit = dict(placement=placement, ok=ok, n_words=n_words(lang, text), source=source)
            piece = (text, lang, unit)
            if placement == "own_line":
                line = [piece]
            elif placement in ("between_sentences", "between_glued"):
                left, right = rng.choice(en_prose), rng.choice(en_prose)
                if placement == "between_sentences":
                    glue_left = glue_right = " "
                else:
                    side = rng.choice(("left", "right", "both"))
                    glue_left = "" if side in ("left", "both") else " "
                    glue_right = "" if side in ("right", "both") else " "
                line = [(left, "en", None), (glue_left, None, None), piece, (glue_right, None, None), (right, "en", None)]
            elif placement == "inside_sentence":
                words = rng.choice(long_hosts).split(" ")
                cut = rng.randint(1, len(words) - 1)
                line = [(" ".join(words[:cut]), "en", None), (" ", None, None), piece, (" ", None, None),
                        (" ".join(words[cut:]), "en", None)]  # fmt: skip
            else:
                line = [(rng.choice(chrome_en), "en", dict(placement="chrome_en")), (" ", None, None), piece]
            lines.insert(rng.randint(0, len(lines)), line)
        text, spans, units = "", [], []
        for line in lines:
            for piece, piece_lang, unit in line:
                start = len(text)
                text += piece
                if piece_lang is not None and piece:
                    spans.append([start, len(text), piece_lang])
                if unit is not None:
                    units.append(dict(start=start, end=len(text), lang=piece_lang, **{"ok": [piece_lang], **unit}))
            text += "\n"
        docs.append(dict(kind="placement", lang=lang, text=text, spans=spans, units=units, split=split))
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("/tmp/langid_src"))
    parser.add_argument("--out", type=Path, default=HERE / "data" / "placement.jsonl.gz")
    args = parser.parse_args()
    pools = collect(fetch(args.src))
    by_split = pools_by_split(pools)
    rng = random.Random(20261203)
    docs = build_split("dev", by_split["dev"], pools["string_langs"], rng)
    docs += build_split("test", by_split["test"], pools["string_langs"], rng)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
    for split in ("dev", "test"):
        units = Counter(u["placement"] for d in docs if d["split"] == split for u in d["units"])
        langs = sorted({d["lang"] for d in docs if d["split"] == split})
        print(f"{split}: {sum(d['split'] == split for d in docs)} documents, {len(langs)} languages "
              f"({' '.join(langs)}), units {dict(sorted(units.items()))}")  # fmt: skip
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
