#!/usr/bin/env bash
# Rebuild the two committed language packs from the committed corpora.
#
#   language_packs/build.sh            # from the repository root (uses .venv if present)
#
# Both packs are trained at the same time, one CPU thread each (OMP_NUM_THREADS=1):
# a fixed thread count keeps the seeded training bit-for-bit reproducible on a
# given machine. Each takes about 15 minutes on a 2-core CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
[ -x .venv/bin/python ] && PY=${PYTHON:-.venv/bin/python}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0
STEPS=${STEPS:-1200}
COMMON=(--bucketing chunks --size tiny --steps "$STEPS" --seed 0 --device cpu --quantization int8 --vocab-size 3000 --package-version 1.0)

"$PY" -m polyglot_pipe.cli.build language_packs/corpus/ru-en.tsv --from ru --to en \
    -o language_packs/translate-ru_en-1_0.argosmodel "${COMMON[@]}" 2> "${LOGDIR:-/tmp}/packbuild-ru.log" &
ru=$!
"$PY" -m polyglot_pipe.cli.build language_packs/corpus/de-en.tsv --from de --to en \
    -o language_packs/translate-de_en-1_0.argosmodel "${COMMON[@]}" 2> "${LOGDIR:-/tmp}/packbuild-de.log" &
de=$!
wait "$ru"; wait "$de"
ls -l language_packs/*.argosmodel
