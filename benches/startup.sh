#!/usr/bin/env bash
# Start-up: the release build (no debug info) against the `profiling` build (the same code
# with debug info, as release builds were before), taking turns, RUNS runs of each command,
# medians in milliseconds: `ucsv --version`, and `ucsv user show` of one user (a database of
# 1,000 users), beside /bin/true timed the same way (what starting any process costs here).
# Prints a Markdown table.
#
#   benches/startup.sh              # builds both profiles
#   RUNS=200 benches/startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-100}
WORK=${STARTUP_WORK:-target/bench-startup}
cargo build --quiet --release --bin ucsv --example gen
cargo build --quiet --profile profiling --bin ucsv
RELEASE=target/release/ucsv
PROFILING=target/profiling/ucsv
mkdir -p "$WORK"
rm -f "$WORK"/s.db*
target/release/examples/gen --rows 1000 --seed 1 -o "$WORK/users.csv" --reference "$WORK/reference.toml"
"$RELEASE" --db "$WORK/s.db" -q init --reference "$WORK/reference.toml"
"$RELEASE" --db "$WORK/s.db" -q import "$WORK/users.csv" --no-progress
: >"$WORK/times.tsv"
ms() { # ms LABEL COMMAND...: one run's wall milliseconds, appended to times.tsv
  local label=$1 start end
  shift
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s%N)
  printf '%s\t%s\n' "$label" "$(((end - start) / 1000))" >>"$WORK/times.tsv"
}
for _ in $(seq "$RUNS"); do
  ms "floor" /bin/true
  for build in release profiling; do
    bin=$RELEASE
    [ "$build" = profiling ] && bin=$PROFILING
    ms "$build version" "$bin" --version
    ms "$build show" "$bin" --db "$WORK/s.db" user show id:500 --format json
  done
done
med() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$WORK/times.tsv" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }'; }
size() { stat -c %s "$1" | awk '{ printf "%.1f MB", $1 / 1048576 }'; }
cat <<TABLE
| start-up, medians of $RUNS runs taking turns | release (no debug info) | profiling (debug info) |
|---|---|---|
| binary size | $(size "$RELEASE") | $(size "$PROFILING") |
| \`ucsv --version\` | $(med "release version") ms | $(med "profiling version") ms |
| \`ucsv user show id:500\` (1,000 users) | $(med "release show") ms | $(med "profiling show") ms |
| the floor: \`/bin/true\`, timed the same way | $(med floor) ms | |
TABLE
