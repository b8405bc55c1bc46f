#!/usr/bin/env bash
# Builds out/packages/net-porter-VERSION-RELEASE-x86_64.pkg.tar.zst with makepkg (Debian's makepkg package) from
# packaging/arch/PKGBUILD and the tree scripts/pack/stage.sh lays out. makepkg refuses to run as root, so it runs
# as nobody; --nodeps because Debian has no pacman database to check Arch's dependencies against.
# PACK_RELEASE (default 1) is pkgrel.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="$(scripts/pack/version.sh)"
release="${PACK_RELEASE:-1}"
# makepkg runs as nobody, who must be able to reach the stage: build under /tmp, not in a clone that may be under a
# home directory nobody cannot enter; the log is kept in out/pack/arch.
top="$(mktemp -d /tmp/net-porter-arch-XXXXXX)"
trap 'rm -rf "$top"' EXIT
chmod 0755 "$top"
mkdir -p "$top/build" out/packages out/pack/arch
scripts/pack/stage.sh arch "$top/stage"
cp packaging/arch/PKGBUILD packaging/arch/net-porter.install LICENSE "$top/build/"
# zstd at level 3 (Arch's makepkg.conf uses --ultra -20: minutes for about 120 MB; the package is barely smaller).
echo "COMPRESSZST=(zstd -c -T0 -3 -)" >"$top/build/.makepkg.conf"
chmod -R a+rX "$top"
chown -R nobody "$top/build"
as_builder=()
if [ "$(id -u)" -eq 0 ]; then
  as_builder=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
# fakeroot (makepkg's) records every file as root's; the stage is read as nobody, hence a+rX above.
(cd "$top/build" && "${as_builder[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$top/build" \
  NP_VERSION="$version" NP_RELEASE="$release" NP_STAGE="$top/stage" NP_LICENSE="$top/build/LICENSE" \
  PKGDEST="$top/build" SRCDEST="$top/build" BUILDDIR="$top/build/work" PKGEXT=.pkg.tar.zst \
  makepkg --nodeps --force --noconfirm) >out/pack/arch/build.log 2>&1 || {
  echo "arch: makepkg failed; its log is out/pack/arch/build.log" >&2
  tail -n 30 out/pack/arch/build.log >&2
  exit 1
}
pkg="net-porter-$version-$release-x86_64.pkg.tar.zst"
rm -f out/packages/net-porter-*.pkg.tar.zst
mv "$top/build/$pkg" out/packages/
chown "$(id -u):$(id -g)" "out/packages/$pkg"
echo "arch: out/packages/$pkg"
