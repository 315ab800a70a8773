"""A LibreTranslate-compatible HTTP service over the pipeline (Starlette, run by uvicorn).

Endpoints, as LibreTranslate has them (``POST`` bodies as JSON or
``application/x-www-form-urlencoded``; errors are ``{"error": "..."}`` with
LibreTranslate's status codes and wording):

- ``POST /translate``: ``q`` (a string or a list), ``source`` (a code or
  ``"auto"``), ``target``, ``format`` (``text``|``html``), ``alternatives``;
  answers ``{"translatedText": ...}`` (a list for a list), plus
  ``detectedLanguage`` (``{"language", "confidence"}``, confidence 0-100) when
  ``source`` is ``auto``, plus ``alternatives`` when asked: the pack model's next-best
  hypotheses (CTranslate2's n-best), fewer or none when the model has no other
  (never made up; none for ``format: html``).
- ``POST /detect``: ``[{"language", "confidence"}, ...]``, best first.
- ``GET /languages``: the installed packs, ``[{"code", "name", "targets"}]``.
- ``GET /health``: ``{"status": "ok"}``.

And what LibreTranslate lacks: ``POST /fragments`` with ``q`` (a text or an
HTML page; ``format`` ``auto``|``text``|``html``) answers ``{"fragments":
[records]}``: the JSONL records of ``polyglot-pipe run`` (labels, confidences,
renderings, statuses, ``source_path`` for pages).

Text is never "translated" by copying: a fragment without a pack keeps its
original words in ``translatedText`` (mixed text stays mixed); a ``source`` or
``target`` without an installed pack is a 400, as in LibreTranslate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from polyglot_pipe.errors import QueueFullError, ServiceError
from polyglot_pipe.serve.batcher import Batcher

__all__ = ["Settings", "create_app"]

AUTO = "auto"


@dataclass
class Settings:
    """Limits and where things are.  ``char_limit``/``batch_limit``: -1 for none (LibreTranslate's flags)."""

    packs_dir: str | os.PathLike | None = None
    memory: object = None  # a TranslationMemory shared by every pipeline, or None
    char_limit: int = 50_000
    batch_limit: int = 128
    max_body: int = 2 << 20  # bytes of one request body
    timeout: float = 60.0  # seconds a request may wait for its batch
    max_queue: int = 512
    max_batch_docs: int = 256
    alternatives_limit: int = 3
    beam_size: int = 4
    threads: int = 0
    device: str = "auto"


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()

    def make_pipeline(key: tuple):
        from polyglot_pipe.pipeline import Pipeline

        target, langs, html, translate = key
        return Pipeline(
            target=target,
            packs_dir=settings.packs_dir,
            langs=langs,
            translate=translate,
            memory=settings.memory if translate else None,
            device=settings.device,
            beam_size=settings.beam_size,
            threads=settings.threads,
            html=html,
        )

    batcher = Batcher(make_pipeline, max_docs=settings.max_batch_docs, max_queue=settings.max_queue)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await batcher.start()
        try:
            yield
        finally:
            await batcher.stop()

    async def run(key: tuple, texts: list[str], label_only: bool = False) -> list:
        try:
            docs = await batcher.submit(key, texts, label_only=label_only, timeout=settings.timeout)
        except QueueFullError:
            raise ServiceError(429, "Slowdown: too many requests are waiting; try again shortly") from None
        except asyncio.TimeoutError:
            raise ServiceError(500, f"Cannot translate text: timed out after {settings.timeout:g} s") from None
        for doc in docs:
            if isinstance(doc, Exception) or doc is None:
                raise ServiceError(500, f"Cannot translate text: {doc}")
        return docs

    def catalogue() -> dict[str, dict]:
        """code -> {"name", "targets"} from the installed packs (read each time: installs show up)."""
        from polyglot_pipe.packs.store import installed_packs

        langs: dict[str, dict] = {}
        for pack in installed_packs(settings.packs_dir):
            source = langs.setdefault(pack.from_code, {"name": pack.from_name or pack.from_code, "targets": []})
            if pack.to_code not in source["targets"]:
                source["targets"].append(pack.to_code)
            langs.setdefault(pack.to_code, {"name": pack.to_name or pack.to_code, "targets": []})
        return langs

    async def translate(request: Request) -> JSONResponse:
        params, is_json = await _params(request, settings.max_body)
        q, source, target = params.get("q"), params.get("source"), params.get("target")
        if not q:
            raise ServiceError(400, "Invalid request: missing q parameter")
        if not source:
            raise ServiceError(400, "Invalid request: missing source parameter")
        if not target:
            raise ServiceError(400, "Invalid request: missing target parameter")
        batch = isinstance(q, list)
        texts = _texts(q, is_json)
        _check_limits(texts, batch, settings)
        text_format = params.get("format") or "text"
        try:
            alternatives = int(params.get("alternatives") or 0)
        except (TypeError, ValueError):
            raise ServiceError(400, "Invalid request: alternatives parameter is not a number") from None
        if alternatives > settings.alternatives_limit:
            raise ServiceError(400, f"Invalid request: alternatives parameter must be <= {settings.alternatives_limit}")
        langs = catalogue()
        if source != AUTO and source not in langs:
            raise ServiceError(400, f"{source} is not supported")
        if target not in langs:
            raise ServiceError(400, f"{target} is not supported")
        if text_format not in ("text", "html"):
            raise ServiceError(400, f"{text_format} format is not supported")
        if source not in (AUTO, target) and target not in langs[source]["targets"]:
            raise ServiceError(400, _not_available(langs, source, target))
        html = text_format == "html"
        key = (target, None if source == AUTO else tuple(dict.fromkeys((source, target))), html, True)
        docs = await run(key, texts)
        detected = [_detected(doc) for doc in docs]
        if source == AUTO:
            for found in detected:
                lang = found["language"]
                if lang not in (target, "und") and target not in langs.get(lang, {}).get("targets", []):
                    raise ServiceError(400, _not_available(langs, lang, target) if lang in langs else f"{lang} is not supported")
        rendered = [_render(doc, html) for doc in docs]
        body: dict = {"translatedText": rendered if batch else rendered[0]}
        if source == AUTO:
            body["detectedLanguage"] = detected if batch else detected[0]
        if alternatives > 0:
            pipeline = batcher.pipeline_for(key)
            found = await batcher.run_sync(_alternatives, pipeline, docs, alternatives, html)
            body["alternatives"] = found if batch else found[0]
        return JSONResponse(body)

    async def detect(request: Request) -> JSONResponse:
        params, is_json = await _params(request, settings.max_body)
        q = params.get("q")
        if not q:
            raise ServiceError(400, "Invalid request: missing q parameter")
        texts = _texts(q, is_json)
        _check_limits(texts, isinstance(q, list), settings)
        (doc,) = await run(("en", None, False, False), ["\n".join(texts)], label_only=True)
        return JSONResponse(_ranking(doc))

    async def languages(request: Request) -> JSONResponse:
        return JSONResponse([{"code": code, "name": v["name"], "targets": sorted(v["targets"])} for code, v in sorted(catalogue().items())])

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def fragments(request: Request) -> JSONResponse:
        params, is_json = await _params(request, settings.max_body)
        q = params.get("q")
        if not q:
            raise ServiceError(400, "Invalid request: missing q parameter")
        batch = isinstance(q, list)
        texts = _texts(q, is_json)
        _check_limits(texts, batch, settings)
        text_format = params.get("format") or "auto"
        if text_format not in ("auto", "text", "html"):
            raise ServiceError(400, f"{text_format} format is not supported")
        target = params.get("target") or "en"
        source = params.get("source")
        langs = None
        if source and source != AUTO:
            from polyglot_pipe.stages.identify import LanguageIdentifier

            try:
                LanguageIdentifier(langs=[source, target])
            except ValueError:
                raise ServiceError(400, f"{source} is not supported") from None
            langs = tuple(dict.fromkeys((source, target)))
        html = {"auto": None, "text": False, "html": True}[text_format]
        docs = await run((target, langs, html, True), texts)
        records = []
        for doc in docs:
            recs = doc.to_records()
            for record in recs:
                record["doc"] = str(params.get("id") or "0")
            records.append(recs)
        return JSONResponse({"fragments": records if batch else records[0]})

    async def api_error(request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": f"Cannot translate text: {type(exc).__name__}: {exc}"}, status_code=500)

    routes = [
        Route("/translate", translate, methods=["POST"]),
        Route("/detect", detect, methods=["POST"]),
        Route("/languages", languages, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/fragments", fragments, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={ServiceError: api_error, HTTPException: http_error, Exception: server_error},
    )
    app.state.batcher = batcher
    app.state.settings = settings
    return app


async def _params(request: Request, max_body: int) -> tuple[dict, bool]:
    """The request's parameters (JSON object or urlencoded form) and whether it was JSON."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_body:
        raise ServiceError(413, f"Invalid request: request body ({declared} bytes) exceeds the limit ({max_body} bytes)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise ServiceError(413, f"Invalid request: request body exceeds the limit ({max_body} bytes)")
        chunks.append(chunk)
    body = b"".join(chunks)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            raise ServiceError(400, "Invalid JSON format") from None
        if not isinstance(params, dict):
            raise ServiceError(400, "Invalid JSON format")
        return params, True
    if content_type == "multipart/form-data":
        raise ServiceError(400, "Invalid request: multipart forms are not supported; send JSON or a urlencoded form")
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise ServiceError(400, "Invalid request: the form is not UTF-8") from None
    params = {name: values[0] for name, values in form.items()}
    for name, values in request.query_params.multi_items():
        params.setdefault(name, values)
    return params, False


def _texts(q, is_json: bool) -> list[str]:
    texts = q if isinstance(q, list) else [q]
    if not all(isinstance(t, str) for t in texts):
        raise ServiceError(400, "Invalid request: q must be a string or a list of strings")
    if not is_json:  # as LibreTranslate: form line endings normalised to LF
        texts = ["\n".join(t.splitlines()) for t in texts]
    return texts


def _check_limits(texts: list[str], batch: bool, settings: Settings) -> None:
    if batch and settings.batch_limit != -1 and len(texts) > settings.batch_limit:
        raise ServiceError(400, f"Invalid request: request ({len(texts)}) exceeds text limit ({settings.batch_limit})")
    chars = sum(len(t) for t in texts)
    if settings.char_limit != -1 and chars > settings.char_limit:
        raise ServiceError(400, f"Invalid request: request ({chars}) exceeds text limit ({settings.char_limit})")


def _not_available(langs: dict, source: str, target: str) -> str:
    return (
        f"{langs.get(target, {}).get('name', target)} ({target}) is not available as a target language "
        f"from {langs.get(source, {}).get('name', source)} ({source})"
    )


def _ranking(doc) -> list[dict]:
    """Languages of a text, by their share of its letters times their fragments' confidence, 0-100.

    Confidences are calibrated and capped at 0.99 where evidence was scored
    (identify.MAX_CONFIDENCE), so a text all in one language says 99, not 100,
    unless its script decides the language."""
    weights: dict[str, float] = {}
    total = 0
    for frag in doc.fragments:
        if frag.lang == "und":
            continue
        n = sum(ch.isalpha() for ch in frag.original) or 1
        weights[frag.lang] = weights.get(frag.lang, 0.0) + n * frag.lang_confidence
        total += n
    if not total:
        return [{"confidence": 0.0, "language": "und"}]
    ranked = sorted(weights.items(), key=lambda kv: -kv[1])
    return [{"confidence": round(100.0 * w / total, 2), "language": lang} for lang, w in ranked]


def _detected(doc) -> dict:
    return _ranking(doc)[0]


def _alternatives(pipeline, docs, n: int, html: bool) -> list[list[str]]:
    """Per document, up to ``n`` other renderings: the k-th puts each translated fragment's
    k-th best hypothesis from its pack's model in place (fragments with fewer keep their
    best).  Real model hypotheses, never paraphrases; none when no fragment was translated.
    HTML input gets none (a page's alternatives would be whole pages)."""
    translator = pipeline.translator
    out: list[list[str]] = []
    for doc in docs:
        if html or translator is None:
            out.append([])
            continue
        options: dict[int, list[str]] = {}
        for i, frag in enumerate(doc.fragments):
            if frag.status == "ok" and frag.method.startswith("argos:"):
                loaded = translator.pack_for(frag.lang)
                if loaded is not None and not isinstance(loaded, Exception):
                    others = [h for h in loaded.hypotheses(frag.original, n + 1, beam_size=translator.beam_size) if h != frag.english]
                    if others:
                        options[i] = others
        found: list[str] = []
        for k in range(n):
            if not any(len(o) > k for o in options.values()):
                break
            parts = [doc.space_before]
            for i, frag in enumerate(doc.fragments):
                choice = options.get(i)
                text = choice[min(k, len(choice) - 1)] if choice else (frag.english if frag.status == "ok" and frag.english is not None else frag.original)
                parts.append(text + frag.space_after)
            found.append("".join(parts))
        out.append(list(dict.fromkeys(found)))
    return out


def _render(doc, html: bool) -> str:
    """The text with each fragment's rendering in place; a fragment without one keeps its words."""
    if html:
        from polyglot_pipe.io.writers.html_page import render_page

        page = doc.meta.get("html")
        if page is None:
            return doc.text
        return render_page(page, doc.to_records(), snippet=True)
    parts = [doc.space_before]
    for frag in doc.fragments:
        parts.append((frag.english if frag.status == "ok" and frag.english is not None else frag.original) + frag.space_after)
    return "".join(parts) if doc.fragments else doc.text
