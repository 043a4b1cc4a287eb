#!/usr/bin/env bash
# validate (a dry run on a snapshot copy of the database) against another ucsv build, in one
# run on one machine, taking turns: `BASE=/path/to/other/ucsv benches/validate.sh`.
# Measures `validate` of ROWS generated rows (default 200,000) against a database holding
# the default reference data only, and against one already holding ROWS users (where the
# snapshot copy costs most). Prints the medians of REPEAT runs (default 5), wall seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${ROWS:-200000}
REPEAT=${REPEAT:-5}
WORK=${WORK:-$ROOT/target/bench-validate}
: "${BASE:?set BASE to the ucsv binary to compare with}"
cargo build --release --quiet --bin ucsv --example gen
NEW=$ROOT/target/release/ucsv
GEN=$ROOT/target/release/examples/gen
mkdir -p "$WORK"
cd "$WORK"
rm -f ./*.db ./*.db-wal ./*.db-shm
"$GEN" --rows "$ROWS" --seed 1 -o users.csv --reference reference.toml
"$GEN" --rows "$ROWS" --seed 2 --offset "$ROWS" -o more.csv
"$NEW" --db empty.db -q init --reference reference.toml
cp empty.db full.db
"$NEW" --db full.db -q import users.csv --no-progress
seconds() { # seconds BINARY DB FILE: wall time of one validate
  local start end
  start=$(date +%s.%N)
  "$1" --db "$2" -q validate "$3" --no-progress >/dev/null 2>&1 || true
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for case in "empty.db users.csv" "full.db more.csv"; do
  set -- $case
  : >base.txt
  : >new.txt
  for _ in $(seq "$REPEAT"); do
    seconds "$BASE" "$1" "$2" >>base.txt
    seconds "$NEW" "$1" "$2" >>new.txt
  done
  b=$(median <base.txt)
  n=$(median <new.txt)
  printf '%s rows into %s: base %.2f s, this build %.2f s, ratio %.2f\n' \
    "$ROWS" "$1" "$b" "$n" "$(echo "$n / $b" | bc -l)"
done
