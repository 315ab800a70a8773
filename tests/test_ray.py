"""The pipeline on Ray Data (polyglot_pipe.integrations.ray), on a real local Ray cluster of 2 CPUs.

Needs the [ray] extra.  One cluster serves the whole module (starting one takes
seconds); the FragmentWorker property test needs no cluster at all.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pa = pytest.importorskip("pyarrow")

import ray.data  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from polyglot_pipe import Pipeline  # noqa: E402
from polyglot_pipe.cli.main import build_parser, main  # noqa: E402
from polyglot_pipe.integrations.ray import (  # noqa: E402
    FRAGMENT_TYPE,
    FragmentWorker,
    pipeline_options,
    process_dataset,
    run_cli,
)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_0e5ec4742fbe5a91.txt"
RUSSIAN_LINE = "Заголовок открываемого материала"

PAGES = [
    SEED.read_text(encoding="utf-8"),
    f"Subscribe to our newsletter.\n{RUSSIAN_LINE}\n",
    f"Новости дня. Погода в Москве.\n{RUSSIAN_LINE}\n",  # repeats a fragment of the page before
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "ÐŸÑ€Ð¸Ð²ÐµÑ‚, Ð¼Ð¸Ñ€!",  # UTF-8 read as cp1252: repaired, the repair recorded
    "",
    "   \n\t  ",
    "🙂🙂🙂 ??? 12345",
]


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster with 2 CPUs, shared by the module's tests."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()






def arrow_fragments(doc) -> list[dict]:
    """A document's JSONL records as the Ray dataset holds them: no "doc", absent keys null."""
    return [{name: record.get(name) for name in FRAGMENT_TYPE.names} for record in doc.to_records()]


# -- the worker itself, on Arrow batches, in this process


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(st.one_of(st.none(), st.text(max_size=80), st.sampled_from(PAGES[1:])), min_size=1, max_size=6),
    data=st.data(),
)
def test_worker_adds_the_pipelines_fragments_and_keeps_every_other_field(texts, data, tmp_path_factory):
    """Any batch: same rows in the same order, other fields untouched, fragments as the Pipeline makes them."""
    empty = tmp_path_factory.getbasetemp() / "worker-no-packs"
    empty.mkdir(exist_ok=True)
    keys = data.draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=len(texts), max_size=len(texts)))
    tags = data.draw(st.lists(st.lists(st.text(max_size=5), max_size=3), min_size=len(texts), max_size=len(texts)))
    batch = pa.table({"key": keys, "text": texts, "tags": tags})

    worker = FragmentWorker("text", pipeline_options(packs_dir=empty))
    out = worker(batch)

    assert out.num_rows == batch.num_rows
    assert out.column("key").to_pylist() == keys
    assert out.column("tags").to_pylist() == tags
    pipeline = Pipeline(packs_dir=empty, threads=1)
    for text, fragments, error in zip(texts, out.column("fragments").to_pylist(), out.column("fragments_error").to_pylist()):
        if text is None:
            assert fragments == [] and "missing or null" in error
        else:
            assert error is None
            assert fragments == arrow_fragments(pipeline.process(text))


def test_worker_marks_values_that_are_not_text(empty_packs_dir):
    batch = pa.table({"page": [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Hello there.".encode("cp1251")]})
    out = FragmentWorker("page", pipeline_options(packs_dir=empty_packs_dir))(batch)
    png, hello = out.to_pylist()
    assert png["fragments"] == [] and "binary" in png["fragments_error"]
    assert hello["fragments_error"] is None and [f["original"] for f in hello["fragments"]] == ["Hello there."]

    missing = FragmentWorker("text", pipeline_options(packs_dir=empty_packs_dir))(pa.table({"other": [1]}))
    assert missing.to_pylist() == [{"other": 1, "fragments": [], "fragments_error": "ValueError: no text: field 'text' is missing or null"}]


# -- on the cluster


def test_dataset_records_match_the_single_machine_run(cluster, ru_packs_dir):
    """Each record comes back once, with its other fields as they were and the fragments one machine makes."""
    rows = [{"key": i, "text": page, "meta": {"site": f"s{i % 3}"}, "tags": ["a"] * i} for i, page in enumerate(PAGES)]
    out = process_dataset(ray.data.from_items(rows), packs_dir=ru_packs_dir, batch_size=3, workers=2).take_all()

    pipeline = Pipeline(packs_dir=ru_packs_dir, threads=1)
    expected = {row["key"]: arrow_fragments(pipeline.process(row["text"])) for row in rows}
    assert sorted(r["key"] for r in out) == [row["key"] for row in rows]
    for record in out:
        row = rows[record["key"]]
        assert {k: record[k] for k in row} == row
        assert record["fragments_error"] is None
        assert record["fragments"] == expected[record["key"]]
    russian = [f for r in out for f in r["fragments"] if f["original"] == RUSSIAN_LINE]
    assert len(russian) == 3 and {f["method"] for f in russian} == {"argos:ru-en@1.0"}
    assert all(f["status"] == "ok" and f["english"] for f in russian)


def test_ray_pipeline_keeps_pipelines_contract_across_windows(cluster, empty_packs_dir):
    """RayPipeline.process_many: the Documents Pipeline makes, in order, bad items to on_error, window after window."""
    from polyglot_pipe.integrations.ray import RayPipeline

    items = [(f"doc{i}", page) for i, page in enumerate(PAGES)]
    items.insert(3, ("image", b"\x89PNG\r\n\x1a\n" + bytes(range(256))))
    items.insert(6, ("lone-surrogate", "ok \ud800 here"))
    expected_errors: list = []
    expected = list(Pipeline(packs_dir=empty_packs_dir).process_many(items, on_error=lambda i, e: expected_errors.append((i, repr(e)))))

    errors: list = []
    docs = list(RayPipeline(packs_dir=empty_packs_dir, chunk_size=2, window=3).process_many(
        items, on_error=lambda i, e: errors.append((i, repr(e)))))

    assert docs == expected
    assert [d.id for d in docs] == [i for i, _ in items if i != "image"]
    assert errors == expected_errors and [i for i, _ in errors] == ["image"]


def _write_inputs(folder: Path) -> list[str]:
    folder.mkdir()
    for i, page in enumerate(PAGES):
        (folder / f"page{i}.txt").write_text(page, encoding="utf-8")
    (folder / "cp1251.txt").write_bytes("Привет, мир! Как дела?\n".encode("cp1251"))
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (folder / "nul.txt").write_bytes(b"text with a NUL \x00 byte")
    return [str(folder), str(folder / "nowhere.txt")]


def _ours(stderr: str) -> list[str]:
    """The run command's own messages (Ray adds lines of its own on stderr)."""
    return [line for line in stderr.splitlines() if line.startswith("polyglot-pipe:")]


@pytest.mark.parametrize("fmt", ["jsonl", "md"])
def test_cli_writes_what_the_single_machine_run_writes(cluster, ru_packs_dir, tmp_path, capsys, fmt):
    inputs = _write_inputs(tmp_path / "in")
    common = ["run", *inputs, "--packs-dir", str(ru_packs_dir), "--format", fmt, "--no-memory"]

    single_status = main([*common, "-o", str(tmp_path / f"single.{fmt}")])
    single_err = capsys.readouterr().err
    ray_status = run_cli(build_parser().parse_args([*common, "-o", str(tmp_path / f"ray.{fmt}")]), None)
    ray_err = capsys.readouterr().err

    assert (tmp_path / f"ray.{fmt}").read_bytes() == (tmp_path / f"single.{fmt}").read_bytes()
    assert ray_status == single_status == 1  # the binary file and the missing path
    assert _ours(ray_err) == _ours(single_err)
    assert any("nowhere.txt: no such file" in line for line in _ours(ray_err))


def _files(folder: Path) -> dict[str, list[dict]]:
    """Each output file's records, "cached" left out: which worker met a text first decides it."""
    import json

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "cached"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return {
        str(f.relative_to(folder)): [strip(json.loads(line)) for line in f.read_text(encoding="utf-8").splitlines()]
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


def test_cli_output_folder_and_jsonl_records_as_on_one_machine(cluster, ru_packs_dir, tmp_path, capsys):
    """--output-dir DIR (one output per input) and --input-format jsonl, with a translation memory each."""
    import json

    inputs = tmp_path / "in"
    inputs.mkdir()
    lines = [json.dumps({"id": i, "text": page, "site": "example.org"}, ensure_ascii=False) for i, page in enumerate(PAGES)]
    (inputs / "a.jsonl").write_text("\n".join([*lines, '{"text": 5}', "not json", ""]), encoding="utf-8")
    (inputs / "b.jsonl").write_text(json.dumps({"text": RUSSIAN_LINE, "tags": ["x"]}, ensure_ascii=False) + "\n")

    def run(name: str, runner) -> tuple[int, list[str]]:
        out = tmp_path / name
        out.mkdir()
        args = ["run", str(inputs), "--output-dir", str(out), "--input-format", "jsonl", "--packs-dir", str(ru_packs_dir),
                "--memory-path", str(tmp_path / f"{name}.sqlite3")]
        status = runner(args)
        return status, _ours(capsys.readouterr().err)

    single = run("single", main)
    on_ray = run("ray", lambda args: run_cli(build_parser().parse_args(args), None))

    assert on_ray == single and single[0] == 1  # the two bad lines, each named
    assert _files(tmp_path / "ray") == _files(tmp_path / "single")
    # one output per input, beside the run's state journal (.polyglot-pipe-state.jsonl)
    assert sorted(n for n in _files(tmp_path / "ray") if not n.startswith(".")) == ["a.jsonl", "b.jsonl"]


def _fragment_worker_pids(busy: bool = False) -> list[int]:
    """Processes of the pool's actors, found by the title Ray gives them.

    Ray titles an actor's process "ray::MapWorker(MapBatches(FragmentWorker))",
    plus ".submit" while it works on a batch.  (ray.util.state.list_actors would
    need the dashboard, i.e. ray[default]; ray.kill needs a handle Ray Data
    keeps to itself.  SIGKILL is also what a crashed or OOM-killed worker gets.)
    """
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"FragmentWorker))" in title and (not busy or b"FragmentWorker))." in title):
                pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the actor's process in /proc")
def test_a_worker_killed_mid_job_loses_and_doubles_nothing(cluster, empty_packs_dir):
    """SIGKILL an actor while it works on a batch: Ray restarts it and retries the batch."""
    page = SEED.read_text(encoding="utf-8") * 2
    count = 200
    ds = ray.data.from_items([{"key": i, "text": f"Page {i}.\n{page}"} for i in range(count)])
    job = process_dataset(ds, packs_dir=empty_packs_dir, batch_size=4, workers=2)
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(rows=job.take_all()))
    runner.start()

    victim = first_busy = None
    deadline = time.monotonic() + 60
    while victim is None and runner.is_alive() and time.monotonic() < deadline:
        busy = _fragment_worker_pids(busy=True)
        if busy and first_busy is None:
            first_busy = time.monotonic()
        if busy and time.monotonic() - first_busy > 1.5:  # some batches done, others to come
            victim = busy[0]
            os.kill(victim, signal.SIGKILL)
        time.sleep(0.05)
    killed_mid_job = runner.is_alive()
    runner.join(120)

    assert victim is not None and killed_mid_job, "the job ended before an actor could be killed"
    assert victim not in _fragment_worker_pids()
    keys = [row["key"] for row in result["rows"]]
    assert sorted(keys) == list(range(count))
    assert all(row["fragments_error"] is None and row["fragments"][0]["original"].startswith("Page") for row in result["rows"])


def test_hostile_and_huge_records_do_not_stop_the_job(cluster, ru_packs_dir):
    huge = ("lorem ipsum dolor sit amet " * 40_000) + "\n" + RUSSIAN_LINE  # about 1 MB
    hostile = {
        "huge": huge,
        "one_word": "x" * 300_000,
        "nul_and_controls": "a\x00b\x01c\x1bd\x7f e\u200b\u202eevil\u202c\ufeff",
        "zalgo": "Z" + "\u0301\u0336\u0489" * 3000,
        "bidi_mix": "שלום " + RUSSIAN_LINE + " مرحبا 你好",
        "newlines_only": "\r\n" * 5000,
        "null": None,
    }
    rows = [{"name": name, "text": text} for name, text in hostile.items()] + [{"name": "plain", "text": RUSSIAN_LINE}]
    out = {r["name"]: r for r in process_dataset(ray.data.from_items(rows), packs_dir=ru_packs_dir, batch_size=2).take_all()}

    assert sorted(out) == sorted(row["name"] for row in rows)
    assert out["null"]["fragments"] == [] and "missing or null" in out["null"]["fragments_error"]
    labeller = Pipeline(packs_dir=ru_packs_dir, translate=False)
    for name, text in hostile.items():
        if text is None:
            continue
        fragments = out[name]["fragments"]
        assert out[name]["fragments_error"] is None, name
        rebuilt = (fragments[0]["space_before"] or "") + "".join(f["original"] + f["space_after"] for f in fragments)
        assert rebuilt == labeller.label(text).text, name  # nothing dropped
        assert all(f["status"] in ("ok", "empty", "no-pack") for f in fragments), name
    assert out["huge"]["fragments"][-1]["english"]  # the Russian line at the end of 1 MB still got translated
    assert out["plain"]["fragments"][0]["method"] == "argos:ru-en@1.0"


def test_ray_stays_out_of_the_command_lines_import():
    """`polyglot-pipe --help` must answer at once: importing the CLI never imports Ray."""
    import subprocess
    import sys

    code = "import sys, polyglot_pipe, polyglot_pipe.cli.main; print(sorted(m for m in ('ray', 'pyarrow') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
