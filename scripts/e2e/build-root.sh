#!/usr/bin/env bash
# Builds (or reuses) the Debian 13 root in which the end-to-end suite runs real rootless podman 5 and netavark 1.14:
# Debian 12's podman cannot load plugins, and trixie's netavark needs a newer glibc than the host has.
# Usage: build-root.sh DIR. The root is rebuilt when missing, half-made or built by another version of this script
# or of scripts/lib/debian-root.sh.
set -euo pipefail

root="${1:?usage: build-root.sh DIR}"
packages=(podman netavark crun conmon passt uidmap busybox-static iproute2 containernetworking-plugins aardvark-dns catatonit)
stamp="$root/.net-porter-e2e"
. "$(dirname "$0")/../lib/debian-root.sh"
want="$(debian_root_want "$0")"

if debian_root_current "$stamp" "$want"; then
  exit 0
fi
debian_root_prerequisites
mirror="$(debian_mirror)"

echo "build-root: building a Debian 13 root with podman at $root from $mirror (about a minute)"
debian_root_remove "$root"
mkdir -p "$root"
debian_root_bootstrap "$root" "$mirror"

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
