#!/usr/bin/env bash
# Genkit JS interop: builds the example genflow service, installs Genkit's JS client (pinned by
# package-lock.json) and calls the service with runFlow and streamFlow.
set -euo pipefail
SUITE="genkit-js interop"
source "$(dirname "$0")/../lib.sh"
here="$ROOT/interop/genkit-js"

build_example flow-server
export FLOW_SERVER_BIN="$TARGET/debug/flow-server"
npm_install "$here"
echo "--- $SUITE: node --test"
cd "$here" && node --test
