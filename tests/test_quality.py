"""The quality mark on every model rendering: translation_score and quality, kept by the
memory, counted in the summary, shown in the review.  Real committed ru->en pack, real SQLite."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from polyglot_pipe import Pipeline
from polyglot_pipe.memory import TranslationMemory
from polyglot_pipe.stages.translate import LOW_SCORE, rendering_quality

# Real UI strings (common web-application chrome), not the pack's training catalogs.
UI = ["Подписаться", "Все новости", "Войти или зарегистрироваться", "Не удалось открыть файл."]
PAGE = "Read more\n" + "\n".join(UI) + "\n"


def model_records(records):
    return [r for r in records if str(r.get("method", "")).startswith("argos:")]


def test_every_model_rendering_carries_its_score_and_a_quality_mark(ru_packs_dir, tmp_path):
    doc = Pipeline(packs_dir=ru_packs_dir, langs=["en", "ru"], memory=tmp_path / "m.sqlite3").process(PAGE)
    records = doc.to_records()
    rendered = model_records(records)
    assert [r["original"] for r in rendered] == UI
    for r in rendered:
        assert r["translation_score"] < 0  # a mean log-probability per token
        assert r["quality"] == ("low" if r["translation_score"] < LOW_SCORE else "ok")
    # The source language needs no model: no score, no mark.
    english = [r for r in records if r["lang"] == "en"]
    assert english and all("translation_score" not in r and "quality" not in r for r in english)
    # Scores order renderings: a phrase the pack knows well scores above ones it guesses at.
    scores = {r["original"]: r["translation_score"] for r in rendered}
    assert scores["Не удалось открыть файл."] > scores["Подписаться"]


def test_the_memory_keeps_the_score_and_reads_an_older_memory_without_one(ru_packs_dir, tmp_path):
    path = tmp_path / "m.sqlite3"
    first = model_records(Pipeline(packs_dir=ru_packs_dir, langs=["en", "ru"], memory=path).process(PAGE).to_records())
    again = model_records(Pipeline(packs_dir=ru_packs_dir, langs=["en", "ru"], memory=path).process(PAGE).to_records())
    assert all(r["cached"] for r in again)
    assert [(r["english"], r["translation_score"], r["quality"]) for r in again] == [
        (r["english"], r["translation_score"], r["quality"]) for r in first
    ]
    # A memory written before scores were kept: the table without the score column.
    old = tmp_path / "old.sqlite3"
    db = sqlite3.connect(old)
    db.execute(
        "CREATE TABLE translations (pack TEXT NOT NULL, decoding TEXT NOT NULL, source TEXT NOT NULL,"
        " english TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (pack, decoding, source)) WITHOUT ROWID"
    )
    db.commit()
    db.close()
    memory = TranslationMemory(old)
    records = model_records(Pipeline(packs_dir=ru_packs_dir, langs=["en", "ru"], memory=memory).process(PAGE).to_records())
    assert all(isinstance(r["translation_score"], float) for r in records)
    memory.close()
    columns = [row[1] for row in sqlite3.connect(old).execute("PRAGMA table_info(translations)")]
    assert "score" in columns


def test_the_unknown_share_alone_marks_a_rendering_low():
    assert rendering_quality(-0.01, unknown_share=0.5) == "low"
    assert rendering_quality(-0.01) == "ok"
    assert rendering_quality(LOW_SCORE - 0.01) == "low"
    assert rendering_quality(None) is None


def test_the_summary_and_the_reviews_show_low_quality(ru_packs_dir, tmp_path):
    source = tmp_path / "page.txt"
    source.write_text(PAGE, encoding="utf-8")
    run = [sys.executable, "-m", "polyglot_pipe", "run", str(source), "--packs-dir", str(ru_packs_dir), "--no-memory"]
    result = subprocess.run([*run, "-o", str(tmp_path / "out.jsonl")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    low = sum(r.get("quality") == "low" for r in records)
    assert low >= 1  # these UI strings are far from the pack's GNU catalogs
    assert f"{low} low quality" in result.stderr.splitlines()[-1]
    for fmt, mark in (("html", 'class="pp-quality-low"'), ("md", "**low quality**")):
        out = tmp_path / f"out.{fmt}"
        subprocess.run([*run, "--format", fmt, "-o", str(out)], check=True, capture_output=True, timeout=300)
        assert out.read_text(encoding="utf-8").count(mark) == low
    shown = subprocess.run(
        [sys.executable, "-m", "polyglot_pipe", "show", str(tmp_path / "out.jsonl"), "--no-pager", "--width", "200"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("low quality") == low
