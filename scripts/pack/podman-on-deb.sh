#!/usr/bin/env bash
# Runs the podman suite (tests/Porter.PodmanTests) once more, against the binaries of the .deb rather than out/:
# the package is unpacked with dpkg-deb and NET_PORTER_OUT points the suite at the plugin and the server as the
# package installs them (/usr/libexec/netavark/net-porter, /usr/lib/net-porter/). Podman runs in its own Debian 13
# root, not in the booted system of tests/Porter.SystemdTests: crun refuses the hybrid cgroup layout systemd-nspawn
# gives a container on these machines.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="$(scripts/pack/version.sh)"
deb="out/packages/net-porter_${version}-1_amd64.deb"
if [ ! -f "$deb" ]; then
  echo "podman-on-deb: $deb is missing; run just pack-all first" >&2
  exit 1
fi
top="$PWD/out/pack/deb-unpacked"
rm -rf "$top"
mkdir -p "$top/out"
dpkg-deb -x "$deb" "$top/root"
ln -s ../root/usr/libexec/netavark/net-porter "$top/out/net-porter"
ln -s ../root/usr/lib/net-porter "$top/out/server"
NET_PORTER_OUT="$top/out" dotnet test tests/Porter.PodmanTests -c Release -nologo
