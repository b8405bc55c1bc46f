using System.Collections.Immutable;

namespace Porter.Server.Identity;

/// <summary>Turns kernel-reported peer credentials into a <see cref="CallerIdentity"/> via the user database.</summary>
public sealed class CallerResolver(UserDatabase users)
{
    public CallerIdentity Resolve(PeerCredentials peer)
    {
        var user = users.GetUser(peer.Uid);
        if (user is null)
        {
            // No passwd entry: the uid can still be granted by number, and its own gid still counts.
            var group = users.GetGroup(peer.Gid) ?? new GroupEntry(peer.Gid, "");
            return new CallerIdentity(peer.Uid, peer.Gid, peer.Pid, "", [group]);
        }
        return new CallerIdentity(peer.Uid, peer.Gid, peer.Pid, user.Name, users.GetMemberships(user));
    }

    /// <summary>A user known only by uid (no process): memberships from the user database, none without an entry.</summary>
    public CallerIdentity ResolveUid(uint uid)
    {
        var user = users.GetUser(uid);
        return user is null
            ? new CallerIdentity(uid, uint.MaxValue, 0, "", [])
            : new CallerIdentity(uid, user.Gid, 0, user.Name, users.GetMemberships(user));
    }
}
