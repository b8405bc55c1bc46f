namespace Porter.Plugin.Commands;

/// <summary>What one plugin run works with; tests substitute the streams.</summary>
public sealed record PluginContext(IReadOnlyList<string> Args, Stream Stdin, Stream Stdout, TextWriter Stderr)
{
    /// <summary>How long the plugin waits for the server: setup may run several CNI plugins (DHCP among them).</summary>
    public static readonly TimeSpan AttachTimeout = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(30);

    public static string Version { get; } =
        typeof(PluginContext).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0.0.0";

    /// <summary>The netns path argument of setup/teardown.</summary>
    public string NetnsArgument(string verb) =>
        Args.Count >= 2 && Args[1].Length > 0
            ? Args[1]
            : throw new PluginException($"'{verb}' needs the container's network namespace path as its argument (net-porter {verb} <netns>)");
}
