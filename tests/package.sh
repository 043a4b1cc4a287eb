#!/usr/bin/env bash
# The Debian package, installed for real (as root, on a Debian or Ubuntu machine): built by
# packaging/build-deb.sh, installed with dpkg, then the installed binary's --version, an
# import of the seed examples, its manual page and completions, the service's user and
# settings, `ucsv serve` started as that user with the installed settings and asked
# /readyz, the unit checked by systemd-analyze verify where it is installed, and the package
# removed. Any failure fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
die() { echo "tests/package.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (it installs the package)"
deb=$(packaging/build-deb.sh | tail -n 1)
[ -f "$deb" ] || die "no package built"
dpkg -i "$deb" >/dev/null
trap 'dpkg --purge ucsv >/dev/null 2>&1 || true' EXIT
[ "$(command -v ucsv)" = /usr/bin/ucsv ] || die "ucsv is not /usr/bin/ucsv"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ "$(ucsv --version)" = "ucsv $version" ] || die "ucsv --version: $(ucsv --version)"
# The release profile keeps no debug info (the `profiling` profile does).
if command -v readelf >/dev/null; then
  ! readelf -S /usr/bin/ucsv | grep -q '\.debug_info' || die "/usr/bin/ucsv holds debug info"
fi
work=$(mktemp -d)
(cd "$work" && ucsv -q import "$root/fixtures/good/seed_examples.csv" --no-progress)
users=$(cd "$work" && ucsv user list --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])')
[ "$users" -gt 0 ] || die "the import wrote no user"
for f in /usr/share/man/man1/ucsv.1.gz /usr/share/man/man1/ucsv-import.1.gz \
  /usr/share/bash-completion/completions/ucsv /usr/share/zsh/vendor-completions/_ucsv \
  /usr/share/fish/vendor_completions.d/ucsv.fish /lib/systemd/system/ucsv.service; do
  [ -s "$f" ] || die "$f is missing"
done
zcat /usr/share/man/man1/ucsv-serve.1.gz | grep -q -- 'tls\\-cert' || die "ucsv-serve(1) lacks --tls-cert"
getent passwd ucsv >/dev/null || die "no user ucsv"
[ "$(stat -c '%a %G' /etc/ucsv/ucsv.toml)" = "640 ucsv" ] || die "/etc/ucsv/ucsv.toml: $(stat -c '%a %G' /etc/ucsv/ucsv.toml)"
[ "$(stat -c '%a %U' /var/lib/ucsv)" = "750 ucsv" ] || die "/var/lib/ucsv: $(stat -c '%a %U' /var/lib/ucsv)"
# The service's command, as its user, with its settings (on a free port).
log=$work/serve.log
UCSV_CONFIG=/etc/ucsv/ucsv.toml UCSV_LISTEN=127.0.0.1:0 runuser -u ucsv -- /usr/bin/ucsv serve 2>"$log" &
pid=$!
for _ in $(seq 100); do grep -q 'serving http' "$log" && break; sleep 0.1; done
addr=$(sed -n 's|.*serving http://\([^/]*\)/.*|\1|p' "$log" | head -n 1)
[ -n "$addr" ] || { cat "$log" >&2; die "ucsv serve did not start"; }
ready=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://$addr/readyz').status)")
kill "$pid"; wait "$pid" || true
[ "$ready" = 200 ] || die "/readyz answered $ready"
[ -f /var/lib/ucsv/ucsv.db ] || die "the service's database is not /var/lib/ucsv/ucsv.db"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/ucsv.service
  echo "tests/package.sh: systemd-analyze verify: the unit is valid"
else
  echo "tests/package.sh: systemd-analyze is not installed: the unit was not verified"
fi
rm -rf "$work"
echo "tests/package.sh: $deb installed, ran and removed"
