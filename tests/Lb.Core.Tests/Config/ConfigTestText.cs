using Lb.Core.Config;
using Lb.Core.Model;

namespace Lb.Core.Tests.Config;

/// <summary>Parses test YAML as "lb.yaml" and asserts the outcome, printing every error on a surprise.</summary>
internal static class ConfigTestText
{
    public const string Source = "lb.yaml";

    public static LbConfig Valid(string yaml)
    {
        var result = LbConfigLoader.Parse(yaml, Source);
        Assert.True(result.IsValid, $"expected a valid file, got:\n{result}");
        Assert.Empty(result.Errors);
        return result.Config!;
    }

    public static IReadOnlyList<ConfigError> Errors(string yaml)
    {
        var result = LbConfigLoader.Parse(yaml, Source);
        Assert.False(result.IsValid, "expected errors, but the file was accepted");
        Assert.Null(result.Config);
        return result.Errors;
    }

    /// <summary>The one error of <paramref name="yaml"/>, as the user reads it.</summary>
    public static string SingleError(string yaml)
    {
        var errors = Errors(yaml);
        Assert.True(errors.Count == 1, $"expected one error, got {errors.Count}:\n{string.Join("\n", errors)}");
        return errors[0].ToString();
    }

    public static string TestFile(params string[] parts) => Path.Combine([AppContext.BaseDirectory, .. parts]);
}
