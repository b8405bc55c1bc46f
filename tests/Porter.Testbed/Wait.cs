namespace Porter.Testbed;

public static class Wait
{
    /// <summary>Polls until the condition holds; fails with what was awaited and the detail given.</summary>
    public static void Until(Func<bool> condition, TimeSpan timeout, string what, Func<string>? detail = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TestbedException($"{what}: not within {timeout.TotalSeconds} s{(detail is null ? "" : "\n" + detail())}");
            }
            Thread.Sleep(20);
        }
    }

    /// <summary>True when something accepts connections on the unix socket (a stale socket file refuses them).</summary>
    public static bool Accepts(string socketPath)
    {
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            probe.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    public static void UntilAccepting(string socketPath, TimeSpan timeout, string what, Func<string>? detail = null) =>
        Until(() => Accepts(socketPath), timeout, what, detail);
}
