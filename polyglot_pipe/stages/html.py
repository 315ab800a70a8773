"""HTML in: a page's readable text, and where each piece of it came from.

Parser: selectolax's binding of lexbor.  Why this one: lexbor implements the
WHATWG parsing algorithm (the tree a browser builds, tag soup included), it is
maintained, ships manylinux wheels with no system library, is several times
faster than html5lib (pure Python) and than lxml's libxml2 HTML parser, which
predates HTML5 and repairs broken markup its own way.  The same parser reads a
page and writes the translated one back (``io/writers/html_page.py``), and its
serializer escapes text and attribute values as the HTML standard says.

What counts as text: text nodes outside ``script``, ``style``, ``noscript``,
``template`` and the ``head`` (but the ``title``); block elements and ``<br>``
end lines; outside ``pre``/``textarea`` whitespace collapses to one space, as a
browser renders it.  The ``alt``, ``title``, ``aria-label`` and ``placeholder``
attributes are lines of their own (page chrome is where mixed-language strings
hide).  Every piece is a :class:`Run`: its span in the extracted text, the
CSS-like path of its element, the attribute (None for a text node), and the
nearest ``lang`` attribute above it.

Decoding honours a byte-order mark, then ``<meta charset>`` /
``<meta http-equiv="Content-Type">`` and the XML declaration in the first
kilobytes (the HTML standard's prescan, simplified), then falls back to
:func:`polyglot_pipe.stages.decode.decode_bytes`.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass

from polyglot_pipe.errors import NotTextError
from polyglot_pipe.stages.decode import looks_binary

__all__ = [
    "ATTRIBUTES",
    "BLOCKS",
    "SKIPPED",
    "Event",
    "Page",
    "Run",
    "css_path",
    "decode_html",
    "extract_page",
    "fragment_sources",
    "looks_like_html",
    "walk",
]

#: Elements whose content is never text for a reader.
SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object"})
#: Elements that start and end a line.
BLOCKS = frozenset(
    """address article aside blockquote body caption center dd details dialog dir div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main menu nav ol
    optgroup option p pre section summary table tbody td tfoot th thead title tr ul""".split()
)
#: Attributes whose values a reader sees (alt text, tooltips, labels, input hints).
ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")
_PRESERVE_SPACE = frozenset({"pre", "textarea", "listing", "plaintext"})
_SPACE_RE = re.compile(r"[ \t\n\r\f]+")  # HTML's ASCII whitespace; U+00A0 is text, not space
_LANG_RE = re.compile(r"[A-Za-z]{2,3}")

# What a page starts with, once a BOM, the XML declaration, comments and whitespace are skipped.
_HTML_START_RE = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]{0,200}\?>\s*)?(?:<!--.{0,2000}?-->\s*)*"
    rb"<(?:!doctype\s+html|html|head|body|meta|title)[\s>/]",
    re.IGNORECASE | re.DOTALL,
)
_META_CHARSET_RE = re.compile(
    rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9_:.+-]+)", re.IGNORECASE
)
_XML_ENCODING_RE = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.:-]+)", re.IGNORECASE)
#: The HTML standard's label -> encoding mappings that differ from Python's codec of the same name.
_WHATWG = {"iso8859-1": "cp1252", "ascii": "cp1252", "latin-1": "cp1252", "iso8859-9": "cp1254", "tis-620": "cp874"}


@dataclass(frozen=True, slots=True)
class Run:
    """One piece of the page's text: ``text[start:end]`` of the extracted text.

    ``node``: the text node's (or attribute owner's) number in :func:`walk` order,
    which the page writer uses to find it again; ``path``: a CSS-like path to the
    element; ``attr``: the attribute it is the value of, None for a text node;
    ``lang``: the primary subtag of the nearest ``lang`` attribute, if any;
    ``lang_from_root``: that ``lang`` sits on ``<html>`` or ``<body>`` (a page-wide
    claim, weaker evidence than a ``<span lang>``).
    """

    start: int
    end: int
    node: int
    path: str
    attr: str | None = None
    lang: str | None = None
    lang_from_root: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """An extracted page: its text, the runs that tile the non-separator parts, and the source."""

    text: str
    runs: tuple[Run, ...]
    html: str  # the decoded page, as given to the parser
    encoding: str | None
    issues: tuple[str, ...] = ()


def looks_like_html(data: str | bytes) -> bool:
    """Does this start like an HTML page (a doctype, ``<html>``, ``<head>``, ...)?  Conservative:
    a text that merely contains a tag, or starts with ``<p>``, is not taken for a page."""
    head = data[:4096]
    if isinstance(head, bytes) and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", "replace")
    if isinstance(head, str):
        head = head.encode("utf-8", "replace")
    return _HTML_START_RE.match(head) is not None


def decode_html(data: bytes) -> tuple[str, str, tuple[str, ...]]:
    """(text, encoding, issues): a BOM, else the page's declared charset, else our decoder."""
    from polyglot_pipe.stages.decode import decode_bytes

    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name, "replace"), name, ()
    head = data[:4096]
    found = _META_CHARSET_RE.search(head) or _XML_ENCODING_RE.search(head)
    if found:
        label = found.group(1).decode("ascii", "replace").lower()
        try:
            name = codecs.lookup(label).name
        except LookupError:
            name = None
        if name in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            name = "utf-8"  # the standard: a page that could be read this far is not UTF-16
        if name is not None:
            name = _WHATWG.get(name, name)
            try:
                return data.decode(name), name, ()
            except UnicodeDecodeError as exc:
                issue = f"declared charset {label!r} does not decode the page (byte {exc.start}); guessed instead"
                decoded = decode_bytes(data)
                return decoded.text, decoded.encoding, (*decoded.issues, issue)
        decoded = decode_bytes(data)
        return decoded.text, decoded.encoding, (*decoded.issues, f"unknown declared charset {label!r}; guessed instead")
    decoded = decode_bytes(data)
    return decoded.text, decoded.encoding, decoded.issues


@dataclass(frozen=True, slots=True)
class Event:
    """One step of :func:`walk`."""

    kind: str  # "open"/"close" (a block element), "br", "text" (a text node), "attrs" (an element with ATTRIBUTES)
    node: object
    number: int  # text nodes and attribute owners, counted together in document order; -1 for the rest
    path: tuple[str, ...]
    lang: str | None
    lang_from_root: bool
    pre: bool  # inside pre/textarea: whitespace is kept


def walk(tree) -> Iterator[Event]:
    """The page in document order, as the extractor and the page writer both see it
    (the writer finds a run's node again by its ``number``)."""
    root = tree.root
    if root is None:
        return
    number = 0
    title = tree.css_first("head > title")
    # (what, node, path, lang, lang_from_root, pre): what is "element", "leave" or "text"
    stack: list[tuple] = [("element", root, (_segment(root),), _own_lang(root), True, False)]
    while stack:
        what, node, path, lang, from_root, pre = stack.pop()
        if what == "text":
            yield Event("text", node, number, path, lang, from_root, pre)
            number += 1
            continue
        if what == "leave":
            yield Event("close", node, -1, path, lang, from_root, pre)
            continue
        tag = node.tag
        if tag in BLOCKS:
            yield Event("open", node, -1, path, lang, from_root, pre)
            stack.append(("leave", node, path, lang, from_root, pre))
        elif tag == "br":
            yield Event("br", node, -1, path, lang, from_root, pre)
        attrs = node.attributes
        if tag not in ("html", "head", "body") and any(attrs.get(a) for a in ATTRIBUTES):
            yield Event("attrs", node, number, path, lang, from_root, pre)
            number += 1
        children: list[tuple] = []
        counts: dict[str, int] = {}
        for child in node.iter(include_text=True):
            if child.is_text_node:
                children.append(("text", child, None))
            elif child.is_element_node:
                ctag = child.tag
                counts[ctag] = counts.get(ctag, 0) + 1
                if ctag == "head":
                    if title is not None:
                        children.append(("title", title, None))
                elif ctag not in SKIPPED:
                    children.append(("element", child, counts[ctag]))
        for what, child, nth in reversed(children):
            if what == "text":
                stack.append(("text", child, path, lang, from_root, pre))
                continue
            if what == "title":
                child_path = (*path, "head", "title")
            else:
                child_path = (*path, _segment(child, nth if counts[child.tag] > 1 else None))
            own = _own_lang(child)
            stack.append(
                (
                    "element",
                    child,
                    child_path,
                    own or lang,
                    (child.tag in ("html", "body")) if own else from_root,
                    pre or child.tag in _PRESERVE_SPACE,
                )
            )


def _segment(node, nth: int | None = None) -> str:
    tag = node.tag
    ident = (node.attributes.get("id") or "") if node.is_element_node else ""
    if ident and re.fullmatch(r"[A-Za-z][\w-]*", ident):
        return f"{tag}#{ident}"
    return f"{tag}:nth-of-type({nth})" if nth else tag


def _own_lang(node) -> str | None:
    attrs = node.attributes
    value = attrs.get("lang") or attrs.get("xml:lang")
    if not value:
        return None
    match = _LANG_RE.match(value.strip())
    if match is None or (match.end() < len(value.strip()) and value.strip()[match.end()] not in "-_"):
        return None
    return match.group(0).lower()


def css_path(segments) -> str:
    """``html > body > div#main > p:nth-of-type(2)``, shortened to start at the nearest id."""
    for i in range(len(segments) - 1, -1, -1):
        if "#" in segments[i]:
            return " > ".join(segments[i:])
    return " > ".join(segments)


def extract_page(data: str | bytes) -> Page:
    """Decode (bytes), parse, and lay the page's readable text out as lines, with its runs."""
    from selectolax.lexbor import LexborHTMLParser

    if isinstance(data, bytes):
        if looks_binary(data[:4096]) and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise NotTextError("a binary file, not an HTML page")
        html, encoding, issues = decode_html(data)
    else:
        html, encoding, issues = data, None, ()
    html = html.replace("\x00", "\ufffd")  # lexbor stops at NUL in some states; the standard replaces it
    tree = LexborHTMLParser(html)
    parts: list[str] = []
    runs: list[Run] = []
    size = 0

    def newline() -> None:
        nonlocal size
        if parts and not parts[-1].endswith("\n"):
            parts.append("\n")
            size += 1

    def add(text: str, event: Event, attr: str | None = None, lang: str | None = None) -> None:
        nonlocal size
        if not event.pre or attr is not None:
            text = _SPACE_RE.sub(" ", text)
            if text.startswith(" ") and (not parts or parts[-1].endswith((" ", "\n"))):
                text = text[1:]
        if not text:
            return
        from_root = event.lang_from_root if lang is None else False  # an element's own lang is no page-wide claim
        runs.append(Run(size, size + len(text), event.number, css_path(event.path), attr, lang or event.lang, from_root))
        parts.append(text)
        size += len(text)

    for event in walk(tree):
        kind = event.kind
        if kind in ("open", "close"):
            newline()
        elif kind == "br":
            parts.append("\n")
            size += 1
        elif kind == "attrs":
            attrs = event.node.attributes
            for attr in ATTRIBUTES:
                value = _SPACE_RE.sub(" ", attrs.get(attr) or "").strip()
                if value:
                    newline()
                    add(value, event, attr, _own_lang(event.node))
                    newline()
        else:
            add(event.node.text_content or "", event)
    return Page("".join(parts), tuple(runs), html, encoding, tuple(issues))


def fragment_sources(runs: tuple[Run, ...], fragments) -> list[dict]:
    """Per fragment: ``source_path`` (the element holding it: the nearest common one when
    it spans inline markup), ``source_attr`` (when it is an attribute's value), and
    ``_hint``: (declared language, page-wide?) when every run under it declares the same one."""
    from bisect import bisect_right

    starts = [run.start for run in runs]
    out: list[dict] = []
    for frag in fragments:
        i = max(bisect_right(starts, frag.start) - 1, 0)
        covered = []
        while i < len(runs) and runs[i].start < frag.end:
            if runs[i].end > frag.start:
                covered.append(runs[i])
            i += 1
        if not covered:
            out.append({})
            continue
        source: dict = {"source_path": _common_path([run.path for run in covered])}
        if len(covered) == 1 and covered[0].attr:
            source["source_attr"] = covered[0].attr
        langs = {(run.lang, run.lang_from_root) for run in covered}
        if len(langs) == 1 and covered[0].lang:
            source["_hint"] = (covered[0].lang, covered[0].lang_from_root)
        out.append(source)
    return out


def _common_path(paths: list[str]) -> str:
    if len(set(paths)) == 1:
        return paths[0]
    split = [path.split(" > ") for path in paths]
    common = []
    for parts in zip(*split):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return " > ".join(common) if common else paths[0]
