#!/usr/bin/env bash
# The developer UI in a real browser: builds the quickstart, installs playwright-core (pinned by
# package-lock.json; it drives the system Chromium, downloads none) and runs the node test, which
# also refreshes the screenshots in docs/devtools/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "no Chromium at $CHROMIUM (apt-get install chromium)" >&2
  exit 1
fi

echo "--- developer UI: build examples/quickstart"
cargo build --locked -q --manifest-path "$root/Cargo.toml" -p quickstart
export QUICKSTART_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/quickstart"

echo "--- developer UI: npm ci"
cd "$here"
npm ci --no-audit --no-fund --loglevel=error

echo "--- developer UI: node --test (Chromium)"
node --test
