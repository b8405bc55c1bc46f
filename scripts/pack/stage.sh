#!/usr/bin/env bash
# Lays out the installed tree of net-porter, as every package installs it, under DEST:
#   stage.sh debian|fedora|arch DEST
# The three differ only in netavark's plugin directory (/usr/libexec/netavark on Debian and Fedora,
# /usr/lib/netavark on Arch). The server is the whole of out/server, whatever `just publish` put there.
set -euo pipefail
cd "$(dirname "$0")/../.."
flavor="${1:?usage: stage.sh debian|fedora|arch DEST}"
dest="${2:?usage: stage.sh debian|fedora|arch DEST}"
case "$flavor" in
  debian | fedora) plugindir=usr/libexec/netavark ;;
  arch) plugindir=usr/lib/netavark ;;
  *) echo "stage: unknown flavor $flavor" >&2; exit 2 ;;
esac
for f in out/net-porter out/server/net-porter-server; do
  if [ ! -x "$f" ]; then
    echo "stage: $f is missing; run just publish first" >&2
    exit 1
  fi
done
version="$(scripts/pack/version.sh)"

rm -rf "$dest"
mkdir -p "$dest"
install -d -m 0755 "$dest/$plugindir" "$dest/usr/bin" "$dest/usr/lib/net-porter" \
  "$dest/usr/lib/systemd/system" "$dest/usr/lib/sysusers.d" "$dest/usr/lib/tmpfiles.d" \
  "$dest/etc/net-porter/cni.d" "$dest/etc/net-porter/netns" \
  "$dest/usr/share/doc/net-porter/examples/cni.d" "$dest/usr/share/man/man1" "$dest/usr/share/man/man8"

# The plugin (netavark runs it from its plugin directory) and the command line (the same binary).
install -m 0755 out/net-porter "$dest/$plugindir/net-porter"
ln -s "../${plugindir#usr/}/net-porter" "$dest/usr/bin/net-porter"

# The server: every file of the published output. Modes are normalised (the SDK leaves assemblies executable):
# programs (ELF executables other than shared libraries, and scripts) 0755, everything else 0644.
cp -R --no-preserve=ownership,mode out/server/. "$dest/usr/lib/net-porter/"
find "$dest/usr/lib/net-porter" -type d -exec chmod 0755 {} +
find "$dest/usr/lib/net-porter" -type f -exec chmod 0644 {} +
find "$dest/usr/lib/net-porter" -type f ! -name '*.so' ! -name '*.so.*' -print0 | while IFS= read -r -d '' f; do
  case "$(head -c 4 "$f" | od -An -c | tr -d ' ')" in
    177ELF* | '#!'*) chmod 0755 "$f" ;;
  esac
done
ln -s ../lib/net-porter/net-porter-server "$dest/usr/bin/net-porter-server"

install -m 0644 packaging/systemd/net-porter.socket packaging/systemd/net-porter.service \
  packaging/systemd/net-porter-netns@.service "$dest/usr/lib/systemd/system/"
install -m 0644 packaging/common/net-porter.sysusers "$dest/usr/lib/sysusers.d/net-porter.conf"
install -m 0644 packaging/common/net-porter.tmpfiles "$dest/usr/lib/tmpfiles.d/net-porter.conf"
install -m 0644 packaging/common/config.json "$dest/etc/net-porter/config.json"

install -m 0644 README.md CHANGELOG.md "$dest/usr/share/doc/net-porter/"
install -m 0644 config.json.example "$dest/usr/share/doc/net-porter/examples/"
install -m 0644 cni.d/* "$dest/usr/share/doc/net-porter/examples/cni.d/"
for page in packaging/man/net-porter.1 packaging/man/net-porter-server.8; do
  section="${page##*.}"
  sed "s/@VERSION@/$version/" "$page" | gzip -9n >"$dest/usr/share/man/man$section/$(basename "$page").gz"
  chmod 0644 "$dest/usr/share/man/man$section/$(basename "$page").gz"
done
