using System.Text.RegularExpressions;
using Lb.Core.Config;
using static Lb.Core.Tests.Config.ConfigTestText;

namespace Lb.Core.Tests.Config;

/// <summary>docs/lb-yaml.md shows real input and real output; these tests keep it that way.</summary>
public partial class LbYamlDocsTests
{
    private static readonly string Docs = File.ReadAllText(TestFile("docs", "lb-yaml.md")).ReplaceLineEndings("\n");

    /// <summary>The first fenced block after <paramref name="marker"/> (an HTML comment in the page).</summary>
    private static string BlockAfter(string marker)
    {
        var start = Docs.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/lb-yaml.md has no {marker}");
        var match = FencedBlock().Match(Docs, start);
        Assert.True(match.Success, $"no fenced block after {marker}");
        return match.Groups["body"].Value;
    }

    [GeneratedRegex("```[a-z]*\n(?<body>.*?)```", RegexOptions.Singleline)]
    private static partial Regex FencedBlock();

    [Fact]
    public void Docs_InvalidExample_ProducesExactlyTheDocumentedErrors()
    {
        var yaml = BlockAfter("<!-- invalid-example -->");
        var documented = BlockAfter("<!-- invalid-example-output -->").TrimEnd('\n').Split('\n');

        var actual = Errors(yaml).Select(e => e.ToString());

        Assert.Equal(documented, actual);
    }

    [Fact]
    public void Docs_InvalidExampleWithTheProtocolFixed_AddsTheDocumentedFamilyError()
    {
        var yaml = BlockAfter("<!-- invalid-example -->").Replace("protocol: UDP", "protocol: udp", StringComparison.Ordinal);
        var documented = BlockAfter("<!-- invalid-example-fixed-output -->").TrimEnd('\n');

        Assert.Contains(documented, Errors(yaml).Select(e => e.ToString()));
    }

    [Fact]
    public void Docs_Example_IsValid()
    {
        var yaml = BlockAfter("## Example");

        var config = Valid(yaml);

        Assert.Equal("web", Assert.Single(config.Services).Name);
    }

    [Fact]
    public void Docs_Example_ReadsBackFromItsCanonicalForm()
    {
        var config = Valid(BlockAfter("## Example"));

        Assert.Equal(config, Valid(LbConfigWriter.ToYaml(config)));
    }

    /// <summary>Every field the writer emits (which is every field the reader knows) has a row in the reference.</summary>
    [Fact]
    public void Docs_Reference_DescribesEveryFieldTheWriterEmits()
    {
        var everything = Valid("""
            datapath: { interfaces: [eth0], snatAddress: 192.0.2.1, snatAddressV6: "2001:db8::1" }
            services:
              - name: web
                frontends: [{ port: 30080, kind: nodePort, family: ipv4 }, { address: 198.51.100.10, port: 80 }]
                sessionAffinity: { clientIP: {} }
                backends: [{ address: 203.0.113.11, port: 8080 }]
            """);
        var keys = FieldName().Matches(LbConfigWriter.ToYaml(everything)).Select(m => m.Groups["key"].Value).Distinct().ToList();

        Assert.True(keys.Count >= 30, $"expected every field, found only {keys.Count}: {string.Join(", ", keys)}");
        Assert.All(keys, key => Assert.Contains($"| `{key}`", Docs));
    }

    [GeneratedRegex(@"(?<key>[A-Za-z]+):(?=[ \n])")]
    private static partial Regex FieldName();
}
