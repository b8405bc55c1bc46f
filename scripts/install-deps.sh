#!/usr/bin/env bash
# Installs what building, testing and the demo need on Debian 12 (root). Quick when everything is present.
set -euo pipefail

packages=(
  containernetworking-plugins  # the CNI plugins net-porter runs (/usr/lib/cni)
  iproute2                     # ip, ss, bridge, tc
  procps                       # kill, pkill, pgrep
  util-linux                   # unshare, nsenter, setpriv
  passwd                       # useradd/groupadd/gpasswd for the test users
  uidmap
  iputils-ping
  iptables                     # used by CNI bridge/portmap/firewall plugins
  dnsmasq-base                 # DHCP server for the DHCP tests
  python3                      # the test and bench drivers (Debian's /usr/bin/python3)
  python3-grpcio               # a real gRPC client for the interop test
  python3-protobuf
  systemd                      # systemd-socket-activate, systemd-analyze
  clang zlib1g-dev             # Native AOT linker for the plugin and the server
  debootstrap                  # the Debian 13 root of the podman suite (scripts/e2e/build-root.sh)
  netavark                     # Debian 12's netavark: the bench's rootful macvlan comparison (cannot load plugins)
  afl++                        # afl-fuzz for fuzz/fuzz.sh (just fuzz, and the short run in just test)
  time                         # /usr/bin/time: the bench reads the plugin's peak RSS from it
  dpkg-dev debhelper fakeroot  # just pack-all: the .deb (dpkg-buildpackage, dh)
  lintian                      # the .deb's checks (scripts/pack/deb.sh)
  rpm                          # just pack-all: the .rpm (rpmbuild), and rpm --root in the package tests
  makepkg pacman-package-manager zstd libarchive-tools  # just pack-all: the .pkg.tar.zst (makepkg), pacman -r in the package tests
  systemd-container            # systemd-nspawn: the booted Debian 13 root of the package tests (scripts/systemd/)
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (it uses apt-get)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
