#!/usr/bin/env bash
# Property-based API tests: Schemathesis reads each example service's /openapi.json, generates
# valid and invalid requests from it, and checks every answer against the document (status
# codes, content types, headers, response schemas, SSE events against `itemSchema`), and that
# schema-valid requests are accepted and schema-invalid ones rejected.
#
# SCHEMATHESIS_SEED picks the seed (CI pins one so a run is reproducible; drop it to explore),
# SCHEMATHESIS_EXAMPLES the examples per operation and phase.
set -euo pipefail
SUITE="schemathesis"
source "$(dirname "$0")/../lib.sh"
here="$ROOT/interop/schemathesis"
venv="${SCHEMATHESIS_VENV:-/tmp/genflow-schemathesis}"
seed="${SCHEMATHESIS_SEED-20261204}"
examples="${SCHEMATHESIS_EXAMPLES:-150}"

echo "--- schemathesis: venv"
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

echo "--- schemathesis: build the examples"
cargo build --locked -q --manifest-path "$ROOT/Cargo.toml" -p quickstart -p tools-agent
bin="$TARGET/debug"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# serve NAME: starts the example on a free loopback port (its own, empty working directory, so
# no genflow.toml applies); sets URL.
serve() {
  local name="$1" port
  port="$(free_port)"
  mkdir -p "$work/$name"
  (cd "$work/$name" && exec env -u GENFLOW_MODEL PORT="$port" "$bin/$name" >"$work/$name.log" 2>&1) &
  pids+=("$!")
  URL="http://127.0.0.1:$port"
  wait_healthy "$URL" "$work/$name.log"
}

# Schemathesis keeps its cache in the working directory: the scratch one.
cd "$work"
for name in quickstart tools-agent; do
  echo "--- schemathesis: $name"
  serve "$name"
  "$venv/bin/st" run "$URL/openapi.json" \
    --checks all \
    --max-examples "$examples" \
    ${seed:+--seed "$seed"} \
    --request-timeout 30 \
    --no-color
done
