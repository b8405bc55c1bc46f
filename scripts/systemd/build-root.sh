#!/usr/bin/env bash
# Builds (or reuses) the Debian 13 root that the package tests boot with systemd-nspawn --boot: systemd as PID 1,
# logind for lingering users, and what net-porter's .deb depends on, so that `apt install ./net-porter_*.deb` works
# inside without a network. Runs never change it: they boot an overlay on top of it (tests/Porter.Testbed/Systemd).
# Usage: build-root.sh DIR. The root is rebuilt when missing, half-made or built by another version of this script
# or of scripts/lib/debian-root.sh.
set -euo pipefail

root="${1:?usage: build-root.sh DIR}"
# systemd + dbus + libpam-systemd: a booted system with logind (loginctl enable-linger); containernetworking-plugins
# and iptables: the .deb's dependencies (the root has no network when the tests install it); the rest: what the tests
# run inside (ip, ping, ps, unshare/nsenter/setpriv from util-linux, which minbase has).
packages=(systemd systemd-sysv dbus libpam-systemd iproute2 iputils-ping procps containernetworking-plugins iptables
  passwd login)
stamp="$root/.net-porter-systemd"
. "$(dirname "$0")/../lib/debian-root.sh"
want="$(debian_root_want "$0")"

if debian_root_current "$stamp" "$want"; then
  exit 0
fi
debian_root_prerequisites
mirror="$(debian_mirror)"

echo "build-root: building a booted-systemd Debian 13 root at $root from $mirror (about a minute)"
debian_root_remove "$root"
mkdir -p "$(dirname "$root")"
# One debootstrap run: --include resolves the packages' dependencies itself (no chroot apt-get afterwards).
include="$(IFS=,; echo "${packages[*]}")"
debian_root_bootstrap "$root" "$mirror" --include="$include"
chroot "$root" apt-get clean

# A booted container: no consoles to serve, a fixed hostname, no network management (the tests configure links),
# and a machine-id made at first boot of each overlay.
chroot "$root" systemctl mask getty@tty1.service console-getty.service systemd-networkd.service \
  systemd-resolved.service systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer >>"$root.log" 2>&1 || true
echo net-porter-test >"$root/etc/hostname"
: >"$root/etc/machine-id"
rm -f "$root/usr/sbin/policy-rc.d"
echo "$want" >"$stamp"
echo "build-root: done"
