"""Soak test of ``run IN/ --output-dir OUT/``: kill it at random points, resume, compare.

Issue 15's acceptance: 2,000 mixed files (text, binary, empty, huge, hostile names), the run
killed at random points five times and resumed; at the end every good input has exactly one
complete output identical to a clean run's, every bad input is reported once by the run that
finishes, and no process or temporary file is left.

The inputs are real sentences (bench/langid's evaluation set: Debian man pages and GNU
catalogs, 30 languages), combined by a seeded random generator so that no two files are
alike.  The clean reference run and the killed runs use the same committed ru->en pack,
installed into a private packages folder, and private translation memories.

    python bench/faults/soak.py            # 2,000 files, 5 kills (a few minutes on 2 cores)
    python bench/faults/soak.py --files 300 --kills 3 --keep /tmp/soak

This is a bench, not a test: it takes minutes and its kill points are timing-dependent;
tests/test_faults.py holds the deterministic checks of each fault class.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = ROOT / "bench" / "langid" / "data" / "eval.jsonl.gz"
RU_PACK = ROOT / "language_packs" / "translate-ru_en-1_0.argosmodel"
STATE_FILE = ".polyglot-pipe-state.jsonl"


def _sentences() -> tuple[list[str], list[str]]:
    english, foreign = [], []
    with gzip.open(SENTENCES, "rt", encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            (english if item["lang"] == "en" else foreign).append(item["text"])
    return english, foreign


def build_inputs(folder: Path, n_files: int, seed: int) -> tuple[set[str], set[str]]:
    """Write the mixed inputs; return (good, bad) relative paths as the CLI names them."""
    rng = random.Random(seed)
    english, foreign = _sentences()
    good: set[str] = set()
    bad: set[str] = set()
    for i in range(n_files):
        sub = folder / f"d{i % 17:02d}" / (f"e{i % 5}" if i % 3 else "")
        sub.mkdir(parents=True, exist_ok=True)
        kind = rng.random()
        if kind < 0.06:  # binary: NUL bytes and noise
            name = f"blob{i}.bin"
            (sub / name).write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(64, 4096))) + b"\0\0")
            bad.add(str((sub / name).relative_to(folder)))
            continue
        if kind < 0.10:  # empty
            name = f"empty{i}.txt"
            (sub / name).write_bytes(b"")
        elif kind < 0.11:  # big: ~1-2 MB of lines
            name = f"big{i}.txt"
            lines = [rng.choice(english) if rng.random() > 0.1 else rng.choice(foreign) for _ in range(rng.randrange(20_000, 40_000))]
            (sub / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            if kind < 0.20:  # hostile names: long, spaces, a leading dash, non-UTF-8 bytes
                stem = rng.choice(
                    [
                        "x" * 200 + str(i),
                        f"-{i} leading dash",
                        f"with  spaces and 'quotes' {i}",
                        f"new\nline{i}",
                    ]
                )
                name = stem + ".txt"
            else:
                name = f"doc{i}.txt"
            lines = [rng.choice(english) if rng.random() > 0.15 else rng.choice(foreign) for _ in range(rng.randrange(1, 30))]
            text = "\n".join(lines) + "\n"
            if rng.random() < 0.05:  # legacy encodings
                data = text.encode("cp1251", errors="replace")
            else:
                data = text.encode("utf-8")
            if rng.random() < 0.03:  # a non-UTF-8 file name
                raw = os.fsencode(sub / f"bad-name-{i}-") + b"\xff\xfe.txt"
                with open(raw, "wb") as out:
                    out.write(data)
                good.add(os.fsdecode(raw)[len(str(folder)) + 1 :])
                continue
            (sub / name).write_bytes(data)
        good.add(str((sub / name).relative_to(folder)))
    return good, bad


def _command(inputs: Path, out: Path, packs: Path, memory: Path) -> list[str]:
    return [
        sys.executable, "-m", "polyglot_pipe", "run", str(inputs), "--output-dir", str(out),
        "--packs-dir", str(packs), "--memory-path", str(memory), "-q",
    ]  # fmt: skip


def _session_alive(sid: int) -> list[str]:
    """Processes still in the killed run's session (its workers, if any outlived it)."""
    found = subprocess.run(["ps", "-eo", "pid,sid,args"], capture_output=True, text=True).stdout
    return [line for line in found.splitlines()[1:] if line.split(None, 2)[1] == str(sid)]


def _leftovers_name(name: str) -> bool:
    return name.endswith(".part") or (name.startswith(".") and ".pp" in name)


def _leftovers(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if _leftovers_name(p.name)]


def _count(folder: Path) -> int:
    """Finished outputs so far (cheap: names only)."""
    return sum(
        1
        for _, _, names in os.walk(folder)
        for name in names
        if name != STATE_FILE and not _leftovers_name(name)
    )


def _outputs(folder: Path) -> dict[str, list]:
    """Each output's records, less ``cached`` (a resumed run finds in the memory what a killed
    one translated: the rendering is the same, only where it came from differs)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != STATE_FILE and not _leftovers_name(path.name):
            records = [json.loads(line) for line in path.read_bytes().splitlines()]
            for record in records:
                record.pop("cached", None)
            found[os.fsdecode(path.relative_to(folder))] = records
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="polyglot-soak-"))
    shutil.rmtree(work, ignore_errors=True)
    inputs, clean, out, packs = work / "in", work / "clean", work / "out", work / "packs"
    inputs.mkdir(parents=True)
    sys.path.insert(0, str(ROOT))
    from polyglot_pipe.packs.store import install_pack_file

    packs.mkdir()
    install_pack_file(RU_PACK, packs)
    good, bad = build_inputs(inputs, args.files, args.seed)
    print(f"soak: {len(good)} good inputs, {len(bad)} bad, in {inputs}")

    started = time.perf_counter()
    ref = subprocess.run(_command(inputs, clean, packs, work / "clean-memory.sqlite3"), capture_output=True)
    clean_s = time.perf_counter() - started
    print(f"clean run: exit {ref.returncode}, {clean_s:.1f} s")
    reference = _outputs(clean)

    rng = random.Random(args.seed)
    problems: list[str] = []
    for k in range(args.kills):
        proc = subprocess.Popen(
            _command(inputs, out, packs, work / "memory.sqlite3"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        # A random point in the work that is left (a count of finished outputs to wait for),
        # so that every kill lands inside a run, never after it; every other one lands early
        # (while the models load and the first outputs are written).
        before = _count(out)
        left = len(good) - before
        target = before + (rng.randint(0, max(0, left // 20)) if k % 2 else rng.randint(1, max(1, left * 2 // 3)))
        started = time.monotonic()
        while proc.poll() is None and _count(out) < target:
            time.sleep(0.05)
        delay = time.monotonic() - started
        how = signal.SIGKILL if k % 2 == 0 else signal.SIGTERM
        if proc.poll() is None:
            proc.send_signal(how)  # the parent only: its workers must notice and exit
        else:
            problems.append(f"kill {k + 1}: the run ended before its kill point ({target} outputs)")
        proc.wait()
        deadline = time.monotonic() + 10
        while _session_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        alive = _session_alive(proc.pid)
        done = _count(out)
        print(f"kill {k + 1}: {how.name} after {delay:.1f} s, {done} outputs so far, {len(alive)} processes left")
        if alive:
            problems.append(f"kill {k + 1}: processes outlived the run: {alive}")
            for line in alive:
                os.kill(int(line.split()[0]), signal.SIGKILL)

    final = subprocess.run(_command(inputs, out, packs, work / "memory.sqlite3"), capture_output=True)
    stderr = os.fsdecode(final.stderr)
    print(f"final run: exit {final.returncode}")
    result = _outputs(out)

    if set(result) != set(reference):
        problems.append(f"outputs differ in names: {sorted(set(result) ^ set(reference))[:5]}")
    differing = [name for name in reference if name in result and result[name] != reference[name]]
    if differing:
        problems.append(f"{len(differing)} outputs differ from the clean run's, e.g. {differing[:3]}")
    for name in bad:
        mentions = stderr.count(str(inputs / name))
        if mentions != 1:
            problems.append(f"bad input {name} reported {mentions} times by the final run")
    leftovers = _leftovers(out) + _leftovers(clean)
    if leftovers:
        problems.append(f"temporary files left: {leftovers[:5]}")
    strays = subprocess.run(["pgrep", "-f", f"--output-dir {out}"], capture_output=True, text=True).stdout.split()
    if strays:
        problems.append(f"processes left: {strays}")

    if len(result) != len(good):
        problems.append(f"{len(result)} outputs for {len(good)} good inputs")
    print(f"outputs: {len(result)} (clean run: {len(reference)}, good inputs: {len(good)}), bad inputs: {len(bad)}")
    for problem in problems:
        print("PROBLEM:", problem)
    print("soak: ok" if not problems else f"soak: {len(problems)} problems")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
