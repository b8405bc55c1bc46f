namespace Porter.Protocol.Grpc;

/// <summary>
/// A failed call: the gRPC status and the human message that travels in grpc-message.
/// Thrown by server handlers to answer with that status, and by the client when the server did.
/// </summary>
public sealed class RpcException : Exception
{
    public RpcException(StatusCode status, string detail, Exception? inner = null)
        : base(detail, inner)
    {
        Status = status;
        Detail = detail;
    }

    public StatusCode Status { get; }

    /// <summary>The message without the status prefix.</summary>
    public string Detail { get; }

    public override string ToString() => $"{Status.ToWireName()}: {Detail}";
}
