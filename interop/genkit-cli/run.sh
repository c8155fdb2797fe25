#!/usr/bin/env bash
# Genkit CLI interop: builds the quickstart, installs Genkit's CLI (genkit-cli, pinned by
# package-lock.json) and drives the quickstart in dev mode with `genkit flow:run` (plain and
# --stream) over the reflection API, plus a cancel through the reflection API.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

echo "--- genkit-cli interop: build examples/quickstart"
cargo build --locked -q --manifest-path "$root/Cargo.toml" -p quickstart
export QUICKSTART_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/quickstart"

echo "--- genkit-cli interop: npm ci"
cd "$here"
npm ci --no-audit --no-fund --loglevel=error

echo "--- genkit-cli interop: node --test"
node --test
