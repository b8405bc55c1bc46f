namespace Porter.Fuzz;

/// <summary>
/// What one input did to a target outside afl-fuzz: nothing to report, or the finding (an exception, or a hang) and its
/// signature (exception type and the innermost net-porter frame), which groups the inputs of one bug.
/// </summary>
public sealed record ReplayOutcome(string? Finding, string? Signature, bool TimedOut);

/// <summary>Runs inputs in-process, as the unit tests and fuzz.sh's reports do.</summary>
public static class Replayer
{
    /// <summary>
    /// One input on a thread of its own (the default stack size, as the server's thread-pool threads have), so that a
    /// hang is reported after <paramref name="timeout"/> instead of stalling the caller forever.
    /// </summary>
    public static ReplayOutcome Run(FuzzTarget target, byte[] input, TimeSpan timeout)
    {
        Exception? unexpected = null;
        var thread = new Thread(() =>
        {
            try
            {
                target.Execute(input);
            }
            catch (Exception e)
            {
                unexpected = e;
            }
        })
        {
            IsBackground = true,
            Name = $"fuzz-{target.Name}",
        };
        thread.Start();
        if (!thread.Join(timeout))
        {
            return new ReplayOutcome($"hang: still running after {timeout.TotalSeconds:0} s", "hang", true);
        }
        return unexpected is null ? new ReplayOutcome(null, null, false) : new ReplayOutcome(unexpected.ToString(), SignatureOf(unexpected), false);
    }

    private static string SignatureOf(Exception e)
    {
        // A violated invariant is told apart by the target's check that failed, anything else by the code that threw.
        var frame = new System.Diagnostics.StackTrace(e).GetFrames()
            .Select(f => f.GetMethod())
            .FirstOrDefault(m => e is InvariantException
                ? m?.DeclaringType == typeof(Targets) && m.Name != "Check"
                : m?.DeclaringType?.Namespace?.StartsWith("Porter.", StringComparison.Ordinal) == true && m.DeclaringType.Namespace != "Porter.Fuzz");
        var where = frame is null ? "" : $" in {frame.DeclaringType!.FullName}.{frame.Name}";
        return $"{e.GetType().FullName}{where}";
    }
}
