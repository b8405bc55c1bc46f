using System.Globalization;

namespace Porter.Testbed;

/// <summary>A throw-away system group, removed again on dispose.</summary>
public sealed class TestGroup : IDisposable
{
    private TestGroup(string name, uint gid)
    {
        Name = name;
        Gid = gid;
    }

    public string Name { get; }
    public uint Gid { get; }

    public static TestGroup Create(string role)
    {
        var name = $"npt-{role}-{Shell.RandomId(4)}";
        Shell.Check("groupadd", "--system", name);
        var gid = uint.Parse(Shell.Check("getent", "group", name).Split(':')[2], CultureInfo.InvariantCulture);
        return new TestGroup(name, gid);
    }

    public void Dispose() => Shell.Try("groupdel", Name);
}

/// <summary>
/// A real, unprivileged account (no home, no login shell) so that callers are genuinely another uid, resolved
/// through the user database like any other. Removed again on dispose.
/// </summary>
public sealed class TestUser : IDisposable
{
    private TestUser(string name, uint uid, uint gid)
    {
        Name = name;
        Uid = uid;
        Gid = gid;
    }

    public string Name { get; }
    public uint Uid { get; }
    public uint Gid { get; }

    public static TestUser Create(string role, params TestGroup[] groups)
    {
        var name = $"npt-{role}-{Shell.RandomId(4)}";
        var args = new List<string> { "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group" };
        if (groups.Length > 0)
        {
            args.Add("--groups");
            args.Add(string.Join(',', groups.Select(g => g.Name)));
        }
        args.Add(name);
        Shell.Check("useradd", [.. args]);
        var fields = Shell.Check("getent", "passwd", name).Split(':');
        return new TestUser(name, uint.Parse(fields[2], CultureInfo.InvariantCulture), uint.Parse(fields[3], CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        // Anything the user left running (a background process outlives its shell) would make userdel refuse.
        Shell.Try("pkill", "-KILL", "-u", Uid.ToString(CultureInfo.InvariantCulture));
        for (var attempt = 0; attempt < 50 && Shell.Run("pgrep", "-u", Uid.ToString(CultureInfo.InvariantCulture)).ExitCode == 0; attempt++)
        {
            Thread.Sleep(20);
        }
        // --user-group created a group of the same name; userdel removes it along with the user.
        var removed = Shell.Run("userdel", Name);
        if (removed.ExitCode != 0)
        {
            throw new TestbedException($"cannot remove test user {Name}: {removed.Stderr.Trim()}");
        }
    }
}
