#!/usr/bin/env bash
# Load benchmark: the quickstart's `ragQuery` (genflow) against a hand-written axum + reqwest
# service doing the same work (baseline-rag), both calling a loopback fake OpenAI-compatible
# server, at fake model latencies of 20 ms and 0 ms, concurrencies of 64 and 256, and two
# request shapes (a short question; a question with two passages of context).
#
#   benches/load.sh            # builds the release binaries, runs, prints a markdown table
#
# Settings (environment): DURATION seconds per measured run (10), WARMUP seconds before each
# (2), ROUNDS per cell, median reported (3), LATENCIES ("20 0"), CONCURRENCY ("64 256"),
# SHAPES ("question context", see use_shape in lib.sh),
# SERVICES ("baseline genflow genflow-lean baseline-hyper": genflow-lean is the quickstart with
# its telemetry switched off, to show what telemetry costs; baseline-hyper is the baseline
# calling the model with hyper's pooled client instead of reqwest, as genflow's providers do,
# to show what the HTTP client alone is worth),
# LOADGEN (wrk|oha|hey; default: the first installed of wrk, oha, hey), FAKE_ARGS (options
# of the fake model server, such as "--close" or "--usage short"), PIN=0 to disable
# pinning, SERVER_CPU (0) and CLIENT_CPU (1), BIN_DIR and BUILD=0 to use prebuilt binaries.
#
# Load generators: `apt-get install -y wrk` (or `hey`), or `cargo install oha`. wrk is
# preferred over hey: it is lighter, and it shares a core with the fake model server.
#
# Method: the service under test is pinned to one core (taskset -c $SERVER_CPU); the load
# generator and the fake server share the other. Both services run with their defaults
# (genflow: telemetry, trace store, metrics and input validation on). Each cell runs the
# services in turn (the first one rotating), WARMUP then DURATION seconds each, ROUNDS
# times; the tables show medians. "CPU us/req" is the service's user+system CPU time over the measured run divided
# by the requests it answered: it does not depend on the load generator keeping up. Nothing
# is asserted: the targets (genflow >= 0.9x baseline req/s, <= 1.1x p99) are marked.
# "service core busy" is CPU us/req x req/s: below about 90 % with a 0 ms model, the service
# is not what limits throughput. "client core busy" is core $CLIENT_CPU's busy share (the load
# generator, the fake model server and anything else on it): near 100 %, req/s and p99 measure
# that core, and CPU us/req rises for every service (fewer requests per wake-up), so compare
# the CPU ratio and the instruction counts of benches/instructions.sh instead.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
ROUNDS="${ROUNDS:-3}"
LATENCIES="${LATENCIES:-20 0}"
CONCURRENCY="${CONCURRENCY:-64 256}"
SERVICES="${SERVICES:-baseline genflow genflow-lean baseline-hyper}"
SHAPES="${SHAPES:-question context}"
case " $SERVICES " in
  *" baseline "*) ;;
  *) die "SERVICES must include baseline" ;;
esac

pick_loadgen
CLK_TCK="$(getconf CLK_TCK)"

# measure NAME PID URL CONCURRENCY: warm-up, then one measured run; appends
# "rps p99 cpu_us_per_req errors client_core_busy_percent" to $WORK/NAME.
measure() {
  local name="$1" pid="$2" url="$3" c="$4" before after cpu_us client_before client_after
  loadgen "$c" "$WARMUP" "$url"
  before="$(cpu_ticks "$pid")"
  client_before="$(core_ticks "$CLIENT_CPU")"
  loadgen "$c" "$DURATION" "$url"
  after="$(cpu_ticks "$pid")"
  client_after="$(core_ticks "$CLIENT_CPU")"
  cpu_us="$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$OK" \
    'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print 0 }')"
  echo "$RPS $P99_MS $cpu_us $ERRORS $(awk -v b="$client_before" -v a="$client_after" \
    'BEGIN { split(b, x, " "); split(a, y, " "); t = y[2] - x[2]; printf "%.0f", (t > 0 ? (y[1] - x[1]) * 100 / t : 0) }')" >>"$WORK/$name"
}

# column FILE N: the median of column N of FILE.
column() {
  # shellcheck disable=SC2046
  median $(awk -v n="$2" '{ print $n }' "$1")
}

build
echo "load generator: $LOADGEN; services: $SERVICES; $ROUNDS round(s) of ${WARMUP}s warm-up + ${DURATION}s per service and cell" >&2
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

# summary NAME: the medians of NAME's runs as "rps p99 cpu errors client_busy" (errors summed).
summary() {
  echo "$(column "$WORK/$1" 1) $(column "$WORK/$1" 2) $(column "$WORK/$1" 3) $(awk '{ n += $4 } END { print n + 0 }' "$WORK/$1") $(column "$WORK/$1" 5)"
}

# busy CPU_US RPS: the share of its core a service used, in percent.
busy() {
  awk -v c="$1" -v r="$2" 'BEGIN { printf "%.0f", c * r / 1e4 }'
}

# row LATENCY C SHAPE NAME: the table row comparing NAME with the baseline.
row() {
  local b_rps b_p99 b_cpu b_err b_client g_rps g_p99 g_cpu g_err g_client rps_ratio p99_ratio
  read -r b_rps b_p99 b_cpu b_err b_client < <(summary baseline)
  read -r g_rps g_p99 g_cpu g_err g_client < <(summary "$4")
  rps_ratio="$(ratio "$g_rps" "$b_rps")"
  p99_ratio="$(ratio "$g_p99" "$b_p99")"
  printf '| %s ms | %s | %s | %.0f | %.0f | **%s** %s | %.1f | %.1f | **%s** %s | %.0f | %.0f | %s | %s / %s | %s / %s | %s / %s |' \
    "$1" "$2" "$3" "$b_rps" "$g_rps" "$rps_ratio" \
    "$(awk -v r="$rps_ratio" 'BEGIN { print (r >= 0.9 ? "yes" : "no") }')" \
    "$b_p99" "$g_p99" "$p99_ratio" "$(awk -v r="$p99_ratio" 'BEGIN { print (r <= 1.1 ? "yes" : "no") }')" \
    "$b_cpu" "$g_cpu" "$(ratio "$g_cpu" "$b_cpu")" \
    "$(busy "$b_cpu" "$b_rps")" "$(busy "$g_cpu" "$g_rps")" "$b_client" "$g_client" "$b_err" "$g_err"
}

declare -A ROWS
for latency in $LATENCIES; do
  start_fake "$latency"
  declare -A PID_OF URL_OF
  for name in $SERVICES; do
    start_service "$name" "$FAKE_URL"
    PID_OF[$name]="$SERVICE_PID"
    URL_OF[$name]="$SERVICE_URL/ragQuery"
    # Every service must answer before being measured.
    echo "$name answers: $(post "${URL_OF[$name]}")" >&2
  done
  for c in $CONCURRENCY; do
    for shape in $SHAPES; do
      use_shape "$shape"
      for name in $SERVICES; do
        rm -f "$WORK/$name"
      done
      for round in $(seq 1 "$ROUNDS"); do
        echo "latency ${latency} ms, concurrency $c, $shape, round $round/$ROUNDS" >&2
        # Rotate which service goes first, so drift does not favour one.
        order=($SERVICES)
        shift_by=$(((round - 1) % ${#order[@]}))
        order=("${order[@]:$shift_by}" "${order[@]:0:$shift_by}")
        for name in "${order[@]}"; do
          measure "$name" "${PID_OF[$name]}" "${URL_OF[$name]}" "$c"
        done
      done
      for name in $SERVICES; do
        [ "$name" = baseline ] && continue
        ROWS[$name]+="$(row "$latency" "$c" "$shape" "$name")"$'\n'
      done
    done
  done
  for name in $SERVICES; do
    stop "${PID_OF[$name]}"
  done
  stop "$FAKE_PID"
done

header() {
  echo "| fake model latency | concurrency | request | baseline req/s | $1 req/s | req/s ratio (target >= 0.90) | baseline p99 ms | $1 p99 ms | p99 ratio (target <= 1.10) | baseline CPU us/req | $1 CPU us/req | CPU ratio | service core busy % baseline / $1 | client core busy % baseline / $1 | errors baseline / $1 |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
}

echo
echo "### Load benchmark ($(date -u +%Y-%m-%d), $LOADGEN, ${DURATION} s runs after ${WARMUP} s warm-up, median of $ROUNDS)"
echo
machine
echo "- load average (1/5/15 min) before: $LOAD_START; after: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in $SERVICES; do
  [ "$name" = baseline ] && continue
  echo
  case "$name" in
    genflow) echo "genflow = the quickstart with its defaults (telemetry and input validation on); ratios are genflow/baseline." ;;
    genflow-lean) echo "genflow-lean = the same binary with GENFLOW_TELEMETRY_TRACE_STORE=0, GENFLOW_TELEMETRY_METRICS=false, GENFLOW_TELEMETRY_RECORD_IO=false, RUST_LOG=warn (input validation still on)." ;;
    baseline-hyper) echo "baseline-hyper = the baseline calling the model with hyper's pooled client instead of reqwest (BASELINE_HTTP=hyper), as genflow's providers do; ratios are baseline-hyper/baseline." ;;
  esac
  echo
  header "$name"
  printf '%s' "${ROWS[$name]}"
done
