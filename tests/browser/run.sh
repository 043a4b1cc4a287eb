#!/usr/bin/env bash
# The browser test of the page (page.test.js): installs what it needs, checks that Chromium
# starts, builds ucsv unless UCSV_BIN names a binary, then drives the page in headless
# Chromium against `ucsv serve`. Regenerates docs/preview.png.
#
#   tests/browser/run.sh            (CHROMIUM=/path/to/chromium to use another build)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export DEBIAN_FRONTEND=noninteractive

as_root() { [ "$(id -u)" = 0 ]; }

node_major() { node -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if as_root; then
    echo "tests/browser: installing the distribution's nodejs and npm" >&2
    apt-get update -qq
    apt-get install -y -qq nodejs npm >/dev/null
  fi
fi
if ! command -v npm >/dev/null || [ "$(node_major)" -lt 18 ]; then
  echo "tests/browser: Node.js 18 or newer and npm are required" >&2
  exit 2
fi
if [ ! -x "$CHROMIUM" ]; then
  if as_root && [ "$CHROMIUM" = /usr/bin/chromium ]; then
    echo "tests/browser: installing Debian's chromium" >&2
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  else
    echo "tests/browser: no Chromium at $CHROMIUM: install it (apt-get install chromium) or set CHROMIUM" >&2
    exit 2
  fi
fi

# Chromium must start, or the test fails here, loudly, with Chromium's own words.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --dump-dom about:blank >/dev/null 2>"$log"; then
  echo "tests/browser: Chromium ($CHROMIUM) cannot start:" >&2
  cat "$log" >&2
  exit 2
fi

cd "$here"
npm ci --no-audit --no-fund --loglevel=error

if [ -z "${UCSV_BIN:-}" ]; then
  # The dev profile, which `cargo test` has built already in CI.
  (cd "$root" && cargo build --quiet)
  export UCSV_BIN="$root/target/debug/ucsv"
fi

node --test --test-reporter=spec page.test.js
