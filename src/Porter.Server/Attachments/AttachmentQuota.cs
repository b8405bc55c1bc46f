using Grpc.Core;
using Porter.Protocol;
using Porter.Server.Cni.Runtime;
using Porter.Server.Identity;
using Porter.Server.Limits;

namespace Porter.Server.Attachments;

/// <summary>
/// The per-user attachment limit, checked and claimed in one step: a setup counts from the moment it passes the check,
/// not from when its record reaches the disk, so parallel setups of one user cannot all pass a check that only one of
/// them should. Root is never limited.
/// </summary>
public sealed class AttachmentQuota(CniRuntime runtime, UserLimits limits)
{
    // Per uid: the lock a check takes, and the records (by name) of setups that passed it and have not finished.
    private readonly Dictionary<uint, HashSet<string>> _starting = [];

    /// <summary>Claims a place for the attachment until the returned handle is disposed (by then its record exists, or never will).</summary>
    public IDisposable Claim(CallerIdentity caller, AttachmentKey key)
    {
        if (caller.IsRoot)
        {
            return NoClaim.Instance;
        }
        var name = key.Record.Name;
        HashSet<string> starting;
        lock (_starting)
        {
            if (!_starting.TryGetValue(caller.Uid, out starting!))
            {
                starting = new HashSet<string>(StringComparer.Ordinal);
                _starting[caller.Uid] = starting;
            }
        }
        lock (starting)
        {
            var held = runtime.Attachments.NamesOf(caller.Uid);
            held.UnionWith(starting);
            if (!held.Contains(name) && held.Count >= limits.AttachmentsPerUser)
            {
                throw RpcErrors.Of(StatusCode.ResourceExhausted,
                    $"{caller.Describe()} already has {held.Count} attachments (limit {limits.AttachmentsPerUser}); tear some down first");
            }
            starting.Add(name);
        }
        return new Claimed(starting, name);
    }

    private sealed class Claimed(HashSet<string> starting, string name) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                lock (starting)
                {
                    starting.Remove(name);
                }
            }
        }
    }

    private sealed class NoClaim : IDisposable
    {
        public static readonly NoClaim Instance = new();

        public void Dispose()
        {
        }
    }
}
