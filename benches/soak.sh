#!/usr/bin/env bash
# Overload soak: what a burst of slow requests leaves in memory. The quickstart (genflow) and
# the hand-written baseline each take ROUNDS rounds of N concurrent requests against a fake
# OpenAI-compatible server answering after a slow model's latency (5 s): first N plain
# `POST /ragQuery`, then N streaming `POST /ragQueryStream` with `Accept: text/event-stream`
# (the baseline has no streaming route: its streaming rounds are skipped). Resident memory is
# read before each burst, at its peak, after it (SETTLE seconds once the last answer arrived)
# and once more after IDLE seconds of quiet at the end, so creep from round to round and what
# an idle period gives back are both visible.
#
#   benches/soak.sh            # builds the release binaries, runs, prints a markdown table
#
# Settings (environment): N concurrent requests per burst (2000), ROUNDS per service (4),
# LATENCY_MS of the fake model (5000), SETTLE seconds after a burst (3), IDLE seconds at the
# end (100: past the provider pool's 90 s idle timeout), SERVICES ("baseline genflow
# genflow-jemalloc"; also genflow-lean, see lib.sh; genflow-jemalloc is the quickstart built
# with its `jemalloc` feature, built here as target/release/quickstart-jemalloc), MODES ("plain stream"), VARIANT_ENV (VAR=VALUE settings added to
# the services' environment, such as MALLOC_ARENA_MAX=2, to compare malloc tunables), PIN=0,
# SERVER_CPU, CLIENT_CPU, BIN_DIR and BUILD=0 as for benches/load.sh.
#
# genflow admits at most 512 flow requests at once by default and sheds the rest with 503:
# the soak raises the limit (GENFLOW_SERVER_CONCURRENCY_LIMIT, to N + 64) so that every
# request of a burst is in flight at once, as in the baseline, which has no limit. The
# connection cap (4096 by default) is above N up to N = 4096; past that it is raised too.
#
# Method: the load generator is oha (-n N -c N: N connections, one request each, all open
# while the model waits); its status counts are reported. RSS is VmRSS from
# /proc/PID/status, with its anonymous part RssAnon (the heap: the rest is mostly the
# executable's pages); the peak is the largest of samples every 100 ms. Every wait is
# bounded; everything listens on 127.0.0.1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N="${N:-2000}"
ROUNDS="${ROUNDS:-4}"
LATENCY_MS="${LATENCY_MS:-5000}"
SETTLE="${SETTLE:-3}"
IDLE="${IDLE:-100}"
SERVICES="${SERVICES:-baseline genflow genflow-jemalloc}"
MODES="${MODES:-plain stream}"
read -r -a VARIANT <<<"${VARIANT_ENV:-}"
command -v oha >/dev/null || die "oha is missing: cargo install oha"
# Each burst holds N connections to the service and N from it to the fake model server.
[ "$(ulimit -n)" -gt $((2 * N + 256)) ] || ulimit -n $((2 * N + 256)) ||
  die "open files limit $(ulimit -n) is below 2N + 256"

build
if [[ " $SERVICES " == *" genflow-jemalloc "* ]] && [ "${BUILD:-1}" = 1 ] &&
  [ "$BIN_DIR" = "$ROOT/target/release" ]; then
  # Cargo keeps one `quickstart` per feature set in target/release/deps, so switching back
  # and forth relinks nothing once both are built.
  echo "building the quickstart with its jemalloc feature ..." >&2
  (cd "$ROOT" && cargo build --release --locked -q -p quickstart --features jemalloc)
  cp "$QUICKSTART" "$QUICKSTART_JEMALLOC"
  (cd "$ROOT" && cargo build --release --locked -q -p quickstart)
fi
[ ! -e "$QUICKSTART_JEMALLOC" ] || [ -x "$QUICKSTART_JEMALLOC" ] || die "$QUICKSTART_JEMALLOC is not executable"

# rss PID: "VmRSS RssAnon" of PID in KiB.
rss() {
  awk '$1 == "VmRSS:" { r = $2 } $1 == "RssAnon:" { a = $2 } END { print r + 0, a + 0 }' "/proc/$1/status"
}

mib() {
  awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

# burst PID URL MODE: N concurrent requests of MODE (plain|stream) to URL while sampling
# PID's RSS; sets PEAK, PEAK_ANON (KiB), OK (answers 200) and FAILED (everything else).
burst() {
  local pid="$1" url="$2" mode="$3" out="$WORK/oha.json" i rss_now anon_now
  local accept=()
  [ "$mode" = stream ] && accept=(-H 'accept: text/event-stream')
  "${CLIENT_PIN[@]}" oha --no-tui --output-format json -n "$N" -c "$N" -t 120s \
    --connect-timeout 30s -m POST -T application/json "${accept[@]}" -d "$REQUEST" "$url" \
    >"$out" 2>"$WORK/oha.err" &
  local gen=$!
  PIDS+=("$gen")
  PEAK=0
  PEAK_ANON=0
  # oha gives up on a request after 120 s: 1500 samples of 100 ms cover it.
  for i in $(seq 1 1500); do
    kill -0 "$pid" 2>/dev/null || die "the service (pid $pid) died during a burst"
    read -r rss_now anon_now < <(rss "$pid")
    [ "$rss_now" -gt "$PEAK" ] && PEAK="$rss_now"
    [ "$anon_now" -gt "$PEAK_ANON" ] && PEAK_ANON="$anon_now"
    kill -0 "$gen" 2>/dev/null || break
    sleep 0.1
  done
  wait "$gen" || die "oha failed: $(cat "$WORK/oha.err")"
  read -r OK FAILED < <(python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
codes = r.get("statusCodeDistribution", {})
ok = int(codes.get("200", 0))
failed = sum(int(v) for k, v in codes.items() if k != "200")
failed += sum(int(v) for v in r.get("errorDistribution", {}).values())
print(ok, failed)
PY
  )
}

# check_stream URL: fails unless one streamed answer ends with a result frame.
check_stream() {
  local body
  body="$(curl -sf --max-time $((LATENCY_MS / 1000 + 30)) -H 'content-type: application/json' \
    -H 'accept: text/event-stream' -d "$REQUEST" "$1")" || die "$1 did not stream"
  grep -q '"result"' <<<"$body" || die "$1 streamed no result: $body"
}

use_shape question
start_fake "$LATENCY_MS"
echo "fake model at $FAKE_URL, ${LATENCY_MS} ms; N=$N, $ROUNDS round(s), modes: $MODES" >&2
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
ROWS=""
IDLE_ROWS=""
for name in $SERVICES; do
  SERVICE_ENV=("${VARIANT[@]}")
  case "$name" in
    genflow*)
      SERVICE_ENV+=(GENFLOW_SERVER_CONCURRENCY_LIMIT=$((N + 64)))
      [ "$N" -lt 4000 ] || SERVICE_ENV+=(GENFLOW_SERVER_MAX_CONNECTIONS=$((N + 64)))
      ;;
  esac
  start_service "$name" "$FAKE_URL"
  SERVICE_ENV=()
  pid="$SERVICE_PID"
  echo "$name answers: $(post "$SERVICE_URL/ragQuery")" >&2
  [ "$name" = baseline ] || check_stream "$SERVICE_URL/ragQueryStream"
  read -r start_rss start_anon < <(rss "$pid")
  for round in $(seq 1 "$ROUNDS"); do
    for mode in $MODES; do
      path=/ragQuery
      if [ "$mode" = stream ]; then
        [ "$name" = baseline ] && continue
        path=/ragQueryStream
      fi
      read -r before before_anon < <(rss "$pid")
      echo "$name, round $round/$ROUNDS, $mode: $N requests at once" >&2
      burst "$pid" "$SERVICE_URL$path" "$mode"
      sleep "$SETTLE"
      read -r after after_anon < <(rss "$pid")
      ROWS+="| $name | $round | $mode | $OK / $FAILED | $(mib "$before") ($(mib "$before_anon")) | $(mib "$PEAK") ($(mib "$PEAK_ANON")) | $(mib "$after") ($(mib "$after_anon")) |"$'\n'
    done
  done
  echo "$name: idle for ${IDLE} s" >&2
  sleep "$IDLE"
  read -r idle idle_anon < <(rss "$pid")
  IDLE_ROWS+="| $name | $(mib "$start_rss") ($(mib "$start_anon")) | $(mib "$after") ($(mib "$after_anon")) | $(mib "$idle") ($(mib "$idle_anon")) | $(ratio "$idle" "$start_rss") |"$'\n'
  stop "$pid"
done
stop "$FAKE_PID"

echo
echo "### Overload soak ($(date -u +%Y-%m-%d), N=$N at once, ${LATENCY_MS} ms model, $ROUNDS rounds${VARIANT_ENV:+, $VARIANT_ENV})"
echo
machine
echo "- load average (1/5/15 min) before: $LOAD_START; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- genflow with GENFLOW_SERVER_CONCURRENCY_LIMIT=$((N + 64)) (its default, 512, would shed the rest with 503)"
echo
echo "RSS in MiB, VmRSS (RssAnon in parentheses); \"after\" is ${SETTLE} s after the burst's last answer."
echo
echo "| service | round | requests | 200 / failed | before | peak | after |"
echo "|---|---|---|---|---|---|---|"
printf '%s' "$ROWS"
echo
echo "| service | after the first answer | after the last burst | after ${IDLE} s idle | idle / start |"
echo "|---|---|---|---|---|"
printf '%s' "$IDLE_ROWS"
