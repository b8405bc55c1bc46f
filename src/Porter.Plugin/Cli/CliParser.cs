using System.Globalization;

namespace Porter.Plugin.Cli;

/// <summary>An option of a command: "--name VALUE" (or "--name=VALUE"), or a flag when it takes no value.</summary>
public sealed record CliOption(string Name, string Description, string? ValueName = null, string? Alias = null, bool Required = false,
    bool Repeatable = false, string? Default = null)
{
    public bool TakesValue => ValueName is not null;
}

/// <summary>A command ("attach", "netns up"): its options, positional arguments and what it does.</summary>
public sealed record CliCommand(string Name, string Description, IReadOnlyList<CliOption> Options,
    Func<ParsedArgs, TextWriter, TextWriter, CancellationToken, Task<int>> Run)
{
    public IReadOnlyList<(string Name, string Description)> Arguments { get; init; } = [];

    /// <summary>A check across options (e.g. exactly one target); returns the problem, or null.</summary>
    public Func<ParsedArgs, string?>? Validate { get; init; }
}

/// <summary>What the command line said: option values by option name, and the positional arguments.</summary>
public sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v[^1] : null;

    public IReadOnlyList<string> GetAll(string name) => _values.TryGetValue(name, out var v) ? v : [];

    public void Add(string name, string value)
    {
        if (!_values.TryGetValue(name, out var list))
        {
            _values[name] = list = [];
        }
        list.Add(value);
    }

    public int? GetInt(string name, string what)
    {
        var text = Get(name);
        if (text is null)
        {
            return null;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new CliUsageException($"{name}: '{text}' is not {what}");
    }
}

/// <summary>A command line that does not say what it should (unknown option, missing value, ...): exit 2 with a hint.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>
/// The command line's parser, written here rather than taken from a library on purpose: the plugin is one Native AOT
/// binary that netavark starts for every container start and stop, and NativeAOT prepares every type in the binary at
/// start-up, so a parser library (System.CommandLine: +1.1 MB) made every netavark call measurably slower (about 17%
/// more CPU time and 20% more page faults per `info`, measured side by side). These few commands need little: long
/// options with an optional short alias, values, repeatable options, required options, and generated --help.
/// </summary>
public static class CliParser
{
    public static ParsedArgs Parse(CliCommand command, IReadOnlyList<string> args)
    {
        var parsed = new ParsedArgs();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "-")
            {
                parsed.Positional.Add(arg);
                continue;
            }
            var eq = arg.StartsWith("--", StringComparison.Ordinal) ? arg.IndexOf('=', StringComparison.Ordinal) : -1;
            var name = eq > 0 ? arg[..eq] : arg;
            var option = command.Options.FirstOrDefault(o => o.Name == name || o.Alias == name)
                ?? throw new CliUsageException($"unknown option '{name}' for 'net-porter {command.Name}'");
            if (!option.TakesValue)
            {
                if (eq > 0)
                {
                    throw new CliUsageException($"option {option.Name} takes no value");
                }
                parsed.Add(option.Name, "true");
                continue;
            }
            string value;
            if (eq > 0)
            {
                value = arg[(eq + 1)..];
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                throw new CliUsageException($"option {option.Name} needs a value ({option.ValueName})");
            }
            if (parsed.Has(option.Name) && !option.Repeatable)
            {
                throw new CliUsageException($"option {option.Name} is given twice");
            }
            parsed.Add(option.Name, value);
        }
        foreach (var option in command.Options)
        {
            if (!parsed.Has(option.Name))
            {
                if (option.Required)
                {
                    throw new CliUsageException($"option {option.Name} is required");
                }
                if (option.Default is not null)
                {
                    parsed.Add(option.Name, option.Default);
                }
            }
        }
        if (parsed.Positional.Count > command.Arguments.Count)
        {
            throw new CliUsageException($"unexpected argument '{parsed.Positional[command.Arguments.Count]}'");
        }
        if (parsed.Positional.Count < command.Arguments.Count)
        {
            throw new CliUsageException($"the {command.Arguments[parsed.Positional.Count].Name} argument is missing");
        }
        if (command.Validate?.Invoke(parsed) is { } problem)
        {
            throw new CliUsageException(problem);
        }
        return parsed;
    }

    public static void WriteHelp(TextWriter output, CliCommand command)
    {
        var arguments = string.Concat(command.Arguments.Select(a => $" {a.Name}"));
        output.WriteLine($"Usage: net-porter {command.Name}{arguments} [options]");
        output.WriteLine();
        output.WriteLine(command.Description);
        if (command.Arguments.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Arguments:");
            foreach (var (name, description) in command.Arguments)
            {
                output.WriteLine($"  {name,-24}{description}");
            }
        }
        output.WriteLine();
        output.WriteLine("Options:");
        var rows = command.Options
            .Select(o => (Left: $"{(o.Alias is null ? "" : $"{o.Alias}, ")}{o.Name}{(o.TakesValue ? $" {o.ValueName}" : "")}",
                Right: $"{o.Description}{(o.Required ? " (required)" : "")}{(o.Default is null ? "" : $" [default: {o.Default}]")}{(o.Repeatable ? " (repeatable)" : "")}"))
            .Append((Left: "-h, --help", Right: "show this help"))
            .ToList();
        var width = rows.Max(r => r.Left.Length) + 2;
        foreach (var (left, right) in rows)
        {
            output.WriteLine($"  {left.PadRight(width)}{right}");
        }
    }
}
