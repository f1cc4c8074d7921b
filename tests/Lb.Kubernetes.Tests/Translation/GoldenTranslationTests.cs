using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Lb.Core.Config;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Kubernetes.Api;
using Lb.Kubernetes.Translation;

namespace Lb.Kubernetes.Tests.Translation;

/// <summary>
/// Each directory under testdata/ is one case: services.json, endpointslices.json and nodes.json as the
/// API returns them from a list (absent means an empty list), options.json for the translation options,
/// expected.yaml (the Lb services, in lb.yaml's shape) and expected-log.txt (skipped objects, issues and
/// nat fallbacks). Set LB_UPDATE_GOLDEN=1 to rewrite the expected files, then read the diff.
/// </summary>
public sealed class GoldenTranslationTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(TestdataDirectory()).Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(dir));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Translate_GoldenCase_MatchesExpectedServicesAndLog(string name)
    {
        var dir = Path.Combine(TestdataDirectory(), name);
        var (snapshot, readErrors) = ReadSnapshot(dir);
        var options = ReadOptions(dir);

        var result = ServiceTranslator.Translate(snapshot, options);

        var yaml = ServicesYaml(result.Services);
        var log = Log(readErrors, result);
        // Whatever the cluster holds, the result must be programmable as one snapshot.
        DesiredState.Build(DatapathOptions.Default, result.Services);
        // The same input must give the same output, independent of list order.
        var reversed = ServiceTranslator.Translate(
            new ClusterSnapshot([.. snapshot.Services.Reverse()], [.. snapshot.EndpointSlices.Reverse()], [.. snapshot.Nodes.Reverse()]),
            options);
        Assert.Equal(result.Services, reversed.Services);
        Assert.Equal(log, Log(readErrors, reversed));

        CompareOrUpdate(Path.Combine(dir, "expected.yaml"), yaml);
        CompareOrUpdate(Path.Combine(dir, "expected-log.txt"), log);
    }

    [Fact]
    public void Cases_Found_CoverEveryRuleDirectory()
    {
        Assert.True(Cases().Count >= 20, $"only {Cases().Count} golden cases found under {TestdataDirectory()}");
    }

    internal static (ClusterSnapshot Snapshot, List<string> Errors) ReadSnapshot(string dir)
    {
        var errors = new List<string>();
        var services = Read(dir, "services.json", KubeJsonContext.Default.KubeService, "service", errors);
        var slices = Read(dir, "endpointslices.json", KubeJsonContext.Default.EndpointSlice, "endpointslice", errors);
        var nodes = Read(dir, "nodes.json", KubeJsonContext.Default.KubeNode, "node", errors);
        return (new ClusterSnapshot([.. services], [.. slices], [.. nodes]), errors);
    }

    private static List<T> Read<T>(string dir, string file, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, string kind, List<string> errors)
        where T : class
    {
        var path = Path.Combine(dir, file);
        if (!File.Exists(path))
            return [];
        var itemErrors = new List<string>();
        var items = KubeObjectReader.ReadList(File.ReadAllText(path), typeInfo, itemErrors);
        errors.AddRange(itemErrors.Select(e => $"skipped {kind} {e}"));
        return items;
    }

    private static TranslationOptions ReadOptions(string dir)
    {
        var path = Path.Combine(dir, "options.json");
        if (!File.Exists(path))
            return new TranslationOptions(NodeName: "node-a");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var options = new TranslationOptions(NodeName: "node-a");
        if (root.TryGetProperty("nodeName", out var node))
            options = options with { NodeName = node.ValueKind == JsonValueKind.Null ? null : node.GetString() };
        if (root.TryGetProperty("nodePorts", out var nodePorts))
            options = options with { NodePorts = Enum.Parse<NodePortFrontends>(nodePorts.GetString()!) };
        if (root.TryGetProperty("backends", out var backends))
            options = options with { Backends = Enum.Parse<BackendTarget>(backends.GetString()!) };
        return options;
    }

    internal static string ServicesYaml(EquatableArray<Service> services)
    {
        var yaml = LbConfigWriter.ToYaml(new LbConfig(DatapathOptions.Default, AdminOptions.Default, services));
        return yaml[yaml.IndexOf("services:", StringComparison.Ordinal)..];
    }

    private static string Log(List<string> readErrors, TranslationResult result)
    {
        var text = new StringBuilder();
        foreach (var error in readErrors)
            text.Append(error).Append('\n');
        foreach (var issue in result.Issues)
            text.Append(issue).Append('\n');
        foreach (var name in result.NatFallbacks)
            text.Append("nat fallback: ").Append(name).Append('\n');
        foreach (var check in result.HealthChecks)
            text.Append("health check: ").Append(check).Append('\n');
        return text.ToString();
    }

    private static void CompareOrUpdate(string path, string actual)
    {
        if (Environment.GetEnvironmentVariable("LB_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"{path} is missing; run with LB_UPDATE_GOLDEN=1 and review it");
        Assert.Equal(File.ReadAllText(path), actual);
    }

    private static string TestdataDirectory([CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(source))!, "testdata");
}
