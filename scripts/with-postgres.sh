#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server, with UCSV_TEST_POSTGRES pointing at it:
#
#   scripts/with-postgres.sh cargo test              # the whole suite on PostgreSQL
#   scripts/with-postgres.sh cargo test --test cli   # the CLI suite only (what .ci/run does)
#
# The server is a new cluster in a temporary directory: trust authentication, listening on
# 127.0.0.1 only, on a free port, its socket in that directory. It runs as the calling user,
# or as `postgres` when called by root (the server refuses to run as root). It is stopped
# and its directory removed when the command ends, however it ends; the script exits with
# the command's status, or non-zero with the reason when the server cannot be had.
#
# The server binaries (initdb, pg_ctl, postgres) are taken from $UCSV_PG_BINDIR if set, else
# the newest /usr/lib/postgresql/*/bin (Debian, Ubuntu), else initdb's directory on PATH.
# When there are none, root installs them (apt-get install postgresql); anyone else is told
# to.
set -euo pipefail

me=with-postgres
die() {
  echo "$me: $*" >&2
  exit 2
}

[ $# -gt 0 ] || die "usage: $0 COMMAND [ARG...]"
root=false
[ "$(id -u)" -eq 0 ] && root=true

# The directory of the server binaries, or nothing.
find_bindir() {
  if [ -n "${UCSV_PG_BINDIR:-}" ]; then
    echo "$UCSV_PG_BINDIR"
    return
  fi
  local initdb
  initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
  if [ -x "$initdb" ]; then
    dirname "$initdb"
  elif initdb=$(command -v initdb); then
    dirname "$initdb"
  fi
}

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
  $root || die "no PostgreSQL server binaries (initdb) found, and only root may install them.
Install the server (Debian, Ubuntu: sudo apt-get install postgresql), or set UCSV_PG_BINDIR
to the directory holding initdb, pg_ctl and postgres."
  command -v apt-get >/dev/null ||
    die "no PostgreSQL server binaries (initdb) found, and no apt-get to install them with.
Install the PostgreSQL server, or set UCSV_PG_BINDIR to the directory holding initdb."
  echo "$me: installing PostgreSQL (apt-get install postgresql)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may still be running its own apt jobs: wait for the lock a while.
  apt=(apt-get -q -o DPkg::Lock::Timeout=300)
  "${apt[@]}" update || die "apt-get update failed"
  "${apt[@]}" install -y --no-install-recommends postgresql ||
    die "apt-get install postgresql failed"
  bindir=$(find_bindir)
  [ -n "$bindir" ] || die "PostgreSQL was installed, yet no initdb is found under /usr/lib/postgresql"
fi
for tool in initdb pg_ctl postgres; do
  [ -x "$bindir/$tool" ] || die "$bindir/$tool: not found or not executable"
done

if $root; then
  id postgres >/dev/null 2>&1 ||
    die "running as root, but there is no 'postgres' user to run the server as"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ucsv-pg.XXXXXX")
data=$tmp/data
log=$tmp/server.log
started=false

# Runs a command as the server's user, from the temporary directory (the caller's working
# directory may be closed to that user).
as_server() {
  if $root; then
    (cd "$tmp" && runuser -u postgres -- "$@")
  else
    (cd "$tmp" && "$@")
  fi
}

cleanup() {
  local status=$?
  set +e
  if $started; then
    as_server "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null ||
      as_server "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null ||
      echo "$me: could not stop the server of $data" >&2
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if $root; then
  chown postgres: "$tmp"
  runuser -u postgres -- test -w "$tmp" ||
    die "the postgres user cannot write to $tmp: set TMPDIR to a directory it can reach"
fi

# Tests open a few connections each, on as many threads as there are cores.
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 4)
connections=$((cores * 10 > 200 ? cores * 10 : 200))

# UTF8 and the C locale, whatever the machine's: the same behaviour everywhere. TCP
# connections need the password (so that tests can try a wrong one); the Unix socket in the
# temporary directory trusts its local user.
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$password" >"$tmp/pwfile"
$root && chown postgres: "$tmp/pwfile"
as_server "$bindir/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  --pwfile="$tmp/pwfile" --encoding=UTF8 --locale=C --no-sync >"$tmp/initdb.log" 2>&1 || {
  cat "$tmp/initdb.log" >&2
  die "initdb failed (output above)"
}
cat >>"$data/postgresql.conf" <<EOF

# with-postgres.sh: a throwaway server for tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp'
max_connections = $connections
# Thrown away after the run: nothing needs to survive a crash of the machine, and the
# tests create and drop hundreds of databases.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

# A port nothing listens on; another program may still take it before the server binds it,
# so a start that fails to bind tries another port.
port=
for _ in 1 2 3 4 5 6 7 8 9 10; do
  candidate=$((20000 + RANDOM % 12000))
  if (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
    continue
  fi
  rm -f "$log"
  if as_server "$bindir/pg_ctl" -D "$data" -l "$log" -o "-p $candidate" -w -t 90 start >/dev/null; then
    port=$candidate
    started=true
    break
  fi
  # pg_ctl may give up while the server is still coming up: make sure it is down.
  as_server "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  grep -q 'could not bind\|could not create any TCP/IP sockets' "$log" 2>/dev/null || break
done
if [ -z "$port" ]; then
  echo "$me: --- server log ($log) ---" >&2
  cat "$log" >&2 2>/dev/null || echo "(no log)" >&2
  die "the PostgreSQL server did not start (log above)"
fi

rm -f "$tmp/pwfile"
export UCSV_TEST_POSTGRES="postgres://postgres:$password@127.0.0.1:$port/postgres"
# How a test restarts the server (tests/fault_campaign.sh): a command, waiting until it is up.
cat >"$tmp/restart" <<EOF
#!/usr/bin/env bash
set -e
cd "$tmp"
if [ "\$(id -u)" -eq 0 ]; then
  exec runuser -u postgres -- "$bindir/pg_ctl" -D "$data" -l "$log" -o "-p $port" -m fast -w -t 90 restart
fi
exec "$bindir/pg_ctl" -D "$data" -l "$log" -o "-p $port" -m fast -w -t 90 restart
EOF
chmod 755 "$tmp/restart"
export UCSV_TEST_POSTGRES_RESTART="$tmp/restart"
echo "$me: $("$bindir/postgres" -V) on 127.0.0.1:$port" >&2

set +e
"$@"
status=$?
set -e
exit "$status"
