#!/usr/bin/env bash
# (h) ucsv user, in one run on one machine:
#   1. `user add` of a range of USER_ROWS numbers against importing the same rows from CSV
#      (exten, context, line_protocol, firstname), each into a fresh database, taking turns;
#   2. `user list --format json` of LIST_ROWS users: wall time and peak memory (it streams);
#   3. `user show` of one user by DN and by username on that database: the median of 20 runs.
# Prints a Markdown table. benches/run.sh includes it; alone:
#
#   benches/user.sh                                 # 10,000 numbers; 1,000,000 users listed
#   USER_ROWS=2000 LIST_ROWS=100000 REPEAT=1 benches/user.sh
#
# Needs a Rust toolchain, the sqlite3 shell and GNU time. Data goes to target/bench-user.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${USER_ROWS:-10000}
BIG=${LIST_ROWS:-1000000}
REPEAT=${REPEAT:-3}
WORK=${USER_WORK:-$ROOT/target/bench-user}
TIME=/usr/bin/time
cargo build --release --quiet --bin ucsv --example gen
UCSV=$ROOT/target/release/ucsv
GEN=$ROOT/target/release/examples/gen
mkdir -p "$WORK"
cd "$WORK"
rm -f ./*.db ./*.db-wal ./*.db-shm times.tsv

cat >office.toml <<'TOML'
[[entity]]
id = 1
name = "default"

[[context]]
name = "office"
entity = 1
type = "internal"
ranges = ["100000-199999"]
TOML
first=100000
last=$((first + N - 1))
{
  echo "exten,context,line_protocol,firstname"
  seq "$first" "$last" | awk '{ print $1 ",office,sip," $1 }'
} >add.csv

# timed LABEL COMMAND...: wall seconds and max RSS (KB) of one run, appended to times.tsv.
timed() {
  local label=$1
  shift
  "$TIME" -f "%e %M" -o time.txt "$@" >/dev/null 2>&1
  read -r wall rss <time.txt
  printf '%s\t%s\t%s\n' "$label" "$wall" "$rss" >>times.tsv
}
# timed_ns LABEL COMMAND...: wall seconds of one run, to the microsecond (GNU time rounds to
# hundredths).
timed_ns() {
  local label=$1 start end
  shift
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s%N)
  printf '%s\t%s\t0\n' "$label" "$(echo "scale=6; ($end - $start) / 1000000000" | bc)" >>times.tsv
}
fresh() { rm -f "$1" "$1-wal" "$1-shm"; "$UCSV" --db "$1" -q init --reference "$2"; }

# Both take a fraction of a second: timed to the microsecond, more turns than REPEAT.
for _ in $(seq $((REPEAT * 3))); do
  fresh add.db office.toml
  timed_ns user_add "$UCSV" --db add.db -q user add "$first..$last" --format csv
  fresh imp.db office.toml
  timed_ns import "$UCSV" --db imp.db -q import add.csv --no-progress
done

"$GEN" --rows "$BIG" --seed 1 -o big.csv --reference big.toml
fresh big.db big.toml
"$UCSV" --db big.db -q import big.csv --no-progress
for _ in $(seq "$REPEAT"); do
  timed list_json "$UCSV" --db big.db user list --format json
done

# One user half-way through: its number (with its context) and its username.
read -r dn context < <(sqlite3 -separator ' ' big.db \
  "SELECT e.exten, e.context FROM extensions e JOIN lines l ON l.id = e.line_id ORDER BY e.id LIMIT 1 OFFSET $((BIG / 2))")
username=$(sqlite3 big.db "SELECT username FROM users WHERE username IS NOT NULL ORDER BY id LIMIT 1 OFFSET $((BIG / 4))")
for _ in $(seq 20); do
  timed_ns show_dn "$UCSV" --db big.db user show "$dn" --context "$context"
  timed_ns show_username "$UCSV" --db big.db user show "$username"
done

med() { awk -F'\t' -v k="$1" -v c="${2:-2}" '$1 == k { print $c }' times.tsv | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ms() { printf '%.0f' "$(echo "$(med "$1") * 1000" | bc)"; }
ratio() { printf '%.2f' "$(echo "scale=4; $(med "$1") / $(med "$2")" | bc)"; }
cat <<TABLE
| (h) ucsv user | measured | target |
|---|---|---|
| \`user add\` of $N numbers / importing the same $N rows (median of $((REPEAT * 3))) | $(ms user_add) ms / $(ms import) ms = $(ratio user_add import) | ≤ 1.2 |
| \`user list --format json\` of $BIG users (median of $REPEAT) | $(med list_json) s, $(($(med list_json 3) / 1024)) MB peak RSS | ≤ 256 MB |
| \`user show\` of one user by DN, $BIG users (median of 20, whole process) | $(ms show_dn) ms | ≤ 20 ms |
| \`user show\` of one user by username, $BIG users (median of 20, whole process) | $(ms show_username) ms | ≤ 20 ms |
TABLE
