using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Porter.Server.Cni.Invocation;
using Xunit;

namespace Porter.Tests.Server.Cni.Invocation;

/// <summary>
/// The process contract of CNI plugins, exercised with small shell scripts standing in for plugin binaries:
/// what reaches the plugin, and how each way of failing is reported.
/// Not run beside other classes: the descriptor-leak test counts this whole process's pipes.
/// </summary>
[Collection(ProcessWideMeasurements.Name)]
public sealed class PluginExecutorTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly PluginExecutor _executor = new(NullLogger<PluginExecutor>.Instance);

    public void Dispose() => _dir.Dispose();

    private string Script(string name, string body)
    {
        var path = _dir.Write(name, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private Task<byte[]> Run(string path, string stdin = "{}", double timeoutSeconds = 10, params (string Key, string Value)[] env) =>
        _executor.ExecAsync(new PluginInvocation("fake", path, "ADD",
            env.Select(e => new KeyValuePair<string, string>(e.Key, e.Value)).ToList(),
            Encoding.UTF8.GetBytes(stdin), TimeSpan.FromSeconds(timeoutSeconds)), CancellationToken.None);

    [Fact]
    public async Task The_plugin_gets_exactly_the_given_environment_and_stdin_and_its_stdout_is_returned()
    {
        var plugin = Script("echo", "env | sort; echo ---; cat");

        var output = Encoding.UTF8.GetString(await Run(plugin, """{"cniVersion":"1.0.0"}""", 10, ("CNI_COMMAND", "ADD"), ("PATH", "/usr/bin:/bin")));

        var (env, stdin) = (output.Split("---\n")[0], output.Split("---\n")[1]);
        // /bin/sh adds PWD (and SHLVL on some shells) itself; nothing of the caller's environment is inherited.
        var names = env.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=')[0]).Where(n => n is not ("PWD" or "SHLVL" or "_")).ToList();
        Assert.Equal(["CNI_COMMAND", "PATH"], names);
        Assert.Contains("CNI_COMMAND=ADD\n", env);
        Assert.Equal("""{"cniVersion":"1.0.0"}""", stdin);
    }

    [Fact]
    public async Task A_CNI_error_object_on_stdout_becomes_the_message()
    {
        var plugin = Script("fail", """echo '{"code": 7, "msg": "invalid config", "details": "master eth9 not found"}'; echo noise >&2; exit 1""");

        var e = await Assert.ThrowsAsync<CniPluginException>(() => Run(plugin));

        Assert.Equal(7u, e.Code);
        Assert.Equal("invalid config", e.Msg);
        Assert.Equal("master eth9 not found", e.Details);
        Assert.Equal("noise", e.Stderr);
        Assert.Equal("CNI plugin 'fake' failed (ADD): invalid config: master eth9 not found", e.Message);
    }

    [Fact]
    public async Task Without_an_error_object_stderr_or_the_exit_status_is_reported()
    {
        var quiet = Script("quiet", "exit 3");
        var loud = Script("loud", "echo 'segmentation fault' >&2; exit 2");
        var garbage = Script("garbage", "echo 'not json'; exit 1");

        Assert.Equal("CNI plugin 'fake' failed (ADD): exited with status 3 and no message", (await Assert.ThrowsAsync<CniPluginException>(() => Run(quiet))).Message);
        Assert.Equal("CNI plugin 'fake' failed (ADD): segmentation fault", (await Assert.ThrowsAsync<CniPluginException>(() => Run(loud))).Message);
        Assert.Equal("CNI plugin 'fake' failed (ADD): exited with status 1 and an unreadable error: not json",
            (await Assert.ThrowsAsync<CniPluginException>(() => Run(garbage))).Message);
    }

    [Fact]
    public async Task A_plugin_that_hangs_is_killed_at_the_timeout_with_its_children()
    {
        var marker = Path.Combine(_dir.Path, "child-survived");
        var plugin = Script("hang", $"(sleep 3; touch {marker}) & sleep 30");
        var started = DateTime.UtcNow;

        var e = await Assert.ThrowsAsync<CniTimeoutException>(() => Run(plugin, timeoutSeconds: 0.5));

        Assert.Equal("CNI plugin 'fake' did not finish ADD within 0.5 s and was stopped", e.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        Assert.False(File.Exists(marker), "the plugin's child process outlived the kill");
    }

    [Fact]
    public async Task A_missing_binary_is_a_clear_error()
    {
        var e = await Assert.ThrowsAsync<CniException>(() => Run(Path.Combine(_dir.Path, "absent")));
        Assert.StartsWith($"could not start CNI plugin 'fake' at {Path.Combine(_dir.Path, "absent")}: ", e.Message);
    }

    [Fact]
    public async Task Output_beyond_the_limit_is_refused_without_blocking_the_plugin()
    {
        var plugin = Script("flood", "head -c 6000000 /dev/zero");
        var e = await Assert.ThrowsAsync<CniException>(() => Run(plugin));
        Assert.Equal("CNI plugin 'fake' wrote more than 4194304 bytes (ADD)", e.Message);
    }

    [Fact]
    public async Task Running_plugins_leaves_no_descriptors_behind()
    {
        var ok = Script("ok", "cat >/dev/null; echo '{}'");
        var failing = Script("failing", "echo '{\"code\":7,\"msg\":\"no\"}'; echo oops >&2; exit 1");
        for (var i = 0; i < 3; i++)
        {
            await Run(ok); // warm up: the first runs load code and create runtime pipes
            await Assert.ThrowsAsync<CniPluginException>(() => Run(failing));
        }
        var before = Pipes();

        for (var i = 0; i < 200; i++)
        {
            await Run(ok);
            await Assert.ThrowsAsync<CniPluginException>(() => Run(failing));
        }

        // A per-run leak shows as hundreds; the runtime and the test host open a few pipes of their own meanwhile.
        Assert.True(Pipes() - before < 10, $"{Pipes() - before} more pipe descriptors after 400 plugin runs");
    }

    private static int Pipes() =>
        Directory.GetFiles("/proc/self/fd").Count(f =>
        {
            try
            {
                return new FileInfo(f).LinkTarget?.StartsWith("pipe:", StringComparison.Ordinal) == true;
            }
            catch (IOException)
            {
                return false;
            }
        });
}
