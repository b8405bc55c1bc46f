namespace Porter.Fuzz;

/// <summary>
/// One parser under fuzzing. <see cref="Run"/> feeds it one input; <see cref="IsExpected"/> says which exceptions are
/// its documented answer to bad input (fuzz/README.md lists them). Anything else escaping <see cref="Execute"/> is a
/// finding: afl-fuzz records it as a crash, and the replay reports it.
/// </summary>
public sealed record FuzzTarget(string Name, string Parses, Action<byte[]> Run, Func<Exception, bool> IsExpected)
{
    /// <summary>Runs one input; returns the expected exception it was refused with (null: accepted), throws anything else.</summary>
    public Exception? Execute(byte[] input)
    {
        try
        {
            Run(input);
            return null;
        }
        catch (Exception e) when (e is not InvariantException && IsExpected(e))
        {
            return e;
        }
    }
}

/// <summary>A property the parser's output must have, violated: always a finding, never an expected answer.</summary>
public sealed class InvariantException(string message) : Exception(message);
