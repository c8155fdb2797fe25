#!/usr/bin/env bash
# Instructions per request: the quickstart's `ragQuery` (genflow) and the hand-written baseline,
# each run under valgrind's callgrind while it answers a fixed number of requests. Counting
# instructions is repeatable on a busy machine, where requests per second and CPU time are not
# (it misses the kernel's share: system calls and the network stack).
#
#   benches/instructions.sh    # builds the release binaries, counts, prints a markdown table
#
# Settings (environment): REQUESTS counted per cell (2000), WARMUP_REQUESTS before (300),
# CONCURRENCY ("16"), LATENCIES of the fake model ("0"), SHAPES ("question context"),
# SERVICES ("baseline genflow", as in load.sh), LOADGEN (hey|oha: a load generator that sends
# a fixed number of requests; default the first installed of hey, oha), KEEP=DIR to keep the
# callgrind files (for callgrind_annotate; build with symbols for names: strip = "none"),
# BIN_DIR and BUILD=0 to use prebuilt binaries, PIN, SERVER_CPU and CLIENT_CPU as in load.sh.
#
# Method: the service runs under `valgrind --tool=callgrind --instr-atstart=no`, so start-up
# is not counted; per cell, after WARMUP_REQUESTS, instrumentation is switched on, REQUESTS
# are sent, and the dump's total is divided by the requests answered with 200.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

REQUESTS="${REQUESTS:-2000}"
WARMUP_REQUESTS="${WARMUP_REQUESTS:-300}"
CONCURRENCY="${CONCURRENCY:-16}"
LATENCIES="${LATENCIES:-0}"
SHAPES="${SHAPES:-question context}"
SERVICES="${SERVICES:-baseline genflow}"
case " $SERVICES " in
  *" baseline "*) ;;
  *) die "SERVICES must include baseline" ;;
esac
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
  die "valgrind is missing: apt-get install -y valgrind"
if [ -z "${LOADGEN:-}" ]; then
  for tool in hey oha; do
    if command -v "$tool" >/dev/null; then
      LOADGEN="$tool"
      break
    fi
  done
fi
case "${LOADGEN:-}" in
  hey | oha) command -v "$LOADGEN" >/dev/null || die "LOADGEN=$LOADGEN is not installed" ;;
  *) die "a load generator sending a fixed number of requests is needed: apt-get install -y hey, or cargo install oha" ;;
esac

# send C N URL: sends N requests of $REQUEST over C connections; sets OK (200 answers).
send() {
  local c="$1" n="$2" url="$3" out="$WORK/send.out"
  case "$LOADGEN" in
    hey)
      "${CLIENT_PIN[@]}" hey -n "$n" -c "$c" -t 60 -m POST -T application/json \
        -d "$REQUEST" "$url" >"$out" 2>&1 || die "hey failed: $(cat "$out")"
      OK="$(awk '/\[200\]/ { print $2 }' "$out")"
      ;;
    oha)
      "${CLIENT_PIN[@]}" oha --no-tui --output-format json -n "$n" -c "$c" -t 60s \
        -m POST -T application/json -d "$REQUEST" "$url" >"$out" 2>"$WORK/oha.err" ||
        die "oha failed: $(cat "$WORK/oha.err")"
      OK="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("statusCodeDistribution", {}).get("200", 0))' "$out")"
      ;;
  esac
  OK="${OK:-0}"
}

# cg_control ARGS...: callgrind_control; valgrind names its control pipes after $HOST, which
# start_service sets to 127.0.0.1 for the service.
cg_control() {
  HOST=127.0.0.1 callgrind_control "$@" >/dev/null
}

# count NAME PID URL C SHAPE: instructions per request of one cell; appended to $WORK/rows.
count() {
  local name="$1" pid="$2" url="$3" c="$4" shape="$5" before dump total
  send "$c" "$WARMUP_REQUESTS" "$url"
  before="$(find "$WORK/cg" -name "callgrind.$pid.*" | wc -l)"
  cg_control -z "$pid"
  cg_control -i on "$pid"
  send "$c" "$REQUESTS" "$url"
  cg_control -d "$pid"
  cg_control -i off "$pid"
  dump=""
  for _ in $(seq 1 500); do
    if [ "$(find "$WORK/cg" -name "callgrind.$pid.*" | wc -l)" -gt "$before" ]; then
      dump="$(ls -t "$WORK/cg/callgrind.$pid."* | head -n1)"
      grep -q '^totals:' "$dump" && break
    fi
    sleep 0.02
  done
  [ -n "$dump" ] || die "callgrind wrote no dump for $name"
  total="$(awk '/^totals:/ { print $2 }' "$dump")"
  [ "$OK" -gt 0 ] || die "$name answered no request with 200"
  echo "$name $LATENCY $c $shape $total $OK" >>"$WORK/rows"
  if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP"
    cp "$dump" "$KEEP/$name-${LATENCY}ms-c$c-$shape.callgrind"
  fi
}

build
mkdir -p "$WORK/cg"
echo "load generator: $LOADGEN; services: $SERVICES; $REQUESTS requests per cell after $WARMUP_REQUESTS" >&2
SERVICE_WRAP=(valgrind --tool=callgrind --trace-children=yes --instr-atstart=no
  "--callgrind-out-file=$WORK/cg/callgrind.%p")
WRAP_FORKS=0
WAIT_SECONDS=60
for LATENCY in $LATENCIES; do
  start_fake "$LATENCY"
  for name in $SERVICES; do
    start_service "$name" "$FAKE_URL"
    for c in $CONCURRENCY; do
      for shape in $SHAPES; do
        use_shape "$shape"
        echo "$name: latency $LATENCY ms, concurrency $c, $shape" >&2
        count "$name" "$SERVICE_PID" "$SERVICE_URL/ragQuery" "$c" "$shape"
      done
    done
    stop "$SERVICE_PID"
  done
  stop "$FAKE_PID"
done

echo
echo "### Instructions per request ($(date -u +%Y-%m-%d), callgrind, $REQUESTS requests per cell after $WARMUP_REQUESTS, $LOADGEN)"
echo
echo "| fake model latency | concurrency | request | service | instructions per request | ratio to baseline |"
echo "|---|---|---|---|---|---|"
awk '
  { key = $2 " " $3 " " $4; per = $5 / $6; if ($1 == "baseline") base[key] = per; row[NR] = $0; v[NR] = per }
  END {
    for (i = 1; i <= NR; i++) {
      split(row[i], f, " "); key = f[2] " " f[3] " " f[4]
      printf "| %s ms | %s | %s | %s | %.0f | %s |\n", f[2], f[3], f[4], f[1], v[i], (key in base) ? sprintf("%.2f", v[i] / base[key]) : "n/a"
    }
  }' "$WORK/rows"
