#!/usr/bin/env bash
# Server load benchmark: trellis serve (durable SQLite) against a minimal Beast
# WebSocket echo server (the ceiling), with the same generator, in one run.
#
#   tests/bench/server_bench.sh            build Release into build-release/ and run the matrix
#   DURATION=5 tests/bench/server_bench.sh shorter runs
#   SKIP_BUILD=1 ...                       use the binaries already in build-release/
#   ONLY=trellis|echo                      run one side only
#
# Layout: the server under test runs alone on core $SERVER_CORE (taskset), with
# one I/O thread (SQLite's writer thread shares that core); the generator runs on
# core $GEN_CORE. Server CPU time comes from /proc/PID/stat (utime+stime, all
# threads) over the measured window, divided by the turns measured in it.
# Memory per idle session is (VmRSS after all sessions connected and said hello
# - VmRSS before) / sessions. All traffic is on 127.0.0.1; every run is bounded.
# Takes about 6 minutes with the defaults. Prints a Markdown table at the end and
# leaves every JSON result in $OUT (default: a fresh temporary folder).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUILD="${BUILD:-build-release}"
DURATION="${DURATION:-10}"
SERVER_CORE="${SERVER_CORE:-0}"
GEN_CORE="${GEN_CORE:-1}"
IDLE_SESSIONS="${IDLE_SESSIONS:-10000}"
ONLY="${ONLY:-}"
# Fixed offered loads for 1000 sessions, in turns per second per session. 10 is
# the target's; 2 shows the latency below saturation.
FIXED_RATES="${FIXED_RATES:-10 2}"
TRELLIS_PORT="${TRELLIS_PORT:-18080}"
ECHO_PORT="${ECHO_PORT:-18090}"
OUT="${OUT:-$(mktemp -d /tmp/trellis-server-bench.XXXXXX)}"
mkdir -p "$OUT"

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "==> build $BUILD (Release)" >&2
  gen=()
  [[ -f "$BUILD/CMakeCache.txt" ]] || gen=(-G Ninja)
  cmake -S . -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j "${TRELLIS_JOBS:-2}" --target trellis trellis_loadgen trellis_echo_server >&2
fi
TRELLIS="$ROOT/$BUILD/trellis"
LOADGEN="$ROOT/$BUILD/trellis_loadgen"
ECHO="$ROOT/$BUILD/trellis_echo_server"

# 10,000 sessions need 10,000 sockets in each process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (( $(ulimit -n) < IDLE_SESSIONS + 100 )); then
  echo "ulimit -n is $(ulimit -n): too low for $IDLE_SESSIONS idle sessions" >&2
  exit 1
fi

# The benchmark's server settings: the per-connection rate limit (5 turns/s by
# default) and the per-address connection cap (200) are lifted, since every
# session comes from 127.0.0.1 and sends as fast as it can. Everything else is
# the default, including synchronous=FULL and no group-commit window.
cat >"$OUT/bench.json" <<'JSON'
{"inputs_per_second": 100000, "input_burst": 10000, "max_connections": 100000,
 "max_connections_per_ip": 100000, "idle_timeout_seconds": 600}
JSON

SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT

wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

# start_trellis LOGFILE: a fresh database every time.
start_trellis() {
  local log="$1"
  rm -rf "$OUT/db" && mkdir -p "$OUT/db"
  taskset -c "$SERVER_CORE" "$TRELLIS" serve --config "$OUT/bench.json" --port "$TRELLIS_PORT" \
    --dialogs "$ROOT/dialogs" --web-root "$ROOT/clients/web" --database "$OUT/db/trellis.db" \
    --threads 1 >/dev/null 2>"$log" &
  SERVER_PID=$!
  wait_port "$TRELLIS_PORT"
}

start_echo() {
  taskset -c "$SERVER_CORE" "$ECHO" --port "$ECHO_PORT" --threads 1 --frames "$1" --bytes "$2" >/dev/null &
  SERVER_PID=$!
  wait_port "$ECHO_PORT"
}

# load NAME PORT [loadgen options...]: one run against the running server.
load() {
  local name="$1" port="$2"
  shift 2
  echo "==> $name" >&2
  taskset -c "$GEN_CORE" "$LOADGEN" --port "$port" --server-pid "$SERVER_PID" --label "$name" "$@" \
    >"$OUT/$name.json" 2>"$OUT/$name.err" || true
  tail -n 1 "$OUT/$name.err" >&2
}

# idle NAME PORT [loadgen options...]: connect, hold, read the memory.
idle() {
  local name="$1" port="$2"
  shift 2
  echo "==> $name" >&2
  taskset -c "$GEN_CORE" "$LOADGEN" --port "$port" --server-pid "$SERVER_PID" --label "$name" --idle \
    --duration 2 --connect-parallel 500 "$@" >"$OUT/$name.json" 2>"$OUT/$name.err" || true
  grep -v '^all ' "$OUT/$name.json" | tail -n 1 >"$OUT/$name.json.tmp" && mv "$OUT/$name.json.tmp" "$OUT/$name.json"
  tail -n 2 "$OUT/$name.err" >&2
}

# commits NAME: the server's commit-time histogram after a run, to tell a slow disk
# from a slow server when a fixed-load run's p99 is out of line.
commits() {
  curl -s --max-time 5 "http://127.0.0.1:$TRELLIS_PORT/metrics" | grep '^trellis_commit_duration_seconds' \
    >"$OUT/$1.commits" || true
}

field() {  # field FILE KEY: one number from a result line
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

if [[ "$ONLY" != echo ]]; then
  # Each configuration on a fresh server and a fresh database.
  for n in 1 100 1000; do
    start_trellis "$OUT/server-trellis-$n.log"
    load "trellis-$n" "$TRELLIS_PORT" --sessions "$n" --duration "$DURATION"
    stop_server
  done
  for r in $FIXED_RATES; do
    start_trellis "$OUT/server-trellis-rate-$r.log"
    load "trellis-1000-at-$r" "$TRELLIS_PORT" --sessions 1000 --rate "$r" --duration "$DURATION"
    commits "trellis-1000-at-$r"
    stop_server
  done
  start_trellis "$OUT/server-trellis-idle.log"
  idle "trellis-idle" "$TRELLIS_PORT" --sessions "$IDLE_SESSIONS"
  stop_server
fi

# The echo server answers each turn with as many frames, of the same average
# size, as trellis serve sent in the 100-session run (sets $frames and $bytes).
echo_shape() {
  frames=4 bytes=168
  if [[ -f "$OUT/trellis-100.json" ]]; then
    f=$(field "$OUT/trellis-100.json" frames_per_turn)
    b=$(field "$OUT/trellis-100.json" bytes_per_frame)
    [[ -n "$f" && "$f" != 0 ]] && frames=$(python3 -c "print(max(1, round($f)))")
    [[ -n "$b" && "$b" != 0 ]] && bytes=$(python3 -c "print(max(16, round($b)))")
  fi
}

# The 100-session comparison is the headline ratio, and two 10-second runs of the
# same server on this kind of VM differ by up to ~15%: run both servers REPEATS more
# times, alternating, and report the medians. The p99 at the fixed load moves with
# the VM's disk (a slow fsync holds up a whole batch), so that run is repeated too.
REPEATS="${REPEATS:-2}"
if [[ -z "$ONLY" ]]; then
  echo_shape
  for i in $(seq 1 "$REPEATS"); do
    start_echo "$frames" "$bytes"
    load "echo-100-r$i" "$ECHO_PORT" --frames-per-turn "$frames" --sessions 100 --duration "$DURATION"
    stop_server
    start_trellis "$OUT/server-trellis-100-r$i.log"
    load "trellis-100-r$i" "$TRELLIS_PORT" --sessions 100 --duration "$DURATION"
    stop_server
    start_trellis "$OUT/server-trellis-rate-10-r$i.log"
    load "trellis-1000-at-10-r$i" "$TRELLIS_PORT" --sessions 1000 --rate 10 --duration "$DURATION"
    commits "trellis-1000-at-10-r$i"
    stop_server
  done
fi

if [[ "$ONLY" != trellis ]]; then
  echo_shape
  echo "echo server: $frames frames of $bytes bytes per turn" >&2
  for n in 1 100 1000; do
    start_echo "$frames" "$bytes"
    load "echo-$n" "$ECHO_PORT" --frames-per-turn "$frames" --sessions "$n" --duration "$DURATION"
    stop_server
  done
  for r in $FIXED_RATES; do
    start_echo "$frames" "$bytes"
    load "echo-1000-at-$r" "$ECHO_PORT" --frames-per-turn "$frames" --sessions 1000 --rate "$r" --duration "$DURATION"
    stop_server
  done
  start_echo "$frames" "$bytes"
  idle "echo-idle" "$ECHO_PORT" --frames-per-turn "$frames" --sessions "$IDLE_SESSIONS"
  stop_server
fi

python3 - "$OUT" "$FIXED_RATES" <<'PY'
import json, os, sys
out = sys.argv[1]
rates = sys.argv[2].split()
def get(name):
    p = os.path.join(out, name + ".json")
    try:
        return json.load(open(p))
    except Exception:
        return None
print()
print("| run | sessions | offered | turns/s | p50 ms | p99 ms | p99.9 ms | server CPU µs/turn | server CPU % | generator CPU µs/turn | frames/turn | errors |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
repeats = sorted(f[:-5] for f in os.listdir(out) if f.endswith(".json") and ("-100-r" in f or "-1000-at-10-r" in f))
rows = (["trellis-1", "trellis-100", "trellis-1000"] + [f"trellis-1000-at-{r}" for r in rates] + repeats +
        ["echo-1", "echo-100", "echo-1000"] + [f"echo-1000-at-{r}" for r in rates])
for name in rows:
    d = get(name)
    if not d:
        continue
    offered = "max" if not d["rate_per_session"] else f'{d["rate_per_session"]:g}/s each'
    print(f'| {name} | {d["sessions"]} | {offered} | {d["turns_per_s"]:.0f} | {d["p50_ms"]:.2f} | {d["p99_ms"]:.2f} | '
          f'{d["p999_ms"]:.2f} | {d.get("server_cpu_us_per_turn", 0):.0f} | {d.get("server_cpu_percent", 0):.0f} | '
          f'{d.get("loadgen_cpu_us_per_turn", 0):.0f} | '
          f'{d["frames_per_turn"]:.2f} | {d["errors"]} |')
def median_turns(prefix):
    runs = [d["turns_per_s"] for d in (get(n) for n in [prefix] + [r for r in repeats if r.startswith(prefix + "-r")]) if d]
    runs.sort()
    return runs[len(runs) // 2] if runs else 0, len(runs)
(t, tn), (e, en) = median_turns("trellis-100"), median_turns("echo-100")
if t and e:
    print()
    print(f'trellis / echo turns/s at 100 sessions, medians of {tn} and {en} runs: {t:.0f} / {e:.0f} = '
          f'{100 * t / e:.0f}% (target: at least 60%)')
fixed = [d for d in (get(n) for n in ["trellis-1000-at-10"] + sorted(
    f[:-5] for f in os.listdir(out) if f.endswith(".json") and "-1000-at-10-r" in f)) if d]
if fixed:
    p99s = sorted(d["p99_ms"] for d in fixed)
    print(f'p99 at 1000 sessions x 10 turns/s, median of {len(p99s)} runs: {p99s[len(p99s) // 2]:.2f} ms '
          f'(runs: {", ".join(f"{p:.2f}" for p in p99s)}; target: under 10 ms)')
    # A turn's commit time (handed to the writer -> its batch durable), from the
    # server's histogram: how many turns waited long for the disk in each run.
    def commit_counts(name):
        buckets = {}
        try:
            for line in open(os.path.join(out, name + ".commits")):
                if line.startswith("trellis_commit_duration_seconds_bucket{le=\""):
                    le = line.split('"')[1]
                    buckets[le] = float(line.split()[-1])
        except OSError:
            return None
        total = buckets.get("+Inf", 0)
        if not total:
            return None
        return total, [total - buckets.get(le, total) for le in ("0.005", "0.01", "0.025")]
    names = ["trellis-1000-at-10"] + sorted(f[:-5] for f in os.listdir(out) if f.endswith(".json") and "-1000-at-10-r" in f)
    rows = [(n, get(n), commit_counts(n)) for n in names]
    if any(c for _, _, c in rows):
        print()
        print("| fixed-load run | p99 ms | p99.9 ms | turns committed | commit over 5 ms | over 10 ms | over 25 ms |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for n, d, c in rows:
            if d and c:
                total, (over5, over10, over25) = c
                print(f'| {n} | {d["p99_ms"]:.2f} | {d["p999_ms"]:.2f} | {total:.0f} | {over5:.0f} ({100 * over5 / total:.2f}%) | '
                      f'{over10:.0f} | {over25:.0f} |')
print()
print("| idle sessions | server | connected | RSS before MiB | RSS after MiB | KiB per session |")
print("|---:|---|---:|---:|---:|---:|")
for name in ["trellis-idle", "echo-idle"]:
    d = get(name)
    if not d:
        continue
    print(f'| {d["sessions"]} | {name.split("-")[0]} | {d["connected"]} | {d.get("server_rss_before_kib", 0) / 1024:.1f} | '
          f'{d.get("server_rss_kib", 0) / 1024:.1f} | {d.get("server_rss_per_session_kib", 0):.1f} |')
print()
print(f"results: {out}")
PY
