namespace Porter.Server.Namespaces;

public enum NetnsProblem
{
    /// <summary>The path is empty, relative or otherwise unusable.</summary>
    InvalidPath,
    /// <summary>Nothing exists at the path, as the caller sees it.</summary>
    NotFound,
    /// <summary>Something exists but it is not a network namespace.</summary>
    NotANetworkNamespace,
    /// <summary>A network namespace that does not belong to the caller.</summary>
    NotOwned,
    /// <summary>The calling process exited while its request was handled.</summary>
    CallerGone,
    /// <summary>The server cannot see what it must check (its own privileges fall short): not the caller's fault.</summary>
    CannotVerify,
}

public sealed class NetnsException(NetnsProblem problem, string message) : Exception(message)
{
    public NetnsProblem Problem { get; } = problem;
}
