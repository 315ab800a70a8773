"""Labelling speed, before and after a change of identify.py, interleaved in one process.

Usage: git show REV:polyglot_pipe/stages/identify.py > /tmp/identify_old.py
       PYTHONPATH=$PWD .venv/bin/python bench/langid/ab_label_speed.py [ROUNDS] [--old /tmp/identify_old.py]

Documents: the first 60 of bench/speed/data/en.jsonl.gz (non-repetitive man pages with
Russian lines) and the first 200 of the placement set, segmented once; each round labels
all of them with a fresh identifier of each version (the shared word store warm), the
order alternating; CPU time (time.process_time).  Prints MB/s per round and the medians.
"""
import gzip
import importlib.util
import json
import statistics
import sys
import time

args = [a for a in sys.argv[1:] if not a.startswith("--")]
ROUNDS = int(args[0]) if args else 6
OLD = sys.argv[sys.argv.index("--old") + 1] if "--old" in sys.argv else "/tmp/identify_old.py"
ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from polyglot_pipe.model import Document
from polyglot_pipe.stages.segment import segment_document
import polyglot_pipe.stages.identify as new
spec = importlib.util.spec_from_file_location("identify_old", OLD)
old = importlib.util.module_from_spec(spec); sys.modules["identify_old"] = old; spec.loader.exec_module(old)
texts = []
with gzip.open(str(ROOT / "bench") + "/speed/data/en.jsonl.gz", "rt") as fh:
    for i, line in enumerate(fh):
        if i >= 60: break
        texts.append(json.loads(line)["text"])
with gzip.open(str(ROOT / "bench") + "/langid/data/placement.jsonl.gz", "rt") as fh:
    texts += [json.loads(l)["text"] for l in fh][:200]
docs = [segment_document(Document(id="d", text=t)) for t in texts]
mb = sum(len(t.encode()) for t in texts) / 1e6
res = {"old": [], "new": []}
for name, mod in [("old", old), ("new", new)]:
    ident = mod.LanguageIdentifier()
    for d in docs: ident(d)
for r in range(ROUNDS):
    for name, mod in ([("old", old), ("new", new)] if r % 2 == 0 else [("new", new), ("old", old)]):
        ident = mod.LanguageIdentifier()
        t = time.process_time()
        for d in docs: ident(d)
        res[name].append(mb / (time.process_time() - t))
print(f"{mb:.2f} MB; label MB/s old", [round(x, 3) for x in res["old"]], "new", [round(x, 3) for x in res["new"]])
print("median old %.3f new %.3f ratio %.2f" % (statistics.median(res["old"]), statistics.median(res["new"]), statistics.median(res["new"]) / statistics.median(res["old"])))
