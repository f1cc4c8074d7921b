using Lb.Agent.Admin;
using Lb.Agent.Inspection;

namespace Lb.Agent.Tests.Cli;

/// <summary>The writer of /metrics against the strict parser, and the parser against malformed text (so it can fail).</summary>
public sealed class PrometheusTextTests
{
    [Fact]
    public void Render_ServicesWithAwkwardNames_ParsesWithEveryFamilyTypedAndLabelsIntact()
    {
        var metrics = new AgentMetrics();
        metrics.RecordProgramming(TimeSpan.FromMilliseconds(3));
        metrics.RecordProgramming(TimeSpan.FromSeconds(20));
        metrics.RecordUpdate("applied", DateTimeOffset.UnixEpoch.AddSeconds(1000));
        var service = new ServiceView(7, "team \"a\"\\web\nline", [new FrontendView("2001:db8::10", 80, "tcp", "ipv6", "nat", [], 0, 1)],
            [new BackendView(3, "2001:db8::11", 8080, "active")], new ServiceCounters(10, 1500, 2), ["ipv6"]);
        var text = PrometheusText.Render(new PrometheusText.Inputs([service], [new ReasonCount("pass_no_service", "pass", 5)],
            [new MapFill("lb_flows", 4, 4096)], metrics.Read(), 2, 0, 9));

        var families = PrometheusTextParser.Parse(text);

        Assert.Equal("counter", families["lb_service_packets_total"].Type);
        var packets = Assert.Single(families["lb_service_packets_total"].Samples);
        Assert.Equal("team \"a\"\\web\nline", packets.Label("service"));
        Assert.Equal("[2001:db8::10]:80/tcp", packets.Label("frontends"));
        Assert.Equal(10, packets.Value);
        Assert.Equal(1500, Assert.Single(families["lb_service_bytes_total"].Samples).Value);
        Assert.Equal(2, Assert.Single(families["lb_service_new_flows_total"].Samples).Value);
        Assert.Equal(4, Assert.Single(families["lb_flow_table_entries"].Samples).Value);
        Assert.Equal(4096, Assert.Single(families["lb_flow_table_capacity"].Samples).Value);
        var histogram = families["lb_programming_duration_seconds"];
        Assert.Equal("histogram", histogram.Type);
        Assert.Equal(2, histogram.Samples.Single(s => s.Name.EndsWith("_count")).Value);
        Assert.Equal(1, histogram.Samples.Single(s => s.Label("le") == "0.005").Value);
        Assert.Equal(1, histogram.Samples.Single(s => s.Label("le") == "10").Value);
        Assert.Equal(1, Assert.Single(families["lb_build_info"].Samples).Value);
        Assert.Equal(1000, Assert.Single(families["lb_config_last_success_timestamp_seconds"].Samples).Value);
        Assert.All(families.Values, f => Assert.NotEqual("untyped", f.Type));
    }

    [Theory]
    [InlineData("metric 1")] // no trailing line feed
    [InlineData("1metric 1\n")]
    [InlineData("metric{la-bel=\"x\"} 1\n")]
    [InlineData("metric{label=\"x\\t\"} 1\n")]
    [InlineData("metric{label=\"x\"} one\n")]
    [InlineData("metric{label=\"x\",label=\"y\"} 1\n")]
    [InlineData("# TYPE metric counter\nmetric -1\n")]
    [InlineData("# TYPE metric bogus\nmetric 1\n")]
    [InlineData("a 1\nb 1\na 2\n")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n")]
    public void Parse_MalformedExposition_Throws(string text) =>
        Assert.Throws<FormatException>(() => PrometheusTextParser.Parse(text));
}
