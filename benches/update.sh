#!/usr/bin/env bash
# (f) update against import, in one run on one machine, taking turns: importing N generated
# rows into a fresh database, updating those N users from their unchanged export, and from
# the export with two columns (lastname, userfield) edited in every row. Prints a Markdown
# table of medians (wall seconds) and the two ratios. benches/run.sh includes it; alone:
#
#   benches/update.sh              # 200,000 users, 3 runs each
#   UPDATE_ROWS=50000 REPEAT=1 benches/update.sh
#
# Needs a Rust toolchain and python3. Data goes to target/bench-update (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${UPDATE_ROWS:-200000}
REPEAT=${REPEAT:-3}
WORK=${UPDATE_WORK:-$ROOT/target/bench-update}
cargo build --release --quiet --bin ucsv --example gen
UCSV=$ROOT/target/release/ucsv
GEN=$ROOT/target/release/examples/gen
mkdir -p "$WORK"
cd "$WORK"
rm -f ./*.db ./*.db-wal ./*.db-shm times.tsv
"$GEN" --rows "$N" --seed 1 -o users.csv --reference reference.toml
fresh() { rm -f "$1" "$1-wal" "$1-shm"; "$UCSV" --db "$1" -q init --reference reference.toml; }
fresh base.db
"$UCSV" --db base.db -q import users.csv --no-progress
"$UCSV" --db base.db -q export -o unchanged.csv --no-progress
python3 - <<'PY'
import csv
with open("unchanged.csv", newline="", encoding="utf-8") as f, \
        open("edited.csv", "w", newline="", encoding="utf-8") as out:
    rows = csv.DictReader(f)
    w = csv.DictWriter(out, fieldnames=rows.fieldnames, lineterminator="\n")
    w.writeheader()
    for r in rows:
        r["lastname"] = (r["lastname"] + " B")[:128]
        r["userfield"] = "edited"
        w.writerow(r)
PY
# timed LABEL COMMAND...: wall seconds of one run, appended to times.tsv.
timed() {
  local label=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  printf '%s\t%s\n' "$label" "$(echo "$end - $start" | bc)" >>times.tsv
}
copy() { rm -f "$2" "$2-wal" "$2-shm"; cp "$1" "$2"; sync "$2"; }
for _ in $(seq "$REPEAT"); do
  fresh imp.db
  timed import "$UCSV" --db imp.db -q import users.csv --no-progress
  copy base.db same.db
  timed unchanged "$UCSV" --db same.db -q update unchanged.csv --no-progress
  copy base.db edit.db
  timed edited "$UCSV" --db edit.db -q update edited.csv --no-progress
done
med() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' times.tsv | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'; }
ratio() { printf '%.2f' "$(echo "scale=4; $(med "$1") / $(med import)" | bc)"; }
cat <<TABLE
| (f) $N users, median of $REPEAT | time | ratio to the import | target |
|---|---|---|---|
| import of the $N rows into a fresh database | $(med import) s | 1.00 | |
| update from their unchanged export | $(med unchanged) s | $(ratio unchanged) | ≤ 1.0 |
| update from the export with lastname and userfield edited in every row | $(med edited) s | $(ratio edited) | ≤ 1.0 |
TABLE
