#!/usr/bin/env bash
# Footprint of the quickstart (genflow) next to the hand-written baseline service: cold start
# (exec to the first 200 on POST /ragQuery), idle RSS, RSS under load and binary size, as a
# ratio table. Both services call a loopback fake OpenAI-compatible server (0 ms latency for
# cold start, 20 ms under load).
#
#   benches/measure.sh         # builds static release binaries, measures, prints a table
#
# Settings (environment): RUNS cold starts per service, median reported (20), LOAD_SECONDS
# (10) and LOAD_CONCURRENCY (64) of the load run, STATIC=0 to measure the dynamically linked
# target/release binaries instead of the static ones, BIN_DIR and BUILD=0 to use prebuilt
# binaries, PIN=0, SERVER_CPU, CLIENT_CPU and LOADGEN as for benches/load.sh.
#
# Method, with public tools only (bash, curl, /proc, stat, ps, taskset, /usr/bin/time; a
# load generator):
# - cold start: the time from just before fork+exec to the first 200 answer of
#   POST /ragQuery, polled from bash itself (connect with /dev/tcp and write the request, so
#   no process is spawned per attempt); the first request includes each service's lazy
#   set-up (genflow builds its HTTP client on the first model call, the baseline at start).
# - idle RSS: VmRSS from /proc/PID/status one second after that first answer, and its
#   anonymous part (RssAnon): most of the rest is the executable's own pages, shared by every
#   process running the same file.
# - RSS under load: the largest VmRSS sampled every 100 ms during LOAD_SECONDS of load, and
#   the peak over the process's life from `/usr/bin/time -v` (which the service runs under).
# - binary size: stat of the binaries as built (symbols stripped by the release profile).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RUNS="${RUNS:-20}"
LOAD_SECONDS="${LOAD_SECONDS:-10}"
LOAD_CONCURRENCY="${LOAD_CONCURRENCY:-64}"
TARGET_TRIPLE=x86_64-unknown-linux-gnu

if [ "${STATIC:-1}" = 1 ] && [ "$BIN_DIR" = "$ROOT/target/release" ]; then
  STATIC_DIR="$ROOT/target/$TARGET_TRIPLE/release"
  if [ "${BUILD:-1}" = 1 ]; then
    echo "building static release binaries (quickstart, then genflow-bench) ..." >&2
    (cd "$ROOT" && RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked -q \
      --target "$TARGET_TRIPLE" -p quickstart)
    (cd "$ROOT" && RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked -q \
      --target "$TARGET_TRIPLE" -p genflow-bench --bins)
  fi
  BIN_DIR="$STATIC_DIR"
  QUICKSTART="$BIN_DIR/quickstart"
  BASELINE="$BIN_DIR/baseline-rag"
  FAKE="$BIN_DIR/fake-openai"
  BUILD=0
  LINKING=static
else
  LINKING=dynamic
fi
build
pick_loadgen

now_us() {
  echo "${EPOCHREALTIME/./}"
}

rss_kib() {
  awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"
}

# cold_start NAME FAKE_URL: starts the service, polls POST /ragQuery until a 200, sets
# COLD_US (microseconds to the 200), IDLE_KIB (VmRSS a second later) and IDLE_ANON_KIB (its
# anonymous part, RssAnon), and stops it.
# (Results go in variables: a subshell would lose the port counter and the cleanup list.)
cold_start() {
  local which="$1" fake_url="$2" port bin t0 t1 status deadline pid
  free_port
  port="$FREE_PORT"
  case "$which" in
    genflow) bin="$QUICKSTART" ;;
    baseline) bin="$BASELINE" ;;
  esac
  local body="$REQUEST"
  local request
  request="$(printf 'POST /ragQuery HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' \
    "$port" "${#body}" "$body")"
  t0="$(now_us)"
  start "$WORK/cold-$which-$port.log" env PORT="$port" HOST=127.0.0.1 \
    GENFLOW_MODEL=openai/gpt-4o-mini OPENAI_MODEL=gpt-4o-mini \
    OPENAI_BASE_URL="$fake_url" OPENAI_API_KEY=bench \
    "${SERVER_PIN[@]}" "$bin"
  pid="$STARTED_PID"
  deadline=$((t0 + 10000000))
  status=""
  while [ "$(now_us)" -lt "$deadline" ]; do
    kill -0 "$pid" 2>/dev/null || die "$which exited during start-up: $(cat "$WORK/cold-$which-$port.log")"
    if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
      printf '%s' "$request" >&3
      status=""
      IFS= read -r -t 10 status <&3 || true
      exec 3<&- 3>&-
      case "$status" in
        "HTTP/1.1 200"*) break ;;
      esac
    fi
  done
  t1="$(now_us)"
  case "$status" in
    "HTTP/1.1 200"*) ;;
    *) die "$which did not answer 200 within 10 s (last status: ${status:-none})" ;;
  esac
  sleep 1
  COLD_US=$((t1 - t0))
  IDLE_KIB="$(rss_kib "$pid" VmRSS)"
  IDLE_ANON_KIB="$(rss_kib "$pid" RssAnon)"
  stop "$pid"
}

# under_load NAME FAKE_URL: sets LOAD_MAX_KIB, the largest VmRSS sampled under load, and
# LOAD_TIME_KIB, the peak RSS over the process's life as /usr/bin/time -v reports it ("" when
# /usr/bin/time is missing).
under_load() {
  local which="$1" fake_url="$2" max=0 rss i timed="$WORK/time-$1.txt"
  LOAD_TIME_KIB=""
  if [ -x /usr/bin/time ]; then
    SERVICE_WRAP=(/usr/bin/time -v -o "$timed")
  fi
  start_service "$which" "$fake_url"
  SERVICE_WRAP=()
  post "$SERVICE_URL/ragQuery" >/dev/null
  loadgen "$LOAD_CONCURRENCY" "$LOAD_SECONDS" "$SERVICE_URL/ragQuery" &
  local gen=$!
  PIDS+=("$gen")
  for i in $(seq 1 $((LOAD_SECONDS * 10 + 50))); do
    kill -0 "$gen" 2>/dev/null || break
    rss="$(rss_kib "$SERVICE_PID" VmRSS)"
    [ "$rss" -gt "$max" ] && max="$rss"
    sleep 0.1
  done
  wait "$gen" || die "the load generator failed"
  LOAD_MAX_KIB="$max"
  stop "$SERVICE_PID"
  if [ "$WRAPPER_PID" != "$SERVICE_PID" ]; then
    wait "$WRAPPER_PID" 2>/dev/null || true
    LOAD_TIME_KIB="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$timed" 2>/dev/null || true)"
  fi
}

mib() {
  awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

start_fake 0
fake0="$FAKE_URL"
start_fake 20
fake20="$FAKE_URL"

declare -A COLD RSS_IDLE RSS_ANON
for which in baseline genflow; do
  COLD[$which]=""
  RSS_IDLE[$which]=""
  RSS_ANON[$which]=""
done
echo "cold starts: $RUNS per service, alternating" >&2
for run in $(seq 1 "$RUNS"); do
  for which in baseline genflow; do
    cold_start "$which" "$fake0"
    COLD[$which]+=" $COLD_US"
    RSS_IDLE[$which]+=" $IDLE_KIB"
    RSS_ANON[$which]+=" $IDLE_ANON_KIB"
  done
done

declare -A LOAD_RSS LOAD_PEAK
for which in baseline genflow; do
  echo "RSS under load: $which, c=$LOAD_CONCURRENCY, ${LOAD_SECONDS}s, fake latency 20 ms" >&2
  under_load "$which" "$fake20"
  LOAD_RSS[$which]="$LOAD_MAX_KIB"
  LOAD_PEAK[$which]="$LOAD_TIME_KIB"
done

# shellcheck disable=SC2086
b_cold="$(median ${COLD[baseline]})"
# shellcheck disable=SC2086
g_cold="$(median ${COLD[genflow]})"
# shellcheck disable=SC2086
b_idle="$(median ${RSS_IDLE[baseline]})"
# shellcheck disable=SC2086
g_idle="$(median ${RSS_IDLE[genflow]})"
# shellcheck disable=SC2086
b_anon="$(median ${RSS_ANON[baseline]})"
# shellcheck disable=SC2086
g_anon="$(median ${RSS_ANON[genflow]})"
b_size="$(stat -c %s "$BASELINE")"
g_size="$(stat -c %s "$QUICKSTART")"

met() {
  awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t ? "yes" : "**no**") }'
}
cold_ratio="$(ratio "$g_cold" "$b_cold")"
idle_ratio="$(ratio "$g_idle" "$b_idle")"

echo
echo "### Footprint ($(date -u +%Y-%m-%d), $LINKING release binaries)"
echo
machine
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| metric | baseline | genflow | genflow/baseline | target | met |"
echo "|---|---|---|---|---|---|"
printf '| cold start, exec to first 200 on POST /ragQuery (median of %s) | %.1f ms | %.1f ms | **%s** | <= 1.20 | %s |\n' \
  "$RUNS" "$(awk -v u="$b_cold" 'BEGIN { print u / 1000 }')" "$(awk -v u="$g_cold" 'BEGIN { print u / 1000 }')" \
  "$cold_ratio" "$(met "$cold_ratio" 1.2)"
printf '| idle RSS after the first request (median) | %s MiB | %s MiB | **%s** | <= 1.50 | %s |\n' \
  "$(mib "$b_idle")" "$(mib "$g_idle")" "$idle_ratio" "$(met "$idle_ratio" 1.5)"
printf '| of which anonymous memory (RssAnon; the rest is the executable'"'"'s pages) | %s MiB | %s MiB | %s | | |\n' \
  "$(mib "$b_anon")" "$(mib "$g_anon")" "$(ratio "$g_anon" "$b_anon")"
printf '| RSS under load (max sampled, c=%s, 20 ms model) | %s MiB | %s MiB | %s | | |\n' \
  "$LOAD_CONCURRENCY" "$(mib "${LOAD_RSS[baseline]}")" "$(mib "${LOAD_RSS[genflow]}")" \
  "$(ratio "${LOAD_RSS[genflow]}" "${LOAD_RSS[baseline]}")"
if [ -n "${LOAD_PEAK[baseline]}" ] && [ -n "${LOAD_PEAK[genflow]}" ]; then
  printf '| peak RSS over the run (/usr/bin/time -v, maximum resident set size) | %s MiB | %s MiB | %s | | |\n' \
    "$(mib "${LOAD_PEAK[baseline]}")" "$(mib "${LOAD_PEAK[genflow]}")" \
    "$(ratio "${LOAD_PEAK[genflow]}" "${LOAD_PEAK[baseline]}")"
fi
size_target=""
size_met=""
if [ "$LINKING" = static ]; then
  size_target="genflow <= 10 MB"
  size_met="$(awk -v s="$g_size" 'BEGIN { print (s <= 10000000 ? "yes" : "**no**") }')"
fi
printf '| binary size (%s) | %s MB | %s MB | %s | %s | %s |\n' "$LINKING" \
  "$(awk -v s="$b_size" 'BEGIN { printf "%.2f", s / 1e6 }')" "$(awk -v s="$g_size" 'BEGIN { printf "%.2f", s / 1e6 }')" \
  "$(ratio "$g_size" "$b_size")" "$size_target" "$size_met"
