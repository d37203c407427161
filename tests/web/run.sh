#!/usr/bin/env bash
# Browser tests for the web widget: bash tests/web/run.sh PATH/TO/trellis
#
# Installs Debian's chromium if it is missing (needs root or sudo), installs the test
# dependencies with `npm ci`, then runs the tests with node's built-in runner. Each test
# file starts its own real `trellis serve` on a free port with a temporary database and
# --web-root clients/web (tests/web/server.mjs), so that a test can kill and restart it.
set -euo pipefail

TRELLIS_BIN="${1:?usage: bash tests/web/run.sh PATH/TO/trellis}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TRELLIS_BIN="$(cd "$(dirname "$TRELLIS_BIN")" && pwd)/$(basename "$TRELLIS_BIN")"
[[ -x "$TRELLIS_BIN" ]] || { echo "run.sh: $TRELLIS_BIN is not an executable" >&2; exit 2; }

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  echo "==> installing Debian's chromium (for the browser tests)"
  sudo=()
  if ((EUID != 0)); then sudo=(sudo -n); fi
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
fi
command -v node >/dev/null || { echo "run.sh: node is missing (Debian packages nodejs npm)" >&2; exit 2; }

cd "$HERE"
echo "==> npm ci (tests/web)"
npm ci --no-audit --no-fund --loglevel=error

mkdir -p artifacts
echo "==> browser tests ($(node --version), $("$CHROMIUM" --version 2>/dev/null || echo chromium))"
export TRELLIS_BIN TRELLIS_ROOT="$ROOT" CHROMIUM
exec node --test --test-reporter=spec --test-timeout=120000 ./*.test.mjs
