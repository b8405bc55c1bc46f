namespace Porter.Server.Limits;

/// <summary>
/// How many of something (open connections, requests in progress) each uid holds, bounded by a limit that is read
/// at every check, so a configuration reload applies at once. Root is never limited.
/// </summary>
public sealed class PerUserCounter(Func<int> limitPerUser)
{
    private readonly Dictionary<uint, int> _held = [];

    public int Limit => limitPerUser();

    public bool TryEnter(uint uid)
    {
        lock (_held)
        {
            var count = _held.GetValueOrDefault(uid);
            if (uid != 0 && count >= limitPerUser())
            {
                return false;
            }
            _held[uid] = count + 1;
            return true;
        }
    }

    public void Leave(uint uid)
    {
        lock (_held)
        {
            if (!_held.TryGetValue(uid, out var count))
            {
                return;
            }
            if (count <= 1)
            {
                _held.Remove(uid);
            }
            else
            {
                _held[uid] = count - 1;
            }
        }
    }

    public int HeldBy(uint uid)
    {
        lock (_held)
        {
            return _held.GetValueOrDefault(uid);
        }
    }
}

/// <summary>The per-user counters the server enforces, as one injectable unit.</summary>
public sealed class UserLimits(Func<Configuration.LimitsConfig> limits)
{
    public PerUserCounter Connections { get; } = new(() => limits().ConnectionsPerUser);
    public PerUserCounter Requests { get; } = new(() => limits().ConcurrentRequestsPerUser);
    public int AttachmentsPerUser => limits().AttachmentsPerUser;
}
