#!/usr/bin/env bash
# The fault campaign of `ucsv serve`: each fault, RUNS times, at random moments, and after
# each the database must hold all of the request's work or none of it ("held"), never part
# of it ("broke"), and the server must serve again at once.
#
#   tests/fault_campaign.sh                               # 10 runs of each fault, SQLite
#   tests/fault_campaign.sh 3                             # 3 runs (what CI runs)
#   scripts/with-postgres.sh tests/fault_campaign.sh 3    # the same on PostgreSQL
#   ROWS=50000 SEED=7 tests/fault_campaign.sh 20
#
# The faults:
#   kill-import   the server killed (SIGKILL) during an HTTP import; restarted, it answers
#                 /readyz and a list at once; the users are those before or those after.
#   kill-update   the same during an HTTP update of every user (PUT /1.1/users/import).
#   sigterm       SIGTERM during an import: the import finishes (it is within --grace), new
#                 connections are refused, the server exits 0, the users are those after.
#   pg-restart    (PostgreSQL) the server restarted during an import: 503 and nothing
#                 written (or 201 and all written, if it committed first); the next request
#                 succeeds without restarting ucsv. Needs scripts/with-postgres.sh (it tells
#                 how to restart its server in UCSV_TEST_POSTGRES_RESTART).
#   disk-full     (SQLite, as root) the database on a tmpfs with little room: the import is
#                 refused with 507 database.full, the database intact (integrity_check ok)
#                 and as it was, and reads still answered.
#
# It prints a table of runs / held / broke (and how many ended as before the request, or as
# after it) and exits 1 if anything broke (2 on a usage or
# setup error). Needs curl and python3 (both installed by root with apt-get if missing);
# psql on PostgreSQL. The binary is $UCSV_BIN, default target/debug/ucsv (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${1:-10}
# Rows of each import, and users already in the database (each updated by kill-update):
# fewer on PostgreSQL, where the unoptimized test build is slower.
if [ -n "${UCSV_TEST_POSTGRES:-}" ]; then
  ROWS=${ROWS:-5000}
  BASE=${BASE:-2000}
else
  ROWS=${ROWS:-20000}
  BASE=${BASE:-5000}
fi
SEED=${SEED:-1}
PW=fault-campaign-password
me=fault_campaign
die() {
  echo "$me: $*" >&2
  exit 2
}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "usage: $0 [RUNS]"
RANDOM=$SEED
# Every request goes to the server on 127.0.0.1, never through a proxy.
export no_proxy='*' NO_PROXY='*'

need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null && return
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null || die "$1 is required (apt-get install $2)"
  echo "$me: installing $2" >&2
  DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "$2" >/dev/null ||
    { apt-get -q update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "$2" >/dev/null; } ||
    die "apt-get install $2 failed"
}
need curl curl
need python3 python3

UCSV=${UCSV_BIN:-$ROOT/target/debug/ucsv}
if [ ! -x "$UCSV" ]; then
  cargo build --quiet --bin ucsv
fi
[ -x "$UCSV" ] || die "no binary at $UCSV"

PG=${UCSV_TEST_POSTGRES:-}
if [ -n "$PG" ]; then
  need psql postgresql-client
  export PGOPTIONS="-c client_min_messages=warning"
  backend=postgres
else
  backend=sqlite
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ucsv-faults.XXXXXX")
MNT=$WORK/full
SERVER_PID=
cleanup() {
  local status=$?
  set +e
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
  mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
  if [ -n "$PG" ]; then
    for db in fc_base fc_run; do
      psql -q "$PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    done
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
cd "$WORK"

# A reference with room for the generated numbers.
cat >ref.toml <<'EOF'
[[entity]]
id = 1
name = "default"

[[context]]
name = "default"
entity = 1
type = "internal"
ranges = ["100000-999999"]
EOF
rows() { # rows FIRST N: N generated users from FIRST
  awk -v f="$1" -v n="$2" 'BEGIN {
    print "firstname,lastname,exten,context,line_protocol,username,email"
    for (i = f; i < f + n; i++) printf "U%d,L%d,%d,default,sip,user%d,user%d@example.com\n", i, i, i, i, i
  }'
}
rows 100000 "$BASE" >base.csv
rows 200000 "$ROWS" >import.csv

url_of() { # url_of DATABASE: the URL of another database of the server
  python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG" "$1"
}

# The base database: the reference, an account, BASE users.
if [ "$backend" = sqlite ]; then
  BASEDB=$WORK/base.db
  "$UCSV" --db "$BASEDB" init --reference ref.toml >/dev/null 2>&1 || die "init failed"
else
  psql -q "$PG" -c "DROP DATABASE IF EXISTS fc_base WITH (FORCE)" -c "CREATE DATABASE fc_base" >/dev/null || die "createdb failed"
  BASEDB=$(url_of fc_base)
  "$UCSV" --db "$BASEDB" init --reference ref.toml >/dev/null 2>&1 || die "init failed"
fi
printf '%s\n' "$PW" | "$UCSV" --db "$BASEDB" account add admin --role sys_admin --password-stdin >/dev/null 2>&1 || die "account add failed"
"$UCSV" -q --db "$BASEDB" import base.csv >/dev/null 2>&1 || die "the base import failed"
# The update: every user's lastname changed.
"$UCSV" --db "$BASEDB" export --columns uuid,lastname -o base-export.csv 2>/dev/null || die "export failed"
sed '2,$ s/,L[0-9]*$/,Changed/' base-export.csv >update.csv

fresh() { # fresh: DB becomes a copy of the base database
  if [ "$backend" = sqlite ]; then
    DB=${1:-$WORK/run.db}
    rm -f "$DB" "$DB-wal" "$DB-shm"
    cp "$BASEDB" "$DB"
  else
    psql -q "$PG" -c "DROP DATABASE IF EXISTS fc_run WITH (FORCE)" -c "CREATE DATABASE fc_run TEMPLATE fc_base" >/dev/null || die "createdb failed"
    DB=$(url_of fc_run)
  fi
}

start() { # start [ARGS]: a server on DB; sets SERVER_PID and ADDR
  : >server.log
  "$UCSV" --db "$DB" serve --listen 127.0.0.1:0 "$@" 2>server.log &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    ADDR=$(sed -n 's|.*serving http://\([^/]*\)/.*|\1|p' server.log | head -n 1)
    [ -n "$ADDR" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat server.log >&2
  die "the server did not start"
}

total() { # total [SEARCH]: how many users (matching SEARCH)
  "$UCSV" --db "$DB" user list --limit 0 --format json ${1:+--search "$1"} 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])'
}

intact() { # intact: SQLite's integrity and foreign key checks pass (PostgreSQL: true)
  [ "$backend" = sqlite ] || return 0
  python3 - "$DB" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ok = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
ok = ok and not db.execute("PRAGMA foreign_key_check").fetchall()
sys.exit(0 if ok else 1)
EOF
}

http() { # http METHOD PATH [CURL ARGS]: prints the status
  local method=$1 path=$2
  shift 2
  curl -s -o /dev/null -w '%{http_code}' -u "admin:$PW" -X "$method" "$@" "http://$ADDR$path" || true
}

serves() { # serves: /readyz and a list answered at once
  [ "$(http GET /readyz)" = 200 ] && [ "$(http GET '/1.1/users?limit=1')" = 200 ]
}

upload() { # upload METHOD FILE: in the background; the status goes to status.txt
  : >status.txt
  (curl -s -o answer.json -w '%{http_code}' -u "admin:$PW" -X "$1" -H 'Content-Type: text/csv' \
    --data-binary "@$2" "http://$ADDR/1.1/users/import" >status.txt 2>/dev/null || true) &
  UPLOAD=$!
}

stop_server() {
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# How long an import and an update take: the windows in which faults are aimed.
window() { # window METHOD FILE STATUS: the request's duration in ms
  fresh
  start
  local t0 t1
  t0=$(date +%s%N)
  upload "$1" "$2"
  wait "$UPLOAD"
  t1=$(date +%s%N)
  [ "$(cat status.txt)" = "$3" ] || { cat answer.json >&2; die "the calibration $1 failed: $(cat status.txt)"; }
  stop_server
  echo $(((t1 - t0) / 1000000))
}
IMPORT_MS=$(window POST import.csv 201)
UPDATE_MS=$(window PUT update.csv 200)
echo "$me: $backend; over HTTP an import of $ROWS rows takes $IMPORT_MS ms, an update of $BASE users $UPDATE_MS ms; faults land within them" >&2
at() { # at MS: a random moment within MS milliseconds (and a little after), in seconds
  python3 -c "import random; random.seed($RANDOM); print(f'{random.uniform(0.02, $1 / 1000 * 1.1):.3f}')"
}

declare -A RUN HELD BROKE BEFORE AFTER
verdict() { # verdict FAULT OK DETAIL [before|after]: how a run ended
  RUN[$1]=$((${RUN[$1]:-0} + 1))
  case "${4:-}" in
    before) BEFORE[$1]=$((${BEFORE[$1]:-0} + 1)) ;;
    after) AFTER[$1]=$((${AFTER[$1]:-0} + 1)) ;;
  esac
  if [ "$2" = yes ]; then
    HELD[$1]=$((${HELD[$1]:-0} + 1))
  else
    BROKE[$1]=$((${BROKE[$1]:-0} + 1))
    echo "$me: $1 broke: $3" >&2
  fi
}

kill_import() {
  fresh
  start
  upload POST import.csv
  sleep "$(at "$IMPORT_MS")"
  stop_server
  wait "$UPLOAD" || true
  start
  local ok=no n detail
  n=$(total)
  detail="users $n (before $BASE, after $((BASE + ROWS)))"
  if serves && intact && { [ "$n" = "$BASE" ] || [ "$n" = $((BASE + ROWS)) ]; }; then ok=yes; fi
  stop_server
  verdict kill-import "$ok" "$detail" "$([ "$n" = "$BASE" ] && echo before || echo after)"
}

kill_update() {
  fresh
  start
  upload PUT update.csv
  sleep "$(at "$UPDATE_MS")"
  stop_server
  wait "$UPLOAD" || true
  start
  local ok=no n
  n=$(total Changed)
  if serves && intact && { [ "$n" = 0 ] || [ "$n" = "$BASE" ]; }; then ok=yes; fi
  stop_server
  verdict kill-update "$ok" "users changed: $n of $BASE" "$([ "$n" = 0 ] && echo before || echo after)"
}

sigterm() {
  fresh
  start
  upload POST import.csv
  sleep "$(at "$IMPORT_MS")"
  kill -TERM "$SERVER_PID"
  sleep 0.2
  local refused=no code n ok=no status
  # New connections are refused while the import finishes (the listener is closed).
  if ! curl -s -o /dev/null --max-time 5 "http://$ADDR/healthz"; then refused=yes; fi
  wait "$SERVER_PID" && code=0 || code=$?
  SERVER_PID=
  wait "$UPLOAD" || true
  status=$(cat status.txt)
  n=$(total)
  if [ "$code" = 0 ] && [ "$refused" = yes ] && intact &&
    { { [ "$status" = 201 ] && [ "$n" = $((BASE + ROWS)) ]; } ||
      { [ "$status" != 201 ] && [ "$n" = "$BASE" ]; }; }; then ok=yes; fi
  verdict sigterm "$ok" "exit $code, new connection refused: $refused, answer $status, users $n" \
    "$([ "$n" = "$BASE" ] && echo before || echo after)"
}

pg_restart() {
  fresh
  start
  upload POST import.csv
  sleep "$(at "$IMPORT_MS")"
  eval "$UCSV_TEST_POSTGRES_RESTART" >/dev/null 2>&1 || die "the PostgreSQL server did not restart"
  wait "$UPLOAD" || true
  local status n ok=no after
  status=$(cat status.txt)
  n=$(total)
  after=$(http GET '/1.1/users?limit=1')
  if [ "$after" = 200 ] &&
    { { [ "$status" = 201 ] && [ "$n" = $((BASE + ROWS)) ]; } ||
      { [ "$status" = 503 ] && [ "$n" = "$BASE" ]; }; }; then ok=yes; fi
  stop_server
  verdict pg-restart "$ok" "answer $status, users $n, then a list: $after" \
    "$([ "$n" = "$BASE" ] && echo before || echo after)"
}

disk_full() {
  mkdir -p "$MNT"
  local size
  size=$(($(stat -c %s "$BASEDB") + 256 * 1024))
  mount -t tmpfs -o "size=$size" tmpfs "$MNT" || die "cannot mount a tmpfs (disk-full needs root and mount)"
  fresh "$MNT/run.db"
  start
  upload POST import.csv
  wait "$UPLOAD" || true
  local status code n ok=no read
  status=$(cat status.txt)
  code=$(python3 -c 'import json; print(json.load(open("answer.json"))["errors"][0]["code"])' 2>/dev/null || echo none)
  read=$(http GET '/1.1/users?limit=1')
  stop_server
  n=$(total)
  if [ "$status" = 507 ] && [ "$code" = database.full ] && [ "$read" = 200 ] && intact && [ "$n" = "$BASE" ]; then ok=yes; fi
  rm -f "$MNT"/run.db*
  umount "$MNT"
  verdict disk-full "$ok" "answer $status $code, users $n, a list then: $read" \
    "$([ "$n" = "$BASE" ] && echo before || echo after)"
}

FAULTS=(kill-import kill-update sigterm)
if [ "$backend" = postgres ]; then
  [ -n "${UCSV_TEST_POSTGRES_RESTART:-}" ] || die "pg-restart needs UCSV_TEST_POSTGRES_RESTART (run under scripts/with-postgres.sh)"
  FAULTS+=(pg-restart)
else
  [ "$(id -u)" -eq 0 ] || die "disk-full needs root (to mount a small tmpfs)"
  FAULTS+=(disk-full)
fi
for fault in "${FAULTS[@]}"; do
  for _ in $(seq 1 "$RUNS"); do
    "${fault//-/_}"
  done
done

printf '\n%-12s %5s %5s %5s %7s %6s   (%s, %s rows an import, %s users before)\n' \
  fault runs held broke before after "$backend" "$ROWS" "$BASE"
broke=0
for fault in "${FAULTS[@]}"; do
  printf '%-12s %5s %5s %5s %7s %6s\n' "$fault" "${RUN[$fault]:-0}" "${HELD[$fault]:-0}" "${BROKE[$fault]:-0}" \
    "${BEFORE[$fault]:-0}" "${AFTER[$fault]:-0}"
  broke=$((broke + ${BROKE[$fault]:-0}))
done
[ "$broke" = 0 ] || exit 1
