#!/usr/bin/env bash
# Builds the published binaries of another revision for `just bench-compare`: REV is checked out in a scratch
# worktree, published there with that revision's own justfile, and its out/ copied to DEST. The worktree is removed.
set -euo pipefail
rev="${1:?usage: build-baseline.sh REV DEST}"
dest="${2:?usage: build-baseline.sh REV DEST}"
cd "$(dirname "$0")/.."
commit="$(git rev-parse --verify "$rev^{commit}")"
tree="$(mktemp -d /tmp/npt-baseline-XXXXXX)"
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git worktree add --detach "$tree" "$commit" >/dev/null
echo "build-baseline: publishing $rev ($commit)" >&2
(cd "$tree" && just publish >/dev/null)
rm -rf "$dest"
mkdir -p "$dest"
cp -a "$tree/out/." "$dest/"
echo "build-baseline: $rev is in $dest" >&2
