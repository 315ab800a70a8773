"""``--format html-page``: the page itself, each foreign text replaced by its English rendering.

The page is parsed again with the parser that extracted it (``polyglot_pipe.stages.html``),
walked in the same order, and only the text nodes and attributes that hold a
translated fragment are changed, through the DOM: the serializer escapes what
it writes, so a rendering that reads ``<script>`` stays text.  Everything else
is the page as parsed: same elements, attributes, comments, untranslated text.

Two changes for safety: a ``Content-Security-Policy`` ``<meta>`` first in ``<head>`` that
allows no script, plugin or frame: a scraped page opened from disk must not run
the scraped site's code (nor a hostile page's).  Styles and images still load.  And a
``<meta http-equiv="refresh">`` (which a CSP does not stop) loses its ``http-equiv``
(kept as ``data-polyglot-pipe-http-equiv``), so the page cannot navigate away by itself.

A fragment that spans inline markup ("Нажмите <b>Enter</b>, чтобы ...") puts its
rendering in the first text node it covers and empties its share of the others
(their elements stay, empty): a sentence's translation cannot be split between
the words it came from.  Fragments without a rendering (no pack, English,
untranslated) are left exactly as they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

__all__ = ["CSP", "render_page", "write_html_page"]

CSP = "script-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"


def _translated(record: dict) -> bool:
    return record.get("status") == "ok" and str(record.get("method") or "").startswith("argos:") and bool(record.get("english"))


def render_page(page, records: list[dict], *, snippet: bool = False) -> str:
    """The page's HTML with translated fragments in place (``page``: an ``stages.html.Page``
    whose runs point into the repaired text the records tile).  ``snippet``: the input
    was a piece of HTML, not a page: give back the body's content, without the policy."""
    from selectolax.lexbor import LexborHTMLParser

    from polyglot_pipe.stages.html import walk

    text = _rebuild(records)
    foreign = sorted((r for r in records if _translated(r)), key=lambda r: r["start"])
    replacements: dict[tuple[int, str | None], str] = {}
    emitted: set[int] = set()
    k = 0
    for run in page.runs:
        while k < len(foreign) and foreign[k]["end"] <= run.start:
            k += 1
        j, pieces, pos, touched = k, [], run.start, False
        while j < len(foreign) and foreign[j]["start"] < run.end:
            record = foreign[j]
            start, end = max(record["start"], run.start), min(record["end"], run.end)
            if end > start:
                touched = True
                pieces.append(text[pos:start])
                if record["index"] not in emitted:
                    pieces.append(record["english"])
                    emitted.add(record["index"])
                pos = end
            j += 1
        if touched:
            pieces.append(text[pos : run.end])
            replacements[(run.node, run.attr)] = "".join(pieces)

    tree = LexborHTMLParser(page.html)
    if replacements:
        for event in walk(tree):
            if event.kind == "text":
                new = replacements.get((event.number, None))
                if new is not None:
                    event.node.replace_with(new)
            elif event.kind == "attrs":
                for (number, attr), new in replacements.items():
                    if number == event.number and attr is not None:
                        event.node.attrs[attr] = new
    _keep_leading_newlines(tree)
    if snippet:
        body = tree.body
        return (body.inner_html or "") if body is not None else ""
    _disarm_refresh(tree)
    _add_csp(tree)
    return tree.html or ""


def _disarm_refresh(tree) -> None:
    for meta in tree.css("meta[http-equiv]"):
        value = meta.attributes.get("http-equiv") or ""
        if value.strip().lower() == "refresh":
            del meta.attrs["http-equiv"]
            meta.attrs["data-polyglot-pipe-http-equiv"] = value


def _keep_leading_newlines(tree) -> None:
    """A parser drops the newline right after <pre>, <textarea> or <listing>, and the
    serializer does not write one back: a text that starts with one gets a second, so
    the page read back holds the text it held."""
    for node in tree.css("pre, textarea, listing"):
        first = node.first_child
        if first is not None and first.is_text_node and (first.text_content or "").startswith("\n"):
            first.replace_with("\n" + first.text_content)


def _add_csp(tree) -> None:
    from selectolax.lexbor import LexborHTMLParser

    head = tree.css_first("head")
    if head is None:
        return
    meta = LexborHTMLParser(f'<meta http-equiv="Content-Security-Policy" content="{CSP}">').css_first("meta")
    if head.first_child is not None:
        head.first_child.insert_before(meta)
    else:
        head.insert_child(meta)


def _rebuild(records: list[dict]) -> str:
    if not records:
        return ""
    return records[0].get("space_before", "") + "".join(r["original"] + r["space_after"] for r in records)


def write_html_page(records: Iterable[dict], out: TextIO, summary=None, pages: dict | None = None) -> None:
    """``pages``: doc id -> its ``stages.html.Page``; one page per output (the run command sees to it).
    A document that was not read as HTML is written as a minimal page holding its text."""
    by_doc: dict[str, list[dict]] = {}
    for record in records:
        by_doc.setdefault(record["doc"], []).append(record)
    for doc_id, recs in by_doc.items():
        page = (pages or {}).get(doc_id)
        if page is None:
            from polyglot_pipe.stages.html import Page, Run

            text = _rebuild(recs)
            page = Page(text, (Run(0, len(text), 1, "html > body > pre"),), "", None)
            page = _plain_page(page, doc_id)
        out.write(render_page(page, recs))


def _plain_page(page, doc_id: str):
    """A text input as a page: one <pre> holding it (the walk numbers the title 0, the text 1)."""
    import html as html_escape
    from dataclasses import replace

    source = (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>"
        + html_escape.escape(doc_id or "document")
        + "</title></head><body><pre>\n"
        + html_escape.escape(page.text)
        + "</pre></body></html>"
    )
    return replace(page, html=source)
