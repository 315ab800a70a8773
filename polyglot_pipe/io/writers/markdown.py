"""Markdown: one GitHub-flavoured table per document, to paste into an issue or a pull request.

Every piece of input text is escaped so that it shows as written: HTML
characters become entities (a pasted ``<script>`` stays text), Markdown's inline
punctuation gets a backslash, ``|`` cannot end a cell early and a line break
inside a fragment becomes ``<br>``.

The small helpers here (``untranslated_note``, ``is_foreign``) are shared with
the HTML report and the terminal view, so the three say the same thing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import TextIO

from polyglot_pipe.io.writers import Summary

__all__ = ["write_markdown", "md_text", "md_code", "untranslated_note", "is_foreign", "status_label"]

_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]~|])")
_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u2029")


def md_text(text: str) -> str:
    """``text`` as Markdown that renders exactly as ``text``, on one line (fit for a table cell)."""
    escaped = html.escape(text, quote=False)
    escaped = _MD_PUNCTUATION.sub(r"\\\1", escaped)
    return _LINE_BREAK.sub("<br>", escaped)


def md_code(text: str) -> str:
    """An inline code span holding ``text``, fenced with more backticks than it contains (not for table cells)."""
    text = _LINE_BREAK.sub(" ", text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def status_label(status: str) -> str:
    return {"no-pack": "no pack"}.get(status, status)


def is_foreign(record: dict) -> bool:
    """A fragment that needed translation (its language is not the target's, nor unknown)."""
    return record.get("method") != "source" and record.get("status") != "empty"


def untranslated_note(record: dict, summary: Summary | None = None) -> str | None:
    """Why a fragment has no translation, in words; None when it has one."""
    status = record.get("status")
    if record.get("english") is not None and status == "ok":
        return None
    lang = record.get("lang") or "und"
    target = summary.target if summary else "en"
    if status == "no-pack":
        return f"no {lang}\u2192{target} pack installed"
    if status == "failed":
        return "translation failed: " + (record.get("error") or "no reason given")
    if status == "skipped":
        return "not translated (run with --no-translate)"
    if status == "empty":
        return "empty document: no text"
    return f"not translated (status {status})"


def write_markdown(records: Iterable[dict], out: TextIO, summary: Summary | None = None) -> None:
    records = list(records)
    summary = summary or Summary.of(records)
    target_name = "English" if summary.target == "en" else f"Translation ({summary.target})"
    out.write("## polyglot-pipe review\n\n")
    out.write(md_text(summary.line().removeprefix("polyglot-pipe: ")) + "\n")
    signature = summary.signature_line()
    if signature:
        out.write(f"\nSignature: {md_code(signature)}\n")
    missing = summary.missing_packs()
    if missing:
        out.write("\nMissing packs:\n\n")
        for lang, command in missing.items():
            count = summary.no_pack[lang]
            out.write(f"- {md_text(lang)} ({count} fragment{'s' if count != 1 else ''}): {md_code(command)}\n")
    current_doc = object()
    for record in records:
        if record.get("doc") != current_doc:
            current_doc = record.get("doc")
            out.write(f"\n### {md_text(str(current_doc))}\n\n")
            out.write(f"| # | lang | original | {target_name} |\n|--:|:--|:--|:--|\n")
        out.write(_row(record, summary))
    if not records:
        out.write("\nNo fragments.\n")


def _row(record: dict, summary: Summary) -> str:
    lang = f"{md_text(str(record.get('lang', 'und')))} {float(record.get('lang_confidence') or 0):.2f}"
    status = record.get("status", "")
    if status != "ok":
        lang += f" · **{md_text(status_label(status))}**"
    if record.get("cached"):
        lang += " · memory"
    if record.get("quality") == "low":
        lang += " · **low quality**"
    original = md_text(record.get("original") or "")
    if record.get("repairs"):
        original += " <sub>repaired: " + md_text(", ".join(map(str, record["repairs"]))) + "</sub>"
    note = untranslated_note(record, summary)
    english = f"_{md_text(note)}_" if note else md_text(record.get("english") or "")
    return f"| {md_text(str(record.get('index', '')))} | {lang} | {original} | {english} |\n"
