using System.Diagnostics;

namespace Porter.Testbed;

public sealed record ShellResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>A failure of the test environment itself (not of the code under test).</summary>
public sealed class TestbedException(string message) : Exception(message);

/// <summary>Runs host commands (ip, useradd, ...) with arguments passed as a list, never through a shell.</summary>
public static class Shell
{
    public static ShellResult Run(string file, params string[] args) => Run(file, args, null, TimeSpan.FromSeconds(60));

    public static ShellResult Run(string file, IEnumerable<string> args, string? stdin, TimeSpan timeout)
    {
        var startInfo = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }
        using var process = Process.Start(startInfo) ?? throw new TestbedException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }
        process.StandardInput.Close();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TestbedException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s");
        }
        process.WaitForExit();
        return new ShellResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and requires success; returns stdout.</summary>
    public static string Check(string file, params string[] args)
    {
        var result = Run(file, args);
        if (result.ExitCode != 0)
        {
            throw new TestbedException($"{file} {string.Join(' ', args)} failed: {result}");
        }
        return result.Stdout;
    }

    /// <summary>Best effort, for cleanup paths that must go on after a failure.</summary>
    public static void Try(string file, params string[] args)
    {
        try
        {
            Run(file, args);
        }
        catch (Exception e) when (e is TestbedException or System.ComponentModel.Win32Exception)
        {
            // cleanup continues
        }
    }

    public static string RandomId(int length = 6) => Guid.NewGuid().ToString("N")[..length];
}
