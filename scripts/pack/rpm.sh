#!/usr/bin/env bash
# Builds out/packages/net-porter-VERSION-RELEASE.x86_64.rpm with rpmbuild from packaging/rpm/net-porter.spec and
# the tree scripts/pack/stage.sh lays out. PACK_RELEASE (default 1) is the release.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="$(scripts/pack/version.sh)"
release="${PACK_RELEASE:-1}"
top="$PWD/out/pack/rpm"
rm -rf "$top"
mkdir -p "$top" out/packages
scripts/pack/stage.sh fedora "$top/stage"
rm -f out/packages/net-porter-*.rpm
rpmbuild -bb packaging/rpm/net-porter.spec --target x86_64 \
  --define "_topdir $top" --define "_rpmdir $PWD/out/packages" \
  --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
  --define "np_version $version" --define "np_release $release" \
  --define "np_stage $top/stage" --define "np_license $PWD/LICENSE" >"$top/build.log" 2>&1 || {
  echo "rpm: rpmbuild failed; its log is $top/build.log" >&2
  tail -n 30 "$top/build.log" >&2
  exit 1
}
echo "rpm: out/packages/net-porter-$version-$release.x86_64.rpm"
