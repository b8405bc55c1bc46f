#!/usr/bin/env bash
# The process whose mount namespace is the Debian 13 world the podman suite runs in. Started as
#   nsenter --net=NETNS unshare --mount --propagation private --fork -- holder.sh ROOT RUNUSER ETC PLUGIN
# it builds that world on top of ROOT without changing ROOT itself (everything is mounted in this namespace only),
# pivots into it, prints "ready PID" and then sleeps until it is killed; users enter with nsenter -m -n -t PID.
#   RUNUSER a directory of the host's (a tmpfs), mounted at /run/user: the server outside makes the per-user sockets
#           there, and podman inside sees them at /run/user/UID
#   ETC     a directory with passwd, group, subuid and subgid for the run's users, mounted over the root's files
#   PLUGIN  the net-porter binary, installed where netavark looks for plugins
set -euo pipefail
root="$1" runuser="$2" etc="$3" plugin="$4"

mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
# The host mixes cgroup v1 and v2; crun refuses that. This namespace sees only the v2 hierarchy.
mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"

# An own /dev: the basic nodes, a private devpts, shm, mqueue, and /dev/net/tun for pasta.
mount -t tmpfs -o mode=0755,nosuid tmpfs "$root/dev"
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r name major minor <<<"$node"
  mknod -m 0666 "$root/dev/$name" c "$major" "$minor"
done
mkdir -p "$root/dev/pts" "$root/dev/shm" "$root/dev/mqueue" "$root/dev/net"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
mount -t mqueue mqueue "$root/dev/mqueue"
mknod -m 0666 "$root/dev/net/tun" c 10 200
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"

mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
mkdir -p "$root/run/user"
mount --bind "$runuser" "$root/run/user"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$root/home"
mount -t tmpfs -o mode=1777 tmpfs "$root/var/tmp"
for f in passwd group subuid subgid; do
  mount --bind "$etc/$f" "$root/etc/$f"
done
mount -t tmpfs -o mode=0755 tmpfs "$root/usr/libexec/netavark"
install -m 0755 "$plugin" "$root/usr/libexec/netavark/net-porter"

cd "$root"
pivot_root . .oldroot
cd /
umount -l /.oldroot
# podman warns unless / is a shared mount.
mount --make-rshared /
echo "ready $$"
exec sleep infinity
