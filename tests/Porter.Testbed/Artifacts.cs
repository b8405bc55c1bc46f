namespace Porter.Testbed;

/// <summary>
/// The published binaries under test: the Native AOT plugin and the server, as `just publish` leaves them in out/.
/// Tests use exactly what ships; a missing binary is a failure, never a skip.
/// </summary>
public static class Artifacts
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string OutDir => Environment.GetEnvironmentVariable("NET_PORTER_OUT") is { Length: > 0 } dir
        ? Path.GetFullPath(dir)
        : Path.Combine(RepoRoot, "out");

    public static string PluginBinary => Require(Path.Combine(OutDir, "net-porter"));

    public static string ServerBinary => Require(Path.Combine(OutDir, "server", "net-porter-server"));

    public static string ProtoFile => Path.Combine(RepoRoot, "src", "Porter.Protocol", "Protos", "netporter", "v1", "porter.proto");

    private static string Require(string path) =>
        File.Exists(path) ? path : throw new TestbedException($"{path} is missing: build it first with `just publish`");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Porter.sln")))
            {
                return dir.FullName;
            }
        }
        throw new TestbedException($"cannot find Porter.sln above {AppContext.BaseDirectory}");
    }
}
