namespace Porter.Testbed.Systemd;

/// <summary>
/// The Debian 13 root the package tests boot with systemd-nspawn: systemd, logind, and the .deb's dependencies.
/// Built by scripts/systemd/build-root.sh and cached between runs (NET_PORTER_SYSTEMD_ROOT overrides where); the
/// script rebuilds it when it is missing, half-made or was built by another version of the script. Never changed by
/// a run: every boot and every scratch install works on an overlay of it.
/// </summary>
public static class SystemdRoot
{
    public static string Directory => Environment.GetEnvironmentVariable("NET_PORTER_SYSTEMD_ROOT") is { Length: > 0 } dir
        ? dir
        : "/var/cache/net-porter-systemd/trixie";

    public static string Ensure()
    {
        var script = Path.Combine(Artifacts.RepoRoot, "scripts", "systemd", "build-root.sh");
        var built = Shell.Run(script, [Directory], null, TimeSpan.FromMinutes(15));
        if (built.ExitCode != 0)
        {
            throw new TestbedException($"the Debian 13 root for the package tests could not be built ({script} {Directory}): {built}");
        }
        return Directory;
    }
}
