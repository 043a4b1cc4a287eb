#!/usr/bin/env bash
# Builds the `import` fuzz target and runs it for SECONDS (default 300) with one job, then
# prints the outcome: executions, coverage, corpus size and any crash found.
#
#   fuzz/run.sh            # 5 minutes
#   fuzz/run.sh 600        # 10 minutes
#   MAX_LEN=4096 fuzz/run.sh 60
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain, or a stable one with
# RUSTC_BOOTSTRAP=1 (used when no nightly is installed). The seed corpus is made at run time
# from fixtures/ plus the few checked-in seeds of fuzz/corpus/import; what the fuzzer learns
# goes to fuzz/corpus-generated/ and crashes to fuzz/artifacts/ (neither is committed).
#
# MAX_LEN bounds the input size. Its default, 131072, leaves room for lines longer than 65,535
# characters (miette's formatting limit, once a panic of the human report); a seed with such
# a line is made at run time.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN=${1:-300}
MAX_LEN=${MAX_LEN:-131072}
TARGET=import

toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  export RUSTC_BOOTSTRAP=1
fi
command -v cargo-fuzz >/dev/null || { echo "run.sh: cargo install cargo-fuzz" >&2; exit 2; }

corpus=corpus-generated/$TARGET
mkdir -p "$corpus" artifacts/$TARGET
# Seeds: every fixture, and the checked-in seeds (copied, so the fuzzer never writes into
# the checked-in directory).
cp ../fixtures/*/* "$corpus"/
cp corpus/$TARGET/* "$corpus"/ 2>/dev/null || true
# A bad cell far into a long line (generated: it is not worth committing 70 KB).
{ echo 'firstname,lastname,email'; printf 'Ann,%*s,not-an-email\n' 70000 '' | tr ' ' x; } \
  >"$corpus/long_line.csv"

cargo "${toolchain[@]}" fuzz build "$TARGET"
log=artifacts/$TARGET/last-run.log # kept for a look at a crash; not committed
crashes_before=$(find artifacts/$TARGET -type f ! -name "*.log" | wc -l)
start=$(date +%s)
set +e
# One job, one worker: the machine is shared. -print_final_stats gives the execution count.
# -detect_leaks=0: a leak is not a crash here (Rust frees or deliberately keeps; a 32-byte
# allocation once in ~18,000 runs, not reproducible from its input, came from the threads of
# a run ending), and LeakSanitizer stopped the first recorded run on it.
cargo "${toolchain[@]}" fuzz run "$TARGET" "$corpus" -- \
  -max_total_time="$SECONDS_TO_RUN" -max_len="$MAX_LEN" -timeout=30 -rss_limit_mb=4096 \
  -detect_leaks=0 -print_final_stats=1 2>&1 | tee "$log" | grep -E '^(#[0-9]+.*(pulse|REDUCE|NEW|DONE)|==|SUMMARY|.*panicked)' | tail -n 40
status=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - start ))
crashes_after=$(find artifacts/$TARGET -type f ! -name "*.log" | wc -l)

echo
echo "== fuzz/run.sh summary ($(date -u +%Y-%m-%dT%H:%MZ)) =="
echo "target:      $TARGET (max_len $MAX_LEN, 1 job)"
echo "wall time:   ${elapsed}s"
echo "executions:  $(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')"
echo "last status: $(grep -E '^#[0-9]+' "$log" | tail -n 1)"
echo "corpus:      $(find "$corpus" -type f | wc -l) files in fuzz/$corpus"
echo "new crashes: $((crashes_after - crashes_before)) (fuzz/artifacts/$TARGET)"
grep -m1 -A3 "panicked at" "$log" || true
# libFuzzer exits non-zero on a crash; so does this script.
exit "$status"
