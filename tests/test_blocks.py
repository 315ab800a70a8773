"""Long documents in blocks (polyglot_pipe.io.blocks): the records of one piece, bounded memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polyglot_pipe.io.blocks import CUT_ISSUE, BlockCursor, iter_blocks, plan_blocks
from polyglot_pipe.pipeline import Pipeline, label_documents

ROOT = Path(__file__).resolve().parent.parent

LINES = [
    "The kernel loads the initial RAM disk before mounting the root file system.",
    "       --force    overwrite existing files without asking. See also mount(8).",
    "Заголовок открываемого материала",
    "Если указан один или более ключей, то каждый числовой ключ передаётся в функцию.",
    "Çàãîëîâîê îòêðûâàåìîãî ìàòåðèàëà",
    "Subscribe",
    "",
    "   ",
    "Der Dienst wurde beendet. Bitte melden Sie sich erneut an.",
    "<script>document.documentElement.setAttribute('lang', 'en');</script>",
    "See https://example.org/docs for more. The option -v prints each file. It is safe.",
]

PIPELINE = Pipeline(translate=False)


def blockwise(path: Path, size: int) -> list[dict] | None:
    plan = plan_blocks(path, PIPELINE.identifier, size)
    if plan is None:
        return None
    cursor = BlockCursor()
    records: list[dict] = []
    for block in iter_blocks(path, plan, size):
        [(_, doc)] = label_documents(PIPELINE.identifier, [("d", block)])
        records.extend(cursor.records(PIPELINE._translate([doc])[0]))
    return records


def rebuilt(records: list[dict]) -> str:
    return records[0].get("space_before", "") + "".join(r["original"] + r["space_after"] for r in records)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.sampled_from(LINES), min_size=20, max_size=80),
    joiner=st.sampled_from(["\n", "\n\n", "\r\n", " "]),
    size=st.integers(min_value=300, max_value=1500),
)
def test_blocks_give_the_records_of_one_piece(tmp_path_factory, lines, joiner, size):
    text = joiner.join(lines) + "\n"
    path = tmp_path_factory.mktemp("blocks") / "doc.txt"
    path.write_text(text, encoding="utf-8", newline="")
    whole_doc = PIPELINE.process(text.encode("utf-8"), "d")
    whole = whole_doc.to_records()
    parts = blockwise(path, size)
    if parts is None:  # it fits in one block
        assert len(text) <= size
        return
    assert rebuilt(parts) == whole_doc.text  # every (repaired) character accounted for, in order
    if any(CUT_ISSUE in r.get("doc_issues", ()) for r in parts):
        return  # a cut with no safe place (it says so): fragments next to it may differ
    assert parts == whole


def test_a_line_with_no_safe_cut_is_cut_at_a_space_and_says_so(tmp_path):
    text = " ".join(["Если указан один или более ключей, то каждый числовой ключ передаётся."] * 40)
    path = tmp_path / "line.txt"
    path.write_text(text, encoding="utf-8")
    parts = blockwise(path, 700)
    assert rebuilt(parts) == text
    marked = [r for r in parts if CUT_ISSUE in r.get("doc_issues", ())]
    assert marked and all(r["index"] > 0 for r in marked)
    assert [r["index"] for r in parts] == list(range(len(parts)))


def test_cli_writes_a_long_file_block_by_block_as_one_piece(tmp_path):
    english = [line for line in LINES if line.strip()]
    # text that does not repeat: each line numbered differently
    text = "\n".join(f"{english[i % len(english)]} Item {i * 7919 % 100003}." for i in range(9000)) + "\n"
    assert len(text) > 2 * (1 << 18)  # several blocks
    source = tmp_path / "long.txt"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = subprocess.run(
        [sys.executable, "-m", "polyglot_pipe", "run", str(source), "--no-translate", "--no-memory", "-o", str(out), "-q"],
        cwd=ROOT, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    records[0].pop("run")
    assert records == PIPELINE.process(text.encode("utf-8"), str(source)).to_records()
