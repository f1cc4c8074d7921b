using Lb.Agent.Inspection;
using Lb.Datapath.Abi;

namespace Lb.Agent.Tests.Cli;

/// <summary>The reason label values of /metrics and `lb status` are a public contract (docs/metrics.md): pinned here.</summary>
public sealed class ReasonNameTests
{
    [Fact]
    public void ReasonName_EveryReason_MatchesTheDocumentedLabel()
    {
        var names = Enum.GetValues<LbReason>().Where(r => r != LbReason.ReasonUnused0)
            .Select(r => $"{DatapathInspector.ReasonName(r)}/{DatapathInspector.Verdict(r)}");
        Assert.Equal(
        [
            "pass_not_ip/pass", "pass_no_service/pass", "pass_fragment/pass", "pass_ipv4_options/pass", "pass_ipv6_extension/pass",
            "pass_icmp/pass", "pass_no_backend/pass", "pass_fib_no_neighbour/pass", "pass_fib_failed/pass",
            "pass_nat_ports_exhausted/pass", "pass_flow_table_full/pass", "pass_ttl_expired/pass",
            "drop_source_range/drop", "drop_malformed_ethernet/drop", "drop_malformed_ipv4/drop", "drop_malformed_ipv6/drop",
            "drop_malformed_tcp/drop", "drop_malformed_udp/drop", "drop_encap_failed/drop", "drop_frame_too_big/drop",
            "fwd_tx/forward", "fwd_redirect/forward",
        ], names);
    }

    [Fact]
    public void ReasonNames_AllListedInMetricsDoc()
    {
        var doc = File.ReadAllText(Path.Combine(Lb.Testing.RepositoryRoot.Path, "docs", "metrics.md"));
        foreach (var reason in Enum.GetValues<LbReason>().Where(r => r != LbReason.ReasonUnused0))
            Assert.Contains($"`{DatapathInspector.ReasonName(reason)}`", doc);
    }
}
