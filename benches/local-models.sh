#!/usr/bin/env bash
# genflow's in-process local model (candle) next to llama.cpp on the same GGUF file, in one
# run: the same prompt, sampling, token budget and thread count, one after the other, so that
# both see the same machine. A measurement, not a test; run it on a quiet machine.
#
#   benches/local-models.sh          # prints both tables
#
# Settings (environment): GENFLOW_MODELS_DIR (default target/models, filled by
# scripts/fetch-test-models), RUNS (5), TOKENS (128), THREADS (1: candle's matmul threads and
# llama.cpp's threads).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

export GENFLOW_MODELS_DIR="${GENFLOW_MODELS_DIR:-$ROOT/target/models}"
export RUNS="${RUNS:-5}" TOKENS="${TOKENS:-128}" THREADS="${THREADS:-1}"
GGUF="$GENFLOW_MODELS_DIR/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -s "$GGUF" ] || scripts/fetch-test-models

echo "--- building genflow's benchmark (release)"
cargo build --release --locked -q -p genflow-bench --features local-models --example local_models
# `npm install` keeps to the lock file; npm 11's `npm ci` rejects it for the other platforms'
# optional binaries it leaves out.
(cd benches/llama-cpp && npm install --no-audit --no-fund --loglevel=error)

echo "--- genflow (candle), CANDLE_NUM_THREADS=$THREADS"
CANDLE_NUM_THREADS="$THREADS" target/release/examples/local_models
echo "--- llama.cpp (node-llama-cpp, prebuilt CPU binary), $THREADS thread(s)"
node benches/llama-cpp/bench.mjs "$GGUF"
