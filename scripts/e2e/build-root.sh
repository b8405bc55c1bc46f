#!/usr/bin/env bash
# Builds (or reuses) the Debian 13 root in which the end-to-end suite runs real rootless podman 5 and netavark 1.14:
# Debian 12's podman cannot load plugins, and trixie's netavark needs a newer glibc than the host has.
# Usage: build-root.sh DIR. The root is rebuilt when missing, half-made or built by another version of this script.
set -euo pipefail

root="${1:?usage: build-root.sh DIR}"
packages=(podman netavark crun conmon passt uidmap busybox-static iproute2 containernetworking-plugins aardvark-dns catatonit)
stamp="$root/.net-porter-e2e"
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

echo "build-root: building a Debian 13 root with podman at $root from $mirror (about a minute)"
# A half-made root from an interrupted run is removed first; nothing may be mounted in it.
if [ -e "$root" ]; then
  if findmnt -rn -o TARGET | grep -q "^$root"; then
    echo "build-root: $root has mounts below it; refusing to remove it" >&2
    exit 1
  fi
  rm -rf "$root"
fi
mkdir -p "$root"
debootstrap --variant=minbase trixie "$root" "$mirror" >"$root.log" 2>&1 || {
  echo "build-root: debootstrap failed; its log is $root.log" >&2
  tail -n 20 "$root.log" >&2
  exit 1
}

cleanup() {
  umount "$root/proc" 2>/dev/null || true
  umount "$root/dev" 2>/dev/null || true
}
trap cleanup EXIT
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
# Nothing installed may start a service.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${packages[*]}" >>"$root.log" 2>&1 || {
  echo "build-root: installing ${packages[*]} in the root failed; its log is $root.log" >&2
  tail -n 20 "$root.log" >&2
  exit 1
}
chroot "$root" apt-get clean
cleanup
trap - EXIT

# podman as the suite runs it: cgroupfs (there is no systemd), file events, and the plugin where netavark looks.
# .oldroot: where holder.sh's pivot_root puts the host's root.
mkdir -p "$root/etc/containers" "$root/usr/libexec/netavark" "$root/.oldroot"
cat >"$root/etc/containers/containers.conf" <<'CONF'
[containers]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_backend = "netavark"
CONF
echo "$want" >"$stamp"
echo "build-root: done"
