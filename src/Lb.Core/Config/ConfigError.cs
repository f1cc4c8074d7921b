using System.Collections.Immutable;
using Lb.Core.Model;

namespace Lb.Core.Config;

/// <summary>
/// One problem in a configuration file: where it is (file, 1-based line and column), which field
/// (<c>services[1].backends[0].port</c>) and why. <see cref="Line"/> is 0 for a problem with the file
/// as a whole, such as one that cannot be read.
/// </summary>
public sealed record ConfigError(string Source, int Line, int Column, string Path, string Message)
{
    /// <summary><c>lb.yaml:14:15: services[1].backends[0].port: 70000 is out of range (1-65535)</c></summary>
    public override string ToString()
    {
        var location = Line > 0 ? $"{Source}:{Line}:{Column}" : Source;
        return Path.Length > 0 ? $"{location}: {Path}: {Message}" : $"{location}: {Message}";
    }
}

/// <summary>
/// The outcome of reading a configuration: either a valid <see cref="LbConfig"/> or every error found.
/// Never both: one error rejects the whole file, so a half-valid file can never reach the datapath.
/// </summary>
public sealed class LbConfigResult
{
    private LbConfigResult(LbConfig? config, ImmutableArray<ConfigError> errors)
    {
        Config = config;
        Errors = errors;
    }

    /// <summary>The configuration, or null when <see cref="Errors"/> is not empty.</summary>
    public LbConfig? Config { get; }

    /// <summary>Every error, ordered by line and column; empty when the file is valid.</summary>
    public ImmutableArray<ConfigError> Errors { get; }

    public bool IsValid => Config is not null;

    internal static LbConfigResult Valid(LbConfig config) => new(config, ImmutableArray<ConfigError>.Empty);

    internal static LbConfigResult Invalid(IEnumerable<ConfigError> errors)
    {
        var list = errors.ToImmutableArray();
        if (list.IsEmpty)
            throw new ArgumentException("An invalid result needs at least one error.", nameof(errors));
        return new(null, list);
    }

    /// <summary>For callers that prefer exceptions: the configuration, or a <see cref="ConfigException"/> carrying every error.</summary>
    public LbConfig GetConfigOrThrow() => Config ?? throw new ConfigException(Errors);

    public override string ToString() => IsValid ? "valid" : string.Join(Environment.NewLine, Errors);
}

/// <summary>Thrown by <see cref="LbConfigResult.GetConfigOrThrow"/>; the message lists every error, one a line.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(ImmutableArray<ConfigError> errors)
        : base(Describe(errors)) => Errors = errors;

    public ImmutableArray<ConfigError> Errors { get; }

    private static string Describe(ImmutableArray<ConfigError> errors)
    {
        var count = errors.Length == 1 ? "1 error" : $"{errors.Length} errors";
        return $"invalid configuration ({count}):{Environment.NewLine}{string.Join(Environment.NewLine, errors)}";
    }
}
