namespace Porter.Server.Json;

/// <summary>A configuration problem, located as precisely as possible: "file:line:column: path: what is wrong".</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string file, int? line, int? column, string? jsonPath, string problem, Exception? inner = null)
        : base(Format(file, line, column, jsonPath, problem), inner)
    {
        File = file;
        Line = line;
        Column = column;
        JsonPath = jsonPath;
        Problem = problem;
    }

    public string File { get; }
    public int? Line { get; }
    public int? Column { get; }
    public string? JsonPath { get; }
    public string Problem { get; }

    private static string Format(string file, int? line, int? column, string? jsonPath, string problem)
    {
        var where = file;
        if (line is { } l)
        {
            where += $":{l}";
            if (column is { } c)
            {
                where += $":{c}";
            }
        }
        return string.IsNullOrEmpty(jsonPath) ? $"{where}: {problem}" : $"{where}: {jsonPath}: {problem}";
    }
}
