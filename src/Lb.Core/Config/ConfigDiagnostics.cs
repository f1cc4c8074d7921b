namespace Lb.Core.Config;

/// <summary>A 1-based line and column in the source text.</summary>
internal readonly record struct SourcePosition(int Line, int Column)
{
    public static SourcePosition FileStart { get; } = new(1, 1);

    public override string ToString() => $"line {Line}, column {Column}";
}

/// <summary>
/// Collects the errors of one file. Every stage adds here instead of throwing, so a user sees all
/// problems at once and the file is rejected only after the last check.
/// </summary>
internal sealed class ConfigDiagnostics(string source)
{
    private readonly List<ConfigError> _errors = [];

    public string Source { get; } = source;

    public bool HasErrors => _errors.Count > 0;

    public void Add(SourcePosition at, string path, string message) =>
        _errors.Add(new ConfigError(Source, at.Line, at.Column, path, message));

    /// <summary>Errors in reading order; checks that span several nodes run last, so sort rather than trust insertion order.</summary>
    public IReadOnlyList<ConfigError> Sorted() =>
        _errors.Select((error, index) => (error, index))
            .OrderBy(e => e.error.Line).ThenBy(e => e.error.Column).ThenBy(e => e.index)
            .Select(e => e.error)
            .ToList();
}

/// <summary>Field paths as users read them: <c>services[1].backends[0].port</c>.</summary>
internal static class FieldPath
{
    public static string Child(string parent, string name) => parent.Length == 0 ? name : $"{parent}.{name}";

    public static string Item(string parent, int index) => $"{parent}[{index}]";
}
