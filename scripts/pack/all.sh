#!/usr/bin/env bash
# just pack-all: the .deb, the .rpm and the .pkg.tar.zst of the published binaries (just publish), into out/packages/.
# One version for all three: <Version> in Directory.Build.props (scripts/pack/version.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS
scripts/pack/deb.sh
scripts/pack/rpm.sh
scripts/pack/arch.sh
echo "pack-all: $(cd out/packages && ls -- *.deb *.rpm *.pkg.tar.zst | tr "\n" " ")($((SECONDS - start)) s)"
