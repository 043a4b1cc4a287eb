#!/usr/bin/env bash
# (i) `ucsv serve` under load, in one run on one machine, with the load client of
# benches/load.rs (`cargo run --release --example load`), on the loopback only:
#
#   1. readers and an import: CLIENTS (50) clients each list
#      (GET /1.1/users?limit=20&offset=...&search=...) or show (GET /1.1/users/{id}) users
#      RATE (10) times a second for READ_SECONDS (30) s, and on past that until the import is
#      done, while SERVE_ROWS (100,000) generated rows are imported over HTTP
#      (POST /1.1/users/import, text/csv, the file streamed), started 2 s into the run; against
#      the same import with no readers. Each turn starts a new server on a new database
#      holding SEED_ROWS (10,000) users, whom the readers list and show.
#   2. a flood of wrong passwords: WRONG (1,000) requests for one account, FLOOD_CLIENTS (8)
#      at a time, while GOOD_CLIENTS (5) readers of another account go on as above; against
#      the same readers for FLOOD_BASE_SECONDS (10) s with no flood. The account must be
#      locked after (`ucsv account show victim --format json`), and its right password
#      refused.
#
# The two sides of each comparison take turns, REPEAT (3) times; the table gives the medians
# of the turns, and the errors of all turns (every non-2xx answer and every transport error
# of a reader counts). Prints a Markdown table on stdout, progress on stderr.
#
#   benches/serve.sh                                   # SQLite
#   REPEAT=1 READ_SECONDS=10 SERVE_ROWS=20000 benches/serve.sh   # quicker
#   BASE=/path/to/other/ucsv benches/serve.sh          # also another build, in the same turns
#   BACKEND=postgres scripts/with-postgres.sh benches/serve.sh   # PostgreSQL (the throwaway
#                                                      # server of with-postgres.sh)
#   SERVERS=2 BACKEND=postgres scripts/with-postgres.sh benches/serve.sh   # and 2 servers
#                                                      # on one database against one
#   SEARCH_ROWS=1000000 benches/serve.sh               # and the searches and connections
#                                                      # below over that many users
#
# With SEARCH_ROWS=N (N > 0), on a database of N generated users and no import:
#   3. searches: SEARCH_CLIENTS (5) clients each listing with a search
#      (GET /1.1/users?limit=20&offset=...&search=...) SEARCH_RATE (10) times a second for
#      READ_SECONDS; their latency p50 / p99;
#   4. connections held: CONNECTIONS (200) clients, each with its own connection, reading
#      (lists and shows) once a second for CONNECTION_SECONDS (30); errors, and the
#      server's peak memory (VmHWM).
#
# Needs a Rust toolchain; for PostgreSQL, psql. Data goes to target/bench-serve (never
# committed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROWS=${SERVE_ROWS:-100000}
SEED=${SEED_ROWS:-10000}
CLIENTS=${CLIENTS:-50}
RATE=${RATE:-10}
SECS=${READ_SECONDS:-30}
WRONG=${WRONG:-1000}
FLOOD_CLIENTS=${FLOOD_CLIENTS:-8}
GOOD_CLIENTS=${GOOD_CLIENTS:-5}
FLOOD_BASE_SECONDS=${FLOOD_BASE_SECONDS:-10}
REPEAT=${REPEAT:-3}
# With SERVERS=N (N > 1): also reads alone (no import), CLIENTS clients asking SERVERS_RATE
# times a second each for READ_SECONDS, against one server and against N servers on the
# same database (clients spread over them): the aggregate reads a second of each.
SERVERS=${SERVERS:-1}
SERVERS_RATE=${SERVERS_RATE:-40}
# READERS=0 leaves out 1 and 2 (say, to measure only 3 and 4).
READERS=${READERS:-1}
SEARCH_ROWS=${SEARCH_ROWS:-0}
SEARCH_CLIENTS=${SEARCH_CLIENTS:-5}
SEARCH_RATE=${SEARCH_RATE:-10}
CONNECTIONS=${CONNECTIONS:-200}
CONNECTION_SECONDS=${CONNECTION_SECONDS:-30}
BACKEND=${BACKEND:-sqlite}
WORK=${SERVE_WORK:-$ROOT/target/bench-serve}

cargo build --release --quiet --bin ucsv --example gen --example load
GEN=$ROOT/target/release/examples/gen
LOAD=$ROOT/target/release/examples/load
mkdir -p "$WORK"
cd "$WORK"
# A copy: a build during the run does not change the binary measured.
cp "$ROOT/target/release/ucsv" ./ucsv
UCSV=$WORK/ucsv
rm -f results.tsv ./*.log

case $BACKEND in
sqlite) ;;
postgres)
  [ -n "${UCSV_TEST_POSTGRES:-}" ] ||
    { echo "serve.sh: BACKEND=postgres runs under scripts/with-postgres.sh" >&2; exit 2; }
  command -v psql >/dev/null || { echo "serve.sh: psql is required" >&2; exit 2; }
  ;;
*) echo "serve.sh: BACKEND is sqlite or postgres" >&2; exit 2 ;;
esac

echo "generating data in $WORK" >&2
"$GEN" --rows "$ROWS" --seed 1 -o import.csv --reference reference.toml
# The users there before: numbered far from the imported ones, so that nothing collides.
"$GEN" --rows "$SEED" --seed 7 --offset 5000000 -o seed.csv

# Throwaway accounts of a throwaway database.
ADMIN_PW=admin-pw-0 READER_PW=reader-pw-0 VICTIM_PW=victim-pw-0

# fresh NAME: sets DB to a new database NAME holding the reference data, SEED users and the
# accounts admin (imports), reader (reads) and victim (flooded), all sys_admin.
fresh() {
  fresh_db "$1"
  "$UCSV" --db "$DB" -q init --reference reference.toml
  "$UCSV" --db "$DB" -q import seed.csv --no-progress
  printf '%s\n' "$ADMIN_PW" | "$UCSV" --db "$DB" -q account add admin --role sys_admin --password-stdin
  printf '%s\n' "$READER_PW" | "$UCSV" --db "$DB" -q account add reader --role sys_admin --password-stdin
  printf '%s\n' "$VICTIM_PW" | "$UCSV" --db "$DB" -q account add victim --role sys_admin --password-stdin
}

# fresh_db NAME: sets DB to a new, empty database NAME.
fresh_db() {
  if [ "$BACKEND" = sqlite ]; then
    DB=$WORK/$1.db
    rm -f "$DB" "$DB-wal" "$DB-shm"
  else
    local base=${UCSV_TEST_POSTGRES%/*}
    psql -X -q -v ON_ERROR_STOP=1 -d "$UCSV_TEST_POSTGRES" \
      -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS bench_$1" \
      -c "CREATE DATABASE bench_$1" >/dev/null
    DB=$base/bench_$1
  fi
}

# serve BINARY LOG: starts BINARY's server on DB on a free port of 127.0.0.1; sets PID and URL.
PID=
serve() {
  "$1" serve --listen 127.0.0.1:0 --db "$DB" 2>"$2" &
  PID=$!
  local port=
  for _ in $(seq 300); do
    port=$(sed -n 's|^ucsv: serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$2")
    [ -n "$port" ] && break
    kill -0 "$PID" 2>/dev/null || { echo "serve.sh: the server did not start:" >&2; cat "$2" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "serve.sh: the server did not say its address" >&2; exit 1; }
  URL=http://127.0.0.1:$port
}
halt() {
  kill -TERM "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
}
# The servers of a several-servers turn, stopped with the others on exit.
PIDS=()
trap '[ -z "$PID" ] || kill -TERM "$PID" 2>/dev/null || true; for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done' EXIT
trap 'exit 130' INT TERM

# record LABEL < load's output: appends `LABEL key value` lines to results.tsv.
record() { awk -v l="$1" 'NF == 2 { print l "\t" $1 "\t" $2 }' | tee -a results.tsv | cut -f2- >&2; }

# The server log's answers to the readers that were not 2xx (a cross-check of the client's
# count); field 5 is the status.
log_errors() { awk '$2 == "reader" && $5 !~ /^2/' "$1" | wc -l; }

builds=("$UCSV")
[ -z "${BASE:-}" ] || builds+=("$BASE")
for r in $(seq "$([ "$READERS" = 0 ] && echo 0 || echo "$REPEAT")"); do
  for b in "${!builds[@]}"; do
    bin=${builds[$b]}
    tag=$([ "$b" = 0 ] && echo "" || echo "base_")
    echo "turn $r, ${tag}readers and import" >&2
    fresh "t$r"
    serve "$bin" "readers_$r$tag.log"
    "$LOAD" read --url "$URL" --user reader --password "$READER_PW" --clients "$CLIENTS" \
      --rate "$RATE" --seconds "$SECS" --ids "$SEED" --import import.csv \
      --import-user admin --import-password "$ADMIN_PW" --import-after 2 | record "${tag}readers"
    halt
    printf '%s\t%s\t%s\n' "${tag}readers" server_log_errors "$(log_errors "readers_$r$tag.log")" >>results.tsv
    echo "turn $r, ${tag}import alone" >&2
    fresh "t$r"
    serve "$bin" "alone_$r$tag.log"
    "$LOAD" read --url "$URL" --user reader --password "$READER_PW" --clients 0 --ids "$SEED" \
      --import import.csv --import-user admin --import-password "$ADMIN_PW" --import-after 0 |
      record "${tag}alone"
    halt
  done
  echo "turn $r, flood" >&2
  fresh "f$r"
  serve "$UCSV" "flood_$r.log"
  "$LOAD" flood --url "$URL" --user reader --password "$READER_PW" --clients "$GOOD_CLIENTS" \
    --rate "$RATE" --ids "$SEED" --victim victim --wrong 0 --seconds "$FLOOD_BASE_SECONDS" |
    record calm
  "$LOAD" flood --url "$URL" --user reader --password "$READER_PW" --clients "$GOOD_CLIENTS" \
    --rate "$RATE" --ids "$SEED" --victim victim --victim-password "$VICTIM_PW" \
    --wrong "$WRONG" --flood-clients "$FLOOD_CLIENTS" | record flood
  locked=$("$UCSV" --db "$DB" account show victim --format json |
    python3 -c 'import json, sys; print(str(json.load(sys.stdin)["is_locked"]).lower())')
  printf 'flood\tlocked\t%s\n' "$locked" >>results.tsv
  halt
done

if [ "$SERVERS" -gt 1 ]; then
  for r in $(seq "$REPEAT"); do
    echo "turn $r, reads against one server" >&2
    fresh "s$r"
    serve "$UCSV" "one_$r.log"
    "$LOAD" read --url "$URL" --user reader --password "$READER_PW" --clients "$CLIENTS" \
      --rate "$SERVERS_RATE" --seconds "$SECS" --ids "$SEED" | record one_server
    halt
    echo "turn $r, reads against $SERVERS servers on the same database" >&2
    urls=()
    for i in $(seq "$SERVERS"); do
      serve "$UCSV" "many_${r}_$i.log"
      urls+=("$URL")
      PIDS+=("$PID")
      PID=
    done
    "$LOAD" read --url "$(IFS=,; echo "${urls[*]}")" --user reader --password "$READER_PW" \
      --clients "$CLIENTS" --rate "$SERVERS_RATE" --seconds "$SECS" --ids "$SEED" | record many_servers
    for p in "${PIDS[@]}"; do
      kill -TERM "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    done
    PIDS=()
  done
fi

if [ "$SEARCH_ROWS" -gt 0 ]; then
  echo "generating $SEARCH_ROWS users for the searches" >&2
  "$GEN" --rows "$SEARCH_ROWS" --seed 11 -o search.csv --reference search.toml
  # A database of its own (its numbers are those of search.toml), with the reader account.
  fresh_db big
  "$UCSV" --db "$DB" -q init --reference search.toml
  echo "importing them" >&2
  "$UCSV" --db "$DB" -q import search.csv --no-progress
  printf '%s\n' "$READER_PW" | "$UCSV" --db "$DB" -q account add reader --role sys_admin --password-stdin
  rm -f search.csv
  for r in $(seq "$REPEAT"); do
    echo "turn $r, searches over $SEARCH_ROWS users" >&2
    serve "$UCSV" "search_$r.log"
    "$LOAD" read --url "$URL" --user reader --password "$READER_PW" --clients "$SEARCH_CLIENTS" \
      --rate "$SEARCH_RATE" --seconds "$SECS" --ids "$SEARCH_ROWS" --list-share 1 | record search
    echo "turn $r, $CONNECTIONS connections held" >&2
    "$LOAD" read --url "$URL" --user reader --password "$READER_PW" --clients "$CONNECTIONS" \
      --rate 1 --seconds "$CONNECTION_SECONDS" --ids "$SEARCH_ROWS" | record connections
    printf 'connections\tserver_peak_kb\t%s\n' "$(awk '/^VmHWM/ { print $2 }' "/proc/$PID/status")" >>results.tsv
    halt
    printf 'connections\tserver_log_errors\t%s\n' "$(log_errors "search_$r.log")" >>results.tsv
  done
fi

# The report. med LABEL KEY: the median over the turns; sum LABEL KEY: the total; all LABEL
# KEY: every turn's value.
vals() { awk -F'\t' -v l="$1" -v k="$2" '$1 == l && $2 == k { print $3 }' results.tsv; }
med() { vals "$1" "$2" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
sum() { vals "$1" "$2" | awk '{ s += $1 } END { print s + 0 }'; }
all() { vals "$1" "$2" | paste -sd/ | sed 's|/| / |g'; }
same() { # the value, if every turn of both labels gave the same one
  local v
  v=$( (vals "$1" "$3"; vals "$2" "$3") | sort -u)
  if [ "$(echo "$v" | wc -l)" = 1 ]; then echo "$v in every turn"; else echo "$(all "$1" "$3") and $(all "$2" "$3")"; fi
}
ms() { printf '%.1f' "$(med "$1" "$2")"; }
ratio() { printf '%.2f' "$(echo "scale=4; $(med "$1" import_seconds) / $(med "$2" import_seconds)" | bc)"; }
errors() { echo $(($(sum "$1" read_errors) + $(sum "$1" server_log_errors))); }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
if [ "$BACKEND" = sqlite ]; then
  store="SQLite (the bundled library, WAL)"
else
  store="PostgreSQL $(psql -X -At -d "$UCSV_TEST_POSTGRES" -c 'SHOW server_version' | cut -d' ' -f1) (scripts/with-postgres.sh: fsync off)"
fi
base_rows=
if [ -n "${BASE:-}" ]; then
  base_rows="
| the build BASE: import with readers / alone (median of $REPEAT) | $(med base_readers import_seconds) s / $(med base_alone import_seconds) s = $(ratio base_readers base_alone) | ≤ 1.3 |
| the build BASE: reads answered, p50 / p99 latency | $(med base_readers read_per_second)/s of $(med base_readers offered_per_second)/s; $(ms base_readers read_p50_ms) / $(ms base_readers read_p99_ms) ms | |
| the build BASE: errors, all turns | $(errors base_readers) | 0 |"
fi
[ "$READERS" = 0 ] || cat <<EOF
Measured $(date -u +%Y-%m-%d) by \`benches/serve.sh\` on $(nproc) cores ($cpu), $(($(grep MemTotal /proc/meminfo | awk '{print $2}') / 1024 / 1024)) GiB, $store;
server, load client and database on the same machine over the loopback; $SEED users in the
database before each turn; medians of $REPEAT turns, the two sides of a comparison taking
turns (each turn's value in brackets).

| (i) readers during an import | measured | target |
|---|---|---|
| import of $ROWS rows over HTTP, alone | $(med alone import_seconds) s ($(all alone import_seconds)) | |
| the same import while $CLIENTS clients read, each $RATE times a second | $(med readers import_seconds) s ($(all readers import_seconds)) | |
| ratio | $(ratio readers alone) | ≤ 1.3 |
| reads answered a second, of $(med readers offered_per_second) asked | $(med readers read_per_second) ($(all readers read_per_second)) | $(med readers offered_per_second) |
| read latency, whole run: p50 / p99 | $(ms readers read_p50_ms) / $(ms readers read_p99_ms) ms | |
| read latency while the import ran: p50 / p99 | $(ms readers during_import_p50_ms) / $(ms readers during_import_p99_ms) ms | |
| reads, all turns / errors (non-2xx or transport, client and server log) | $(sum readers read_requests) / $(errors readers) | 0 errors |
| users after each import, with readers and alone | $(same readers alone users_total) | $((SEED + ROWS)) |$base_rows

| (i) $WRONG wrong passwords, $FLOOD_CLIENTS at a time | measured | target |
|---|---|---|
| the flood's duration; answers that were not 401 (all turns) | $(med flood flood_seconds) s ($(all flood flood_seconds)); $(sum flood wrong_not_401) | 0 |
| the account locked after each flood; its right password then | $(all flood locked); $(all flood victim_good_password_status) | true; 401 |
| good requests ($GOOD_CLIENTS clients, each $RATE times a second), no flood: p50 / p99 | $(ms calm good_p50_ms) / $(ms calm good_p99_ms) ms ($(med calm good_per_second)/s) | |
| good requests during the flood: p50 / p99 | $(ms flood good_p50_ms) / $(ms flood good_p99_ms) ms ($(med flood good_per_second)/s) | |
| good requests, all turns / errors | $(($(sum calm good_requests) + $(sum flood good_requests))) / $(($(sum calm good_errors) + $(sum flood good_errors))) | 0 errors |
EOF
if [ "$SERVERS" -gt 1 ]; then
  cat <<EOF

| (i) reads alone, $CLIENTS clients asking $SERVERS_RATE times a second each | one server | $SERVERS servers, one database |
|---|---|---|
| reads answered a second, of $(med one_server offered_per_second) asked | $(med one_server read_per_second) ($(all one_server read_per_second)) | $(med many_servers read_per_second) ($(all many_servers read_per_second)) |
| read latency: p50 / p99 | $(ms one_server read_p50_ms) / $(ms one_server read_p99_ms) ms | $(ms many_servers read_p50_ms) / $(ms many_servers read_p99_ms) ms |
| reads, all turns / errors | $(sum one_server read_requests) / $(sum one_server read_errors) | $(sum many_servers read_requests) / $(sum many_servers read_errors) |
EOF
fi
if [ "$SEARCH_ROWS" -gt 0 ]; then
  [ "$READERS" != 0 ] || echo "Measured $(date -u +%Y-%m-%d) by \`benches/serve.sh\` on $(nproc) cores ($cpu), $store; medians of $REPEAT turns."
  cat <<EOF

| (i) over $SEARCH_ROWS users, no import | measured | target |
|---|---|---|
| searches ($SEARCH_CLIENTS clients, each $SEARCH_RATE a second, limit 20): p50 / p99 | $(ms search read_p50_ms) / $(ms search read_p99_ms) ms ($(med search read_per_second)/s of $(med search offered_per_second)/s) | ≤ 20 / ≤ 50 ms |
| searches, all turns / errors | $(sum search read_requests) / $(sum search read_errors) | 0 errors |
| $CONNECTIONS connections held $CONNECTION_SECONDS s, each reading once a second: reads / errors, all turns | $(sum connections read_requests) / $(errors connections) | 0 errors |
| the server's peak memory (VmHWM) after them | $(($(med connections server_peak_kb) / 1024)) MB ($(all connections server_peak_kb) KB) | ≤ 256 MB |
EOF
fi
