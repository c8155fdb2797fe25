#!/usr/bin/env bash
# Postgres store: starts a throwaway Postgres with pgvector (server.sh), runs the store's tests
# against it, and stops it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
SUITE=postgres
source "$here/../lib.sh"
source "$here/server.sh"
export GENFLOW_TEST_POSTGRES_URL="$POSTGRES_URL"

echo "--- postgres: the store suite and replicas sharing one index"
cargo test --locked --manifest-path "$ROOT/Cargo.toml" -p genflow-runtime --features postgres \
  --test retrieval_postgres "$@"
