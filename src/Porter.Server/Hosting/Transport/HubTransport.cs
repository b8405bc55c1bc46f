using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Porter.Server.Identity;

namespace Porter.Server.Hosting.Transport;

/// <summary>The one endpoint Kestrel listens on: whatever sockets the <see cref="SocketHub"/> holds.</summary>
public sealed class HubEndPoint : EndPoint
{
    public override string ToString() => "net-porter sockets";
}

/// <summary>Kestrel transport that takes its connections from the <see cref="SocketHub"/> instead of binding anything itself.</summary>
public sealed class HubTransportFactory(SocketHub hub, ILoggerFactory loggers) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is HubEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not HubEndPoint)
        {
            throw new NotSupportedException($"{endpoint} is not served by the net-porter transport");
        }
        var contexts = new SocketConnectionContextFactory(new SocketConnectionFactoryOptions(), loggers.CreateLogger<SocketConnectionContextFactory>());
        return ValueTask.FromResult<IConnectionListener>(new HubListener(hub, contexts, endpoint));
    }
}

internal sealed class HubListener(SocketHub hub, SocketConnectionContextFactory contexts, EndPoint endpoint) : IConnectionListener
{
    private readonly CancellationTokenSource _unbound = new();

    public EndPoint EndPoint { get; } = endpoint;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
        AcceptedConnection accepted;
        try
        {
            accepted = await hub.TakeAsync(either.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
        {
            return null; // Kestrel reads null as "this listener is done"
        }
        var context = contexts.Create(accepted.Socket);
        var uid = accepted.Peer.Uid;
        // The peer as the kernel reported it at accept, with a pidfd that pins that very process, for every call on
        // this connection (CallerInterceptor reads it); both go when the connection closes.
        var peer = new PeerProcess(accepted.Peer, PeerCredentials.TryOpenPidfd(accepted.Socket), accepted.AcceptedAt);
        context.Items[typeof(PeerProcess)] = peer;
        context.ConnectionClosed.Register(() =>
        {
            peer.Dispose();
            hub.Connections.Leave(uid);
        });
        return context;
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _unbound.Cancel();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _unbound.Cancel();
        _unbound.Dispose();
        return ValueTask.CompletedTask;
    }
}
