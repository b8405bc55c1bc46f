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
}
