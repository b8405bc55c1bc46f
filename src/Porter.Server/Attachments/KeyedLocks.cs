namespace Porter.Server.Attachments;

/// <summary>
/// One async lock per key, created on demand and dropped when unused. CNI forbids concurrent operations on the
/// same container and interface; different attachments proceed in parallel.
/// </summary>
public sealed class KeyedLocks
{
    private readonly Dictionary<string, (SemaphoreSlim Gate, int Users)> _gates = new(StringComparer.Ordinal);

    public async Task<IDisposable> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        SemaphoreSlim gate;
        lock (_gates)
        {
            if (_gates.TryGetValue(key, out var entry))
            {
                gate = entry.Gate;
                _gates[key] = (gate, entry.Users + 1);
            }
            else
            {
                gate = new SemaphoreSlim(1, 1);
                _gates[key] = (gate, 1);
            }
        }
        try
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Release(key, entered: false);
            throw;
        }
        return new Lease(this, key);
    }

    /// <summary>The lock if it is free right now, otherwise null (someone is working on that attachment).</summary>
    public IDisposable? TryAcquire(string key)
    {
        lock (_gates)
        {
            if (_gates.ContainsKey(key))
            {
                return null;
            }
            var gate = new SemaphoreSlim(0, 1);
            _gates[key] = (gate, 1);
            return new Lease(this, key);
        }
    }

    private void Release(string key, bool entered)
    {
        lock (_gates)
        {
            var (gate, users) = _gates[key];
            if (entered)
            {
                gate.Release();
            }
            if (users == 1)
            {
                _gates.Remove(key);
                gate.Dispose();
            }
            else
            {
                _gates[key] = (gate, users - 1);
            }
        }
    }

    private sealed class Lease(KeyedLocks owner, string key) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Release(key, entered: true);
            }
        }
    }
}
