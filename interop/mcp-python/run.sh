#!/usr/bin/env bash
# MCP interop: builds the quickstart (which serves MCP), installs the official Python MCP SDK
# (pinned in requirements.txt) into a venv, and runs its client against the quickstart over
# streamable HTTP and over stdio, each a real process; then genflow's MCP client against the
# SDK's server (tools_server.py), in genflow-runtime/tests/mcp_client.rs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${GENFLOW_MCP_VENV:-/tmp/genflow-mcp-venv}"

echo "--- mcp-python interop: build examples/quickstart"
cargo build --locked -q --manifest-path "$root/Cargo.toml" -p quickstart
export QUICKSTART_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/quickstart"

echo "--- mcp-python interop: venv $venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir -r "$here/requirements.txt"

echo "--- mcp-python interop: genflow's MCP client against the SDK's server"
# With GENFLOW_MCP_VENV set, the test requires the SDK instead of skipping.
GENFLOW_MCP_VENV="$venv" cargo test --locked -q --manifest-path "$root/Cargo.toml" \
  -p genflow-runtime --features mcp-client --test mcp_client

echo "--- mcp-python interop: pytest"
cd "$here"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
