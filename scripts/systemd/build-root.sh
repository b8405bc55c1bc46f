#!/usr/bin/env bash
# Builds (or reuses) the Debian 13 root that the package tests boot with systemd-nspawn --boot: systemd as PID 1,
# logind for lingering users, and what net-porter's .deb depends on, so that `apt install ./net-porter_*.deb` works
# inside without a network. Runs never change it: they boot an overlay on top of it (tests/Porter.Testbed/Systemd).
# Usage: build-root.sh DIR. The root is rebuilt when missing, half-made or built by another version of this script.
set -euo pipefail

root="${1:?usage: build-root.sh DIR}"
# systemd + dbus + libpam-systemd: a booted system with logind (loginctl enable-linger); containernetworking-plugins
# and iptables: the .deb's dependencies (the root has no network when the tests install it); the rest: what the tests
# run inside (ip, ping, ps, unshare/nsenter/setpriv from util-linux, which minbase has).
packages=(systemd systemd-sysv dbus libpam-systemd iproute2 iputils-ping procps containernetworking-plugins iptables
  passwd login)
stamp="$root/.net-porter-systemd"
want="$(sha256sum "$0" | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "build-root: run as root (debootstrap)" >&2
  exit 1
fi
if ! command -v debootstrap >/dev/null; then
  echo "build-root: installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# The mirror this machine's apt uses (the only one it can reach).
mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
if [ -z "$mirror" ]; then
  mirror="$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)"
fi
if [ -z "$mirror" ]; then
  echo "build-root: cannot tell which Debian mirror apt uses (no URIs in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)" >&2
  exit 1
fi

echo "build-root: building a booted-systemd Debian 13 root at $root from $mirror (about a minute)"
if [ -e "$root" ]; then
  if findmnt -rn -o TARGET | grep -q "^$root"; then
    echo "build-root: $root has mounts below it; refusing to remove it" >&2
    exit 1
  fi
  rm -rf "$root"
fi
mkdir -p "$(dirname "$root")"
# One debootstrap run: --include resolves the packages' dependencies itself (no chroot apt-get afterwards).
include="$(IFS=,; echo "${packages[*]}")"
debootstrap --variant=minbase --include="$include" trixie "$root" "$mirror" >"$root.log" 2>&1 || {
  echo "build-root: debootstrap failed; its log is $root.log" >&2
  tail -n 20 "$root.log" >&2
  exit 1
}
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
