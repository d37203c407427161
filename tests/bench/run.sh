#!/usr/bin/env bash
# Builds Release into build/ and runs the engine benchmarks, 5 repetitions each,
# printing the aggregates (read the median). Extra arguments go to the benchmark,
# e.g. tests/bench/run.sh --benchmark_filter=BM_Step
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
gen=()
[[ -f build/CMakeCache.txt ]] || gen=(-G Ninja)
echo "==> configure build (Release)"
cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DTRELLIS_BENCHMARKS=ON >/dev/null
echo "==> build engine_bench"
cmake --build build -j "${TRELLIS_JOBS:-2}" --target engine_bench
echo "==> run"
exec ./build/tests/bench/engine_bench --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true "$@"
