namespace Porter.Testbed.Podman;

/// <summary>
/// The Debian 13 root with podman 5 and netavark 1.14 (Debian 12's podman cannot load plugins). Built by
/// scripts/e2e/build-root.sh and cached between runs on one machine (NET_PORTER_E2E_ROOT overrides where); the script
/// rebuilds it when it is missing, half-made or was built by another version of the script. Never changed by a run:
/// everything a run needs is mounted over it in the holder's own mount namespace.
/// </summary>
public static class DebianRoot
{
    public static string Directory => Environment.GetEnvironmentVariable("NET_PORTER_E2E_ROOT") is { Length: > 0 } dir
        ? dir
        : "/var/cache/net-porter-e2e/trixie";

    public static string Ensure()
    {
        var script = Path.Combine(Artifacts.RepoRoot, "scripts", "e2e", "build-root.sh");
        var built = Shell.Run(script, [Directory], null, TimeSpan.FromMinutes(15));
        if (built.ExitCode != 0)
        {
            throw new TestbedException($"the Debian 13 root for the podman suite could not be built ({script} {Directory}): {built}");
        }
        return Directory;
    }
}
