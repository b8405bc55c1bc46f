#!/usr/bin/env bash
# Runs the built unit tests as an unprivileged user (nobody), which proves that `just unit` needs no root: the unit
# tests cover pure logic and must not depend on privileges. Called by `just test` (as root) after the build.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=tests/Porter.Tests/bin/Release/net10.0/Porter.Tests.dll
if [ ! -f "$tests" ]; then
  echo "unit-unprivileged: $tests is missing; build it first (dotnet build tests/Porter.Tests -c Release)" >&2
  exit 1
fi
dotnet=$(command -v dotnet) || { echo "unit-unprivileged: dotnet is not on PATH" >&2; exit 1; }
dotnet=$(readlink -f "$dotnet")
if ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$dotnet"; then
  echo "unit-unprivileged: $dotnet cannot be run by an unprivileged user (is the SDK under /root?)" >&2
  exit 1
fi
home=$(mktemp -d /tmp/npt-unit-XXXXXX)
trap 'rm -rf "$home"' EXIT
chmod 0777 "$home"
# A fresh HOME for the SDK's first-run files; nothing of root's environment is carried over.
setpriv --reuid=nobody --regid=nogroup --clear-groups \
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$home" DOTNET_CLI_HOME="$home" \
  DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_WORKLOAD_INTEGRITY_CHECK=1 \
  "$dotnet" test "$tests" --nologo
