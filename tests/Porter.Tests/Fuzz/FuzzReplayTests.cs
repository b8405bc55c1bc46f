using Porter.Fuzz;
using Xunit;

namespace Porter.Tests.Fuzz;

/// <summary>
/// Every fuzz target's seed corpus and past findings (fuzz/corpus, fuzz/regressions), run in-process without afl-fuzz:
/// none may throw anything but the target's expected refusals, or hang. Keeps fixed findings fixed on every test run.
/// </summary>
public sealed class FuzzReplayTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static string Folder(string kind, string target) => Path.Combine(AppContext.BaseDirectory, "fuzz", kind, target);

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in Targets.All)
        {
            foreach (var kind in new[] { "corpus", "regressions" })
            {
                var folder = Folder(kind, target.Name);
                if (!Directory.Exists(folder))
                {
                    continue;
                }
                foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
                {
                    data.Add(target.Name, Path.GetRelativePath(AppContext.BaseDirectory, file));
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Input_gives_no_finding(string target, string file)
    {
        var input = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, file));

        var outcome = Replayer.Run(Targets.Named(target), input, Timeout);

        Assert.True(outcome.Finding is null, $"{target} on {file}: {outcome.Finding}");
    }

    [Fact]
    public void Every_target_has_a_seed_corpus()
    {
        var empty = Targets.All.Where(t => !Directory.Exists(Folder("corpus", t.Name)) || !Directory.EnumerateFiles(Folder("corpus", t.Name)).Any());

        Assert.Empty(empty.Select(t => t.Name));
    }

    [Fact]
    public void Every_regression_folder_belongs_to_a_target()
    {
        var folders = Directory.EnumerateDirectories(Path.Combine(AppContext.BaseDirectory, "fuzz", "regressions")).Select(Path.GetFileName).ToList();

        Assert.NotEmpty(folders);
        Assert.All(folders, f => Assert.Contains(f, Targets.All.Select(t => t.Name)));
    }

    [Fact]
    public void Most_seeds_are_accepted()
    {
        // A seed corpus of inputs that are all refused would keep the fuzzer at the front door.
        foreach (var target in Targets.All)
        {
            var seeds = Directory.EnumerateFiles(Folder("corpus", target.Name)).ToList();
            var accepted = seeds.Count(f => target.Execute(File.ReadAllBytes(f)) is null);
            Assert.True(accepted * 2 >= seeds.Count, $"{target.Name}: only {accepted} of {seeds.Count} seeds are accepted");
        }
    }

    [Fact]
    public void An_unexpected_exception_is_a_finding()
    {
        var target = new FuzzTarget("t", "", input => _ = input[input.Length], _ => false);

        var outcome = Replayer.Run(target, [], Timeout);

        Assert.Contains("IndexOutOfRangeException", outcome.Finding, StringComparison.Ordinal);
        Assert.False(outcome.TimedOut);
    }

    [Fact]
    public void An_expected_exception_is_a_refusal_not_a_finding()
    {
        var target = new FuzzTarget("t", "", _ => throw new FormatException("bad"), e => e is FormatException);

        Assert.Null(Replayer.Run(target, [], Timeout).Finding);
        Assert.IsType<FormatException>(target.Execute([]));
    }

    [Fact]
    public void A_hang_is_a_finding()
    {
        using var release = new ManualResetEventSlim();
        var target = new FuzzTarget("t", "", _ => release.Wait(), _ => false);

        var outcome = Replayer.Run(target, [], TimeSpan.FromMilliseconds(200));
        release.Set();

        Assert.True(outcome.TimedOut);
        Assert.StartsWith("hang", outcome.Finding, StringComparison.Ordinal);
    }

    [Fact]
    public void A_violated_invariant_is_a_finding_even_where_the_target_expects_everything()
    {
        var target = new FuzzTarget("t", "", _ => throw new InvariantException("broken"), _ => true);

        Assert.Contains("broken", Replayer.Run(target, [], Timeout).Finding, StringComparison.Ordinal);
    }
}
