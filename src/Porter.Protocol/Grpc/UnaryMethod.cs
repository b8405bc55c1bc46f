using Google.Protobuf;

namespace Porter.Protocol.Grpc;

/// <summary>One unary RPC: its HTTP/2 path ("/package.Service/Method") and how to parse both messages.</summary>
public sealed class UnaryMethod<TRequest, TResponse>
    where TRequest : IMessage<TRequest>
    where TResponse : IMessage<TResponse>
{
    public UnaryMethod(string service, string name, MessageParser<TRequest> requestParser, MessageParser<TResponse> responseParser)
    {
        Service = service;
        Name = name;
        RequestParser = requestParser;
        ResponseParser = responseParser;
        Path = $"/{service}/{name}";
    }

    public string Service { get; }
    public string Name { get; }
    public string Path { get; }
    public MessageParser<TRequest> RequestParser { get; }
    public MessageParser<TResponse> ResponseParser { get; }
}
