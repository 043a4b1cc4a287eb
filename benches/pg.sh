#!/usr/bin/env bash
# End-to-end benchmark of ucsv on PostgreSQL against psql, on generated data, in one run on
# one machine. Prints a Markdown table on stdout (progress on stderr).
#
#   benches/pg.sh                  # 1,000,000 rows
#   ROWS=100000 benches/pg.sh      # a quicker run
#   REPEAT=1 benches/pg.sh         # one run of each comparison instead of three
#   PGBIN=/usr/lib/postgresql/16/bin benches/pg.sh   # another server version
#   BASE=/path/to/other/ucsv benches/pg.sh           # also that build's export, in turn
#
# It starts a throwaway PostgreSQL cluster in a temporary directory under target/ (as the
# postgres user when run as root), listening on a free port of 127.0.0.1, with the server's
# default settings (fsync and synchronous_commit on: both sides durable), and stops it at
# the end. Each run of each side gets a fresh database; a CHECKPOINT before each timed run
# keeps one run's writes from being paid by the next.
#
#   (a)/(b) `ucsv import` of ROWS generated rows, full validation on, against psql running
#           benches/pg_baseline.sql: \copy into a staging table, then plain INSERT ... SELECT
#           into the same schema (schemas/postgres/0001_init.sql), in one transaction;
#   (c)     `ucsv export` of those users against psql writing the same join as CSV
#           (benches/pg_export_baseline.sql);
#   (e)     ucsv's peak memory (max RSS) in the import and the export.
#
# ucsv and psql take turns, REPEAT times; the table gives the medians of wall-clock time and
# of the server's CPU time (its backends' and background processes', from the postmaster's
# accounting of its children).
#
# Needs: a Rust toolchain, PostgreSQL's server binaries (PGBIN, default
# /usr/lib/postgresql/15/bin), psql, GNU time (/usr/bin/time) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROWS=${ROWS:-1000000}
REPEAT=${REPEAT:-3}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
WORK=${PG_WORK:-$ROOT/target/bench/pg}
TIME=/usr/bin/time

for tool in psql "$TIME" python3 "$PGBIN/initdb" "$PGBIN/pg_ctl"; do
  command -v "$tool" >/dev/null || { echo "pg.sh: $tool is required" >&2; exit 2; }
done

cargo build --release --quiet --bin ucsv --example gen
GEN=$ROOT/target/release/examples/gen
mkdir -p "$WORK"
cd "$WORK"
# A copy: a build during the run does not change the binary measured.
cp "$ROOT/target/release/ucsv" ./ucsv
UCSV=$WORK/ucsv
rm -f results.tsv

if [ ! -s "users_$ROWS.csv" ]; then
  echo "generating $ROWS rows in $WORK" >&2
  "$GEN" --rows "$ROWS" --seed 1 -o "users_$ROWS.csv.tmp" --reference reference.toml
  mv "users_$ROWS.csv.tmp" "users_$ROWS.csv"
fi
"$GEN" --rows 0 -o /dev/null --reference reference.toml
ln -sf "users_$ROWS.csv" users.csv

# The throwaway cluster. As root, the server runs as the postgres user (it refuses root).
CLUSTER=$(mktemp -d "$WORK/cluster.XXXXXX")
as_server() { "$@"; }
if [ "$(id -u)" = 0 ]; then
  chown postgres "$CLUSTER"
  as_server() { runuser -u postgres -- "$@"; }
fi
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_server "$PGBIN/initdb" -D "$CLUSTER/data" -U postgres --auth=trust --encoding=UTF8 \
  --locale=C.UTF-8 >"$CLUSTER/initdb.log"
stop() {
  as_server "$PGBIN/pg_ctl" -D "$CLUSTER/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$CLUSTER"
}
trap stop EXIT
trap 'exit 130' INT TERM
as_server "$PGBIN/pg_ctl" -D "$CLUSTER/data" -l "$CLUSTER/server.log" -w \
  -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >/dev/null
SERVER=postgres://postgres@127.0.0.1:$PORT
POSTMASTER=$(head -1 "$CLUSTER/data/postmaster.pid")
VERSION=$(psql -X -At -d "$SERVER/postgres" -c 'SHOW server_version' | cut -d' ' -f1)
echo "PostgreSQL $VERSION on port $PORT, data in $CLUSTER" >&2

sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$SERVER/postgres" -c "SET client_min_messages = warning" -c "$1" >/dev/null; }
fresh() { # fresh NAME: an empty database (dropped first if there)
  sql "DROP DATABASE IF EXISTS $1"
  sql "CREATE DATABASE $1"
}
# The server's CPU seconds so far: what its exited children used (the postmaster's cutime
# and cstime) plus what its live processes (checkpointer, writers) used.
server_cpu() {
  python3 - "$POSTMASTER" <<'PY'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
pm = sys.argv[1]
def fields(pid):
    s = open(f"/proc/{pid}/stat").read()
    return s[s.rindex(")") + 2:].split()
f = fields(pm)
total = int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
for pid in os.listdir("/proc"):
    if pid.isdigit() and pid != pm:
        try:
            g = fields(pid)
        except OSError:
            continue
        if g[1] == pm:
            total += int(g[11]) + int(g[12])
print(total / tick)
PY
}

# measure LABEL COMMAND...: runs COMMAND once (after a checkpoint), records wall seconds,
# client CPU seconds, client max RSS and server CPU seconds.
measure() {
  local label=$1
  shift
  sql CHECKPOINT
  local before after
  before=$(server_cpu)
  "$TIME" -f "%e %U %S %M" -o time.txt "$@" >/dev/null
  after=$(server_cpu)
  read -r wall user sys rss <time.txt
  local server
  server=$(printf '%.2f' "$(echo "$after - $before" | bc)")
  printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$wall" "$(echo "$user + $sys" | bc)" "$rss" "$server" >>results.tsv
  echo "$label: ${wall}s wall, $((rss / 1024)) MB max RSS, ${server}s server CPU" >&2
}

# (a)/(b) import, then (c) export of what ucsv imported; ucsv and psql taking turns.
for r in $(seq "$REPEAT"); do
  fresh ucsv_$r
  "$UCSV" --db "$SERVER/ucsv_$r" -q init --reference reference.toml >/dev/null
  measure import_ucsv "$UCSV" --db "$SERVER/ucsv_$r" -q import users.csv --no-progress
  fresh base_$r
  psql -X -q -v ON_ERROR_STOP=1 -d "$SERVER/base_$r" -f "$ROOT/schemas/postgres/0001_init.sql" >/dev/null
  measure import_psql psql -X -q -v ON_ERROR_STOP=1 -d "$SERVER/base_$r" -f "$ROOT/benches/pg_baseline.sql"
  sql "DROP DATABASE base_$r"
  [ "$r" = 1 ] || sql "DROP DATABASE ucsv_$((r - 1))"
done
# The statistics and visibility map autovacuum would make a minute later, made now, so that
# it does not run during the exports.
psql -X -q -d "$SERVER/ucsv_$REPEAT" -c 'VACUUM ANALYZE' >/dev/null
for _ in $(seq "$REPEAT"); do
  measure export_ucsv "$UCSV" --db "$SERVER/ucsv_$REPEAT" -q export -o export.csv --no-progress
  if [ -n "${BASE:-}" ]; then
    measure export_base "$BASE" --db "$SERVER/ucsv_$REPEAT" -q export -o export_base.csv --no-progress
  fi
  measure export_psql sh -c "psql -X -q -v ON_ERROR_STOP=1 -d '$SERVER/ucsv_$REPEAT' -f '$ROOT/benches/pg_export_baseline.sql' >export_psql.csv"
done
# The two exports hold the same users.
users=$(($(wc -l <export_psql.csv) - 1))
[ "$users" -ge "$ROWS" ] || { echo "pg.sh: psql exported $users users, not $ROWS" >&2; exit 1; }

# The report. get LABEL COLUMN: the median over the runs (2 wall, 3 client CPU, 4 client max
# RSS in KB, 5 server CPU).
get() {
  awk -F'\t' -v k="$1" -v c="$2" '$1 == k { print $c }' results.tsv | sort -g |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
ratio() { printf '%.2f' "$(echo "scale=4; $(get "$1" 2) / $(get "$2" 2)" | bc)"; }
mb() { echo "$(($(get "$1" 4) / 1024))"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
size=$(du -m "users_$ROWS.csv" | cut -f1)
base_row=
if [ -n "${BASE:-}" ]; then
  base_row=$'\n'"| export $ROWS users by the build BASE, in the same turns | $(get export_base 2) s | $(get export_psql 2) s | $(ratio export_base export_psql) | | $(get export_base 5) s / $(get export_psql 5) s |"
fi
cat <<EOF
Measured $(date -u +%Y-%m-%d) by \`benches/pg.sh\` on $(nproc) cores ($cpu), PostgreSQL $VERSION
(a throwaway cluster with the server's default settings: fsync and synchronous_commit on,
shared_buffers $(psql -X -At -d "$SERVER/postgres" -c 'SHOW shared_buffers'), max_wal_size $(psql -X -At -d "$SERVER/postgres" -c 'SHOW max_wal_size')), client and server on the same machine over TCP;
data: $ROWS generated rows ($size MB, seed 1); median of $REPEAT runs taking turns.

| measure | ucsv | psql | ratio | target | server CPU: ucsv / psql |
|---|---|---|---|---|---|
| import $ROWS rows into a fresh database | $(get import_ucsv 2) s | $(get import_psql 2) s | $(ratio import_ucsv import_psql) | ≤ 1.0 | $(get import_ucsv 5) s / $(get import_psql 5) s |
| export $ROWS users as CSV | $(get export_ucsv 2) s | $(get export_psql 2) s | $(ratio export_ucsv export_psql) | ≤ 1.0 | $(get export_ucsv 5) s / $(get export_psql 5) s |$base_row

| ucsv peak memory (max RSS), $ROWS rows | measured | target |
|---|---|---|
| import | $(mb import_ucsv) MB | ≤ 256 MB |
| export | $(mb export_ucsv) MB | ≤ 256 MB |
EOF
