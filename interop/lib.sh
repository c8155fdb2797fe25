# Helpers shared by the interop suites' run.sh scripts; sourced, not run. Sets ROOT (the
# repository) and TARGET (the cargo target directory).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

# build_example PACKAGE: builds examples/PACKAGE (debug); its binary is $TARGET/debug/PACKAGE.
build_example() {
  echo "--- $SUITE: build examples/$1"
  cargo build --locked -q --manifest-path "$ROOT/Cargo.toml" -p "$1"
}

# npm_install DIR: installs DIR's npm dependencies exactly as its package-lock.json pins them.
npm_install() {
  echo "--- $SUITE: npm ci"
  (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
}

# free_port: prints a port nothing listens on, on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_healthy URL LOG: waits (10 s at most) until URL/healthz answers; prints LOG and fails
# otherwise.
wait_healthy() {
  for _ in $(seq 1 100); do
    curl -fsS "$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$1 did not start:" >&2
  cat "$2" >&2
  return 1
}
