#!/usr/bin/env bash
# The OpenAPI document of `ucsv serve` (`ucsv openapi`, the same as GET /1.1/openapi.json)
# checked by a real validator, openapi-spec-validator from PyPI (the versions pinned in
# requirements.txt, in a virtual environment under target/). Exit 1 if it is not a valid
# OpenAPI 3.1 document.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
me=tests/openapi
die() { echo "$me: $*" >&2; exit 1; }
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/openapi-venv"
requirements="$here/requirements.txt"
if [ ! -x "$venv/bin/openapi-spec-validator" ] || ! cmp -s "$requirements" "$venv/ucsv-requirements.txt"; then
  rm -rf "$venv"
  mkdir -p "$target"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian, Ubuntu: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" ||
    die "pip install -r $requirements failed"
  cp "$requirements" "$venv/ucsv-requirements.txt"
fi
bin="${UCSV_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --quiet --bin ucsv)
  bin="$target/debug/ucsv"
fi
"$bin" openapi >"$target/openapi.json"
"$venv/bin/openapi-spec-validator" "$target/openapi.json" || die "the document is not valid OpenAPI"
echo "$me: $(python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print(sum(len(v) for v in d['paths'].values()), 'operations,', d['openapi'])" "$target/openapi.json"): valid"
