using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Porter.Server.Native;

namespace Porter.Server.Identity;

public sealed record UserEntry(uint Uid, uint Gid, string Name, string Home);

public sealed record GroupEntry(uint Gid, string Name);

/// <summary>
/// Reads users and groups through the system's NSS configuration (files, sssd, LDAP ...), the same way
/// login and sudo see them, using the reentrant libc calls.
/// </summary>
public sealed unsafe class UserDatabase
{
    private const int MaxBuffer = 1 << 20;

    public UserEntry? GetUser(uint uid) => Lookup((buffer, size) =>
        (Libc.GetpwuidR(uid, out var pwd, buffer, size, out var found), found == IntPtr.Zero ? null : ToUser(pwd)));

    public UserEntry? GetUser(string name) => Lookup((buffer, size) =>
        (Libc.GetpwnamR(name, out var pwd, buffer, size, out var found), found == IntPtr.Zero ? null : ToUser(pwd)));

    public GroupEntry? GetGroup(uint gid) => Lookup((buffer, size) =>
        (Libc.GetgrgidR(gid, out var grp, buffer, size, out var found), found == IntPtr.Zero ? null : ToGroup(grp)));

    public GroupEntry? GetGroup(string name) => Lookup((buffer, size) =>
        (Libc.GetgrnamR(name, out var grp, buffer, size, out var found), found == IntPtr.Zero ? null : ToGroup(grp)));

    /// <summary>Every group the user belongs to: the primary one and all supplementary memberships.</summary>
    public ImmutableArray<GroupEntry> GetMemberships(UserEntry user)
    {
        var count = 32;
        uint[] gids;
        while (true)
        {
            gids = new uint[count];
            var n = count;
            int rc;
            fixed (uint* p = gids)
            {
                rc = Libc.Getgrouplist(user.Name, user.Gid, p, ref n);
            }
            if (rc >= 0)
            {
                count = n;
                break;
            }
            if (n <= count)
            {
                n = count * 2;
            }
            if (n > 65536)
            {
                throw new InvalidOperationException($"user {user.Name} is in more than 65536 groups");
            }
            count = n;
        }
        var result = ImmutableArray.CreateBuilder<GroupEntry>(count);
        foreach (var gid in gids.AsSpan(0, count).ToArray().Distinct())
        {
            // A gid without a name still counts; it can be granted by number.
            result.Add(GetGroup(gid) ?? new GroupEntry(gid, ""));
        }
        return result.ToImmutable();
    }

    private static UserEntry ToUser(in Libc.Passwd pwd) =>
        new(pwd.Uid, pwd.Gid, Marshal.PtrToStringUTF8(pwd.Name) ?? "", Marshal.PtrToStringUTF8(pwd.Dir) ?? "");

    private static GroupEntry ToGroup(in Libc.Group grp) => new(grp.Gid, Marshal.PtrToStringUTF8(grp.Name) ?? "");

    /// <summary>One reentrant lookup: returns the errno-style result code and the entry (null when absent).</summary>
    private delegate (int Errno, T? Entry) NativeLookup<T>(byte* buffer, nuint size) where T : class;

    /// <summary>Runs a *_r lookup, growing its scratch buffer while libc answers ERANGE.</summary>
    private static T? Lookup<T>(NativeLookup<T> lookup) where T : class
    {
        for (var size = 4096; size <= MaxBuffer; size *= 4)
        {
            var memory = NativeMemory.Alloc((nuint)size);
            try
            {
                var (errno, entry) = lookup((byte*)memory, (nuint)size);
                if (errno == Libc.ERANGE)
                {
                    continue;
                }
                // ENOENT/ESRCH are how some NSS modules say "no such entry".
                if (errno is not 0 and not Libc.ENOENT and not Libc.ESRCH)
                {
                    throw new IOException($"user database lookup failed: {Libc.ErrorText(errno)}");
                }
                return entry;
            }
            finally
            {
                NativeMemory.Free(memory);
            }
        }
        throw new IOException("user database entry is larger than 1 MiB");
    }
}
