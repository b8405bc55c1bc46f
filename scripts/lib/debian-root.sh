# Shared by the scripts that debootstrap a cached Debian 13 root (scripts/e2e/build-root.sh for the podman suite,
# scripts/systemd/build-root.sh for the package tests). Source it; each function exits the script on failure.

# The version of a root: the building script and this file, so that a change to either rebuilds it.
debian_root_want() {
  cat "$1" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1
}

# True when ROOT was completely built by this version (its STAMP file holds WANT).
debian_root_current() {
  local stamp="$1" want="$2"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]
}

# Root, and debootstrap installed.
debian_root_prerequisites() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "build-root: run as root (debootstrap)" >&2
    exit 1
  fi
  if ! command -v debootstrap >/dev/null; then
    echo "build-root: installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
}

# The mirror this machine's apt uses (the only one it can reach).
debian_mirror() {
  local mirror
  mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
  if [ -z "$mirror" ]; then
    mirror="$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)"
  fi
  if [ -z "$mirror" ]; then
    echo "build-root: cannot tell which Debian mirror apt uses (no URIs in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)" >&2
    exit 1
  fi
  echo "$mirror"
}

# A half-made root from an interrupted run is removed first; nothing may be mounted in it.
debian_root_remove() {
  local root="$1"
  if [ -e "$root" ]; then
    if findmnt -rn -o TARGET | grep -q "^$root"; then
      echo "build-root: $root has mounts below it; refusing to remove it" >&2
      exit 1
    fi
    rm -rf "$root"
  fi
}

# debootstrap ROOT MIRROR [ARGS...] (minbase, trixie), its output in ROOT.log, shown on failure.
debian_root_bootstrap() {
  local root="$1" mirror="$2"
  shift 2
  debootstrap --variant=minbase "$@" trixie "$root" "$mirror" >"$root.log" 2>&1 || {
    echo "build-root: debootstrap failed; its log is $root.log" >&2
    tail -n 20 "$root.log" >&2
    exit 1
  }
}
