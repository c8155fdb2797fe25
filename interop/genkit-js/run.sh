#!/usr/bin/env bash
# Genkit JS interop: builds the example genflow service, installs Genkit's JS client (pinned by
# package-lock.json) and calls the service with runFlow and streamFlow.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

echo "--- genkit-js interop: build examples/flow-server"
cargo build --locked -q --manifest-path "$root/Cargo.toml" -p flow-server
export FLOW_SERVER_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/flow-server"

echo "--- genkit-js interop: npm ci"
cd "$here"
npm ci --no-audit --no-fund --loglevel=error

echo "--- genkit-js interop: node --test"
node --test
