"""`polyglot-pipe serve` as a LibreTranslate: a real uvicorn server on 127.0.0.1, in its own
process, spoken to by the real LibreTranslate client (libretranslatepy) and by plain HTTP.

The server has our committed ru->en and de->en packs installed in a private packages
folder and its own translation memory file.  Expected renderings come from the library,
called directly with the same packs: the service must say exactly what the library says.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
from libretranslatepy import LibreTranslateAPI

from polyglot_pipe import Pipeline

ROOT = Path(__file__).resolve().parent.parent
PACKS = [ROOT / "language_packs" / "translate-ru_en-1_0.argosmodel", ROOT / "language_packs" / "translate-de_en-1_0.argosmodel"]
RUSSIAN = "Заголовок открываемого материала"
CHAR_LIMIT = 3000
MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def packs_dir(tmp_path_factory) -> Path:
    from polyglot_pipe.packs.store import install_pack_file

    directory = tmp_path_factory.mktemp("serve-packs")
    for pack in PACKS:
        install_pack_file(pack, directory)
    return directory


@contextlib.contextmanager
def running_server(folder: Path, packs_dir: Path, *options: str):
    """The service in a subprocess on a free port; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARGOS_PACKAGES_DIR": str(packs_dir),
           "POLYGLOT_PIPE_CACHE_DIR": str(folder / "cache")}  # fmt: skip
    log = open(folder / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "polyglot_pipe", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--memory-path", str(folder / "memory.sqlite"), "--threads", "1", *options],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                pytest.fail(f"the server exited: {(folder / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer /health within 30 s")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, packs_dir):
    options = ["--char-limit", str(CHAR_LIMIT), "--batch-limit", "8", "--max-body", str(MAX_BODY)]
    with running_server(tmp_path_factory.mktemp("serve"), packs_dir, *options) as url:
        yield url


@pytest.fixture(scope="module")
def library(packs_dir):
    """The library, called directly with the same packs: what the service must agree with."""
    return Pipeline(packs_dir=packs_dir, memory=None, html=False)


def call(url: str, path: str, body=None, *, method: str = "POST", content_type: str = "application/json"):
    """(status, JSON) of one request; ``body`` a dict (sent as JSON) or raw bytes."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def rendering(pipeline: Pipeline, text: str) -> str:
    doc = pipeline.process(text)
    return doc.space_before + "".join((f.english if f.english is not None else f.original) + f.space_after for f in doc.fragments)


def test_the_libretranslate_client_lists_detects_and_translates(server, library):
    client = LibreTranslateAPI(server)
    languages = {lang["code"]: lang for lang in client.languages()}
    assert set(languages) == {"de", "en", "ru"}
    assert languages["ru"] == {"code": "ru", "name": "Russian", "targets": ["en"]}
    assert languages["en"]["targets"] == []

    detected = client.detect(RUSSIAN)
    assert detected[0]["language"] == "ru" and 50 < detected[0]["confidence"] <= 100

    expected = rendering(library, RUSSIAN)
    assert expected != RUSSIAN  # the pack did translate (into its training domain's words)
    assert client.translate(RUSSIAN, "ru", "en") == expected
    assert client.translate(RUSSIAN, "auto", "en") == expected
    mixed = f"Subscribe\n{RUSSIAN}"
    assert client.translate(mixed, "auto", "en") == f"Subscribe\n{expected}"  # the English line is kept as it is


def test_the_client_sees_libretranslate_errors(server):
    client = LibreTranslateAPI(server)
    with pytest.raises(urllib.error.HTTPError) as raised:
        client.translate("Hallo", "de", "ru")
    assert raised.value.code == 400
    assert json.loads(raised.value.read()) == {"error": "Russian (ru) is not available as a target language from German (de)"}


def test_translate_in_json_with_lists_auto_and_alternatives(server, library):
    texts = [RUSSIAN, "Hello there, this is English.", "12:30"]
    status, body = call(server, "/translate", {"q": texts, "source": "auto", "target": "en", "alternatives": 2})
    assert status == 200
    assert body["translatedText"] == [rendering(library, t) for t in texts]
    assert [d["language"] for d in body["detectedLanguage"]] == ["ru", "en", "und"]
    assert all(0 <= d["confidence"] <= 100 for d in body["detectedLanguage"])
    # the model's next-best hypotheses for the translated text; nothing for text that needed none
    russian, english, number = body["alternatives"]
    assert 1 <= len(russian) <= 2 and all(isinstance(a, str) and a != body["translatedText"][0] for a in russian)
    assert english == [] and number == []

    status, body = call(server, "/translate", {"q": RUSSIAN, "source": "ru", "target": "en"})
    assert status == 200 and set(body) == {"translatedText"}
    status, body = call(server, "/translate", {"q": RUSSIAN, "source": "ru", "target": "en", "alternatives": 3})
    assert status == 200 and len(body["alternatives"]) == 3 and body["translatedText"] not in body["alternatives"]


def test_translate_html_keeps_the_markup_and_escapes_what_it_writes(server, library):
    q = f'<p title="{RUSSIAN}">{RUSSIAN} <b>&lt;script&gt;</b></p>'
    status, body = call(server, "/translate", {"q": q, "source": "ru", "target": "en", "format": "html"})
    assert status == 200
    out = body["translatedText"]
    assert out.startswith("<p ") and out.endswith("</p>") and "<script>" not in out
    assert RUSSIAN not in out
    assert rendering(library, RUSSIAN) in out


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"source": "ru", "target": "en"}, 400, "Invalid request: missing q parameter"),
        ({"q": [], "source": "ru", "target": "en"}, 400, "Invalid request: missing q parameter"),
        ({"q": "x", "target": "en"}, 400, "Invalid request: missing source parameter"),
        ({"q": "x", "source": "ru"}, 400, "Invalid request: missing target parameter"),
        ({"q": "x", "source": "zz", "target": "en"}, 400, "zz is not supported"),
        ({"q": "x", "source": "ru", "target": "zz"}, 400, "zz is not supported"),
        ({"q": "x", "source": "ru", "target": "en", "format": "xml"}, 400, "xml format is not supported"),
        ({"q": "x", "source": "ru", "target": "en", "alternatives": "abc"}, 400, "Invalid request: alternatives parameter is not a number"),
        ({"q": "x", "source": "ru", "target": "en", "alternatives": 9}, 400, "Invalid request: alternatives parameter must be <= 3"),
        ({"q": ["x"] * 9, "source": "ru", "target": "en"}, 400, "Invalid request: request (9) exceeds text limit (8)"),
        ({"q": "x" * (CHAR_LIMIT + 1), "source": "ru", "target": "en"}, 400,
         f"Invalid request: request ({CHAR_LIMIT + 1}) exceeds text limit ({CHAR_LIMIT})"),
        ({"q": "Hallo Welt, wie geht es dir heute?", "source": "auto", "target": "ru"}, 400,
         "Russian (ru) is not available as a target language from German (de)"),
    ],
)
def test_translate_errors_are_libretranslates(server, body, status, error):
    assert call(server, "/translate", body) == (status, {"error": error})


def test_bodies_and_methods_that_are_refused(server):
    assert call(server, "/translate", b"[1, 2]") == (400, {"error": "Invalid JSON format"})
    assert call(server, "/translate", b"{not json") == (400, {"error": "Invalid JSON format"})
    status, body = call(server, "/translate", b"q=" + b"x" * MAX_BODY, content_type="application/x-www-form-urlencoded")
    assert status == 413 and "exceeds the limit" in body["error"]
    assert call(server, "/detect", method="GET") == (405, {"error": "Method Not Allowed"})
    assert call(server, "/health", b"", method="POST") == (405, {"error": "Method Not Allowed"})
    assert call(server, "/nowhere", {}) == (404, {"error": "Not Found"})
    assert call(server, "/detect", {}) == (400, {"error": "Invalid request: missing q parameter"})
    assert call(server, "/health", method="GET") == (200, {"status": "ok"})


def test_fragments_gives_our_records_for_a_page(server, packs_dir):
    page = (
        '<!DOCTYPE html><html lang="en"><head><title>Notes</title></head><body>'
        f'<p>Subscribe to the newsletter</p><p lang="ru">{RUSSIAN}</p><img src="x.png" alt="{RUSSIAN}"></body></html>'
    )
    status, body = call(server, "/fragments", {"q": page})
    assert status == 200
    records = body["fragments"]
    expected = Pipeline(packs_dir=packs_dir, memory=None).process(page).to_records()
    for record in expected:
        record["doc"] = "0"
    assert [{k: v for k, v in r.items() if k != "cached"} for r in records] == \
        [{k: v for k, v in r.items() if k != "cached"} for r in expected]  # fmt: skip
    by_path = {(r["source_path"], r.get("source_attr")): r for r in records}
    assert by_path[("html > body > p:nth-of-type(2)", None)]["lang"] == "ru"
    assert by_path[("html > body > img", "alt")]["method"] == "argos:ru-en@1.0"


def test_concurrent_requests_agree_with_the_library_and_share_the_memory(server, library):
    texts = [f"{RUSSIAN} номер {n}" for n in range(24)]
    client = LibreTranslateAPI(server)
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda t: client.translate(t, "ru", "en"), texts))
    assert answers == [rendering(library, t) for t in texts]
    # another endpoint, another pipeline inside the server: the renderings come from the shared memory
    status, body = call(server, "/fragments", {"q": texts[3], "format": "text"})
    assert status == 200
    foreign = [r for r in body["fragments"] if r["lang"] == "ru"]
    assert foreign and all(r.get("cached") for r in foreign)


def test_a_server_that_cannot_keep_up_says_so_and_stays_up(tmp_path, packs_dir):
    """A 1 ms timeout and a queue of 2: the cold first batch (the pack loads) cannot finish in
    time, later requests find the queue full.  Every answer is an answer (a rendering, 429
    or a timed-out 500), none hangs, and the server still serves afterwards."""
    with running_server(tmp_path, packs_dir, "--timeout", "0.001", "--max-queue", "2") as url:
        texts = [f"{RUSSIAN} номер {n}" for n in range(12)]
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda t: call(url, "/translate", {"q": t, "source": "ru", "target": "en"}), texts))
        kinds = set()
        for status, body in answers:
            if status == 200:
                kinds.add("ok")
                assert isinstance(body["translatedText"], str)
            elif status == 429:
                kinds.add("slowdown")
                assert body["error"].startswith("Slowdown")
            else:
                kinds.add("timeout")
                assert (status, body) == (500, {"error": "Cannot translate text: timed out after 0.001 s"})
        assert "timeout" in kinds
        assert call(url, "/health", method="GET") == (200, {"status": "ok"})
