#!/usr/bin/env bash
# The developer UI in a real browser: builds the quickstart, installs playwright-core (pinned by
# package-lock.json; it drives the system Chromium, downloads none) and runs the node test, which
# also refreshes the screenshots in docs/devtools/.
set -euo pipefail
SUITE="developer UI"
source "$(dirname "$0")/../lib.sh"
here="$ROOT/interop/devui"

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "no Chromium at $CHROMIUM (apt-get install chromium)" >&2
  exit 1
fi
build_example quickstart
export QUICKSTART_BIN="$TARGET/debug/quickstart"
npm_install "$here"
echo "--- $SUITE: node --test (Chromium)"
cd "$here" && node --test
