using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Porter.Server.Identity;
using Porter.Server.Limits;

namespace Porter.Server.Hosting.Transport;

/// <summary>An accepted connection, with the peer the kernel reported for it.</summary>
/// <summary>A connection as accepted: its socket, the peer the kernel reported, the listener, and when (Stopwatch ticks).</summary>
public sealed record AcceptedConnection(Socket Socket, PeerCredentials Peer, string Listener, long AcceptedAt = 0);

/// <summary>
/// All listening sockets — the main one and the per-user ones, which come and go while the server runs — merged
/// into one stream of accepted connections for Kestrel. Each connection is identified at accept time and counted
/// against its user's connection limit; over the limit it is closed before any byte is read.
/// </summary>
public sealed class SocketHub(UserLimits limits, ILogger<SocketHub> logger) : IAsyncDisposable
{
    private readonly Channel<AcceptedConnection> _accepted = Channel.CreateBounded<AcceptedConnection>(
        new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private readonly Dictionary<string, Listener> _listeners = new(StringComparer.Ordinal);
    private DateTime _lastRefusalLog = DateTime.MinValue;

    public PerUserCounter Connections => limits.Connections;

    public void Add(string name, Socket listening, string description)
    {
        var listener = new Listener(listening, description);
        lock (_listeners)
        {
            if (_listeners.ContainsKey(name))
            {
                listener.Stop.Cancel();
                throw new InvalidOperationException($"listener {name} exists already");
            }
            _listeners[name] = listener;
        }
        listener.Loop = Task.Run(() => AcceptLoopAsync(listener));
    }

    public bool Contains(string name)
    {
        lock (_listeners)
        {
            return _listeners.ContainsKey(name);
        }
    }

    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_listeners)
            {
                return [.. _listeners.Keys];
            }
        }
    }

    /// <summary>Stops accepting on a listener and closes it; connections already accepted continue.</summary>
    public async Task RemoveAsync(string name)
    {
        Listener? listener;
        lock (_listeners)
        {
            if (!_listeners.Remove(name, out listener))
            {
                return;
            }
        }
        await listener.StopAsync().ConfigureAwait(false);
    }

    public ValueTask<AcceptedConnection> TakeAsync(CancellationToken cancellationToken) => _accepted.Reader.ReadAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        List<Listener> all;
        lock (_listeners)
        {
            all = [.. _listeners.Values];
            _listeners.Clear();
        }
        foreach (var listener in all)
        {
            await listener.StopAsync().ConfigureAwait(false);
        }
        _accepted.Writer.TryComplete();
    }

    private async Task AcceptLoopAsync(Listener listener)
    {
        var token = listener.Stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.Socket.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || token.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException e)
            {
                // EMFILE and friends: back off instead of spinning, keep serving.
                logger.LogError("accept on {Listener} failed: {Error}", listener.Description, e.Message);
                await Task.Delay(200, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            var acceptedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            PeerCredentials peer;
            try
            {
                peer = PeerCredentials.Read(socket);
            }
            catch (Exception e) when (e is SocketException or InvalidOperationException)
            {
                socket.Dispose();
                continue;
            }
            if (!limits.Connections.TryEnter(peer.Uid))
            {
                RefusalLog(peer);
                socket.Dispose();
                continue;
            }
            try
            {
                await _accepted.Writer.WriteAsync(new AcceptedConnection(socket, peer, listener.Description, acceptedAt), token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                limits.Connections.Leave(peer.Uid);
                socket.Dispose();
                break;
            }
        }
    }

    private void RefusalLog(PeerCredentials peer)
    {
        // A flood must not turn into a flood of log lines.
        if (DateTime.UtcNow - _lastRefusalLog < TimeSpan.FromSeconds(5))
        {
            return;
        }
        _lastRefusalLog = DateTime.UtcNow;
        logger.LogWarning("uid {Uid} (pid {Pid}) has too many open connections; new ones are closed", peer.Uid, peer.Pid);
    }

    private sealed class Listener(Socket socket, string description)
    {
        public Socket Socket { get; } = socket;
        public string Description { get; } = description;
        public CancellationTokenSource Stop { get; } = new();
        public Task Loop { get; set; } = Task.CompletedTask;

        public async Task StopAsync()
        {
            await Stop.CancelAsync().ConfigureAwait(false);
            Socket.Dispose();
            try
            {
                await Loop.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // the loop ends with whatever the closed socket threw
            }
            Stop.Dispose();
        }
    }
}
