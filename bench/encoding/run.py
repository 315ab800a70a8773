"""Measure encoding repair and decoding on the evaluation set built by build.py.

Text kinds: each real sentence is corrupted by a real round trip
(``text.encode(really).decode(shown_as)``, with the browsers' "sloppy" cp125x
decoders from ftfy) and repaired by ftfy alone and by polyglot_pipe.  A sample
counts only when the round trip changed it (and the sentence fits the code page).
Byte files: each file is decoded by charset-normalizer alone and by
polyglot_pipe.decode_bytes.  "Exact" means the text equals the original.

    PYTHONPATH=. .venv/bin/python bench/encoding/run.py
    PYTHONPATH=. .venv/bin/python bench/encoding/run.py --margins   # where repair's margins sit
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import ftfy
import ftfy.bad_codecs  # noqa: F401
from charset_normalizer import from_bytes

from polyglot_pipe.stages.decode import decode_bytes
from polyglot_pipe.stages.repair import repair_text

HERE = Path(__file__).parent
DATA = HERE / "data"
SEED = HERE.parent.parent / "seeds" / "000_0e5ec4742fbe5a91.txt"

CYRILLIC = ["ru", "uk", "bg"]
ALL = None  # every language

#: kind -> (languages, [(encode with, decode as), ...] applied in order)
KINDS = {
    "utf-8-as-cp1252": (ALL, [("utf-8", "sloppy-windows-1252")]),
    "utf-8-as-latin-1": (ALL, [("utf-8", "latin-1")]),
    "utf-8-as-cp1252 twice": (ALL, [("utf-8", "sloppy-windows-1252")] * 2),
    "utf-8-as-cp1251": (ALL, [("utf-8", "sloppy-windows-1251")]),
    "cp1251-as-cp1252": (CYRILLIC, [("cp1251", "sloppy-windows-1252")]),
    "cp1251-as-latin-1": (CYRILLIC, [("cp1251", "latin-1")]),
    "koi8-r-as-cp1251": (["ru", "bg"], [("koi8_r", "sloppy-windows-1251")]),
    "koi8-r-as-latin-1": (["ru", "bg"], [("koi8_r", "latin-1")]),
    "cp866-as-cp1251": (["ru", "bg"], [("cp866", "sloppy-windows-1251")]),
    "cp1253-as-cp1252": (["el"], [("cp1253", "sloppy-windows-1252")]),
    "cp1250-as-cp1252": (["pl", "cs", "hu", "sk", "sl", "hr"], [("cp1250", "sloppy-windows-1252")]),
}


def corrupt(text: str, steps) -> str | None:
    try:
        for really, shown_as in steps:
            text = text.encode(really).decode(shown_as)
    except UnicodeError:
        return None
    return text


def ours(text: str) -> str:
    return repair_text(text)[0]


def pct(hits: int, n: int) -> str:
    return f"{100 * hits / n:5.1f}%" if n else "   - "


def text_table(rows: list[dict]) -> list[str]:
    out = ["| kind | n | ftfy fix_text | ftfy fix_encoding | polyglot_pipe |", "|---|---:|---:|---:|---:|"]
    for kind, (langs, steps) in KINDS.items():
        pairs = []
        for row in rows:
            if langs is not None and row["lang"] not in langs:
                continue
            bad = corrupt(row["text"], steps)
            if bad is not None and bad != row["text"]:
                pairs.append((row["text"], bad))
        hits = [sum(f(bad) == good for good, bad in pairs) for f in (ftfy.fix_text, ftfy.fix_encoding, ours)]
        out.append(f"| {kind} | {len(pairs)} | " + " | ".join(pct(h, len(pairs)) for h in hits) + " |")
    # a clean sentence followed by a broken Russian one, on one line
    ru = [r["text"] for r in rows if r["lang"] == "ru"]
    others = [r["text"] for r in rows if r["lang"] not in CYRILLIC]
    pairs = []
    for i, good_ru in enumerate(ru):
        bad = corrupt(good_ru, [("cp1251", "sloppy-windows-1252")])
        if bad and bad != good_ru:
            clean = others[(i * 7) % len(others)]
            pairs.append((clean + " " + good_ru, clean + " " + bad))
    hits = [sum(f(bad) == good for good, bad in pairs) for f in (ftfy.fix_text, ftfy.fix_encoding, ours)]
    out.append(f"| mixed line: clean + cp1251-as-cp1252 | {len(pairs)} | " + " | ".join(pct(h, len(pairs)) for h in hits) + " |")
    clean = [r["text"] for r in rows] + [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    clean += CLEAN_EXTRAS
    hits = [sum(f(t) == t for t in clean) for f in (ftfy.fix_text, ftfy.fix_encoding, ours)]
    out.append(f"| clean controls, unchanged | {len(clean)} | " + " | ".join(pct(h, len(clean)) for h in hits) + " |")
    return out


#: Clean text the issue names: it must come out untouched.
CLEAN_EXTRAS = [
    "João e Conceição moram em São Paulo desde 2019.",
    "Thủ đô của Việt Nam là Hà Nội, một thành phố nghìn năm văn hiến.",
    "SÃO PAULO, JOÃO and CONCEIÇÃO: the Ã in names",
    "© 2024 «Новости» — все права защищены, цена 5 € № 17",
    "∑ x² ≤ ∫ f(x) dx ± 3 °C, α + β = γ",
    "┌──┬──┐ │ a │ b │ └──┴──┘",
    "Privet, kak dela? Zagolovok otkryvaemogo materiala",
    "Ελληνικά και русский в одной строке",
]


def byte_table() -> list[str]:
    out = ["| code page | files | charset-normalizer | polyglot_pipe | files ≥ 3 lines | charset-normalizer | polyglot_pipe |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    totals = [0] * 6
    for folder in sorted((DATA / "bytes").iterdir()):
        n = cn = ok = n3 = cn3 = ok3 = 0
        for path in sorted(folder.glob("*.txt")):
            data = path.read_bytes()
            expected = data.decode(folder.name)
            best = from_bytes(data).best()
            cn_ok = best is not None and str(best) == expected
            our_ok = decode_bytes(data).text == expected
            lines = expected.count("\n")
            n += 1
            cn += cn_ok
            ok += our_ok
            if lines >= 3:
                n3 += 1
                cn3 += cn_ok
                ok3 += our_ok
        totals = [a + b for a, b in zip(totals, (n, cn, ok, n3, cn3, ok3))]
        out.append(f"| {folder.name} | {n} | {pct(cn, n)} | {pct(ok, n)} | {n3} | {pct(cn3, n3)} | {pct(ok3, n3)} |")
    n, cn, ok, n3, cn3, ok3 = totals
    out.append(f"| **all** | {n} | {pct(cn, n)} | {pct(ok, n)} | {n3} | {pct(cn3, n3)} | {pct(ok3, n3)} |")
    return out


def speed() -> list[str]:
    """Decode + repair throughput on English-dominant text (best of 3, after a warm-up).

    repair_text caches each non-ASCII line's result (pages repeat their
    boilerplate), so two figures: the seed page 50 times over (its lines repaired
    once, then looked up), and the seed page alone with the caches emptied before
    each of 50 passes (every line repaired from scratch: the one-off page).
    """
    from polyglot_pipe.stages import repair

    def empty_caches() -> None:
        repair._LINE_CACHE.clear()
        repair._SIGNALS_CACHE.clear()

    page = SEED.read_bytes()
    data = page * 50
    repair_text(decode_bytes(page).text)  # loads the language tables once
    best = [float("inf")] * 4
    for _ in range(3):
        empty_caches()
        t0 = time.perf_counter()
        decoded = decode_bytes(data)
        t1 = time.perf_counter()
        repair_text(decoded.text)
        t2 = time.perf_counter()
        cold = 0.0
        for _ in range(50):
            empty_caches()
            t3 = time.perf_counter()
            repair_text(decode_bytes(page).text)
            cold += time.perf_counter() - t3
        best = [min(best[0], t1 - t0), min(best[1], t2 - t1), min(best[2], t2 - t0), min(best[3], cold)]
    mb = len(data) / 1e6
    return [
        f"English-dominant seed x50 ({mb:.2f} MB, best of 3, one core): decode {mb / best[0]:.0f} MB/s, "
        f"repair {mb / best[1]:.1f} MB/s, decode + repair {mb / best[2]:.1f} MB/s; "
        f"the seed alone with the repair caches emptied before each of 50 passes: decode + repair {mb / best[3]:.1f} MB/s"
    ]


def margin_table(rows: list[dict]) -> list[str]:
    """Where each round trip's margin sits: the gains (log-probability per changed character)
    ``repair`` measured for it on clean text, where it must lose, and on text it broke,
    where it must win.  ``RoundTrip.margin`` was chosen between the two columns."""
    from polyglot_pipe.stages import repair

    def gains(texts: list[str]) -> dict[str, list[float]]:
        """Round trip -> its best gain on each text it was tried on (later rounds retry
        the repaired text, where it must lose: the best is the decision that counted)."""
        by_name: dict[str, list[float]] = {}
        for text in texts:
            repair._TRACE = []
            repair_text(text)
            best: dict[str, float] = {}
            for name, gain in repair._TRACE:
                best[name] = max(gain, best.get(name, gain))
            for name, gain in best.items():
                by_name.setdefault(name, []).append(gain)
        repair._TRACE = None
        return by_name

    clean = gains([r["text"] for r in rows] + CLEAN_EXTRAS)
    out = ["| round trip | margin | clean: max gain | broken by it: n | min gain | share above margin |",
           "|---|---:|---:|---:|---:|---:|"]
    for rt in repair.ROUND_TRIPS:
        kind = KINDS.get(rt.name)
        broken: list[float] = []
        if kind is not None:
            langs, steps = kind
            texts = [bad for r in rows if langs is None or r["lang"] in langs
                     if (bad := corrupt(r["text"], steps)) is not None and bad != r["text"]]
            broken = gains(texts).get(rt.name, [])
        worst_clean = max(clean.get(rt.name, []), default=float("nan"))
        above = sum(g >= rt.margin for g in broken)
        out.append(f"| {rt.name} | {rt.margin:.1f} | {worst_clean:.2f} | {len(broken)} | "
                   f"{min(broken, default=float('nan')):.2f} | {pct(above, len(broken))} |")
    return out


def main() -> int:
    rows = [json.loads(line) for line in (DATA / "sentences.jsonl").read_text(encoding="utf-8").splitlines()]
    if "--margins" in sys.argv[1:]:
        print("\n".join(margin_table(rows)))
        return 0
    langs = sorted({r["lang"] for r in rows})
    print(f"{len(rows)} sentences, {len(langs)} languages: {' '.join(langs)}\n")
    print("\n".join(text_table(rows)))
    print()
    print("\n".join(byte_table()))
    print()
    print("\n".join(speed()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
