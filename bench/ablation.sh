#!/usr/bin/env bash
# What each server-side change is worth, measured in one sitting (BENCHMARKS.md
# "Ablation"): Liveboard embedded, 1,000 viewers, 3 runs per variant, no sweep.
#   bash bench/ablation.sh            # results in bench/results/ablation-*.json
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
COMMON=(--stacks lb-embedded --runs 3 --sweep "" --burst 300 --rate 10 --duration 10)
run() {
    local name=$1; shift
    echo "== $name"
    $PY bench/run.py "${COMMON[@]}" --out "bench/results/ablation-$name.json" "$@" | grep -A2 "== medians" | tail -1
}
run all-on
run no-direct-dispatch --server-env LIVEBOARD_DIRECT_DISPATCH=0
run no-write-batch --server-env LIVEBOARD_WRITE_BATCH=0
run no-daphne-speed --server-env LIVEBOARD_TWISTED_WRITE_THROUGH=0
run no-gc-tune --server-env LIVEBOARD_GC_GEN2_THRESHOLD=0
BENCH_UVICORN_ARGS="--loop uvloop" run uvicorn-uvloop --server uvicorn
