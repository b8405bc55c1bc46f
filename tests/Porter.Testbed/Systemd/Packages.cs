namespace Porter.Testbed.Systemd;

/// <summary>The packages `just pack-all` leaves in out/packages/, of the version scripts/pack/version.sh names.</summary>
public static class Packages
{
    public static string Directory => Path.Combine(Artifacts.OutDir, "packages");

    public static string Version { get; } = ReadVersion();

    public static string Deb(int release = 1) => Require($"net-porter_{Version}-{release}_amd64.deb");

    public static string Rpm(int release = 1) => Require($"net-porter-{Version}-{release}.x86_64.rpm");

    public static string Pacman(int release = 1) => Require($"net-porter-{Version}-{release}-x86_64.pkg.tar.zst");

    private static string Require(string name)
    {
        var path = Path.Combine(Directory, name);
        return File.Exists(path) ? path : throw new TestbedException($"{path} is missing: build the packages first with `just pack-all`");
    }

    private static string ReadVersion()
    {
        var result = Shell.Run(Path.Combine(Artifacts.RepoRoot, "scripts", "pack", "version.sh"));
        return result.ExitCode == 0 ? result.Stdout.Trim() : throw new TestbedException($"scripts/pack/version.sh failed: {result}");
    }
}
