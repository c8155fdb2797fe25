# Starts a throwaway Postgres with pgvector for the caller; sourced, not run (after
# interop/lib.sh, with SUITE set). Installs pgserver (Postgres with pgvector, pinned in
# requirements.txt) into a venv, starts a server from its binaries on 127.0.0.1 (a temporary
# data directory, a free port, trust authentication), exports its URL as POSTGRES_URL, and
# stops it when the caller's shell exits.
pg_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${GENFLOW_PG_VENV:-/tmp/genflow-pg-venv}"

echo "--- $SUITE: venv $venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir -r "$pg_here/requirements.txt"
# The binaries pgserver ships, found without importing it (its import sets up a lock file).
bin="$("$venv/bin/python" -c 'import importlib.util, os
spec = importlib.util.find_spec("pgserver")
print(os.path.join(spec.submodule_search_locations[0], "pginstall", "bin"))')"
port="$(free_port)"

dir="$(mktemp -d /tmp/genflow-pg.XXXXXX)"
# Postgres refuses to run as root: then the server runs as `nobody` (pgserver itself would add
# a system user instead).
as=()
if [ "$(id -u)" = 0 ]; then
  chown nobody "$dir"
  as=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --)
fi
stop_postgres() {
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop_postgres EXIT

echo "--- $SUITE: $("$bin/postgres" --version) on 127.0.0.1:$port"
"${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
export POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
