using Xunit;

namespace Porter.Tests;

/// <summary>
/// Tests that measure the whole test process (open descriptors, threads) run after the parallel ones, alone,
/// so other classes starting processes at the same moment cannot disturb the count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMeasurements
{
    public const string Name = "process-wide measurements";
}
