"""Shared fixtures. Each owner keeps their fixtures in their own clearly marked block."""

from __future__ import annotations

# ---------------------------------------------------------------------------
# Packs: dummy Argos packs and a real HTTP package index on 127.0.0.1
# (owner: polyglot_pipe/packs/store.py, used by tests/test_packs.py)
# ---------------------------------------------------------------------------
import functools
import http.server
import json
import socket
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def build_dummy_pack(
    directory: Path,
    from_code: str = "ru",
    to_code: str = "en",
    version: str = "1.0",
    *,
    payload: bytes = b"varies the archive's checksum\n",
) -> Path:
    """A small .argosmodel with argostranslate's layout (one top folder, metadata.json, model/,
    sentencepiece.model) for install, list, remove and the index.  Installing checks that the
    model and the tokenizer load, so they are real: the committed tiny ru->en pack's (whatever
    ``from_code`` says, it is no translator of that language).  ``payload`` is stored as
    ``payload.bin``, to give archives distinct contents and checksums."""
    top = f"translate-{from_code}_{to_code}-{version.replace('.', '_')}"
    archive = Path(directory) / f"{top}.argosmodel"
    metadata = {
        "package_version": version,
        "argos_version": "1.0",
        "from_code": from_code,
        "from_name": {"ru": "Russian", "de": "German", "en": "English"}.get(from_code, from_code),
        "to_code": to_code,
        "to_name": {"ru": "Russian", "de": "German", "en": "English"}.get(to_code, to_code),
    }
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{top}/metadata.json", json.dumps(metadata))
        for name, data in _real_model_files().items():
            zf.writestr(f"{top}/{name}", data)
        zf.writestr(f"{top}/payload.bin", payload)
        zf.writestr(f"{top}/README.md", f"dummy {from_code}->{to_code} pack for tests\n")
    return archive


@functools.lru_cache(maxsize=1)
def _real_model_files() -> dict[str, bytes]:
    """model/ and sentencepiece.model of the committed tiny ru->en pack."""
    source = Path(__file__).resolve().parent.parent / "language_packs" / "translate-ru_en-1_0.argosmodel"
    with zipfile.ZipFile(source) as zf:
        return {
            name.split("/", 1)[1]: zf.read(name)
            for name in zf.namelist()
            if name.split("/", 1)[1].startswith("model/") or name.endswith("/sentencepiece.model")
        }


class _PackRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the server's folder; /broken/NAME promises all of NAME and sends half;
    /stall/NAME sends the headers and then nothing until the test ends."""

    server_version = "PackTestServer/1.0"

    def log_message(self, format, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        for prefix, behaviour in (("/broken/", self._send_half), ("/stall/", self._stall)):
            if self.path.startswith(prefix):
                file = Path(self.directory) / self.path[len(prefix):]
                if not file.is_file():
                    self.send_error(404)
                    return
                behaviour(file.read_bytes())
                return
        super().do_GET()

    def _headers(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()

    def _send_half(self, data: bytes) -> None:
        self._headers(data)
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _stall(self, data: bytes) -> None:
        self._headers(data)
        self.wfile.write(data[:10])
        self.wfile.flush()
        self.server.release.wait(30)
        self.close_connection = True


@dataclass
class PackServer:
    """A running index server: ``url`` ends with "/" and holds index.json, like $ARGOS_PACKAGE_INDEX."""

    root: Path
    url: str
    entries: list = field(default_factory=list)

    def add_pack(self, archive: Path, *, link_prefix: str = "", sha256: str | None = None, **extra) -> dict:
        """Serve ``archive`` and list it in index.json (links point at ``url + link_prefix + name``)."""
        data = Path(archive).read_bytes()
        (self.root / Path(archive).name).write_bytes(data)
        with zipfile.ZipFile(archive) as zf:
            top = zf.namelist()[0].split("/", 1)[0]
            metadata = json.loads(zf.read(f"{top}/metadata.json"))
        entry = {
            **metadata,
            "code": f"translate-{metadata['from_code']}_{metadata['to_code']}",
            "links": [f"{self.url}{link_prefix}{Path(archive).name}"],
            **extra,
        }
        if sha256 is not None:
            entry["sha256"] = sha256
        self.entries.append(entry)
        self.write_index()
        return entry

    def write_index(self, raw: str | None = None) -> None:
        (self.root / "index.json").write_text(raw if raw is not None else json.dumps(self.entries), encoding="utf-8")


@pytest.fixture
def pack_server(tmp_path):
    """A real ThreadingHTTPServer on 127.0.0.1 (port 0) serving a temp folder with index.json."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_PackRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pack_server = PackServer(root=root, url=f"http://127.0.0.1:{server.server_address[1]}/")
    pack_server.write_index()
    try:
        yield pack_server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def offline_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens: connection refused, as when offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def packs_env(tmp_path, monkeypatch):
    """Private packages dir, index cache and argostranslate config for one test; returns the packages dir."""
    packs = tmp_path / "packages"
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(packs))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("ARGOS_PACKAGE_INDEX", raising=False)
    return packs


# ---------------------------------------------------------------------------
# end of the packs block
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Isolation: no test reads or fills the user's real translation memory
# (owner: the lead; used by every test)
# ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path_factory, monkeypatch):
    """Each test gets its own cache folder, so CLI runs never come back `cached` from an earlier test."""
    monkeypatch.setenv("POLYGLOT_PIPE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


# ---------------------------------------------------------------------------
# Real packs: our committed ru->en pack installed in a private packages folder
# (owner: the lead; used by the spine, memory, batch and Ray tests)
# ---------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
RU_PACK = ROOT / "language_packs" / "translate-ru_en-1_0.argosmodel"


@pytest.fixture(scope="session")
def ru_packs_dir(tmp_path_factory) -> Path:
    """A packages directory holding our real ru->en pack (the committed .argosmodel, installed)."""
    from polyglot_pipe.packs.store import install_pack_file

    if not RU_PACK.exists():
        pytest.fail(f"{RU_PACK} is missing: build it with language_packs/build.sh")
    directory = tmp_path_factory.mktemp("ru-packs")
    install_pack_file(RU_PACK, directory)
    return directory


@pytest.fixture(scope="session")
def empty_packs_dir(tmp_path_factory) -> Path:
    """A packages directory with no pack in it."""
    return tmp_path_factory.mktemp("no-packs")


@pytest.fixture
def texts_sent_to_packs(monkeypatch) -> list[str]:
    """Every text handed to a pack's CTranslate2 model during the test (the real model still runs)."""
    from polyglot_pipe.stages.translate import LoadedPack

    sent: list[str] = []
    real = LoadedPack.translate_scored  # what the stage calls (translate() goes through it too)

    def recording(self, texts, **kwargs):
        sent.extend(texts)
        return real(self, texts, **kwargs)

    monkeypatch.setattr(LoadedPack, "translate_scored", recording)
    return sent
