"""`polyglot-pipe run --install-missing`: packs come from the index when the run needs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_0e5ec4742fbe5a91.txt"
RU_PACK = ROOT / "language_packs" / "translate-ru_en-1_0.argosmodel"
RUSSIAN_LINE = "Заголовок открываемого материала"


def run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "polyglot_pipe", "run", *args],
        capture_output=True, cwd=ROOT, env={**os.environ, **env}, timeout=300,
    )


def russian_record(stdout: bytes) -> dict:
    return next(r for r in map(json.loads, stdout.decode().splitlines()) if r["original"] == RUSSIAN_LINE)


def test_install_missing_fetches_the_pack_and_translates(packs_env, pack_server):
    pack_server.add_pack(RU_PACK)
    result = run([str(SEED), "--install-missing"], {"ARGOS_PACKAGE_INDEX": pack_server.url})
    assert result.returncode == 0, result.stderr.decode()
    record = russian_record(result.stdout)
    assert record["status"] == "ok" and record["method"] == "argos:ru-en@1.0" and record["english"]
    assert f"installed ru->en 1.0 into {packs_env}" in result.stderr.decode()
    assert (packs_env / "translate-ru_en-1_0" / "metadata.json").is_file()


def test_install_missing_offline_says_so_in_one_line_and_carries_on(packs_env, offline_url):
    result = run([str(SEED), "--install-missing"], {"ARGOS_PACKAGE_INDEX": offline_url})
    assert result.returncode == 0
    stderr = result.stderr.decode().splitlines()
    assert sum("offline" in line for line in stderr) == 1
    assert "Traceback" not in result.stderr.decode()
    assert russian_record(result.stdout)["status"] == "no-pack"


def test_without_the_flag_nothing_is_fetched(packs_env, pack_server):
    pack_server.add_pack(RU_PACK)
    result = run([str(SEED)], {"ARGOS_PACKAGE_INDEX": pack_server.url})
    assert russian_record(result.stdout)["status"] == "no-pack"
    assert not packs_env.exists() or not any(packs_env.iterdir())
