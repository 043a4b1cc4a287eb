#!/usr/bin/env bash
# What the history costs (every write recorded as a batch that can be undone), in one run on
# one machine, taking turns: the build before (BASE, a binary) and this build import the
# same ROWS generated rows into a fresh database, and update UPDATE_ROWS users from their
# export with two columns edited; this build then takes its import back (`ucsv undo`).
# Prints a Markdown table of medians (wall seconds) and the ratios.
#
#   BASE=/path/to/ucsv-before benches/history.sh                  # 1,000,000 rows, 3 turns
#   BASE=... ROWS=100000 UPDATE_ROWS=50000 REPEAT=1 benches/history.sh   # quicker
#
# Needs a Rust toolchain and python3. Data goes to target/bench-history (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROWS=${ROWS:-1000000}
N=${UPDATE_ROWS:-200000}
REPEAT=${REPEAT:-3}
WORK=${HISTORY_WORK:-$ROOT/target/bench-history}
[ -x "${BASE:-}" ] || { echo "history.sh: BASE must name the build before (a ucsv binary)" >&2; exit 2; }
cargo build --release --quiet --bin ucsv --example gen
NEW=$ROOT/target/release/ucsv
GEN=$ROOT/target/release/examples/gen
mkdir -p "$WORK"
cd "$WORK"
rm -f ./*.db ./*.db-wal ./*.db-shm times.tsv
"$GEN" --rows "$ROWS" --seed 1 -o users.csv --reference reference.toml
"$GEN" --rows "$N" --seed 1 -o small.csv

fresh() { # fresh BINARY DB
  rm -f "$2" "$2-wal" "$2-shm"
  "$1" --db "$2" -q init --reference reference.toml
}
# seed BINARY NAME: NAME.db holding the N small users, and NAME.csv their export with
# lastname and userfield edited in every row (each build its own: the uuids differ).
seed() {
  fresh "$1" "$2.db"
  "$1" --db "$2.db" -q import small.csv --no-progress
  "$1" --db "$2.db" -q export -o "$2.export.csv" --no-progress
  python3 - "$2" <<'PY'
import csv, sys
name = sys.argv[1]
with open(name + ".export.csv", newline="", encoding="utf-8") as f, \
        open(name + ".csv", "w", newline="", encoding="utf-8") as out:
    rows = csv.DictReader(f)
    w = csv.DictWriter(out, fieldnames=rows.fieldnames, lineterminator="\n")
    w.writeheader()
    for r in rows:
        r["lastname"] = (r["lastname"] + " B")[:128]
        r["userfield"] = "edited"
        w.writerow(r)
PY
}
seed "$BASE" before
seed "$NEW" after

# timed LABEL COMMAND...: wall seconds of one run, appended to times.tsv.
timed() {
  local label=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || { echo "history.sh: $label failed: $*" >&2; exit 1; }
  end=$(date +%s.%N)
  printf '%s\t%s\n' "$label" "$(echo "$end - $start" | bc)" >>times.tsv
  echo "$label: $(echo "$end - $start" | bc) s" >&2
}
copy() { rm -f "$2" "$2-wal" "$2-shm"; cp "$1" "$2"; sync "$2"; }
for _ in $(seq "$REPEAT"); do
  fresh "$BASE" a.db
  timed import_before "$BASE" --db a.db -q import users.csv --no-progress
  rm -f a.db a.db-wal a.db-shm
  fresh "$NEW" b.db
  timed import_after "$NEW" --db b.db -q import users.csv --no-progress
  batch=$("$NEW" --db b.db history --limit 1 --format json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
  timed undo_after "$NEW" --db b.db -q undo "$batch"
  users=$(python3 -c 'import sqlite3; print(sqlite3.connect("b.db").execute("SELECT count(*) FROM users").fetchone()[0])')
  [ "$users" = 0 ] || { echo "history.sh: $users users left after the undo" >&2; exit 1; }
  rm -f b.db b.db-wal b.db-shm
  copy before.db u.db
  timed update_before "$BASE" --db u.db -q update before.csv --no-progress
  copy after.db u.db
  timed update_after "$NEW" --db u.db -q update after.csv --no-progress
done
med() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' times.tsv | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'; }
each() { awk -F'\t' -v k="$1" '$1 == k { printf "%s%.2f", sep, $2; sep = " / " }' times.tsv; }
ratio() { printf '%.2f' "$(echo "scale=4; $(med "$1") / $(med "$2")" | bc)"; }
cat <<TABLE
| history, medians of $REPEAT turns (each turn in brackets) | time | ratio | target |
|---|---|---|---|
| import of $ROWS rows, the build before | $(med import_before) s ($(each import_before)) | 1.00 | |
| the same import, this build (recorded as a batch) | $(med import_after) s ($(each import_after)) | $(ratio import_after import_before) | ≤ 1.1 |
| \`ucsv undo\` of that import (this build) | $(med undo_after) s ($(each undo_after)) | $(ratio undo_after import_after) of its import | ≤ 1.0 |
| update of $N users, lastname and userfield edited, the build before | $(med update_before) s ($(each update_before)) | 1.00 | |
| the same update, this build (each user's state before recorded) | $(med update_after) s ($(each update_after)) | $(ratio update_after update_before) | ≤ 1.1 |
TABLE
