using System.Collections.Immutable;
using Mono.Unix.Native;
using Porter.Server.Native;

namespace Porter.Server.Identity;

public sealed record UserEntry(uint Uid, uint Gid, string Name, string Home);

public sealed record GroupEntry(uint Gid, string Name);

/// <summary>
/// Reads users and groups through the system's NSS configuration (files, sssd, LDAP ...), the same way login and sudo
/// see them: the reentrant lookups through Mono.Posix, memberships through libc's getgrouplist.
/// </summary>
public sealed unsafe class UserDatabase
{
    public UserEntry? GetUser(uint uid) => Found(Syscall.getpwuid_r(uid, new Passwd(), out var pwd), pwd) is { } p ? ToUser(p) : null;

    public UserEntry? GetUser(string name) => Found(Syscall.getpwnam_r(name, new Passwd(), out var pwd), pwd) is { } p ? ToUser(p) : null;

    public GroupEntry? GetGroup(uint gid) => Found(Syscall.getgrgid_r(gid, new Group(), out var grp), grp) is { } g ? ToGroup(g) : null;

    public GroupEntry? GetGroup(string name) => Found(Syscall.getgrnam_r(name, new Group(), out var grp), grp) is { } g ? ToGroup(g) : null;

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

    private static UserEntry ToUser(Passwd pwd) => new(pwd.pw_uid, pwd.pw_gid, pwd.pw_name ?? "", pwd.pw_dir ?? "");

    private static GroupEntry ToGroup(Group grp) => new(grp.gr_gid, grp.gr_name ?? "");

    /// <summary>
    /// The entry a *_r lookup found, or null when there is none. The lookup returns an errno value: 0 with no entry, or
    /// ENOENT/ESRCH (how some NSS modules say "no such entry"), both mean absent; anything else is a failure.
    /// </summary>
    private static T? Found<T>(int rc, T? entry) where T : class
    {
        if (entry is not null)
        {
            return entry;
        }
        if (rc is 0 or Libc.ENOENT or Libc.ESRCH)
        {
            return null;
        }
        throw new IOException($"user database lookup failed: {Libc.ErrorText(rc)}");
    }
}
