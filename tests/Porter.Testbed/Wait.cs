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
}
