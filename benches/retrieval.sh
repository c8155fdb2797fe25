#!/usr/bin/env bash
# Retrieval benchmarks (issue 16), printed as markdown tables for docs/performance.md. Not a
# test: nothing here runs in CI.
#
#   benches/retrieval.sh scale             # SQLite vs Postgres+pgvector, 10k and 100k chunks
#   benches/retrieval.sh quality DIR       # recall@3, MRR@10, nDCG@10 on a collection in DIR
#
# scale starts a throwaway Postgres with pgvector (interop/postgres/server.sh; SIZES, QUERIES
# as the program reads them). quality reads a collection in BEIR's layout (corpus.jsonl,
# queries.jsonl, qrels/test.tsv): keyword-only, plus vector-only and hybrid with the local
# MiniLM embedder when FEATURES includes local-models (all-MiniLM-L6-v2 in GENFLOW_MODELS_DIR,
# default target/models, as scripts/fetch-test-models puts it). benches/cranfield-to-beir.py
# turns the Cranfield collection into that layout (docs/performance.md has its figures).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
SUITE=retrieval
source "$here/../interop/lib.sh"
features="sqlite,postgres${FEATURES:+,$FEATURES}"
run() {
  cargo run --locked --release -q --manifest-path "$ROOT/Cargo.toml" -p genflow-runtime \
    --features "$features" --example retrieval_bench -- "$@"
}
echo "--- $SUITE: at $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
case "${1:-}" in
  scale)
    source "$ROOT/interop/postgres/server.sh"
    mkdir -p "$TARGET/retrieval-bench"
    GENFLOW_BENCH_POSTGRES_URL="$POSTGRES_URL" BENCH_DIR="$TARGET/retrieval-bench" run scale
    ;;
  quality)
    [ -n "${2:-}" ] || { echo "usage: $0 quality DIR" >&2; exit 2; }
    run quality "$2"
    ;;
  *)
    echo "usage: $0 scale | quality DIR" >&2
    exit 2
    ;;
esac
