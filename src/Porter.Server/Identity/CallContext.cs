namespace Porter.Server.Identity;

/// <summary>Per-call facts the handlers work from: the verified caller and the call's cancellation.</summary>
public sealed class CallContext(PeerProcess peer, CallerIdentity caller, CancellationToken aborted, string method)
{
    public PeerProcess Peer { get; } = peer;
    public CallerIdentity Caller { get; } = caller;
    /// <summary>Signalled when the client disconnects or its deadline passes.</summary>
    public CancellationToken Aborted { get; } = aborted;
    public string Method { get; } = method;
}
