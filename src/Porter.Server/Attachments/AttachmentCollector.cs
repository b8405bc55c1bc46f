using Microsoft.Extensions.Logging;
using Porter.Server.Cni.Runtime;
using Porter.Server.Namespaces;

namespace Porter.Server.Attachments;

/// <summary>
/// One garbage-collection pass over the attachments nobody will tear down: a setup an earlier server process never
/// finished (it was killed), a container that was killed or whose podman crashed (no process is left in its network
/// namespace, seen for a while), or anything from before a reboot. Each release is a best-effort DEL with the recorded
/// configuration, and is logged.
///
/// The listing a pass starts from is only a list of names to look at: every decision is taken under the attachment's
/// key lock, on the record as it is then and on the namespace's liveness as seen then, because a setup may have
/// finished or a teardown removed the record since the listing. Where the server cannot enter the namespace (it holds
/// none), an address that may still be configured in a live namespace is kept rather than handed out twice.
/// </summary>
public sealed class AttachmentCollector(
    CniRuntime runtime,
    AttachmentReleaser releaser,
    KeyedLocks locks,
    IEnumerable<IHelperProcesses> helpers,
    NetnsHolds holds,
    Func<CniRuntimeOptions> currentOptions,
    TimeProvider clock,
    ILogger<AttachmentCollector> logger)
{
    /// <summary>
    /// How long a namespace must be seen without a process (on two passes at least) before its attachment counts as
    /// dead: a container between its setup and its first process, on a loaded machine, is not mistaken for a dead one.
    /// </summary>
    public static readonly TimeSpan UnusedGrace = TimeSpan.FromSeconds(10);

    // Only the collector's own loop calls CollectAsync, one pass at a time; these need no lock of their own.
    private readonly Dictionary<string, Sighting> _unused = new(StringComparer.Ordinal);
    private readonly HashSet<string> _keptNoted = new(StringComparer.Ordinal);
    // The pass's view of bind-mounted namespaces, read only when an attachment needs it (it reads every mount namespace).
    private HashSet<ulong>? _mounted;

    /// <summary>One pass; returns how many attachments were released.</summary>
    public async Task<int> CollectAsync(CancellationToken cancellationToken)
    {
        var (entries, unreadable) = runtime.Attachments.List();
        foreach (var record in unreadable)
        {
            SetAside(record);
        }

        var inUse = NetnsLiveness.InodesInUse(ExcludedPids());
        _mounted = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var released = 0;
        foreach (var listed in entries)
        {
            var name = listed.Id.Name;
            seen.Add(name);
            try
            {
                if (await CollectOneAsync(listed, name, inUse, cancellationToken).ConfigureAwait(false))
                {
                    released++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // One record's trouble never stops the pass; the next pass tries that record again.
                logger.LogError("garbage collection of attachment {Name} failed: {Error}", name, e.Message);
            }
        }
        foreach (var gone in _unused.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            _unused.Remove(gone);
        }
        _keptNoted.RemoveWhere(k => !seen.Contains(k));
        return released;
    }

    private async Task<bool> CollectOneAsync(AttachmentRecord listed, string name, IReadOnlySet<ulong> inUse, CancellationToken cancellationToken)
    {
        using var keyLock = locks.TryAcquire(AttachmentKey.LockKeyFor(listed.Id));
        if (keyLock is null)
        {
            return false; // a setup or teardown is working on it right now; a later pass sees how it ended
        }
        var entry = runtime.Attachments.ReadOrSetAside(listed.Id, out var unreadable);
        if (unreadable is not null)
        {
            logger.LogWarning("attachment record {Path} is unreadable ({Problem}); moved aside", listed.Location, unreadable);
            return false;
        }
        if (entry is null)
        {
            _unused.Remove(name); // torn down since the listing
            return false;
        }
        var reason = WhyRelease(entry, name, inUse);
        if (reason is null)
        {
            return false;
        }
        var problems = await releaser.ForgetAsync(entry, AttachmentReleaser.DelNamespace(entry, null), currentOptions(), cancellationToken).ConfigureAwait(false);
        _unused.Remove(name);
        _keptNoted.Remove(name);
        logger.LogInformation("released attachment {Name} of {User}: {Reason}{Problems}", name, entry.Facts.Owner, reason,
            problems.Count == 0 ? "" : $" (incompletely: {string.Join("; ", problems)})");
        return true;
    }

    /// <summary>Why the attachment (read under its lock) is to be released now, or null to keep it.</summary>
    private string? WhyRelease(AttachmentRecord entry, string name, IReadOnlySet<ulong> inUse)
    {
        if (entry.Facts.BootId is { Length: > 0 } bootId && bootId != NetnsLiveness.BootId)
        {
            return "it was made before the host last booted"; // every namespace of that boot is gone
        }
        if (!entry.Complete && NetnsHolds.IsHeld(entry.Facts.Hold))
        {
            // Nobody holds the key lock, so no setup is running: an earlier server process died during this one.
            // The DEL runs inside the namespace we hold, so the half-made interface goes with its address.
            return "its setup never finished";
        }
        if (entry.Facts.NetnsInode is not { } inode)
        {
            return null; // nothing tells whether its namespace lives: keep it
        }
        var mountCounts = entry.Facts.Subject.LivesWhileMounted;
        if (inUse.Contains(inode) || (mountCounts && Mounted().Contains(inode)))
        {
            _unused.Remove(name);
            NoteKeptUnfinished(entry, name);
            return null;
        }
        if (!SeenUnusedLongEnough(entry, name, inode))
        {
            return null;
        }
        // Asked again now, under the lock: a process may have entered the namespace since the pass began.
        if (NetnsLiveness.IsInUse(inode, ExcludedPids()) || (mountCounts && NetnsLiveness.IsMounted(inode, holds.Directory)))
        {
            _unused.Remove(name);
            return null;
        }
        if (mountCounts)
        {
            return entry.Complete
                ? "its network namespace is gone (no process is in it and it is mounted nowhere)"
                : "its setup never finished and its network namespace is gone (no process is in it and it is mounted nowhere)";
        }
        if (entry.Facts.Subject.Kind == SubjectKind.Process)
        {
            return $"no process is left in its network namespace (process {entry.Facts.Subject.Pid} is gone)";
        }
        return entry.Complete
            ? "no process is left in its network namespace (the container is gone)"
            : "its setup never finished and no process is left in its network namespace";
    }

    /// <summary>
    /// True once the attachment's namespace was seen without a process on an earlier pass, at least
    /// <see cref="UnusedGrace"/> ago, and again now. Sightings belong to one attachment: a record of the same name
    /// made since (a container restarted in a new namespace) starts over.
    /// </summary>
    private bool SeenUnusedLongEnough(AttachmentRecord entry, string name, ulong inode)
    {
        var identity = (inode, entry.Facts.Created);
        var now = clock.GetUtcNow();
        if (!_unused.TryGetValue(name, out var sighting) || sighting.Identity != identity)
        {
            _unused[name] = new Sighting(identity, now);
            return false;
        }
        return now - sighting.First >= UnusedGrace;
    }

    /// <summary>Keeping a setup that never finished because its namespace is in use is worth saying, once.</summary>
    private void NoteKeptUnfinished(AttachmentRecord entry, string name)
    {
        if (!entry.Complete && _keptNoted.Add(name))
        {
            logger.LogWarning("attachment {Name} of {User}: its setup never finished, but its network namespace is still in use and "
                + "not held by the server; its addresses are kept until no process is left in that namespace", name, entry.Facts.Owner);
        }
    }

    private HashSet<ulong> Mounted() => _mounted ??= NetnsLiveness.InodesMounted(holds.Directory);

    private HashSet<int> ExcludedPids() => new(helpers.SelectMany(h => h.Pids)) { Environment.ProcessId };

    private void SetAside(UnreadableRecord record)
    {
        if (runtime.Attachments.SetAside(record))
        {
            logger.LogWarning("attachment record {Path} is unreadable ({Problem}); moved aside", record.Path, record.Problem);
        }
    }

    /// <summary>The first sighting of an attachment's namespace without a process; Identity tells the attachment apart from a later one of the same name.</summary>
    private sealed record Sighting((ulong Inode, DateTimeOffset? Created) Identity, DateTimeOffset First);
}
