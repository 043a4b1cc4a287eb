#!/usr/bin/env bash
# The kill campaign: N imports killed with SIGKILL at random points, each into a copy of a
# database that already holds users, to show that an interrupted import leaves the database
# exactly as it was (or, killed after its commit, exactly as a full import leaves it), never
# in between, never damaged, and always usable.
#
#   tests/kill_campaign.sh          # 50 kills
#   tests/kill_campaign.sh 200      # 200 kills
#   ROWS=200000 SEED=7 tests/kill_campaign.sh 20
#
# Each kill first freezes the process (SIGSTOP) and reads /proc/locks: a process holding
# SQLite's WAL write lock (byte 120 of the -shm file) has its write transaction open, so the
# kill "landed mid-write"; then SIGKILL. After each kill: PRAGMA integrity_check is "ok",
# PRAGMA foreign_key_check is empty, the row count of every table equals the count before
# the import or the count after a full import, and a following import succeeds.
# It prints a summary and exits 1 on any failure (2 on a usage or setup error).
#
# Needs: Linux (/proc/locks), a Rust toolchain and the sqlite3 shell (apt-get install
# sqlite3). The release binary and the generator (benches/gen.rs) are built first; data goes
# to target/kill (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
KILLS=${1:-50}
BASE=${BASE:-2000}     # users already in the database
# Rows of the import that is killed: 150,000 generated rows make a transaction of some
# 110 MB, more than ucsv's 64 MB page cache, so SQLite spills uncommitted pages into the WAL
# file mid-import and many kills leave uncommitted frames on disk for recovery to ignore
# (smaller imports write the WAL only at their commit).
ROWS=${ROWS:-150000}
EXTRA=${EXTRA:-10}     # rows of the import that follows each kill
SEED=${SEED:-1}        # seeds the kill times, so a campaign can be replayed
WORK=${WORK:-$ROOT/target/kill}

[[ $KILLS =~ ^[0-9]+$ ]] || { echo "usage: $0 [KILLS]" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "kill_campaign.sh: sqlite3 is required" >&2; exit 2; }
[[ -r /proc/locks ]] || { echo "kill_campaign.sh: /proc/locks is required (Linux)" >&2; exit 2; }

cargo build --release --quiet --bin ucsv --example gen
UCSV=$ROOT/target/release/ucsv
GEN=$ROOT/target/release/examples/gen
mkdir -p "$WORK"
cd "$WORK"
rm -f ./*.db ./*.db-wal ./*.db-shm

# The tables of the storage contract (tests/cli/workdir.rs), reference data first.
TABLES=(entities contexts context_ranges call_permissions cti_profiles users lines extensions
  incalls voicemails user_voicemails user_call_permissions)
counts() { # counts DB: "table=count ..." for every table, on one line
  local sql="" t
  for t in "${TABLES[@]}"; do
    sql+="SELECT '$t=' || count(*) FROM $t;"
  done
  sqlite3 "$1" "$sql" | tr '\n' ' '
}
fresh_copy() { # fresh_copy DB: DB becomes a copy of the base database
  rm -f "$1" "$1-wal" "$1-shm"
  cp base.db "$1"
}

echo "generating $BASE + $ROWS + $EXTRA rows in $WORK" >&2
"$GEN" --rows "$BASE" --seed 1 -o base.csv --reference reference.toml
"$GEN" --rows "$ROWS" --seed 2 --offset "$BASE" -o import.csv
"$GEN" --rows "$EXTRA" --seed 3 --offset $((BASE + ROWS)) -o extra.csv
"$UCSV" --db base.db -q init --reference reference.toml
"$UCSV" --db base.db -q import base.csv --no-progress
BEFORE=$(counts base.db)

# One full import gives the "after" counts and the time an import takes, which bounds the
# random kill times (up to 110% of it, so that a few runs finish before their kill).
fresh_copy full.db
start=$(date +%s%N)
"$UCSV" --db full.db -q import import.csv --no-progress
FULL_MS=$((($(date +%s%N) - start) / 1000000))
AFTER=$(counts full.db)
[[ $BEFORE != "$AFTER" ]] || { echo "kill_campaign.sh: the import changed nothing" >&2; exit 2; }
echo "a full import of $ROWS rows takes ${FULL_MS} ms; killing $KILLS times" >&2

RANDOM=$SEED
mid_write=0 mid_write_wal=0 outside=0 finished=0 failures=0
landed_before=0 landed_after=0
campaign_start=$(date +%s)
for ((i = 1; i <= KILLS; i++)); do
  db=kill.db
  fresh_copy "$db"
  delay_ms=$(((RANDOM * 32768 + RANDOM) % (FULL_MS * 11 / 10 + 1)))
  "$UCSV" --db "$db" -q import import.csv --no-progress >/dev/null 2>kill.err &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  phase=outside
  # Frozen, the process cannot commit between the look at its locks and the kill.
  if kill -STOP "$pid" 2>/dev/null; then
    shm=$(stat -c %i "$db-shm" 2>/dev/null || echo none)
    if grep -qE "POSIX +ADVISORY +WRITE +$pid +[0-9a-f]+:[0-9a-f]+:$shm +120 +120\$" /proc/locks; then
      phase=mid-write
    fi
    kill -KILL "$pid" 2>/dev/null || true
  fi
  status=0
  { wait "$pid"; } 2>/dev/null || status=$? # quiet: the shell would report the kill
  wal=$(stat -c %s "$db-wal" 2>/dev/null || echo 0) # before anything opens (and recovers) it
  problems=()
  case $status in
    0) phase=finished ;;
    137) ;; # SIGKILL
    *) problems+=("the import exited $status before the kill: $(head -c 300 kill.err)") ;;
  esac
  integrity=$(sqlite3 "$db" "PRAGMA integrity_check;" 2>&1)
  [[ $integrity == ok ]] || problems+=("integrity_check: $integrity")
  fk=$(sqlite3 "$db" "PRAGMA foreign_key_check;" 2>&1)
  [[ -z $fk ]] || problems+=("foreign_key_check: $fk")
  now=$(counts "$db")
  if [[ $now == "$BEFORE" ]]; then
    landed=before
    ((landed_before += 1))
  elif [[ $now == "$AFTER" ]]; then
    landed=after
    ((landed_after += 1))
  else
    landed=between
    problems+=("counts are neither before nor after: $now")
  fi
  [[ $phase != finished || $landed == after ]] || problems+=("a finished import is not all there")
  users=$(sqlite3 "$db" "SELECT count(*) FROM users;")
  if ! "$UCSV" --db "$db" -q import extra.csv --no-progress >/dev/null 2>kill.err; then
    problems+=("the following import failed: $(head -c 300 kill.err)")
  elif [[ $(sqlite3 "$db" "SELECT count(*) FROM users;") != $((users + EXTRA)) ]]; then
    problems+=("the following import did not add $EXTRA users")
  fi
  case $phase in
    mid-write) ((mid_write += 1)); ((wal > 0)) && ((mid_write_wal += 1)) ;;
    finished) ((finished += 1)) ;;
    *) ((outside += 1)) ;;
  esac
  printf 'kill %3d at %5d ms: %-9s wal %9d bytes, database as %s%s\n' "$i" "$delay_ms" \
    "$phase" "$wal" "$landed" "$( ((${#problems[@]})) && printf ' FAILED: %s' "${problems[*]}")"
  if ((${#problems[@]})); then
    ((failures += 1))
    cp "$db" "failed-$i.db" # kept for a look
  fi
done
elapsed=$(($(date +%s) - campaign_start))

echo
echo "== kill campaign summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores) =="
echo "import:     $ROWS generated rows into a database of $BASE users (full import ${FULL_MS} ms)"
echo "kills:      $KILLS in ${elapsed}s (seed $SEED)"
echo "mid-write:  $mid_write (write transaction open; $mid_write_wal with WAL frames on disk)"
echo "outside:    $outside (killed before the write transaction began or after it ended)"
echo "finished:   $finished (the import ended before its kill)"
echo "database:   $landed_before as before, $landed_after as after a full import, never between"
echo "failures:   $failures"
((failures == 0))
