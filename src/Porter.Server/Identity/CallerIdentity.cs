using System.Collections.Immutable;

namespace Porter.Server.Identity;

/// <summary>
/// Who is calling, as the kernel vouches for it (SO_PEERCRED) and the user database describes it.
/// Nothing in here comes from what the caller sent.
/// </summary>
public sealed record CallerIdentity(uint Uid, uint Gid, int Pid, string UserName, ImmutableArray<GroupEntry> Groups)
{
    public bool IsRoot => Uid == 0;

    /// <summary>"alice (uid 1000)" or "uid 1234" for a uid without a user entry.</summary>
    public string Describe() => UserName.Length > 0 ? $"{UserName} (uid {Uid})" : $"uid {Uid}";
}
