using System.Text.Json.Nodes;

namespace Porter.Testbed.Podman;

/// <summary>One user's rootless podman inside the <see cref="PodmanHost"/> world: a home, a runtime directory and the test image.</summary>
public sealed class PodmanUser
{
    private PodmanUser(PodmanHost host, TestUser user)
    {
        Host = host;
        User = user;
    }

    public PodmanHost Host { get; }
    public TestUser User { get; }

    public static PodmanUser Prepare(PodmanHost host, Workspace workspace, TestUser user)
    {
        workspace.RuntimeDirOf(user);
        var home = host.AsRoot("sh", "-c", $"mkdir -p /home/{user.Name} && chown {user.Uid}:{user.Gid} /home/{user.Name} && chmod 0700 /home/{user.Name}");
        if (home.ExitCode != 0)
        {
            throw new TestbedException($"cannot make {user.Name}'s home in the podman world: {home}");
        }
        var podman = new PodmanUser(host, user);
        podman.Check("import", "/tmp/busybox.tar", PodmanHost.Image);
        return podman;
    }

    /// <summary>`podman ARGS` as this user.</summary>
    public ShellResult Run(params string[] args) => Host.AsUser(User, ["podman", .. args]);

    /// <summary>`podman ARGS`, which must succeed; its stdout.</summary>
    public string Check(params string[] args)
    {
        var result = Run(args);
        if (result.ExitCode != 0)
        {
            throw new TestbedException($"podman {string.Join(' ', args)} failed: {result}");
        }
        return result.Stdout;
    }

    /// <summary>`podman inspect` of one container, as JSON.</summary>
    public JsonObject Inspect(string container) => Single(Check("inspect", container), $"podman inspect {container}");

    /// <summary>`podman network inspect` of one network, as JSON.</summary>
    public JsonObject InspectNetwork(string network) => Single(Check("network", "inspect", network), $"podman network inspect {network}");

    private static JsonObject Single(string json, string what) =>
        (JsonNode.Parse(json) as JsonArray)?.Single() as JsonObject ?? throw new TestbedException($"{what} printed no object");
}
