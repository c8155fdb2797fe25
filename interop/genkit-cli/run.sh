#!/usr/bin/env bash
# Genkit CLI interop: builds the quickstart, installs Genkit's CLI (genkit-cli, pinned by
# package-lock.json) and drives the quickstart in dev mode with `genkit flow:run` (plain and
# --stream) over the reflection API, plus a cancel through the reflection API.
set -euo pipefail
SUITE="genkit-cli interop"
source "$(dirname "$0")/../lib.sh"
here="$ROOT/interop/genkit-cli"

build_example quickstart
export QUICKSTART_BIN="$TARGET/debug/quickstart"
npm_install "$here"
echo "--- $SUITE: node --test"
cd "$here" && node --test
