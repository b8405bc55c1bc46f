using System.Globalization;
using Porter.Testbed;
using Porter.Testbed.Systemd;
using Xunit;

namespace Porter.SystemdTests;

/// <summary>
/// The .deb's life in a booted Debian 13 of its own, as an administrator lives it: install, edit config.json,
/// upgrade to a newer build, remove, purge.
/// </summary>
public sealed class LifecycleTests
{
    private const string Service = "net-porter.service";
    private const string Config = "/etc/net-porter/config.json";

    [Fact]
    public void An_upgrade_keeps_the_edited_config_and_the_attachments_remove_keeps_config_and_state_and_purge_removes_both()
    {
        var upgradeDir = Path.Combine(Packages.Directory, "upgrade");
        var built = Shell.Run("env", ["PACK_RELEASE=2", $"PACK_OUT={upgradeDir}", "PACK_LINTIAN=no", Path.Combine(Artifacts.RepoRoot, "scripts", "pack", "deb.sh")],
            null, TimeSpan.FromMinutes(5));
        Assert.True(built.ExitCode == 0, built.ToString());
        var newer = $"/packages/upgrade/net-porter_{Packages.Version}-2_amd64.deb";
        using var system = BootedSystem.Boot();

        Install(system, $"/packages/{Path.GetFileName(Packages.Deb())}");
        Assert.Equal($"{Packages.Version}-1", system.Check("dpkg-query", "-W", "-f", "${Version}", "net-porter"));
        // The administrator's edit: a resource for root, and a comment of their own.
        system.WriteFile("/etc/net-porter/cni.d/macvlan-hl.conflist", InstalledSystem.MacvlanHostLocal("macvlan-hl", "192.168.77.100", "192.168.77.119"));
        var edited = system.ReadFile(Config)
            .Replace("\"resources\": []", "\"resources\": [{ \"name\": \"macvlan-hl\", \"allow_users\": [\"root\"] }]", StringComparison.Ordinal)
            .Replace("{\n", "{\n  // edited by the administrator\n", StringComparison.Ordinal);
        Assert.Contains("macvlan-hl", edited);
        system.WriteFile(Config, edited);
        var cursor = system.Cursor();
        system.Check("systemctl", "reload", Service);
        system.WaitForJournal(Service, "configuration reloaded: 1 resources", cursor, TimeSpan.FromSeconds(20));
        var target = int.Parse(system.CheckSh("unshare -n sleep 900 </dev/null >/dev/null 2>&1 & echo $!").Trim(), CultureInfo.InvariantCulture);
        Wait.Until(() => system.Run("cat", $"/proc/{target}/comm").Stdout.Trim() == "sleep", TimeSpan.FromSeconds(10), "root's namespace process");
        var attach = system.Run("net-porter", "attach", "--resource", "macvlan-hl", "--pid", target.ToString(CultureInfo.InvariantCulture));
        Assert.True(attach.ExitCode == 0, $"{attach}\n{system.Journal(Service)}");
        var before = system.Property(Service, "MainPID");

        // Upgrade: the edit stays (no prompt, no .dpkg-dist), the service is restarted and keeps the attachment.
        Install(system, newer);

        Assert.Equal($"{Packages.Version}-2", system.Check("dpkg-query", "-W", "-f", "${Version}", "net-porter"));
        Assert.Equal(edited, system.ReadFile(Config));
        Assert.Equal("", system.Run("sh", "-c", "ls /etc/net-porter/ | grep -E 'dpkg-(dist|new|old)|ucf' || true").Stdout.Trim());
        Assert.Equal("active", system.Property(Service, "ActiveState"));
        Assert.NotEqual(before, system.Property(Service, "MainPID"));
        var status = system.Run("net-porter", "status");
        Assert.True(status.ExitCode == 0 && status.Stdout.Contains("macvlan-hl", StringComparison.Ordinal), status.ToString());
        Assert.Contains("192.168.77.1", system.Run("nsenter", $"--net=/proc/{target}/ns/net", "ip", "-o", "-4", "addr", "show", "eth0").Stdout);

        // Remove: the units stop, the programs go; config.json (with the edit) and the state stay.
        var removed = system.Run(["apt-get", "remove", "-y", "net-porter"], timeout: TimeSpan.FromMinutes(2));
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.Equal("deinstall ok config-files", system.Check("dpkg-query", "-W", "-f", "${Status}", "net-porter"));
        Assert.NotEqual("active", system.Property("net-porter.socket", "ActiveState"));
        Assert.NotEqual("active", system.Property(Service, "ActiveState"));
        Assert.NotEqual(0, system.Run("test", "-e", InstalledSystem.Socket).ExitCode);
        Assert.NotEqual(0, system.Run("test", "-e", InstalledSystem.Plugin).ExitCode);
        Assert.Equal(edited, system.ReadFile(Config));
        Assert.Contains("macvlan-hl", system.Run("sh", "-c", "find /var/lib/net-porter -type f").Stdout);

        // Purge: configuration and state are gone.
        var purged = system.Run(["apt-get", "purge", "-y", "net-porter"], timeout: TimeSpan.FromMinutes(2));
        Assert.True(purged.ExitCode == 0, purged.ToString());
        var state = system.Run("dpkg-query", "-W", "-f", "${Status}", "net-porter");
        Assert.True(state.ExitCode != 0 || state.Stdout.Contains("not-installed", StringComparison.Ordinal), state.ToString());
        Assert.NotEqual(0, system.Run("test", "-e", "/etc/net-porter").ExitCode);
        Assert.NotEqual(0, system.Run("test", "-e", "/var/lib/net-porter").ExitCode);
        system.Run("kill", target.ToString(CultureInfo.InvariantCulture));
    }

    private static void Install(BootedSystem system, string deb)
    {
        var install = system.Run(["apt-get", "install", "-y", "--no-install-recommends", deb], timeout: TimeSpan.FromMinutes(3));
        Assert.True(install.ExitCode == 0, install.ToString());
        Wait.Until(() => system.Property(Service, "ActiveState") == "active", TimeSpan.FromSeconds(30), "the service after installing", () => system.Journal(Service));
    }
}
