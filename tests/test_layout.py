"""The house: light import, no import cycle, layers respected, one error family, a wheel with only what runs."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import polyglot_pipe
from polyglot_pipe.errors import PolyglotError

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "polyglot_pipe"


def test_import_is_light():
    code = (
        "import sys, polyglot_pipe; "
        "print(sorted(m for m in ('torch', 'transformers', 'stanza', 'ray', 'argostranslate', 'spacy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_no_import_cycle():
    """Every import counts, including those inside functions (grimp reads them all).

    The same check by hand: ``python -c "import grimp; g = grimp.build_graph('polyglot_pipe'); ..."``;
    the layers themselves: ``lint-imports`` (contracts in pyproject.toml).
    """
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("polyglot_pipe", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != module and graph.chain_exists(importer=imported, imported=module):
                cycles.append((module, imported, graph.find_shortest_chain(importer=imported, imported=module)))
    assert cycles == []


def test_layers_and_independent_stages():
    """pyproject.toml's import-linter contracts: cli > integrations > io > pipeline > ... > errors,
    and repair, segment and identify import none of each other (decode still uses repair's scorer)."""
    pytest.importorskip("importlinter")
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:]


def test_every_error_class_is_a_polyglot_error():
    """Each exception class defined in the package derives from PolyglotError."""
    errors = {name: obj for name, obj in vars(__import__("polyglot_pipe.errors").errors).items() if isinstance(obj, type)}
    defined = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id.endswith(("Error", "Exception")) and base.id != "BaseException"
                for base in node.bases  # a BaseException is control flow (as SIGTERM's in cli/main.py), not an error
            ):
                defined.append((path.relative_to(ROOT).as_posix(), node.name))
    assert defined, "no error classes found: the scan is broken"
    outside = [(path, name) for path, name in defined if path != "polyglot_pipe/errors.py"]
    assert outside == []  # one place for them
    assert all(issubclass(errors[name], PolyglotError) for _path, name in defined)


def test_library_errors_quote_the_bad_value():
    with pytest.raises(PolyglotError, match="xx"):
        polyglot_pipe.Pipeline(langs=["ru", "xx"], translate=False)
    with pytest.raises(PolyglotError, match="binary|not text"):
        polyglot_pipe.Pipeline(translate=False).process(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" * 20)


def test_cli_prints_a_polyglot_error_as_one_line(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "polyglot_pipe", "run", "-", "--langs", "ru,qq", "--no-translate"],
        input="Привет", capture_output=True, text=True, cwd=tmp_path,
    )
    assert out.returncode == 2
    assert "qq" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_wheel_holds_only_what_runs(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("polyglot_pipe-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    code = [n for n in names if not n.startswith("polyglot_pipe-") or not n.split("/")[0].endswith(".dist-info")]
    assert all(n.startswith("polyglot_pipe/") for n in code), [n for n in code if not n.startswith("polyglot_pipe/")]
    assert not [n for n in code if "make_" in n or n.startswith(("tools/", "tests/", "bench/"))]
    # what the run path needs is there: the word lists, the review's assets
    assert "polyglot_pipe/langdata/lexicons.npz" in names
    assert {"polyglot_pipe/io/writers/review.css", "polyglot_pipe/io/writers/review.js"} <= set(names)


def test_one_record_schema_describes_every_record(tmp_path):
    """The records a run writes use only fields of model.RECORD_FIELDS, with their kinds,
    and carry every field the schema marks as always present."""
    import json

    from polyglot_pipe.cli.main import main
    from polyglot_pipe.model import RECORD_FIELDS

    page = tmp_path / "page.html"
    page.write_bytes(
        "<html><body>\n  <p title='Все новости'>ÐŸÑ€Ð¸Ð²ÐµÑ‚, Ð¼Ð¸Ñ€</p><p>Read more</p></body></html>".encode("utf-8")
    )
    out = tmp_path / "out.jsonl"
    assert main(["run", str(page), "-o", str(out), "--no-translate", "-q"]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    kinds = {"str": str, "int": int, "float": (int, float), "bool": bool, "list[str]": list, "object": dict}
    schema = {f.name: f for f in RECORD_FIELDS}
    seen = set()
    for record in records:
        assert set(record) <= set(schema), set(record) - set(schema)
        assert {f.name for f in RECORD_FIELDS if f.always} <= set(record)
        for name, value in record.items():
            assert (value is None and schema[name].nullable) or isinstance(value, kinds[schema[name].kind]), name
        seen |= set(record)
    assert {"raw", "run", "source_path", "source_attr", "encoding"} <= seen  # the optional ones were exercised
