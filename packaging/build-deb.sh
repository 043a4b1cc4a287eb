#!/usr/bin/env bash
# Builds the Debian package of ucsv, target/debian/ucsv_VERSION_ARCH.deb: the binary, its
# manual pages and shell completions (made by the binary itself, from the same definitions
# as --help), the service (packaging/ucsv.service, run as the system user ucsv that the
# package adds) and its settings (/etc/ucsv/ucsv.toml, a configuration file dpkg keeps).
#
#   packaging/build-deb.sh                    # cargo build --release, then the package
#   UCSV_BIN=path/to/ucsv packaging/build-deb.sh   # package that binary
#
# Needs dpkg-deb (Debian, Ubuntu). Install with: sudo apt install ./target/debian/ucsv_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
arch=$(dpkg --print-architecture)
if [ -z "${UCSV_BIN:-}" ]; then
  cargo build --release --locked --bin ucsv
  UCSV_BIN=target/release/ucsv
fi
root=target/debian/ucsv_${version}_$arch
rm -rf "$root"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" \
  "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
  "$root/usr/share/fish/vendor_completions.d" "$root/lib/systemd/system" "$root/etc/ucsv" \
  "$root/usr/share/doc/ucsv"
install -m 755 "$UCSV_BIN" "$root/usr/bin/ucsv"
"$root/usr/bin/ucsv" man --dir "$root/usr/share/man/man1"
gzip -9n "$root"/usr/share/man/man1/*.1
"$root/usr/bin/ucsv" completions bash >"$root/usr/share/bash-completion/completions/ucsv"
"$root/usr/bin/ucsv" completions zsh >"$root/usr/share/zsh/vendor-completions/_ucsv"
"$root/usr/bin/ucsv" completions fish >"$root/usr/share/fish/vendor_completions.d/ucsv.fish"
install -m 644 packaging/ucsv.service "$root/lib/systemd/system/ucsv.service"
install -m 640 packaging/ucsv.toml "$root/etc/ucsv/ucsv.toml"
gzip -9nc README.md >"$root/usr/share/doc/ucsv/README.md.gz"
printf 'ucsv\nLicense: MIT (see the source of ucsv)\n' >"$root/usr/share/doc/ucsv/copyright"
find "$root" -type d -exec chmod 755 {} +
find "$root/usr" "$root/lib" -type f -exec chmod 644 {} +
chmod 755 "$root/usr/bin/ucsv"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: ucsv
Version: $version
Architecture: $arch
Maintainer: ucsv maintainers <ucsv@localhost>
Installed-Size: $size
Depends: libc6, adduser
Section: net
Priority: optional
Description: provision IPBX users from CSV spreadsheets, one at a time or over HTTP
 ucsv imports, updates, validates and exports the users of an IPBX (lines, numbers,
 voicemail boxes, call permissions) from CSV files into SQLite or PostgreSQL, all or
 nothing, with every change kept as a batch that can be undone; ucsv serve answers a
 REST API and an import page over HTTPS.
CONTROL
echo /etc/ucsv/ucsv.toml >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  if ! getent passwd ucsv >/dev/null; then
    adduser --system --group --home /var/lib/ucsv --no-create-home --quiet ucsv
  fi
  install -d -o ucsv -g ucsv -m 750 /var/lib/ucsv
  chgrp ucsv /etc/ucsv/ucsv.toml
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
  fi
fi
SCRIPT
cat >"$root/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null || true
fi
SCRIPT
cat >"$root/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  systemctl stop ucsv.service >/dev/null 2>&1 || true
fi
SCRIPT
chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/postrm" "$root/DEBIAN/prerm"
dpkg-deb --root-owner-group --build "$root" >/dev/null
echo "$root.deb"
