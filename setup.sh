#!/usr/bin/env bash
# Sets up a Debian 12 machine for Trellis and then runs it or tests it.
#
#   sudo ./setup.sh          install, build Release into build/, start `trellis serve` on http://127.0.0.1:8080/
#   sudo ./setup.sh test     install, build with -Werror into build-test/, run ctest, run the browser
#                            tests of the web widget (tests/web/run.sh: headless Debian chromium),
#                            then build and briefly run the libFuzzer targets in build-fuzz/
#
# Safe to run again: packages already present are not touched, and builds are incremental.
set -euo pipefail

MODE="${1:-run}"
case "$MODE" in
  run | test) ;;
  -h | --help | help)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "setup.sh: unknown mode '$MODE' (use: run, test)" >&2
    exit 2
    ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

JOBS="${TRELLIS_JOBS:-2}"
FUZZ_SECONDS="${TRELLIS_FUZZ_SECONDS:-20}"
export DEBIAN_FRONTEND=noninteractive
export CTEST_OUTPUT_ON_FAILURE=1

say() { printf '==> %s\n' "$*"; }
die() { printf 'setup.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------
PACKAGES=(
  g++ cmake ninja-build ccache pkg-config
  nlohmann-json3-dev libre2-dev libexpected-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev liblinear-dev
  clang libclang-rt-14-dev
  libsqlite3-dev libssl-dev libboost1.74-dev libboost-system1.74-dev
)
# The browser tests (tests/web/) need Node.js 20+ and npm; use the machine's own when it has one.
command -v node >/dev/null || PACKAGES+=(nodejs npm)

is_installed() {
  # "ii " = wanted and fully installed; anything else (absent, config-files only,
  # half-installed) counts as missing.
  [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null || true)" == "ii "* ]]
}

install_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    say "packages: all ${#PACKAGES[@]} present"
    return
  fi
  say "packages: installing ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "not root and no sudo: run as root, or install: ${missing[*]}"
    sudo=(sudo -n)  # never prompt (CI has no stdin)
  fi
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------
# 2. Builds
# ---------------------------------------------------------------------------
# configure DIR [cmake args...]: the generator is chosen only for a fresh build
# folder, so an existing one (made by hand or by a preset) is reused as it is.
configure() {
  local dir="$1"
  shift
  local gen=()
  [[ -f "$dir/CMakeCache.txt" ]] || gen=(-G Ninja)
  say "configure $dir"
  cmake -S "$ROOT" -B "$dir" "${gen[@]}" "$@"
}

build() {
  local dir="$1"
  shift
  say "build $dir${*:+ ($*)}"
  cmake --build "$dir" -j "$JOBS" "$@"
}

run_main() {
  configure build -DCMAKE_BUILD_TYPE=Release
  build build
  say "starting: trellis serve (SQLite in data/trellis.db; Ctrl-C stops it)"
  say "in another terminal, talk to it: ./build/trellis connect ws://127.0.0.1:8080/ws --flow braving"
  exec "$ROOT/build/trellis" serve
}

run_fuzzers() {
  local dir=build-fuzz
  if ! command -v clang++ >/dev/null; then
    die "clang++ not found (package clang)"
  fi
  CXX=clang++ configure "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DTRELLIS_FUZZ=ON -DTRELLIS_SANITIZE=ON -DTRELLIS_TESTS=OFF -DTRELLIS_BENCHMARKS=OFF
  build "$dir" --target flow_loader_fuzz expression_fuzz

  # Scratch corpora: the committed seeds plus what dialogs/ holds today. libFuzzer
  # adds what it finds here, so they are rebuilt from scratch on every run.
  local corpus="$dir/corpus" artifacts="$dir/fuzz-artifacts"
  rm -rf "$corpus"
  mkdir -p "$corpus/flow" "$corpus/expression" "$artifacts"
  cp tests/fuzz/seeds/flow/* "$corpus/flow/" 2>/dev/null || true
  cp tests/fuzz/seeds/expression/* "$corpus/expression/" 2>/dev/null || true
  if [[ -d dialogs ]]; then
    local n=0 f
    while IFS= read -r -d '' f; do
      n=$((n + 1))
      cp "$f" "$corpus/flow/dialog-$n.json"
    done < <(find dialogs -name '*.json' -size -1000k -print0 | sort -z)
    # Expressions and templates as authors write them: `if`/`when` values and {{ }} holes.
    n=0
    while IFS= read -r line; do
      n=$((n + 1))
      printf '%s' "$line" >"$corpus/expression/dialog-$n.txt"
    done < <(find dialogs -name '*.json' -print0 | xargs -0 -r cat \
      | grep -oE '"(if|when)"[[:space:]]*:[[:space:]]*"[^"]*"|\{\{[^}]*\}\}' \
      | sed -E 's/^"(if|when)"[[:space:]]*:[[:space:]]*"(.*)"$/\2/' | sort -u | head -n 500)
  fi

  local failed=() name
  for name in flow_loader expression; do
    local bin="$dir/tests/fuzz/${name}_fuzz"
    local args=(-max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=4096
      -print_final_stats=1 -artifact_prefix="$artifacts/${name}-")
    local dict="tests/fuzz/${name}.dict"
    [[ -f "$dict" ]] && args+=(-dict="$dict")
    say "fuzz ${name} for ${FUZZ_SECONDS}s"
    if "$bin" "${args[@]}" "$corpus/${name%_loader}" >"$dir/${name}-fuzz.log" 2>&1; then
      grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)' "$dir/${name}-fuzz.log" | tail -n 1 || true
    else
      echo "--- ${name} fuzzer failed; last lines of $dir/${name}-fuzz.log:"
      tail -n 60 "$dir/${name}-fuzz.log"
      failed+=("$name")
    fi
  done
  if ((${#failed[@]})); then
    echo "fuzzers that found a problem: ${failed[*]} (inputs saved in $artifacts/;"
    echo "reproduce with: $dir/tests/fuzz/<name>_fuzz $artifacts/<file>)"
    return 1
  fi
  say "fuzzers: no crashes"
}

run_tests() {
  configure build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRELLIS_WERROR=ON
  build build-test
  say "ctest"
  ctest --test-dir build-test --output-on-failure --no-tests=error -j "$JOBS"
  say "browser tests (tests/web)"
  bash "$ROOT/tests/web/run.sh" "$ROOT/build-test/trellis"
  run_fuzzers
}

install_packages
case "$MODE" in
  run) run_main ;;
  test) run_tests ;;
esac
