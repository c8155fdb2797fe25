# Helpers shared by benches/load.sh and benches/measure.sh; sourced, not run.
#
# Every process started with `start` is killed on exit (trap), every wait is bounded, and
# everything listens on 127.0.0.1 only.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/genflow-bench.XXXXXX")"
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "error: $*" >&2
  exit 1
}

# The CPU list a role is pinned to: the service under test gets core $SERVER_CPU, the load
# generator and the fake model server share $CLIENT_CPU. No pinning on a single-core machine
# or with PIN=0.
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PINNED=1
else
  PINNED=0
fi

# Command prefixes that pin a process to its role's core (empty without pinning). They exec,
# so a started process's pid is the program's own.
SERVER_PIN=()
CLIENT_PIN=()
if [ "$PINNED" = 1 ]; then
  SERVER_PIN=(taskset -c "$SERVER_CPU")
  CLIENT_PIN=(taskset -c "$CLIENT_CPU")
fi

# The release binaries. BIN_DIR overrides where they are taken from (such as the static
# build's target/x86_64-unknown-linux-gnu/release); BUILD=0 skips building.
BIN_DIR="${BIN_DIR:-$ROOT/target/release}"
QUICKSTART="$BIN_DIR/quickstart"
# The quickstart built with its `jemalloc` feature (benches/soak.sh builds it).
QUICKSTART_JEMALLOC="$BIN_DIR/quickstart-jemalloc"
BASELINE="$BIN_DIR/baseline-rag"
FAKE="$BIN_DIR/fake-openai"

build() {
  if [ "${BUILD:-1}" = 1 ] && [ "$BIN_DIR" = "$ROOT/target/release" ]; then
    echo "building release binaries (quickstart, then genflow-bench) ..." >&2
    # Two invocations, so the quickstart is built with exactly its own features.
    (cd "$ROOT" && cargo build --release --locked -q -p quickstart)
    (cd "$ROOT" && cargo build --release --locked -q -p genflow-bench --bins)
  fi
  local bin
  for bin in "$QUICKSTART" "$BASELINE" "$FAKE"; do
    [ -x "$bin" ] || die "$bin is missing (build it, or set BIN_DIR)"
  done
}

# free_port: sets FREE_PORT to a port nothing listens on (from 20000 up, skipping used ones;
# not run in a subshell, so that the next call moves on).
NEXT_PORT="${BENCH_PORT_BASE:-20000}"
free_port() {
  local tries=0
  while (echo >"/dev/tcp/127.0.0.1/$NEXT_PORT") 2>/dev/null; do
    NEXT_PORT=$((NEXT_PORT + 1))
    tries=$((tries + 1))
    [ "$tries" -lt 1000 ] || die "no free port found"
  done
  FREE_PORT="$NEXT_PORT"
  NEXT_PORT=$((NEXT_PORT + 1))
}

# start LOG CMD...: starts CMD in the background (output to LOG), records its pid in
# STARTED_PID and in the cleanup list.
start() {
  local log="$1"
  shift
  "$@" >"$log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

# stop PID: SIGTERM, then wait (bounded) for it to exit; SIGKILL after 15 s.
stop() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# wait_http URL PID: polls URL until it answers 200 (WAIT_SECONDS, 10 s, at most); fails if
# the process PID died.
wait_http() {
  local url="$1" pid="$2" i code
  for i in $(seq 1 $((${WAIT_SECONDS:-10} * 100))); do
    kill -0 "$pid" 2>/dev/null || die "process $pid exited before $url answered"
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)"
    [ "$code" = 200 ] && return 0
    sleep 0.01
  done
  die "$url did not answer 200 within ${WAIT_SECONDS:-10} s"
}

# The request every service answers; `use_shape` switches it.
REQUEST='{"data": {"question": "How do tools work?"}}'

# use_shape SHAPE: sets REQUEST (and wrk's script) to one request shape:
#   question  a short question alone;
#   context   a question with two passages of the caller's own context (a larger input to
#             validate and decode, a longer prompt to send).
use_shape() {
  case "$1" in
    question) REQUEST='{"data": {"question": "How do tools work?"}}' ;;
    context) REQUEST='{"data": {"question": "How are Genkit flows served over HTTP?", "context": ["A flow is served at POST /<name> with the input in a data envelope; the answer comes back as a result envelope, or as server-sent events when the client asks for a stream.", "Every action has a JSON Schema for its input and output, generated at compile time, and the server validates each input against it before the flow runs."]}}' ;;
    *) die "unknown request shape $1 (question|context)" ;;
  esac
  if [ -n "${WORK:-}" ]; then
    printf "wrk.method = \"POST\"\nwrk.body = '%s'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n" \
      "$REQUEST" >"$WORK/post.lua"
  fi
}

# post URL: POSTs $REQUEST and prints the body; fails unless the answer is 200.
post() {
  curl -sf --max-time 10 -H 'content-type: application/json' -d "$REQUEST" "$1"
}

# start_fake LATENCY_MS: starts a fake model server (with the options in FAKE_ARGS, such as
# "--close" or "--usage short", see fake-openai.rs); sets FAKE_URL (its /v1 base) and FAKE_PID.
start_fake() {
  local port
  local args=()
  read -r -a args <<<"${FAKE_ARGS:-}"
  free_port
  port="$FREE_PORT"
  start "$WORK/fake-$1.log" "${CLIENT_PIN[@]}" "$FAKE" --latency-ms "$1" --port "$port" "${args[@]}"
  FAKE_PID="$STARTED_PID"
  FAKE_URL="http://127.0.0.1:$port/v1"
  wait_http "$FAKE_URL/models" "$FAKE_PID"
}

# start_service genflow|genflow-lean|genflow-jemalloc|baseline|baseline-hyper FAKE_URL: starts the service under test on a
# free port with the quickstart's OpenAI settings; sets SERVICE_URL and SERVICE_PID.
# `genflow` is the quickstart with its defaults (telemetry: logs, trace store, metrics and
# recorded inputs/outputs; input validation); `genflow-lean` is the same binary with the
# telemetry switches off (to show what they cost); `genflow-jemalloc` the quickstart built
# with its `jemalloc` feature (jemalloc as the global allocator); `baseline` is benches/src/bin/baseline-rag.rs,
# calling the model with reqwest; `baseline-hyper` the same binary calling it with hyper's pooled
# client, as genflow's providers do (BASELINE_HTTP=hyper).
# A non-empty SERVICE_WRAP array runs the service under that command (SERVICE_PID is then the
# wrapper's child, the service itself; WRAPPER_PID the wrapper), unless WRAP_FORKS=0 says the
# wrapper runs the service in its own process (valgrind). SERVICE_ENV adds VAR=VALUE settings
# to the service's environment (such as a concurrency limit or malloc tunables).
SERVICE_WRAP=()
WRAP_FORKS=1
SERVICE_ENV=()
start_service() {
  local which="$1" fake_url="$2" port bin
  local extra=()
  free_port
  port="$FREE_PORT"
  case "$which" in
    genflow) bin="$QUICKSTART" ;;
    genflow-jemalloc) bin="$QUICKSTART_JEMALLOC" ;;
    genflow-lean)
      bin="$QUICKSTART"
      extra=(GENFLOW_TELEMETRY_TRACE_STORE=0 GENFLOW_TELEMETRY_METRICS=false
        GENFLOW_TELEMETRY_RECORD_IO=false RUST_LOG=warn)
      ;;
    baseline) bin="$BASELINE" ;;
    baseline-hyper)
      bin="$BASELINE"
      extra=(BASELINE_HTTP=hyper)
      ;;
    *) die "unknown service $which" ;;
  esac
  start "$WORK/$which-$port.log" "${SERVICE_WRAP[@]}" env PORT="$port" HOST=127.0.0.1 \
    GENFLOW_MODEL=openai/gpt-4o-mini OPENAI_MODEL=gpt-4o-mini \
    OPENAI_BASE_URL="$fake_url" OPENAI_API_KEY=bench "${extra[@]}" "${SERVICE_ENV[@]}" \
    "${SERVER_PIN[@]}" "$bin"
  SERVICE_PID="$STARTED_PID"
  WRAPPER_PID="$STARTED_PID"
  if [ "${#SERVICE_WRAP[@]}" -gt 0 ] && [ "$WRAP_FORKS" = 1 ]; then
    # The wrapper (such as /usr/bin/time) forks the service: find its child.
    local child="" i
    for i in $(seq 1 500); do
      child="$(ps -o pid= --ppid "$STARTED_PID" | tr -d ' ' | head -n1)"
      [ -n "$child" ] && break
      sleep 0.01
    done
    [ -n "$child" ] || die "no child of $STARTED_PID (${SERVICE_WRAP[0]})"
    SERVICE_PID="$child"
  fi
  SERVICE_URL="http://127.0.0.1:$port"
  wait_http "$SERVICE_URL/healthz" "$SERVICE_PID"
}

# pick_loadgen: sets LOADGEN to the first installed of wrk, oha, hey (unless set) and writes
# wrk's request script for the default shape. wrk first: it needs the least CPU per request,
# and it shares a core with the fake model server (oha needs about twice as much, hey more).
pick_loadgen() {
  local tool
  if [ -z "${LOADGEN:-}" ]; then
    for tool in wrk oha hey; do
      if command -v "$tool" >/dev/null; then
        LOADGEN="$tool"
        break
      fi
    done
  fi
  [ -n "${LOADGEN:-}" ] || die "no load generator: apt-get install -y wrk (or hey), or cargo install oha"
  command -v "$LOADGEN" >/dev/null || die "LOADGEN=$LOADGEN is not installed"
  use_shape question
}

# core_ticks CPU: "busy total" ticks of core CPU so far (/proc/stat; busy = all but idle and
# iowait).
core_ticks() {
  awk -v cpu="cpu$1" '$1 == cpu { total = 0; for (i = 2; i <= NF; i++) total += $i; print total - $5 - $6, total }' /proc/stat
}

# cpu_ticks PID: user + system CPU ticks of PID so far.
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# to_ms VALUE_WITH_UNIT: wrk's "25.01ms", "812.00us", "1.20s", "1.00m" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) print n / 1000
    else if (v ~ /ms$/) print n
    else if (v ~ /m$/) print n * 60000
    else if (v ~ /s$/) print n * 1000
    else print n
  }'
}

# loadgen CONCURRENCY SECONDS URL: runs the load; sets RPS, P99_MS, OK, ERRORS.
loadgen() {
  local c="$1" secs="$2" url="$3" out="$WORK/loadgen.out"
  case "$LOADGEN" in
    wrk)
      "${CLIENT_PIN[@]}" wrk -t1 -c "$c" -d "${secs}s" --timeout 10s --latency \
        -s "$WORK/post.lua" "$url" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
      RPS="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
      P99_MS="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
      local total non2xx socket
      total="$(awk '/requests in/ { print $1 }' "$out")"
      non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")"
      socket="$(awk -F'[ ,]+' '/Socket errors:/ { print $4 + $6 + $8 + $10 }' "$out")"
      ERRORS=$((${non2xx:-0} + ${socket:-0}))
      OK=$((total - ${non2xx:-0}))
      ;;
    hey)
      "${CLIENT_PIN[@]}" hey -z "${secs}s" -c "$c" -t 10 -m POST -T application/json \
        -d "$REQUEST" "$url" >"$out" 2>&1 || die "hey failed: $(cat "$out")"
      RPS="$(awk '/Requests\/sec:/ { print $2 }' "$out")"
      P99_MS="$(awk '$1 == "99%" && $2 == "in" { print $3 * 1000 }' "$out")"
      OK="$(awk '/\[200\]/ { print $2 }' "$out")"
      OK="${OK:-0}"
      local answered
      answered="$(awk '/^ *\[[0-9]+\]/ && /responses/ { n += $2 } END { print n + 0 }' "$out")"
      local failed
      failed="$(awk '/Error distribution:/ { on = 1; next } on && /\[[0-9]+\]/ { gsub(/[\[\]]/, "", $1); n += $1 } END { print n + 0 }' "$out")"
      ERRORS=$((answered - OK + failed))
      ;;
    oha)
      # -w: requests in flight at the deadline are waited for, not counted as errors.
      "${CLIENT_PIN[@]}" oha --no-tui --output-format json -z "${secs}s" -w -c "$c" -t 10s \
        -m POST -T application/json -d "$REQUEST" "$url" >"$out" 2>"$WORK/oha.err" ||
        die "oha failed: $(cat "$WORK/oha.err")"
      read -r RPS P99_MS OK ERRORS < <(python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
codes = r.get("statusCodeDistribution", {})
ok = int(codes.get("200", 0))
errors = sum(int(v) for k, v in codes.items() if k != "200") + sum(int(v) for v in r.get("errorDistribution", {}).values())
print(r["summary"]["requestsPerSec"], (r["latencyPercentiles"]["p99"] or 0) * 1000, ok, errors)
PY
      )
      ;;
    *) die "unknown LOADGEN=$LOADGEN" ;;
  esac
  [ -n "$RPS" ] && [ -n "$P99_MS" ] || die "could not read $LOADGEN's output: $(cat "$out")"
}

# machine: a markdown description of this machine.
machine() {
  local cpu kernel
  cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
  kernel="$(uname -sr)"
  echo "- CPU: $cpu, $(nproc) cores available; $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM; $kernel"
  echo "- $(rustc -V 2>/dev/null || echo 'rustc: unknown'); release profile of the workspace"
  if [ "$PINNED" = 1 ]; then
    echo "- service under test pinned to core $SERVER_CPU; load generator and fake model server on core $CLIENT_CPU (taskset)"
  else
    echo "- no CPU pinning (PIN=0 or fewer than 2 cores)"
  fi
}

# ratio A B: A/B to two decimals ("n/a" when B is 0).
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'
}

# median N...: the median of the numbers given.
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
