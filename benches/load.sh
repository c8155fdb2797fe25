#!/usr/bin/env bash
# Load benchmark: the quickstart's `ragQuery` (genflow) against a hand-written axum + reqwest
# service doing the same work (baseline-rag), both calling a loopback fake OpenAI-compatible
# server, at fake model latencies of 20 ms and 0 ms and concurrencies of 64 and 256.
#
#   benches/load.sh            # builds the release binaries, runs, prints a markdown table
#
# Settings (environment): DURATION seconds per measured run (10), WARMUP seconds before each
# (2), ROUNDS per cell, median reported (3), LATENCIES ("20 0"), CONCURRENCY ("64 256"),
# LOADGEN (oha|wrk|hey; default: the first installed of oha, wrk, hey), PIN=0 to disable
# pinning, SERVER_CPU (0) and CLIENT_CPU (1), BIN_DIR and BUILD=0 to use prebuilt binaries.
#
# Load generators: `apt-get install -y wrk` (or `hey`), or `cargo install oha`. wrk is
# preferred over hey: it is lighter, and it shares a core with the fake model server.
#
# Method: the service under test is pinned to one core (taskset -c $SERVER_CPU); the load
# generator and the fake server share the other. Both services run with their defaults
# (genflow: telemetry, trace store, metrics and input validation on). Each cell runs the
# two services alternately, WARMUP then DURATION seconds each, ROUNDS times; the table shows
# medians. "CPU us/req" is the service's user+system CPU time over the measured run divided
# by the requests it answered: it does not depend on the load generator keeping up. Nothing
# is asserted: the targets (genflow >= 0.9x baseline req/s, <= 1.1x p99) are marked.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
ROUNDS="${ROUNDS:-3}"
LATENCIES="${LATENCIES:-20 0}"
CONCURRENCY="${CONCURRENCY:-64 256}"

pick_loadgen
CLK_TCK="$(getconf CLK_TCK)"

# measure NAME PID URL CONCURRENCY: warm-up, then one measured run; appends
# "rps p99 cpu_us_per_req errors" to $WORK/NAME.
measure() {
  local name="$1" pid="$2" url="$3" c="$4" before after cpu_us
  loadgen "$c" "$WARMUP" "$url"
  before="$(cpu_ticks "$pid")"
  loadgen "$c" "$DURATION" "$url"
  after="$(cpu_ticks "$pid")"
  cpu_us="$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$OK" \
    'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print 0 }')"
  echo "$RPS $P99_MS $cpu_us $ERRORS" >>"$WORK/$name"
}

# column FILE N: the median of column N of FILE.
column() {
  # shellcheck disable=SC2046
  median $(awk -v n="$2" '{ print $n }' "$1")
}

build
echo "load generator: $LOADGEN; $ROUNDS round(s) of ${WARMUP}s warm-up + ${DURATION}s per service and cell" >&2

ROWS=()
for latency in $LATENCIES; do
  start_fake "$latency"
  fake_url="$FAKE_URL"
  start_service genflow "$fake_url"
  genflow_pid="$SERVICE_PID"
  genflow_url="$SERVICE_URL/ragQuery"
  start_service baseline "$fake_url"
  baseline_pid="$SERVICE_PID"
  baseline_url="$SERVICE_URL/ragQuery"
  # Both must answer before being measured.
  echo "genflow  answers: $(post "$genflow_url")" >&2
  echo "baseline answers: $(post "$baseline_url")" >&2
  for c in $CONCURRENCY; do
    rm -f "$WORK/genflow" "$WORK/baseline"
    for round in $(seq 1 "$ROUNDS"); do
      echo "latency ${latency} ms, concurrency $c, round $round/$ROUNDS" >&2
      # Alternate which service goes first, so drift does not favour one.
      if [ $((round % 2)) = 1 ]; then
        measure baseline "$baseline_pid" "$baseline_url" "$c"
        measure genflow "$genflow_pid" "$genflow_url" "$c"
      else
        measure genflow "$genflow_pid" "$genflow_url" "$c"
        measure baseline "$baseline_pid" "$baseline_url" "$c"
      fi
    done
    b_rps="$(column "$WORK/baseline" 1)"
    g_rps="$(column "$WORK/genflow" 1)"
    b_p99="$(column "$WORK/baseline" 2)"
    g_p99="$(column "$WORK/genflow" 2)"
    b_cpu="$(column "$WORK/baseline" 3)"
    g_cpu="$(column "$WORK/genflow" 3)"
    b_err="$(awk '{ n += $4 } END { print n + 0 }' "$WORK/baseline")"
    g_err="$(awk '{ n += $4 } END { print n + 0 }' "$WORK/genflow")"
    rps_ratio="$(ratio "$g_rps" "$b_rps")"
    p99_ratio="$(ratio "$g_p99" "$b_p99")"
    rps_ok="$(awk -v r="$rps_ratio" 'BEGIN { print (r >= 0.9 ? "yes" : "**no**") }')"
    p99_ok="$(awk -v r="$p99_ratio" 'BEGIN { print (r <= 1.1 ? "yes" : "**no**") }')"
    ROWS+=("$(printf '| %s ms | %s | %.0f | %.0f | **%s** %s | %.1f | %.1f | **%s** %s | %s | %s | %s | %s / %s |' \
      "$latency" "$c" "$b_rps" "$g_rps" "$rps_ratio" "$rps_ok" "$b_p99" "$g_p99" "$p99_ratio" "$p99_ok" \
      "$b_cpu" "$g_cpu" "$(ratio "$g_cpu" "$b_cpu")" "$b_err" "$g_err")")
  done
  stop "$genflow_pid"
  stop "$baseline_pid"
  stop "$FAKE_PID"
done

echo
echo "### Load benchmark ($(date -u +%Y-%m-%d), $LOADGEN $( [ "$LOADGEN" = wrk ] && echo "-t1" ), ${DURATION}s runs, median of $ROUNDS)"
echo
machine
echo
echo "| fake model latency | concurrency | baseline req/s | genflow req/s | req/s genflow/baseline (target >= 0.90) | baseline p99 ms | genflow p99 ms | p99 genflow/baseline (target <= 1.10) | baseline CPU us/req | genflow CPU us/req | CPU ratio | errors baseline / genflow |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
