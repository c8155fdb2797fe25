#!/usr/bin/env bash
# A newcomer's own crate: creates a crate from scratch outside the workspace whose only
# dependencies are genflow-runtime (by path) and tokio, with its flows in the library half and
# `main` in the binary half. Checks that its test passes; that a binary which does not name the
# library (the link-time registration trap) starts with no flows, says how to fix it, and
# answers 404; and that with the fix it serves the flow. The workspace's Cargo.lock pins the
# same versions and its target directory is shared, so nothing is built twice.
set -euo pipefail
SUITE="own crate"
source "$(dirname "$0")/../lib.sh"
here="$ROOT/interop/own-crate"
work="$(mktemp -d)"
pid=""
stop_service() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
  fi
}
cleanup() {
  stop_service
  rm -rf "$work"
}
trap cleanup EXIT

crate="$work/word-service"
mkdir -p "$crate/src"
cp "$here/lib.rs" "$crate/src/lib.rs"
cp "$here/main.rs" "$crate/src/main.rs"
cp "$ROOT/Cargo.lock" "$crate/Cargo.lock"
cat >"$crate/Cargo.toml" <<TOML
[package]
name = "word-service"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
genflow-runtime = { path = "$ROOT/genflow-runtime" }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

[workspace]
TOML
export CARGO_TARGET_DIR="$TARGET"

echo "--- own crate: cargo test (genflow-runtime and tokio only)"
(cd "$crate" && cargo test -q)

# serve: builds and starts the binary on a free port; sets BASE.
serve() {
  (cd "$crate" && cargo build -q)
  local port
  port="$(free_port)"
  (cd "$work" && exec env PORT="$port" "$TARGET/debug/word-service" >"$work/service.log" 2>&1) &
  pid=$!
  BASE="http://127.0.0.1:$port"
  wait_healthy "$BASE" "$work/service.log"
}

measure() {
  curl -sS -o "$work/answer.json" -w '%{http_code}' "$BASE/measure" \
    -H 'content-type: application/json' -d '{"data": {"word": "flows"}}'
}

echo "--- own crate: a binary that does not name its library starts with no flows, and says so"
serve
code="$(measure)"
if [ "$code" != 404 ] || ! grep -q 'use your_flows_crate as _;' "$work/service.log"; then
  echo "expected 404 and the start-up warning naming the fix, got $code:" >&2
  cat "$work/service.log" >&2
  exit 1
fi
stop_service

echo "--- own crate: with \`use word_service as _;\` it serves the flow"
echo 'use word_service as _;' >>"$crate/src/main.rs"
serve
code="$(measure)"
expected='{"result": {"word": "flows", "letterCount": 5}}'
if [ "$code" != 200 ] || ! python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])) != json.loads(sys.argv[2]))' "$work/answer.json" "$expected"; then
  echo "expected 200 $expected, got $code $(cat "$work/answer.json"):" >&2
  cat "$work/service.log" >&2
  exit 1
fi
echo "own crate answered $(cat "$work/answer.json")"
