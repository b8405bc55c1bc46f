# net-porter tasks. On a fresh machine start with ./dev <recipe>, which installs `just` first.

set shell := ["bash", "-euo", "pipefail", "-c"]

rid := "linux-x64"

# List the recipes
default:
    @just --list

# Install the Debian packages builds, tests and the demo need (root)
deps:
    scripts/install-deps.sh

# Publish the AOT plugin to out/net-porter and the AOT server to out/server (net-porter-server + libMonoPosixHelper.so: its complete install directory)
publish:
    dotnet publish src/Porter.Plugin -c Release -r {{rid}} -o out/.plugin -nologo -v quiet
    install -m 0755 out/.plugin/net-porter out/net-porter
    rm -rf out/.plugin
    dotnet publish src/Porter.Server -c Release -r {{rid}} -o out/.server -nologo -v quiet
    rm -rf out/server && mkdir -p out/server
    install -m 0755 out/.server/net-porter-server out/server/net-porter-server
    install -m 0644 out/.server/libMonoPosixHelper.so out/server/libMonoPosixHelper.so
    rm -rf out/.server

# The end-to-end demo: server + rootless-style caller in scratch namespaces, cleaned up afterwards (root)
demo: deps publish
    dotnet run --project demo/Porter.Demo -c Release

# Every test: the code style, unit tests (run as nobody: they need no root), a short fuzzing run, integration tests against the published binaries, real rootless podman, the packages under a real systemd (root)
test: deps publish format-check
    dotnet build tests/Porter.Tests -c Release -nologo -v quiet
    scripts/unit-unprivileged.sh
    fuzz/fuzz.sh all 20
    dotnet test tests/Porter.IntegrationTests -c Release -nologo
    dotnet test tests/Porter.PodmanTests -c Release -nologo
    scripts/pack/all.sh
    dotnet test tests/Porter.SystemdTests -c Release -nologo
    scripts/pack/podman-on-deb.sh

# The .deb, .rpm and .pkg.tar.zst of the published binaries, into out/packages/ (root: makepkg runs as nobody)
pack-all: deps publish
    scripts/pack/all.sh

# The packages under a real systemd: a booted Debian 13 root (cached) installs the .deb; rpm and pacman install into scratch roots; then the podman suite against the .deb's binaries (root)
package-test: pack-all
    dotnet test tests/Porter.SystemdTests -c Release -nologo
    scripts/pack/podman-on-deb.sh

# Only the podman suite: podman 5.4 / netavark 1.14 in a cached Debian 13 root drive the published plugin (root)
e2e: deps publish
    dotnet test tests/Porter.PodmanTests -c Release -nologo

# Coverage-guided fuzzing (afl-fuzz + SharpFuzz) of every parser of untrusted input, SECONDS per target; fails on any finding (see fuzz/README.md)
fuzz target="all" seconds="60": deps
    fuzz/fuzz.sh {{target}} {{seconds}}

# The code style (.editorconfig), as CI checks it; `dotnet format Porter.sln` fixes what it reports
format-check:
    dotnet format Porter.sln --verify-no-changes -v quiet

# Unit tests only (no root needed)
unit:
    dotnet test tests/Porter.Tests -nologo

# Latency and memory of the published binaries in scratch namespaces (root); see bench/README.md
bench iterations="50": deps publish
    dotnet run --project bench/Porter.Bench -c Release -- {{iterations}}

# The bench for this build and for REV side by side in one run (REV is built in a scratch worktree) (root)
bench-compare rev="HEAD~1" iterations="50": deps publish
    scripts/build-baseline.sh {{rev}} out/baseline
    dotnet run --project bench/Porter.Bench -c Release -- {{iterations}} --baseline out/baseline

# Check a server configuration without starting the server
check config="/etc/net-porter/config.json": publish
    out/server/net-porter-server --config {{config}} --check

# Remove build output
clean:
    rm -rf out
    find src tests demo bench \( -name bin -o -name obj \) -type d -prune -exec rm -rf {} +
