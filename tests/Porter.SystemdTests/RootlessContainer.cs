using System.Globalization;
using Porter.Testbed;
using Porter.Testbed.Systemd;

namespace Porter.SystemdTests;

/// <summary>
/// A container as rootless podman makes one, inside the booted system: a process of the user in a user namespace of
/// their own (uid 0 inside) and a mount namespace of its own, in which the container's network namespace is
/// bind-mounted at /run/user/UID/netns/netns-ID. The installed plugin is then run as netavark runs it: as the user,
/// inside those namespaces, with netavark's JSON on stdin.
/// </summary>
public sealed class RootlessContainer : IDisposable
{
    private readonly BootedSystem _system;

    private RootlessContainer(BootedSystem system, string user, int holder, string netns)
    {
        _system = system;
        User = user;
        Holder = holder;
        NetnsPath = netns;
    }

    public string User { get; }
    /// <summary>The process that keeps the user and mount namespaces (PID in the booted system).</summary>
    public int Holder { get; }
    public string NetnsPath { get; }
    public string ContainerId { get; } = NetavarkJson.NewContainerId();

    public static RootlessContainer Start(BootedSystem system, string user)
    {
        var uid = system.Check("id", "-u", user).Trim();
        var id = Shell.RandomId(12);
        var netns = $"/run/user/{uid}/netns/netns-{id}";
        var pidFile = $"/run/user/{uid}/holder-{id}.pid";
        var script = $"/tmp/container-{id}.sh";
        system.WriteFile(script, $"""
            #!/bin/sh
            set -e
            mkdir -p /run/user/{uid}/netns
            : > {netns}
            unshare --net sh -c 'ip link set lo up; mount --bind /proc/self/ns/net "$0"' {netns}
            echo $$ > {pidFile}
            exec sleep 900
            """, "0755");
        var started = system.As(user, $"unshare --user --map-root-user --mount {script} </dev/null >/dev/null 2>&1 &");
        if (started.ExitCode != 0)
        {
            throw new TestbedException($"cannot start a rootless container as {user}: {started}");
        }
        var pid = 0;
        Wait.Until(() => system.Run("cat", pidFile) is { ExitCode: 0 } r && int.TryParse(r.Stdout.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out pid)
            && system.Run("cat", $"/proc/{pid}/comm").Stdout.Trim() == "sleep", TimeSpan.FromSeconds(10), $"the container of {user}");
        system.Run("rm", "-f", pidFile, script);
        return new RootlessContainer(system, user, pid, netns);
    }

    /// <summary>`net-porter VERB NETNS` as netavark runs it, as the user inside the container's user and mount namespaces.</summary>
    public ShellResult Plugin(string verb, string json) =>
        _system.As(User, $"exec nsenter -t {Holder} -U -m --preserve-credentials {InstalledSystem.Plugin} {verb} {NetnsPath}", json, TimeSpan.FromSeconds(90));

    /// <summary>A command inside the container's network namespace (as root).</summary>
    public ShellResult InNetns(params string[] command) =>
        _system.Run(["nsenter", "-t", Holder.ToString(CultureInfo.InvariantCulture), "-m", "--", "nsenter", $"--net={NetnsPath}", "--", .. command]);

    public void Dispose() => _system.Run("kill", Holder.ToString(CultureInfo.InvariantCulture));
}
