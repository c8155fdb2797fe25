#!/usr/bin/env bash
# A newcomer's own crate: creates a crate from scratch outside the workspace whose only
# dependencies are genflow-runtime (by path) and tokio, builds it, runs its test, serves it and
# calls its flow over HTTP. The workspace's Cargo.lock pins the same versions, and the
# workspace's target directory is shared, so nothing is built twice.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
pid=""
cleanup() {
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

crate="$work/word-service"
mkdir -p "$crate/src"
cp "$here/main.rs" "$crate/src/main.rs"
cp "$root/Cargo.lock" "$crate/Cargo.lock"
cat >"$crate/Cargo.toml" <<TOML
[package]
name = "word-service"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
genflow-runtime = { path = "$root/genflow-runtime" }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

[workspace]
TOML
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

echo "--- own crate: cargo test (genflow-runtime and tokio only)"
(cd "$crate" && cargo test -q)

echo "--- own crate: serve and call the flow"
(cd "$crate" && cargo build -q)
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
(cd "$work" && exec env PORT="$port" "$CARGO_TARGET_DIR/debug/word-service" >"$work/service.log" 2>&1) &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
answer="$(curl -sS "http://127.0.0.1:$port/measure" -H 'content-type: application/json' \
  -d '{"data": {"word": "flows"}}')"
expected='{"result": {"word": "flows", "letterCount": 5}}'
if ! python3 -c 'import json, sys; sys.exit(json.loads(sys.argv[1]) != json.loads(sys.argv[2]))' "$answer" "$expected"; then
  echo "expected $expected, got $answer" >&2
  cat "$work/service.log" >&2
  exit 1
fi
echo "own crate answered $answer"
