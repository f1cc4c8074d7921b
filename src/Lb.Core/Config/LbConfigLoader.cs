using Lb.Core.Model;

namespace Lb.Core.Config;

/// <summary>
/// Reads lb.yaml into an <see cref="LbConfig"/>. The result holds either the configuration or every
/// error found (file, line, column, field path, reason); one error rejects the whole file, so a caller
/// reloading it keeps its last good state. Use <see cref="LbConfigResult.GetConfigOrThrow"/> to throw.
/// </summary>
public static class LbConfigLoader
{
    /// <summary>Reads and parses the file at <paramref name="path"/>; errors name the path as given.</summary>
    public static LbConfigResult Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return LbConfigResult.Invalid([new ConfigError(path, 0, 0, "", $"cannot read the file: {ex.Message}")]);
        }
        return Parse(text, path);
    }

    /// <param name="yamlText">The file's content.</param>
    /// <param name="sourceName">What errors call the file, usually its path.</param>
    public static LbConfigResult Parse(string yamlText, string sourceName)
    {
        var diagnostics = new ConfigDiagnostics(sourceName);
        var root = ConfigTree.Read(yamlText, diagnostics);
        if (root is null)
        {
            if (!diagnostics.HasErrors)
                diagnostics.Add(SourcePosition.FileStart, "",
                    "the file is empty; a configuration without services must say so with 'services: []'");
            return LbConfigResult.Invalid(diagnostics.Sorted());
        }

        var reader = new ConfigReader(diagnostics);
        var draft = new LbConfigParser(reader).Parse(root);
        new LbConfigValidator(reader).Validate(draft);
        if (diagnostics.HasErrors)
            return LbConfigResult.Invalid(diagnostics.Sorted());

        var services = draft.Services.Select(s => s.ToService()).ToEquatableArray();
        return LbConfigResult.Valid(new LbConfig(draft.Datapath, draft.Admin, services));
    }
}
