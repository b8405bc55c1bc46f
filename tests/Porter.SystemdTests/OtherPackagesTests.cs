using Porter.Testbed;
using Porter.Testbed.Systemd;
using Xunit;

namespace Porter.SystemdTests;

/// <summary>
/// The .rpm and the .pkg.tar.zst: the same files as the .deb at their distributions' paths, and installed for real
/// into scratch copies of the Debian 13 root (rpm --root, pacman -r), whose scriptlets run chrooted into it.
/// </summary>
public sealed class OtherPackagesTests
{
    [Fact]
    public void The_rpm_and_the_pacman_package_hold_the_debs_files_at_their_distributions_paths()
    {
        var deb = Normalise(DebFiles());
        var rpm = Normalise(RpmFiles());
        var pacman = Normalise(PacmanFiles());

        Assert.Equal(deb.Order(), rpm.Order());
        Assert.Equal(deb.Order(), pacman.Order());
        // And the server is the whole published output, file for file.
        var published = Directory.EnumerateFiles(Path.Combine(Artifacts.OutDir, "server"), "*", SearchOption.AllDirectories)
            .Select(f => "usr/lib/net-porter/" + Path.GetRelativePath(Path.Combine(Artifacts.OutDir, "server"), f)).Order();
        Assert.Equal(published, deb.Where(f => f.StartsWith("usr/lib/net-porter/", StringComparison.Ordinal)).Order());
        // The distribution paths themselves.
        Assert.Contains("usr/lib/netavark/net-porter", PacmanFiles());
        Assert.Contains("usr/libexec/netavark/net-porter", RpmFiles());
        Assert.Contains("usr/libexec/netavark/net-porter", DebFiles());
    }

    [Fact]
    public void The_rpm_installs_into_a_scratch_root_where_its_scriptlets_make_the_group_and_state_and_enable_the_units_and_erase_undoes_them()
    {
        using var root = ScratchRoot.Create();
        var result = root.Run($$"""
            rpm --root "$ROOT" --nodeps -i "$PACKAGES/{{Path.GetFileName(Packages.Rpm())}}" 2>&1 | grep -v 'RPM should not be used directly\|assuming you know what' || true
            {{Report}}
            echo "# edited" >> "$ROOT/etc/net-porter/config.json"
            rpm --root "$ROOT" -e net-porter 2>&1 | grep -v 'RPM should not be used directly\|assuming you know what' || true
            {{AfterRemoval}}
            echo "rpmsave: $(test -f "$ROOT/etc/net-porter/config.json.rpmsave" && echo yes)"
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        AssertInstalled(result.Stdout, "usr/libexec/netavark/net-porter");
        AssertRemoved(result.Stdout);
        Assert.Contains("rpmsave: yes", result.Stdout);
    }

    [Fact]
    public void The_pacman_package_installs_into_a_scratch_root_where_its_install_script_makes_the_group_and_state_and_enables_the_units_and_removal_undoes_them()
    {
        using var root = ScratchRoot.Create();
        var result = root.Run($$"""
            mkdir -p "$ROOT/var/lib/pacman" "$ROOT/var/cache/pacman/pkg"
            pacman() { command pacman -r "$ROOT" --dbpath "$ROOT/var/lib/pacman" --cachedir "$ROOT/var/cache/pacman/pkg" --logfile "$ROOT/var/log/pacman.log" --noconfirm "$@"; }
            pacman --nodeps --nodeps -U "$PACKAGES/{{Path.GetFileName(Packages.Pacman())}}"
            {{Report}}
            echo "# edited" >> "$ROOT/etc/net-porter/config.json"
            pacman --nodeps --nodeps -R net-porter
            {{AfterRemoval}}
            echo "pacsave: $(test -f "$ROOT/etc/net-porter/config.json.pacsave" && echo yes)"
            """);
        Assert.True(result.ExitCode == 0, result.ToString());
        AssertInstalled(result.Stdout, "usr/lib/netavark/net-porter");
        AssertRemoved(result.Stdout);
        Assert.Contains("pacsave: yes", result.Stdout);
    }

    /// <summary>What the scriptlets did, and whether the installed programs run (chrooted into the Debian 13 root).</summary>
    private const string Report = """
        echo "group: $(grep -c '^net-porter:' "$ROOT/etc/group")"
        echo "state: $(stat -c '%a %U' "$ROOT/var/lib/net-porter")"
        echo "socket: $(readlink "$ROOT/etc/systemd/system/sockets.target.wants/net-porter.socket")"
        echo "service: $(readlink "$ROOT/etc/systemd/system/multi-user.target.wants/net-porter.service")"
        echo "server: $(chroot "$ROOT" /usr/bin/net-porter-server --version)"
        echo "plugin: $(chroot "$ROOT" /usr/bin/net-porter info | head -c 200)"
        echo "plugin path: $(readlink "$ROOT/usr/bin/net-porter")"
        """;

    private const string AfterRemoval = """
        echo "after: socket=$(ls "$ROOT/etc/systemd/system/sockets.target.wants/" | grep -c net-porter) service=$(ls "$ROOT/etc/systemd/system/multi-user.target.wants/" | grep -c net-porter) programs=$(ls "$ROOT/usr/bin" | grep -c net-porter) state=$(test -d "$ROOT/var/lib/net-porter" && echo kept)"
        """;

    private static void AssertInstalled(string report, string pluginPath)
    {
        Assert.Contains("group: 1", report);
        Assert.Contains("state: 700 root", report);
        Assert.Contains("socket: /usr/lib/systemd/system/net-porter.socket", report);
        Assert.Contains("service: /usr/lib/systemd/system/net-porter.service", report);
        Assert.Contains($"server: net-porter-server {Packages.Version}", report);
        Assert.Contains("plugin: {\"version\":", report);
        Assert.Contains($"plugin path: ../{pluginPath["usr/".Length..]}", report);
    }

    private static void AssertRemoved(string report) =>
        Assert.Contains("after: socket=0 service=0 programs=0 state=kept", report);

    private static List<string> DebFiles() =>
        [.. Shell.Check("dpkg-deb", "-c", Packages.Deb()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l[0] != 'd')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[5].TrimStart('.', '/'))];

    private static List<string> RpmFiles() =>
        [.. Shell.Check("rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\\n]", Packages.Rpm()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l[0] != 'd')
            .Select(l => l.Split(' ', 2)[1].TrimStart('/'))];

    private static List<string> PacmanFiles() =>
        [.. Shell.Check("bsdtar", "-tvf", Packages.Pacman()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l[0] != 'd')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[8])
            .Where(f => !f.StartsWith('.'))];

    /// <summary>
    /// One name per file, whatever the distribution: its paths for the netavark plugin and the units, and its own
    /// ways of shipping the licence (Debian: copyright; others: /usr/share/licenses), the changelog and the README
    /// (Debian compresses and renames them). What only one distribution ships is dropped: Debian's changelog.Debian
    /// and lintian overrides, Fedora's preset (Debian's maintainer scripts enable the units themselves).
    /// </summary>
    private static HashSet<string> Normalise(IEnumerable<string> files)
    {
        var normal = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var f = file;
            if (f.StartsWith("lib/systemd/", StringComparison.Ordinal))
            {
                f = "usr/" + f;
            }
            f = f switch
            {
                "usr/lib/netavark/net-porter" => "usr/libexec/netavark/net-porter",
                "usr/share/doc/net-porter/copyright" or "usr/share/licenses/net-porter/LICENSE" => "LICENSE",
                "usr/share/doc/net-porter/changelog.gz" => "usr/share/doc/net-porter/CHANGELOG.md",
                "usr/share/doc/net-porter/README.md.gz" => "usr/share/doc/net-porter/README.md",
                _ => f,
            };
            if (f is "usr/share/doc/net-porter/changelog.Debian.gz" or "usr/share/lintian/overrides/net-porter"
                or "usr/lib/systemd/system-preset/80-net-porter.preset")
            {
                continue;
            }
            normal.Add(f);
        }
        return normal;
    }
}
