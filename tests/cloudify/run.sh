#!/usr/bin/env bash
# Cloudify's own Python client (client_test.py, cloudify_rest_client from cloudify-common)
# against `ucsv serve` on a fresh database: the /api/v3.1 users and tenants.
#
#   tests/cloudify/run.sh                                 # SQLite, in a temporary directory
#   scripts/with-postgres.sh tests/cloudify/run.sh        # a new database on that server
#   UCSV_DB=postgres://.../empty tests/cloudify/run.sh    # an empty database of your own
#
# The client is installed in a virtual environment, $UCSV_CFY_VENV or target/cloudify-venv
# (made again when requirements.txt changes); root installs python3-venv when Python
# cannot make one. The binary is $UCSV_BIN, else the dev profile's, built by cargo first.
# The database gets ucsv's tables and a sys_admin account "admin" with a random password;
# the server listens on a free port of 127.0.0.1. Exits 0 when every step of the client
# passed, non-zero otherwise (with the server's log), and 2 when the setting cannot be
# made (no Python, no venv, no package index, no database).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
me=tests/cloudify
die() {
  echo "$me: $*" >&2
  exit 2
}
as_root() { [ "$(id -u)" = 0 ]; }

# --- Python and the client ---------------------------------------------------------------
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${UCSV_CFY_VENV:-$target/cloudify-venv}"
requirements="$here/requirements.txt"
if ! command -v python3 >/dev/null; then
  if as_root && command -v apt-get >/dev/null; then
    echo "$me: installing python3 and python3-venv" >&2
    apt-get -q -o DPkg::Lock::Timeout=300 update >/dev/null
    apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends python3 python3-venv >/dev/null
  fi
  command -v python3 >/dev/null || die "python3 is required (Debian, Ubuntu: apt-get install python3 python3-venv)"
fi
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/ucsv-requirements.txt"; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    # Debian's python3 lacks ensurepip until python3-venv (or python3.X-venv) is installed.
    if as_root && command -v apt-get >/dev/null; then
      echo "$me: installing python3-venv" >&2
      version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
      apt-get -q -o DPkg::Lock::Timeout=300 update >/dev/null
      apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends python3-venv >/dev/null ||
        apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "python$version-venv" >/dev/null ||
        die "apt-get install python3-venv failed"
    fi
    python3 -m venv "$venv" || die "python3 -m venv $venv failed (Debian, Ubuntu: apt-get install python3-venv)"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" ||
    die "pip install -r $requirements failed"
  cp "$requirements" "$venv/ucsv-requirements.txt"
fi
"$venv/bin/python" -c 'import cloudify_rest_client' || die "the client does not import from $venv"

# --- the binary --------------------------------------------------------------------------
if [ -z "${UCSV_BIN:-}" ]; then
  (cd "$root" && cargo build --quiet) || die "cargo build failed"
  UCSV_BIN="$target/debug/ucsv"
fi
[ -x "$UCSV_BIN" ] || die "no ucsv binary at $UCSV_BIN"

# --- a fresh database --------------------------------------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ucsv-cfy.XXXXXX")"
server_pid=
pg_db=
cleanup() {
  local status=$?
  set +e
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  if [ -n "$pg_db" ]; then
    psql -q "$UCSV_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null ||
      echo "$me: could not drop the database $pg_db" >&2
  fi
  if [ "$status" -ne 0 ] && [ -s "$tmp/serve.log" ]; then
    echo "$me: --- the server's log ---" >&2
    tail -n 60 "$tmp/serve.log" >&2
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# $1 with its database name replaced by $2 (postgres://user:pw@host:port/NAME?query).
with_database() {
  local url=$1 name=$2 base query="" rest
  base=${url%%\?*}
  [ "$base" != "$url" ] && query="?${url#*\?}"
  rest=${base#*://}
  case "$rest" in
  */*) base="${base%"$rest"}${rest%%/*}" ;;
  esac
  printf '%s/%s%s\n' "$base" "$name" "$query"
}

if [ -n "${UCSV_DB:-}" ]; then
  db=$UCSV_DB
elif [ -n "${UCSV_TEST_POSTGRES:-}" ]; then
  command -v psql >/dev/null || die "psql is needed to make a database on UCSV_TEST_POSTGRES (apt-get install postgresql-client)"
  pg_db="ucsv_cfy_$$_$RANDOM"
  psql -q "$UCSV_TEST_POSTGRES" -c "CREATE DATABASE $pg_db" >/dev/null ||
    { pg_db=; die "cannot create a database on UCSV_TEST_POSTGRES"; }
  db=$(with_database "$UCSV_TEST_POSTGRES" "$pg_db")
else
  db="$tmp/ucsv.db"
fi
ucsv() { env -u UCSV_DB "$UCSV_BIN" --db "$db" "$@"; }
ucsv init >/dev/null || die "ucsv init failed on the database"
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$password" | ucsv account add admin --role sys_admin --password-stdin >/dev/null ||
  die "ucsv account add admin failed"

# --- the server --------------------------------------------------------------------------
# The binary itself in the background (not through the function, whose subshell would be
# the process killed at the end, leaving the server behind).
env -u UCSV_DB "$UCSV_BIN" --db "$db" serve --listen 127.0.0.1:0 </dev/null >/dev/null 2>"$tmp/serve.log" &
server_pid=$!
addr=
for _ in $(seq 1 300); do
  addr=$(sed -n 's|.*serving http://\([^/]*\)/.*|\1|p' "$tmp/serve.log" | head -n 1)
  [ -n "$addr" ] && break
  kill -0 "$server_pid" 2>/dev/null || { server_pid=; die "ucsv serve exited before serving"; }
  sleep 0.1
done
[ -n "$addr" ] || die "ucsv serve did not start within 30 s"
port=${addr##*:}
case "$db" in
postgres://* | postgresql://*) backend=PostgreSQL ;;
*) backend=SQLite ;;
esac
echo "$me: ucsv serve on $addr ($backend)"

# --- the client --------------------------------------------------------------------------
UCSV_CFY_HOST=127.0.0.1 UCSV_CFY_PORT=$port UCSV_CFY_USER=admin UCSV_CFY_PASSWORD=$password \
  UCSV_CFY_TENANT=default "$venv/bin/python" "$here/client_test.py"
