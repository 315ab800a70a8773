"""The HTML report: one self-contained file, original | English side by side, fragment by fragment.

Why it is built this way:

* Rows are rendered here, on the server side, with ``html.escape(quote=True)``
  on every piece of input (text, ids, codes, error messages): the page shows
  what the input says and runs none of it.  The only JSON inside a ``<script>``
  is escaped so that ``</script>`` cannot end it early.  A Content-Security-Policy
  allows exactly our own inline script and style (by hash) and no network at all,
  so even a mistake in escaping could not run a script or fetch anything.
* 20,000 fragments stay smooth: rows are small grids, grouped 50 to a block with
  ``content-visibility: auto`` (the browser lays out only the blocks on screen),
  the script has one delegated listener, and filters add one CSS rule instead
  of touching every row.  Everything is in the page, so the browser's own find
  (Ctrl+F) works too.
* Right-to-left scripts get ``dir="rtl"``, the rest ``dir="ltr"`` or, when the
  script is unknown, ``dir="auto"``; every cell is a bidi island, so a Hebrew
  sentence cannot reorder its neighbours.  ``lang`` is the fragment's language
  (not set for "und"), which also picks the right CJK line breaking and fonts.

CSS and JS live beside this module (review.css, review.js) and are inlined.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from html import escape
from importlib.resources import files
from typing import TextIO

from polyglot_pipe.io.writers import Summary
from polyglot_pipe.io.writers.markdown import (
    is_foreign,
    status_label,
    untranslated_note,
)

__all__ = ["write_html", "RTL_SCRIPTS", "json_for_script", "direction_of"]

#: Scripts written right to left (the ``script`` field of a record).
RTL_SCRIPTS = frozenset({"Arabic", "Hebrew", "Syriac", "Thaana", "Nko", "Adlam", "Mandaic", "Samaritan"})
#: Scripts with no direction of their own: let the browser look at the text.
_NEUTRAL_SCRIPTS = frozenset({"Common", "Zyyy", "Inherited", "Zinh", "Zzzz", "Unknown", ""})
#: Below this confidence the language badge is shown as uncertain: chosen by hand, and with
#: calibrated confidences (identify.CONFIDENCE_TEMPERATURE) it means "wrong one time in four
#: or more".  On the bench/langid test split it marks 828 of the 10,739 labels that
#: bench/langid/calibrate.py counts, 323 of the 428 wrong ones (with the raw posterior:
#: 229 marked, 116 of the wrong ones).
LOW_CONFIDENCE = 0.75

#: Rows are grouped so the browser skips layout and paint of whole groups off screen
#: (content-visibility on each of 20,000 rows made every scroll step check them all).
ROWS_PER_CHUNK = 50
_CHUNK_OPEN = '<div class="pp-chunk" role="rowgroup">\n'

_STATUS_ORDER = ("ok", "no-pack", "failed", "skipped", "empty", "pending")


def _asset(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def json_for_script(value) -> str:
    """JSON that is safe inside ``<script>``: no ``<``, ``>``, ``&`` or line separators appear literally."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def direction_of(script: str | None) -> str:
    """The ``dir`` attribute for text in ``script``."""
    if script in RTL_SCRIPTS:
        return "rtl"
    if script is None or script in _NEUTRAL_SCRIPTS:
        return "auto"
    return "ltr"


def _attr(value) -> str:
    return escape(str(value), quote=True)


def _token(value) -> str:
    """A value fit for a class name or an id: anything but letters, digits, - and _ becomes _."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(value)) or "_"


def write_html(records: Iterable[dict], out: TextIO, summary: Summary | None = None) -> None:
    records = list(records)
    summary = summary or Summary.of(records)
    css, js = _asset("review.css"), _asset("review.js")
    target_name = "English" if summary.target == "en" else f"Translation ({summary.target})"
    csp = (
        f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    documents = summary.documents or len({r.get("doc") for r in records})
    w = out.write
    w("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
    w(f'<meta http-equiv="Content-Security-Policy" content="{_attr(csp)}">\n')
    w('<meta name="referrer" content="no-referrer">\n')
    w('<meta name="viewport" content="width=device-width, initial-scale=1">\n')
    w(f"<title>polyglot-pipe review: {documents} document{'s' if documents != 1 else ''}, "
      f"{len(records)} fragments</title>\n")
    w(f"<style>{css}</style>\n</head>\n<body>\n")
    _write_header(w, summary, records)
    w('<main id="pp-main">\n')
    commands = summary.missing_packs()
    doc_number = 0
    in_chunk = 0
    counts: Counter = Counter()  # (document number, lang, status) -> fragments: what the filters count
    current_doc = object()
    for record in records:
        if record.get("doc") != current_doc:
            if doc_number:
                w("</div></div>\n</section>\n")
            current_doc = record.get("doc")
            doc_number += 1
            _write_document_head(w, doc_number, record, target_name)
            w(_CHUNK_OPEN)
            in_chunk = 0
        elif in_chunk == ROWS_PER_CHUNK:
            w("</div>\n" + _CHUNK_OPEN)
            in_chunk = 0
        _write_row(w, doc_number, record, summary, commands)
        counts[doc_number, str(record.get("lang", "und")), str(record.get("status", ""))] += 1
        in_chunk += 1
    if doc_number:
        w("</div></div>\n</section>\n")
    else:
        w('<p class="pp-nothing">No fragments in these results.</p>\n')
    w("</main>\n")
    w(f'<script type="application/json" id="pp-counts">{json_for_script([[*key, n] for key, n in counts.items()])}</script>\n')
    w(f"<script>{js}</script>\n</body>\n</html>\n")


def _write_header(w, summary: Summary, records: list[dict]) -> None:
    languages = Counter(str(r.get("lang", "und")) for r in records)
    statuses = Counter(str(r.get("status", "")) for r in records)
    foreign = sum(1 for r in records if is_foreign(r))
    w('<header class="pp-summary">\n<h1>polyglot-pipe review</h1>\n<dl class="pp-stats">')
    stats = [
        ("documents", summary.documents),
        ("fragments", summary.fragments),
        ("to translate", foreign),
        ("translated", summary.translated),
        ("from memory", summary.cached),
        ("low quality", summary.low_quality),
        ("no pack", sum(summary.no_pack.values())),
        ("failed", summary.failed),
    ]
    if statuses.get("skipped"):
        stats.append(("skipped", statuses["skipped"]))
    for label, value in stats:
        w(f'<div class="pp-stat pp-stat-{label.replace(" ", "-")}"><dt>{label}</dt><dd>{value}</dd></div>')
    w("</dl>\n")
    signature = summary.signature_line()
    if signature:
        w(f'<p class="pp-signature">signature: <code>{escape(signature)}</code></p>\n')
    missing = summary.missing_packs()
    if missing:
        w('<section class="pp-missing"><h2>Missing packs</h2><ul>')
        for lang, command in missing.items():
            n = summary.no_pack[lang]
            w(f'<li><span class="pp-badge">{escape(lang)}</span> {n} fragment{"s" if n != 1 else ""} '
              f'untranslated: <code>{escape(command)}</code></li>')
        w("</ul></section>\n")
    w('</header>\n<nav class="pp-toolbar" aria-label="filters and navigation">\n')
    w('<fieldset class="pp-filter" data-filter="lang"><legend>Language</legend>')
    for lang, n in sorted(languages.items(), key=lambda item: (-item[1], item[0])):
        w(f'<label><input type="checkbox" checked value="{_attr(lang)}"> '
          f'<span class="pp-badge">{escape(lang)}</span> <span class="pp-count">{n}</span></label>')
    w("</fieldset>\n")
    w('<fieldset class="pp-filter" data-filter="status"><legend>Status</legend>')
    ordered = sorted(statuses, key=lambda s: (_STATUS_ORDER.index(s) if s in _STATUS_ORDER else 99, s))
    for status in ordered:
        w(f'<label><input type="checkbox" checked value="{_attr(status)}"> '
          f'<span class="pp-st pp-st-{_token(status)}">{escape(status_label(status))}</span> '
          f'<span class="pp-count">{statuses[status]}</span></label>')
    w("</fieldset>\n")
    w('<div class="pp-nav"><button type="button" data-action="all">show all</button>'
      '<button type="button" data-action="prev" title="previous non-English fragment (p)">\u2191 prev</button>'
      '<button type="button" data-action="next" title="next non-English fragment (n)">next non-English \u2193</button>'
      f'<output id="pp-shown" aria-live="polite">{len(records)} of {len(records)} fragments shown</output></div>\n')
    w("</nav>\n")


def _write_document_head(w, number: int, first: dict, target_name: str) -> None:
    doc = str(first.get("doc", ""))
    details = []
    if first.get("encoding"):
        details.append(f"encoding {escape(str(first['encoding']))}")
    for issue in first.get("doc_issues") or ():
        details.append(f'<span class="pp-issue">{escape(str(issue))}</span>')
    w(f'<section class="pp-doc" id="d{number}" aria-labelledby="d{number}-title">\n')
    w(f'<h2 id="d{number}-title" class="pp-doc-title"><a href="#d{number}">{escape(doc)}</a></h2>\n')
    if details:
        w(f'<p class="pp-doc-meta">{" · ".join(details)}</p>\n')
    w('<div class="pp-frags" role="table">\n<div class="pp-head" role="row">'
      '<span role="columnheader">#</span><span role="columnheader">original</span>'
      f'<span role="columnheader">{escape(target_name)}</span></div>\n')


def _write_row(w, doc_number: int, record: dict, summary: Summary, commands: dict[str, str]) -> None:
    lang = str(record.get("lang", "und"))
    status = str(record.get("status", ""))
    index = record.get("index", "")
    script = record.get("script")
    try:
        confidence = float(record.get("lang_confidence") or 0.0)
    except (TypeError, ValueError):
        confidence = 0.0
    foreign = is_foreign(record)
    classes = ["pp-frag", f"pp-{_token(status)}"]
    if foreign:
        classes.append("pp-foreign")
    space_after = str(record.get("space_after") or "")
    if space_after.count("\n") >= 2:
        classes.append("pp-para-end")
    row_id = f"d{doc_number}-{_token(index)}"
    # lang="" says "unknown" (rather than inheriting the page's "en") for und text
    lang_attr = f' lang="{_attr(lang)}"' if lang and lang != "und" else ' lang=""'
    w(f'<div class="{" ".join(classes)}" role="row" id="{row_id}" tabindex="-1" '
      f'data-lang="{_attr(lang)}" data-status="{_attr(status)}">')
    # The narrow column: index, language badge, confidence, status.
    low = " pp-low" if confidence < LOW_CONFIDENCE and lang != "und" else ""
    w(f'<div class="pp-meta" role="cell"><a class="pp-n" href="#{row_id}">{escape(str(index))}</a>'
      f'<span class="pp-badge{low}" title="language, confidence {confidence:.2f}">{escape(lang)}</span>'
      f'<span class="pp-conf{low}">{confidence:.2f}</span>')
    if status != "ok":
        w(f'<span class="pp-st pp-st-{_token(status)}">{escape(status_label(status))}</span>')
    method = str(record.get("method") or "")
    if method.startswith("argos:"):
        w(f'<span class="pp-method" title="{_attr(method)}">{escape(method.split(":", 1)[1].split("@")[0])}</span>')
    if record.get("cached"):
        w('<span class="pp-cached" title="from translation memory">memory</span>')
    if record.get("quality") == "low":
        score = record.get("translation_score")
        title = "the pack is guessing" + (f": score {float(score):.2f} per token" if isinstance(score, (int, float)) else "")
        w(f'<span class="pp-quality-low" title="{_attr(title)}">low quality</span>')
    w("</div>")
    # The original, with its repairs (the raw text on expand).
    original = str(record.get("original") or "")
    direction = direction_of(script)
    w(f'<div class="pp-orig" role="cell"{lang_attr} dir="{direction}">')
    if status == "empty":
        w('<span class="pp-note">empty document: no text</span>')
    else:
        w(f'<span class="pp-text">{escape(original)}</span>')
    repairs = [str(r) for r in record.get("repairs") or ()]
    raw = record.get("raw")
    if repairs or raw is not None:
        label = "repaired: " + (", ".join(repairs) if repairs else "changed")
        if raw is not None:
            w(f'<details class="pp-repair"><summary lang="en" dir="ltr">{escape(label)}</summary>'
              f'<span class="pp-raw" title="the text before repair">{escape(str(raw))}</span></details>')
        else:
            w(f'<span class="pp-repair-note" lang="en" dir="ltr">{escape(label)}</span>')
    w("</div>")
    # The translation, or why there is none.
    note = untranslated_note(record, summary)
    target = summary.target
    target_dir = "ltr" if target == "en" else "auto"
    if note is None:
        source = " pp-source" if method == "source" else ""
        title = ' title="already in the target language"' if source else ""
        w(f'<div class="pp-en{source}" role="cell" lang="{_attr(target)}" dir="{target_dir}"{title}>'
          f'{escape(str(record.get("english") or ""))}</div>')
    else:
        w(f'<div class="pp-en pp-untranslated" role="cell" lang="en" dir="ltr"><span class="pp-note">{escape(note)}</span>')
        if status == "no-pack":
            command = commands.get(lang)
            if command:
                w(f' <code>{escape(command)}</code>')
        w("</div>")
    w("</div>\n")
