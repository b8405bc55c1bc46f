using System.Diagnostics;
using Porter.Fuzz;

// Usage (fuzz/fuzz.sh drives it; fuzz/README.md explains):
//   Porter.Fuzz list                         the targets
//   Porter.Fuzz afl TARGET                   under afl-fuzz: inputs on stdin, unexpected exceptions reported as crashes
//   Porter.Fuzz replay TARGET PATH...        every file (or every file in a directory) in-process; exit 1 on a finding
//   Porter.Fuzz explain TARGET FILE...       what the target answers each input: accepted, or the expected refusal
unsafe
{
    // Instrumented assemblies count coverage through this pointer from their first line on; outside afl-fuzz's child
    // (which SharpFuzz points at afl's shared memory) it must point somewhere harmless.
    SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
}
try
{
    return args switch
    {
        ["list"] => List(),
        ["afl", var name] => Afl(Targets.Named(name)),
        ["replay", var name, .. var paths] when paths.Length > 0 => Replay(Targets.Named(name), paths),
        ["explain", var name, .. var files] when files.Length > 0 => Explain(Targets.Named(name), files),
        _ => Usage(),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"porter-fuzz: {e.Message}");
    return 2;
}

static int List()
{
    foreach (var target in Targets.All)
    {
        Console.WriteLine($"{target.Name}\t{target.Parses}");
    }
    return 0;
}

static int Afl(FuzzTarget target)
{
    // Out of process: SharpFuzz runs the target in a child that it restarts after a stack overflow or a timeout, which
    // would otherwise take the fork server down with it and end the whole run.
    SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target.Execute(buffer.ToArray());
    });
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Porter.Fuzz list | afl TARGET | replay TARGET PATH... | explain TARGET FILE...");
    return 2;
}

static int Replay(FuzzTarget target, string[] paths)
{
    var timeout = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("PORTER_FUZZ_TIMEOUT_SECONDS"), out var s) ? s : 10);
    var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]).ToList();
    // afl-fuzz saves many inputs per bug: report each distinct failure once, with its smallest input.
    var findings = new Dictionary<string, List<(string File, byte[] Input, ReplayOutcome Outcome)>>(StringComparer.Ordinal);
    var hung = false;
    foreach (var file in files)
    {
        var input = File.ReadAllBytes(file);
        var outcome = Replayer.Run(target, input, timeout);
        if (outcome.Finding is null)
        {
            continue;
        }
        findings.TryAdd(outcome.Signature!, []);
        findings[outcome.Signature!].Add((file, input, outcome));
        if (outcome.TimedOut)
        {
            // The target's thread cannot be stopped; report what there is and leave.
            hung = true;
            break;
        }
    }
    foreach (var (signature, cases) in findings)
    {
        var (file, input, outcome) = cases.MinBy(c => c.Input.Length);
        Console.WriteLine($"FINDING in target {target.Name}: {signature} ({cases.Count} input(s); the smallest: {file}, {input.Length} bytes)");
        Console.WriteLine($"  input (base64): {Convert.ToBase64String(input)}");
        Console.WriteLine($"  {outcome.Finding!.Replace("\n", "\n  ", StringComparison.Ordinal)}");
    }
    Console.WriteLine($"{target.Name}: {files.Count} input(s){(hung ? " (stopped at a hang)" : "")}, {findings.Count} distinct finding(s)");
    return findings.Count == 0 ? 0 : 1;
}

static int Explain(FuzzTarget target, string[] files)
{
    foreach (var file in files)
    {
        var refusal = target.Execute(File.ReadAllBytes(file));
        Console.WriteLine($"{file}: {(refusal is null ? "accepted" : $"refused: {refusal.GetType().Name}: {refusal.Message}")}");
    }
    return 0;
}
