#!/usr/bin/env bash
# Builds out/packages/net-porter_VERSION-RELEASE_amd64.deb with the standard Debian tools (dpkg-buildpackage,
# debhelper) from the published binaries, and checks it with lintian: any error fails the build (warnings that
# remain are explained in packaging/README.md and overridden in packaging/deb/debian/net-porter.lintian-overrides).
# PACK_RELEASE (default 1) is the Debian revision; the package tests build a newer one to upgrade to, into PACK_OUT
# (default out/packages), and skip lintian for it with PACK_LINTIAN=no (it is the same package).
set -euo pipefail
cd "$(dirname "$0")/../.."
version="$(scripts/pack/version.sh)"
release="${PACK_RELEASE:-1}"
packages="${PACK_OUT:-out/packages}"
top="out/pack/deb-$release"
work="$top/net-porter-$version"
rm -rf "$top"
mkdir -p "$work" "$packages"
cp -a packaging/deb/debian "$work/debian"
scripts/pack/stage.sh debian "$work/stage"
cat >"$work/debian/changelog" <<CHANGELOG
net-porter ($version-$release) unstable; urgency=medium

  * Release $version (see /usr/share/doc/net-porter/CHANGELOG.md.gz).

 -- net-porter developers <net-porter@packages.invalid>  $(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")
CHANGELOG
(cd "$work" && dpkg-buildpackage -b -us -uc >../build.log 2>&1) || {
  echo "deb: dpkg-buildpackage failed; its log is $top/build.log" >&2
  tail -n 30 "$top/build.log" >&2
  exit 1
}
deb="net-porter_${version}-${release}_amd64.deb"
rm -f "$packages"/net-porter_*.deb
mv "$top/$deb" "$packages/"
echo "deb: $packages/$deb"
if [ "${PACK_LINTIAN:-yes}" = no ]; then
  exit 0
fi
rc=0
lintian --fail-on error --tag-display-limit 0 "$packages/$deb" >"$top/lintian.raw" 2>&1 || rc=$?
grep -v "^running with root privileges" "$top/lintian.raw" >"$top/lintian.log" || true
if [ "$rc" -ne 0 ]; then
  echo "deb: lintian found errors (exit $rc):" >&2
  cat "$top/lintian.log" >&2
  exit 1
fi
if [ -s "$top/lintian.log" ]; then
  echo "deb: lintian: no errors; what it still says is explained in packaging/README.md:"
  sed 's/^/  /' "$top/lintian.log"
else
  echo "deb: lintian: clean"
fi
