#!/usr/bin/env bash
# The one place the version comes from: <Version> in Directory.Build.props (the binaries' --version reads it too).
set -euo pipefail
cd "$(dirname "$0")/../.."
version="$(sed -n 's|.*<Version>\([^<]*\)</Version>.*|\1|p' Directory.Build.props | head -n1)"
if [ -z "$version" ]; then
  echo "version: no <Version> in Directory.Build.props" >&2
  exit 1
fi
echo "$version"
