"""Build the language-identification evaluation set from real Debian text.

Sources (nobody here wrote them): the gettext catalogs shipped inside Debian
packages (msgstr by language, msgid for English) and Debian's translated man
pages (manpages-xx), rendered with groff.  Three kinds of items:

* ``short``: 1-4 word UI strings (msgstr/msgid), with every language the exact
  string is a translation in (``ok``): "Video" is right as de, it or es.
* ``sentence``: 5-40 word sentences from the man pages and long msgstrs.
* ``mixed``: documents of English man-page prose and English UI strings with
  foreign sentences and phrases inserted on their own lines and glued inside
  English lines; gold character spans say which language each character is.

Items are split dev/test by their source (catalog domain or man page name), so
the identifier can be tuned on dev and reported on test.

Usage: python bench/langid/build_eval.py [--src /tmp/langid_src] [--out bench/langid/data/eval.jsonl.gz]
Needs apt-get (Debian) and groff.  Deterministic for a given set of packages.
"""

from __future__ import annotations

import argparse
import gettext
import gzip
import hashlib
import json
import random
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from polyglot_pipe.langdata.scripts import dominant_script  # noqa: E402

GETTEXT_PACKAGES = """coreutils tar grep sed findutils diffutils wget dpkg apt gettext
util-linux-locales e2fsprogs-l10n gnupg-l10n libc-l10n""".split()
MAN_LANGS = "cs da de el es fi fr hu id it ja mk nb nl pl pt-br ro ru sv uk vi tr zh".split()
MAN_PACKAGES = ["manpages"] + [f"manpages-{lang}" for lang in MAN_LANGS]

#: Locale directory -> the ISO 639-1 code we score against (langdetect's names).
LOCALE_TO_LANG = {"pt_BR": "pt", "zh_CN": "zh", "zh_TW": "zh", "nb": "no"}
#: Languages both langdetect and lingua know: the evaluation stays inside them.
SUPPORTED = set(
    """af ar bg bn ca cs cy da de el en es et fa fi fr gu he hi hr hu id it ja ko lt lv mk mr
    nl no pa pl pt ro ru sk sl so sq sv sw ta te th tl tr uk ur vi zh""".split()
)
LATIN_ONLY_OK = {"Latin"}
EXPECTED_SCRIPT = {
    "ru": "Cyrillic", "uk": "Cyrillic", "bg": "Cyrillic", "mk": "Cyrillic",
    "el": "Greek", "ko": "Hangul", "ar": "Arabic", "fa": "Arabic", "ur": "Arabic", "he": "Hebrew",
    "zh": "Han", "ja": None, "th": "Thai", "hi": "Devanagari", "mr": "Devanagari",
    "bn": "Bengali", "ta": "Tamil", "pa": "Gurmukhi", "gu": "Gujarati", "te": "Telugu",
}  # fmt: skip

#: Words only English uses among our languages; two of them in a "foreign" sentence
#: mean an untranslated English paragraph, not a translation.
ENGLISH_FUNCTION_WORDS = frozenset(
    """the and that this with which when from are will must should have has been than these
    those there their they what would you your into only such other also each using""".split()
)
MAX_SHORT_PER_LANG = 250
MAX_SENTENCES_PER_LANG = 150
N_MIXED_DOCS = 200

_PLACEHOLDER = re.compile(r"%[-+ #0-9.*]*[a-zA-Z]|%\([a-z]+\)s|\{[^}]*\}|<[^>]*>|`[^']*'")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def fetch(src: Path) -> Path:
    """apt-get download the packages into src/debs and unpack them into src/x."""
    debs = src / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    if not any(debs.glob("*.deb")):
        subprocess.run(["apt-get", "download", *GETTEXT_PACKAGES, *MAN_PACKAGES], cwd=debs, check=True)
    root = src / "x"
    if not root.exists():
        root.mkdir()
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def locale_lang(name: str) -> str | None:
    if "@" in name or name.startswith("en"):
        return None
    lang = LOCALE_TO_LANG.get(name, name.split("_")[0])
    return lang if lang in SUPPORTED else None


def clean_ui(text: str) -> str:
    text = _PLACEHOLDER.sub(" ", text)
    text = text.replace("_", "").replace("&", "").replace("…", " ").replace("...", " ")
    return " ".join(text.split()).strip(" :.")


def script_ok(lang: str, text: str) -> bool:
    script = dominant_script(text)
    if lang == "ja":
        return script in ("Han", "Hiragana", "Katakana") and re.search(r"[\u3040-\u30ff]", text) is not None
    if lang == "zh":
        return script == "Han" and re.search(r"[\u3040-\u30ff]", text) is None
    return script == EXPECTED_SCRIPT.get(lang, "Latin")


def split_of(source: str) -> str:
    return "dev" if hashlib.sha1(source.encode()).digest()[0] % 2 == 0 else "test"


def read_catalogs(root: Path):
    """(lang, domain, msgid, msgstr) for every translated single-message entry."""
    for mo in sorted((root / "usr/share/locale").glob("*/LC_MESSAGES/*.mo")):
        lang = locale_lang(mo.parts[-3])
        if lang is None:
            continue
        try:
            with open(mo, "rb") as fh:
                catalog = gettext.GNUTranslations(fh)._catalog
        except Exception:
            continue
        for msgid, msgstr in catalog.items():
            if isinstance(msgid, tuple) or not msgid or not msgstr or msgid == msgstr:
                continue
            yield lang, mo.stem, msgid, msgstr


def render_man(path: Path) -> str:
    raw = subprocess.run(["zcat", str(path)], capture_output=True).stdout
    out = subprocess.run(
        ["groff", "-k", "-mandoc", "-Tutf8", "-rLL=3000n", "-rHY=0", "-P-cbou"],
        input=raw, capture_output=True,
    ).stdout  # fmt: skip
    return out.decode("utf-8", "replace")


_SENT_SPLIT = re.compile(r"(?<=[.!?。！？])\s+(?=\S)|(?<=[。！？])")


def man_sentences(text: str):
    """Prose sentences of a rendered man page: indented paragraph lines, split at sentence ends."""
    for line in text.splitlines():
        if not line.startswith("       ") or line.lstrip().startswith("-"):
            continue
        for sentence in _SENT_SPLIT.split(line.strip()):
            sentence = sentence.strip()
            if sentence:
                yield sentence


def prose_ok(lang: str, sentence: str) -> bool:
    if lang in ("ja", "zh"):
        letters = sum(ch.isalpha() for ch in sentence)
        return 12 <= letters <= 150 and script_ok(lang, sentence) and sentence.count("-") < 2
    words = _WORD.findall(sentence)
    if not 5 <= len(words) <= 40:
        return False
    non_space = sum(not ch.isspace() for ch in sentence)
    letters = sum(ch.isalpha() for ch in sentence)
    if letters < 0.8 * non_space or any(s in sentence for s in ("--", "/", "=", "_", "(", "[", "@", "\\", "<")):
        return False
    return script_ok(lang, sentence)


def read_man_pages(root: Path):
    """(lang, page, sentence) from every man page, English included."""
    man = root / "usr/share/man"
    for page in sorted(man.glob("*/man*/*.gz")) + sorted(man.glob("man*/*.gz")):
        rel = page.relative_to(man).parts
        lang = "en" if rel[0].startswith("man") else locale_lang(rel[0].replace("-", "_"))
        if lang is None:
            continue
        name = page.name.split(".")[0]
        for sentence in man_sentences(render_man(page)):
            if prose_ok(lang, sentence):
                yield lang, name, sentence


def collect(root: Path) -> dict:
    """The pools every item is drawn from: short UI strings by language (text -> source),
    the languages each short string is a translation in, long UI strings, UI word counts
    and man-page prose sentences by language (untranslated ones dropped).  build_placement.py
    draws from the same pools."""
    short = defaultdict(dict)  # lang -> text -> source
    string_langs = defaultdict(set)  # text -> every language it is a UI string in
    long_ui = defaultdict(dict)
    ui_words = defaultdict(Counter)  # lang -> word counts of its msgstrs ("en": of the msgids)
    for lang, domain, msgid, msgstr in read_catalogs(root):
        english = clean_ui(msgid.split("\x04")[-1])
        foreign = clean_ui(msgstr)
        ui_words["en"].update(_WORD.findall(english.lower()))
        ui_words[lang].update(_WORD.findall(foreign.lower()))
        for code, text in (("en", english), (lang, foreign)):
            if "\n" in text or not text:
                continue
            n_words = len(_WORD.findall(text))
            letters = sum(ch.isalpha() for ch in text)
            if n_words == 0 or letters < 0.6 * sum(not ch.isspace() for ch in text):
                continue
            if code != "en" and not script_ok(code, text):
                continue
            if code == "en" and not text.isascii():
                continue
            if 1 <= n_words <= 4 and len(text) <= 40 and not any(c in text for c in "-/=\\"):
                short[code].setdefault(text, domain)
                string_langs[text.casefold()].add(code)
            elif 5 <= n_words <= 40 and prose_ok(code, text):
                long_ui[code].setdefault(text, domain)

    prose = defaultdict(dict)
    cache = root.parent / "man_sentences.json"  # rendering every page takes minutes
    if not cache.exists():
        cache.write_text(json.dumps(list(read_man_pages(root)), ensure_ascii=False), encoding="utf-8")
    for lang, page, sentence in json.loads(cache.read_text(encoding="utf-8")):
        prose[lang].setdefault(sentence, page)
    drop_untranslated(prose, long_ui)
    return dict(short=short, string_langs=string_langs, long_ui=long_ui, ui_words=ui_words, prose=prose)


def build(root: Path, rng: random.Random) -> list[dict]:
    pools = collect(root)
    short, string_langs, long_ui, ui_words, prose = (
        pools[k] for k in ("short", "string_langs", "long_ui", "ui_words", "prose")
    )
    items: list[dict] = []
    for lang in sorted(short):
        texts = sorted(short[lang])
        rng.shuffle(texts)
        for text in texts[:MAX_SHORT_PER_LANG]:
            ok = sorted(string_langs[text.casefold()])
            items.append(dict(kind="short", lang=lang, ok=ok, text=text, split=split_of(short[lang][text])))

    sentence_pool = {}
    for lang in sorted(set(prose) | set(long_ui)):
        pool = [(t, s) for t, s in prose.get(lang, {}).items()] + [(t, s) for t, s in long_ui.get(lang, {}).items()]
        pool.sort()
        rng.shuffle(pool)
        sentence_pool[lang] = pool
        for text, source in pool[:MAX_SENTENCES_PER_LANG]:
            if lang != "en" and looks_english(text, lang, ui_words):
                continue
            items.append(dict(kind="sentence", lang=lang, ok=[lang], text=text, split=split_of(source)))

    items.extend(build_mixed(rng, prose, short, sentence_pool))
    return items


def drop_untranslated(prose: dict, long_ui: dict) -> None:
    """Translated man pages keep some paragraphs in English: drop those from the
    foreign pools.  A sentence is English when it is one of the English pages'
    sentences, or when most of its words are frequent English words that are not
    frequent in the language it claims to be."""
    def frequent(sentences, n=1000):
        counts = defaultdict(int)
        for sentence in sentences:
            for word in _WORD.findall(sentence.lower()):
                counts[word] += 1
        return set(sorted(counts, key=lambda w: (-counts[w], w))[:n])

    english_sentences = set(prose["en"])
    english_words = frequent(list(prose["en"]) + list(long_ui["en"]))
    for pools in (prose, long_ui):
        for lang in list(pools):
            if lang == "en":
                continue
            own_words = frequent(list(prose.get(lang, {})) + list(long_ui.get(lang, {})))
            english_only = english_words - own_words
            for sentence in list(pools[lang]):
                words = _WORD.findall(sentence.lower())
                if sentence in english_sentences or (
                    words and sum(w in english_only for w in words) >= 0.4 * len(words)
                ) or sum(w in ENGLISH_FUNCTION_WORDS for w in words) >= 2:
                    del pools[lang][sentence]


def looks_english(sentence: str, lang: str, ui_words: dict) -> bool:
    """A second check on the sampled sentences of Latin-script languages, stricter
    than ``drop_untranslated``: at least half of the words (names aside: capitalised
    words after the first) are ones the translators of ``lang`` all but never use
    (their rate in its msgstrs is under a tenth of their rate in the English
    msgids).  The vocabularies are the gettext catalogs', which translators write
    whole, not the man pages', which keep English paragraphs.  Chosen on the dev
    split ("It can be disabled via the N debug option." as Italian); it runs after
    sampling, so the rest of the set is what it was before the check existed."""
    if EXPECTED_SCRIPT.get(lang, "Latin") != "Latin":
        return False
    english, own = ui_words["en"], ui_words[lang]
    n_english, n_own = sum(english.values()) or 1, sum(own.values()) or 1
    words = [w.lower() for k, w in enumerate(_WORD.findall(sentence)) if k == 0 or not w[0].isupper()]
    english_only = [w for w in words if english[w] and own[w] / n_own < 0.1 * english[w] / n_english]
    return bool(words) and len(english_only) >= 0.5 * len(words)


def build_mixed(rng, prose, short, sentence_pool) -> list[dict]:
    """English documents with foreign sentences and phrases inserted; gold character spans.

    Each document gets one foreign language (a page with a translated UI string
    or a quoted foreign sentence), like scraped pages do.
    """
    english_prose = sorted(prose["en"].items())
    rng.shuffle(english_prose)
    english_ui = sorted(short["en"])
    foreign_langs = sorted(lang for lang in sentence_pool if lang != "en" and len(sentence_pool[lang]) >= 20)
    docs = []
    for n in range(N_MIXED_DOCS):
        lang = foreign_langs[n % len(foreign_langs)]
        split = "dev" if n % 2 == 0 else "test"
        foreign_sentences = [t for t, _ in sentence_pool[lang][MAX_SENTENCES_PER_LANG:]] or [
            t for t, _ in sentence_pool[lang]
        ]
        foreign_short = sorted(short.get(lang, {})) or foreign_sentences
        text, spans, units = "", [], []

        def add(piece: str, piece_lang: str, unit: str | None = None):
            nonlocal text
            start = len(text)
            text += piece
            spans.append([start, len(text), piece_lang])
            if unit:
                units.append([start, len(text), piece_lang, unit])

        for _ in range(rng.randint(12, 24)):
            roll = rng.random()
            if roll < 0.15:
                add(rng.choice(english_ui), "en", "short")
            elif roll < 0.25:
                add(rng.choice(foreign_short), lang, "short")
            elif roll < 0.33:
                add(rng.choice(foreign_sentences), lang)
            else:
                sentences = [rng.choice(english_prose)[0] for _ in range(rng.randint(1, 3))]
                if roll < 0.43:  # a foreign sentence glued between English sentences
                    add(sentences[0] + " ", "en")
                    add(rng.choice(foreign_sentences), lang)
                    add(" " + " ".join(sentences[1:]) if len(sentences) > 1 else "", "en")
                elif roll < 0.50:  # a quoted foreign phrase inside an English sentence
                    words = sentences[0].split(" ")
                    cut = rng.randint(1, max(1, len(words) - 1))
                    add(" ".join(words[:cut]) + ' "', "en")
                    add(rng.choice(foreign_short), lang)
                    add('" ' + " ".join(words[cut:] + sentences[1:]), "en")
                else:
                    add(" ".join(sentences), "en")
            text += "\n"
        spans = [s for s in spans if s[0] < s[1]]
        docs.append(dict(kind="mixed", lang=lang, text=text, spans=spans, units=units, split=split))
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("/tmp/langid_src"))
    parser.add_argument("--out", type=Path, default=HERE / "data" / "eval.jsonl.gz")
    args = parser.parse_args()
    root = fetch(args.src)
    items = build(root, random.Random(20240604))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    counts = defaultdict(int)
    for item in items:
        counts[item["kind"]] += 1
    langs = sorted({item["lang"] for item in items})
    print(f"wrote {len(items)} items {dict(counts)} in {len(langs)} languages: {' '.join(langs)} -> {args.out}")


if __name__ == "__main__":
    main()
