#!/usr/bin/env bash
# End-to-end benchmark of ucsv against the sqlite3 shell, on generated data, in one run on
# one machine. Writes the figures into benches/README.md (between the results markers).
#
#   benches/run.sh                 # 1,000,000 rows (about 10 minutes on 2 cores)
#   ROWS=100000 benches/run.sh     # a quicker run
#   REPEAT=1 benches/run.sh        # one run of each comparison instead of three
#   UPDATE_ROWS=200000             # the size of (f), update against import (benches/update.sh)
#   PGBIN=/usr/lib/postgresql/15/bin  # (g), ucsv on PostgreSQL against psql (benches/pg.sh),
#                                     # skipped when there is no initdb there or no psql
#   (h) ucsv user (benches/user.sh) lists ROWS users and adds USER_ROWS (10,000) numbers
#   (i) ucsv serve under load (benches/serve.sh): readers during an import of SERVE_ROWS
#       (100,000) rows over HTTP, and a flood of wrong passwords; on SQLite, and on
#       PostgreSQL too (scripts/with-postgres.sh) when PGBIN has the server binaries
#
# Each comparison runs REPEAT times, ucsv and the sqlite3 shell taking turns, and the report
# gives the median: the machines this runs on are shared and noisy.
#
# Needs: a Rust toolchain, the sqlite3 shell (apt-get install sqlite3) and GNU time
# (/usr/bin/time, apt-get install time). Data goes to target/bench (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROWS=${ROWS:-1000000}
SMALL=${SMALL:-100000}
EXTRA=${EXTRA:-10000}
HASHED=${HASHED:-2000}
REPEAT=${REPEAT:-3}
WORK=${WORK:-$ROOT/target/bench}
TIME=/usr/bin/time

for tool in sqlite3 "$TIME"; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 2; }
done

cargo build --release --quiet --bin ucsv --example gen
UCSV=$ROOT/target/release/ucsv
GEN=$ROOT/target/release/examples/gen
mkdir -p "$WORK"
cd "$WORK"
rm -f ./*.db ./*.db-wal ./*.db-shm results.tsv

echo "generating data in $WORK" >&2
"$GEN" --rows "$ROWS" --seed 1 -o "users_$ROWS.csv" --reference reference.toml
"$GEN" --rows "$SMALL" --seed 1 -o "users_$SMALL.csv"
"$GEN" --rows "$EXTRA" --seed 2 --offset "$ROWS" -o extra.csv
"$GEN" --rows "$HASHED" --seed 3 --passwords -o passwords.csv

# measure LABEL COMMAND...: runs COMMAND once, records wall seconds, CPU seconds and max RSS.
measure() {
  local label=$1
  shift
  "$TIME" -f "%e %U %S %M" -o time.txt "$@" >/dev/null
  read -r wall user sys rss <time.txt
  printf '%s\t%s\t%s\t%s\n' "$label" "$wall" "$(echo "$user + $sys" | bc)" "$rss" >>results.tsv
  echo "$label: ${wall}s wall, $((rss / 1024)) MB max RSS" >&2
}

fresh() { # fresh DB: a new ucsv database with the generated reference data
  rm -f "$1" "$1-wal" "$1-shm"
  "$UCSV" --db "$1" -q init --reference reference.toml
}

# (a) ucsv import into a fresh database, full validation on, and (b) the sqlite3 shell:
# .import into a staging table, then INSERT ... SELECT into the same schema (same unique
# indexes), no validation. Taking turns.
ln -sf "users_$ROWS.csv" users.csv
for _ in $(seq "$REPEAT"); do
  fresh a.db
  measure import_ucsv "$UCSV" --db a.db -q import "users_$ROWS.csv" --no-progress
  rm -f base.db base.db-wal base.db-shm
  sqlite3 base.db <"$ROOT/schemas/sqlite/0001_init.sql"
  measure import_sqlite3 sh -c "sqlite3 base.db < '$ROOT/benches/baseline.sql'"
done

# (c) export of all users vs the sqlite3 shell writing the same join as CSV.
for _ in $(seq "$REPEAT"); do
  measure export_ucsv "$UCSV" --db a.db -q export -o export.csv --no-progress
  measure export_sqlite3 sh -c "sqlite3 a.db < '$ROOT/benches/export_baseline.sql'"
done

# (e) memory at the smaller size, for the growth check.
fresh small.db
measure import_ucsv_small "$UCSV" --db small.db -q import "users_$SMALL.csv" --no-progress
measure export_ucsv_small "$UCSV" --db small.db -q export -o export_small.csv --no-progress

# (e) the JSON report lists every row: its memory at both sizes (the report goes to
# /dev/null; its lists are spooled to temporary files in $TMPDIR, not kept in memory).
fresh json_small.db
measure import_json_small "$UCSV" --db json_small.db -q import "users_$SMALL.csv" --no-progress --format json
fresh json.db
measure import_json "$UCSV" --db json.db -q import "users_$ROWS.csv" --no-progress --format json

# (d) the same extra rows into an empty database and into a copy of the one holding ROWS users.
for _ in $(seq "$REPEAT"); do
  fresh empty.db
  measure extra_into_empty "$UCSV" --db empty.db -q import extra.csv --no-progress
  cp a.db full.db
  rm -f full.db-wal full.db-shm
  sync full.db # the copy's write-back is not the import's to pay for at its commit
  measure extra_into_full "$UCSV" --db full.db -q import extra.csv --no-progress
done

# Password hashing (argon2id) on its own: rows with plaintext passwords.
fresh hashed.db
measure hashing "$UCSV" --db hashed.db -q import passwords.csv --no-progress

# (f) update against import, at UPDATE_ROWS users (its own script, also run alone).
update_table=$(UPDATE_WORK="$WORK/update" REPEAT="$REPEAT" "$ROOT/benches/update.sh")

# (h) ucsv user: add against import, a streamed list of ROWS users, show by DN and username
# (its own script, also run alone).
user_table=$(USER_WORK="$WORK/user" LIST_ROWS="$ROWS" REPEAT="$REPEAT" "$ROOT/benches/user.sh")

# (g) PostgreSQL: ucsv against psql at ROWS rows (its own script, also run alone), on the same
# generated file; written between the pg-results markers of benches/README.md.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ -x "$PGBIN/initdb" ] && command -v psql >/dev/null; then
  mkdir -p "$WORK/pg"
  ln -sf "$WORK/users_$ROWS.csv" "$WORK/pg/users_$ROWS.csv"
  pg_table=$(PG_WORK="$WORK/pg" ROWS="$ROWS" REPEAT="$REPEAT" PGBIN="$PGBIN" "$ROOT/benches/pg.sh") ||
    pg_table="Not measured by the last run of \`benches/run.sh\`: \`benches/pg.sh\` failed."
else
  pg_table="Not measured by the last run of \`benches/run.sh\`: no PostgreSQL server binaries in $PGBIN, or no psql."
fi

# (i) ucsv serve under load (its own script, also run alone), on SQLite, then on PostgreSQL
# beside the throwaway server of scripts/with-postgres.sh; written between the
# serve-results markers of benches/README.md.
serve_table=$(SERVE_WORK="$WORK/serve" REPEAT="$REPEAT" "$ROOT/benches/serve.sh") ||
  serve_table="Not measured by the last run of \`benches/run.sh\`: \`benches/serve.sh\` failed."
if [ -x "$PGBIN/initdb" ] && command -v psql >/dev/null; then
  serve_pg_table=$(SERVE_WORK="$WORK/serve-pg" REPEAT="$REPEAT" BACKEND=postgres UCSV_PG_BINDIR="$PGBIN" \
    "$ROOT/scripts/with-postgres.sh" "$ROOT/benches/serve.sh") ||
    serve_pg_table="PostgreSQL: not measured by the last run of \`benches/run.sh\`: \`benches/serve.sh\` failed."
else
  serve_pg_table="PostgreSQL: not measured by the last run of \`benches/run.sh\`: no server binaries in $PGBIN, or no psql."
fi

# The report.
# get LABEL COLUMN: the median over the runs (column 2 wall, 3 CPU, 4 max RSS).
get() {
  awk -F'\t' -v k="$1" -v c="$2" '$1 == k { print $c }' results.tsv | sort -g |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
ratio() { printf '%.2f' "$(echo "scale=4; $(get "$1" 2) / $(get "$2" 2)" | bc)"; }
mb() { echo "$(($(get "$1" 4) / 1024))"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
hash_rate=$(echo "scale=0; $HASHED / $(get hashing 2)" | bc)
hash_cores=$(printf '%.2f' "$(echo "scale=4; $(get hashing 3) / $(get hashing 2)" | bc)")
size=$(du -m "users_$ROWS.csv" | cut -f1)
report=$(
  cat <<EOF
Measured $(date -u +%Y-%m-%d) by \`benches/run.sh\` on $(nproc) cores ($cpu), $(($(grep MemTotal /proc/meminfo | awk '{print $2}') / 1024 / 1024)) GiB,
sqlite3 $(sqlite3 --version | cut -d' ' -f1) shell, ucsv with its bundled SQLite; data: $ROWS generated rows
(${size} MB, every group filled, seed 1); wall-clock seconds, median of $REPEAT runs taking turns.

| measure | ucsv | sqlite3 shell | ratio | target |
|---|---|---|---|---|
| (a)/(b) import $ROWS rows into a fresh database | $(get import_ucsv 2) s | $(get import_sqlite3 2) s | $(ratio import_ucsv import_sqlite3) | ≤ 1.0 (stretch 0.8) |
| (c) export $ROWS users as CSV | $(get export_ucsv 2) s | $(get export_sqlite3 2) s | $(ratio export_ucsv export_sqlite3) | ≤ 1.0 |
| (d) import $EXTRA rows: into $ROWS users / into an empty database | $(get extra_into_full 2) s | $(get extra_into_empty 2) s | $(ratio extra_into_full extra_into_empty) | ≤ 1.5 |

| (e) peak memory (max RSS) | $SMALL rows | $ROWS rows | target |
|---|---|---|---|
| import | $(mb import_ucsv_small) MB | $(mb import_ucsv) MB | ≤ 256 MB, flat |
| import --format json | $(mb import_json_small) MB | $(mb import_json) MB | ≤ 256 MB, flat |
| export | $(mb export_ucsv_small) MB | $(mb export_ucsv) MB | ≤ 256 MB, flat |

$update_table

$user_table

Password hashing, reported separately: $HASHED rows with plaintext passwords import in
$(get hashing 2) s ($hash_rate rows/s), using $hash_cores cores on average (argon2id,
default parameters, in the parallel stage).
EOF
)
cd "$ROOT"
python3 - "$report" "$pg_table" "$serve_table"$'\n\n'"$serve_pg_table" <<'PY'
import sys, re
path = "benches/README.md"
text = open(path).read()
for name, body in (("results", sys.argv[1]), ("pg-results", sys.argv[2]), ("serve-results", sys.argv[3])):
    new = f"<!-- {name}:begin -->\n" + body + f"\n<!-- {name}:end -->"
    text = re.sub(f"<!-- {name}:begin -->.*?<!-- {name}:end -->", lambda m: new, text, flags=re.S)
open(path, "w").write(text)
PY
echo "$report"
echo
echo "$pg_table"
echo
echo "$serve_table"
echo
echo "$serve_pg_table"
