using System.Net;
using Lb.Core.Model;
using Lb.Datapath.Abi;
using Lb.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Lb.EndToEnd.Tests;

/// <summary>
/// Real sockets through the XDP balancer: the client in its namespace talks to the VIP, lb_xdp on the
/// balancer's veths forwards (nat, dsr-ipip or dsr-l2, as the fixture says), the backends answer with
/// their names. Every test starts from "web" with all three backends (the constructor programs it) and
/// prints what it saw. The classes run one after another: the affinity test measures a 2 s timeout.
/// </summary>
public abstract class EndToEndTests<TFixture> where TFixture : BalancerFixture
{
    private const int TcpConnections = 3000;
    private const int UdpDatagrams = 600;
    private const int HeldConnections = 60;

    protected EndToEndTests(TFixture fixture, ITestOutputHelper output)
    {
        Fixture = fixture;
        Output = output;
        fixture.Apply(fixture.Web());
    }

    protected TFixture Fixture { get; }

    protected ITestOutputHelper Output { get; }

    private string ClientNs => Fixture.Topology.ClientNs;

    public static TheoryData<bool> Families => new() { false, true };

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Tcp_ThreeThousandConnections_AllAnsweredAndSpreadEvenlyAsMaglevPredicts(bool ipv6)
    {
        var vip = BalancerFixture.Vip(ipv6);
        // Fixed source ports (below the client's ephemeral range) make the flow hashes, and so the
        // expected backend of every connection, the same on every run.
        var ports = Enumerable.Range(10000, TcpConnections).Select(p => (int?)p).ToList();

        var before = ForwardingCounters();

        var outcomes = await Traffic.TcpRequests(ClientNs, vip, ports);

        var counted = ForwardingCounters().Since(before);
        Output.WriteLine($"{Fixture.Mode} {Family(ipv6)} TCP, {TcpConnections} connections: {Traffic.Describe(outcomes)}; lb_reasons: {counted}");
        Assert.DoesNotContain(outcomes, o => o.Backend is null);
        AssertEvenSpread(outcomes, TcpConnections, tolerance: 0.10);
        AssertAsPredicted(outcomes, ipv6, L4Protocol.Tcp);
        // Each connection sends at least its SYN, its request and its FIN to the VIP, and lb_xdp, not the
        // kernel, put every one of them on the backend's link.
        Assert.True(counted.Redirected >= 3UL * TcpConnections, $"only {counted.Redirected} frames redirected");
        Assert.Equal(0UL, counted.PassedAfterRewriteOrUntouched);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Udp_DatagramsFromDistinctSourcePorts_AllAnsweredAndSpread(bool ipv6)
    {
        var vip = BalancerFixture.Vip(ipv6);
        var ports = Enumerable.Range(20000, UdpDatagrams).ToList();

        var before = ForwardingCounters();

        var outcomes = await Traffic.UdpRequests(ClientNs, vip, ports);

        var counted = ForwardingCounters().Since(before);
        Output.WriteLine($"{Fixture.Mode} {Family(ipv6)} UDP, {UdpDatagrams} datagrams: {Traffic.Describe(outcomes)}; lb_reasons: {counted}");
        Assert.DoesNotContain(outcomes, o => o.Backend is null);
        Assert.True(counted.Redirected >= UdpDatagrams, $"only {counted.Redirected} datagrams redirected");
        Assert.Equal(0UL, counted.PassedAfterRewriteOrUntouched);
        // 600 flows: ±25 % is four standard deviations of a fair three-way split (±10 % would be 1.7).
        AssertEvenSpread(outcomes, UdpDatagrams, tolerance: 0.25);
        AssertAsPredicted(outcomes, ipv6, L4Protocol.Udp);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task ClientIpAffinity_BackendAddedAndTimeoutPasses_StaysUntilTimeoutThenMovesToTheNewPick(bool ipv6)
    {
        var vip = BalancerFixture.Vip(ipv6);
        var client = BalancerFixture.Client(ipv6);
        Fixture.Apply(Fixture.WithAffinity(BalancerFixture.AffinityHostsBefore));
        var before = Fixture.Predict().Pick(client, 0, vip, BalancerFixture.Port, L4Protocol.Tcp);

        var first = await Traffic.TcpRequests(ClientNs, vip, 20);
        Fixture.Apply(Fixture.WithAffinity(0, 1, 2));
        var after = Fixture.Predict().Pick(client, 0, vip, BalancerFixture.Port, L4Protocol.Tcp);
        var withinTimeout = await Traffic.TcpRequests(ClientNs, vip, 20);
        await Task.Delay(TimeSpan.FromSeconds(BalancerFixture.AffinityTimeoutSeconds + 1));
        var afterTimeout = await Traffic.TcpRequests(ClientNs, vip, 20);

        Output.WriteLine($"{Fixture.Mode} {Family(ipv6)} affinity (seed {Fixture.Options.Maglev.Seed}): predicted {before} with backends 0,1, then {after} with 0,1,2");
        Output.WriteLine($"  backends 0,1:                 {Traffic.Describe(first)}");
        Output.WriteLine($"  backend 2 added, within 2 s:  {Traffic.Describe(withinTimeout)}");
        Output.WriteLine($"  after the 2 s timeout:        {Traffic.Describe(afterTimeout)}");
        Assert.NotEqual(before, after);
        var oldName = NameOf(before);
        var newName = NameOf(after);
        Assert.Equal(20, first.Count(o => o.Backend == oldName));
        Assert.Equal(20, withinTimeout.Count(o => o.Backend == oldName));
        Assert.Equal(20, afterTimeout.Count(o => o.Backend == newName));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task RemoveBackend_EstablishedConnectionsToTheOthers_AllStillAnswerAndNoNewOnesReachIt(bool ipv6)
    {
        var vip = BalancerFixture.Vip(ipv6);
        var held = await Traffic.Hold(ClientNs, vip, HeldConnections);
        try
        {
            var removed = Fixture.Servers[2];
            Output.WriteLine($"{Fixture.Mode} {Family(ipv6)}: {HeldConnections} held connections: {Traffic.Describe(held.Select(h => new Outcome(h.SourcePort, h.Backend, null)))}");
            Assert.All(Fixture.Servers, s => Assert.Contains(held, h => h.Backend == s.Name));

            Fixture.Apply(Fixture.Web() with { Backends = Fixture.Backends(0, 1) });
            var acceptedByRemoved = removed.Accepted;
            var kept = held.Where(h => h.Backend != removed.Name).ToList();
            var again = await Traffic.AskAgain(kept);
            var fresh = await Traffic.TcpRequests(ClientNs, vip, HeldConnections);

            Output.WriteLine($"  after removing {removed.Name}, again on the {kept.Count} others: {Traffic.Describe(again)}");
            Output.WriteLine($"  new connections: {Traffic.Describe(fresh)}");
            Assert.DoesNotContain(again, o => o.Backend is null);
            Assert.Equal(kept.Select(h => h.Backend), again.Select(o => o.Backend));
            Assert.DoesNotContain(fresh, o => o.Backend is null);
            Assert.DoesNotContain(fresh, o => o.Backend == removed.Name);
            Assert.Equal(acceptedByRemoved, removed.Accepted);
        }
        finally
        {
            Traffic.Close(held);
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task TerminatingBackend_EstablishedConnections_KeepAnsweringAndItGetsNoNewOnes(bool ipv6)
    {
        var vip = BalancerFixture.Vip(ipv6);
        var held = await Traffic.Hold(ClientNs, vip, HeldConnections);
        try
        {
            var terminating = Fixture.Servers[1];
            Output.WriteLine($"{Fixture.Mode} {Family(ipv6)}: {HeldConnections} held connections: {Traffic.Describe(held.Select(h => new Outcome(h.SourcePort, h.Backend, null)))}");
            Assert.Contains(held, h => h.Backend == terminating.Name);

            var host = Fixture.HostOf(terminating.Name);
            var web = Fixture.Web();
            Fixture.Apply(web with
            {
                Backends = web.Backends.Select(b => b.Address.Equals(host.AddressV4) || b.Address.Equals(host.AddressV6)
                    ? b with { State = BackendState.Terminating }
                    : b).ToEquatableArray(),
            });
            var accepted = terminating.Accepted;
            var again = await Traffic.AskAgain(held);
            var fresh = await Traffic.TcpRequests(ClientNs, vip, HeldConnections);

            Output.WriteLine($"  {terminating.Name} terminating, again on all {held.Count}: {Traffic.Describe(again)}");
            Output.WriteLine($"  new connections: {Traffic.Describe(fresh)}");
            Assert.DoesNotContain(again, o => o.Backend is null);
            Assert.Equal(held.Select(h => h.Backend), again.Select(o => o.Backend));
            Assert.DoesNotContain(fresh, o => o.Backend is null);
            Assert.DoesNotContain(fresh, o => o.Backend == terminating.Name);
            Assert.Equal(accepted, terminating.Accepted);
        }
        finally
        {
            Traffic.Close(held);
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task SourceRanges_ClientOutside_ConnectTimesOutAndTheDropIsCounted(bool ipv6)
    {
        var vip = BalancerFixture.Vip(ipv6);
        var web = Fixture.Web();
        IPNetwork[] elsewhere = [IPNetwork.Parse("203.0.113.0/24"), IPNetwork.Parse("2001:db8::/32")];
        Fixture.Apply(web with { Policy = web.Policy with { SourceRanges = elsewhere.ToEquatableArray() } });
        var dropsBefore = Fixture.ReasonCount(LbReason.DropSourceRange);
        var acceptedBefore = Fixture.Servers.Sum(s => s.Accepted);

        var refused = await ConnectOnce(vip, TimeSpan.FromSeconds(1.5));
        var dropped = Fixture.ReasonCount(LbReason.DropSourceRange) - dropsBefore;
        var acceptedMeanwhile = Fixture.Servers.Sum(s => s.Accepted) - acceptedBefore;

        // The same client inside the ranges is served: the drop above was the range's doing.
        IPNetwork[] clients = [IPNetwork.Parse("198.18.1.0/24"), IPNetwork.Parse("fd5b:1::/64")];
        Fixture.Apply(web with { Policy = web.Policy with { SourceRanges = clients.ToEquatableArray() } });
        var admitted = await ConnectOnce(vip, Traffic.RequestTimeout);

        Output.WriteLine($"{Fixture.Mode} {Family(ipv6)} outside the source ranges: {refused ?? "answered"}; " +
                         $"LB_DROP_SOURCE_RANGE +{dropped}, accepted by backends +{acceptedMeanwhile}; inside: {admitted ?? "answered"}");
        Assert.NotNull(refused);
        Assert.Contains("cancel", refused, StringComparison.OrdinalIgnoreCase);
        Assert.True(dropped >= 1, $"LB_DROP_SOURCE_RANGE grew by {dropped}");
        Assert.Equal(0, acceptedMeanwhile);
        Assert.Null(admitted);
    }

    /// <summary>null when a backend answered, otherwise the exception's type and message.</summary>
    private async Task<string?> ConnectOnce(IPAddress vip, TimeSpan timeout)
    {
        try
        {
            var (socket, _) = await Lb.Agent.Demo.LbClient.ConnectAndAsk(ClientNs, new IPEndPoint(vip, BalancerFixture.Port), timeout);
            socket.Dispose();
            return null;
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    private Counters ForwardingCounters() => new(
        Fixture.ReasonCount(LbReason.FwdRedirect),
        Fixture.ReasonCount(LbReason.PassFibNoNeighbour) + Fixture.ReasonCount(LbReason.PassFibFailed) + Fixture.ReasonCount(LbReason.PassNoBackend));

    /// <summary>
    /// lb_reasons counters of a traffic run: frames lb_xdp redirected, and frames of a service it handed to
    /// the kernel instead (no neighbour, FIB failure, no backend), which none of these runs should see.
    /// </summary>
    private readonly record struct Counters(ulong Redirected, ulong PassedAfterRewriteOrUntouched)
    {
        public Counters Since(Counters before) =>
            new(Redirected - before.Redirected, PassedAfterRewriteOrUntouched - before.PassedAfterRewriteOrUntouched);

        public override string ToString() => $"redirected {Redirected}, passed to the kernel {PassedAfterRewriteOrUntouched}";
    }

    private void AssertEvenSpread(IReadOnlyList<Outcome> outcomes, int total, double tolerance)
    {
        var even = total / 3.0;
        foreach (var (backend, count) in Traffic.Count(outcomes))
        {
            Assert.True(Math.Abs(count - even) <= even * tolerance,
                $"{backend} answered {count} of {total}, outside {even:F0} ± {tolerance:P0}: {Traffic.Describe(outcomes)}");
        }
    }

    /// <summary>Each flow reached the backend that Maglev, computed here from the service alone, chose for it.</summary>
    private void AssertAsPredicted(IReadOnlyList<Outcome> outcomes, bool ipv6, L4Protocol protocol)
    {
        var prediction = Fixture.Predict();
        var client = BalancerFixture.Client(ipv6);
        var vip = BalancerFixture.Vip(ipv6);
        var wrong = outcomes
            .Where(o => o.Backend != NameOf(prediction.Pick(client, (ushort)o.SourcePort, vip, BalancerFixture.Port, protocol)))
            .ToList();
        Assert.True(wrong.Count == 0,
            $"{wrong.Count} flows reached another backend than Maglev predicts, e.g. port {wrong.FirstOrDefault()?.SourcePort} at {wrong.FirstOrDefault()?.Backend}");
    }

    private string NameOf(IPAddress backendAddress) =>
        Fixture.Topology.Backends.Single(b => b.AddressV4.Equals(backendAddress) || b.AddressV6.Equals(backendAddress)).Name;

    private static string Family(bool ipv6) => ipv6 ? "IPv6" : "IPv4";
}

public sealed class NatTests(NatBalancer fixture, ITestOutputHelper output)
    : EndToEndTests<NatBalancer>(fixture, output), IClassFixture<NatBalancer>;

public sealed class DsrIpipTests(DsrIpipBalancer fixture, ITestOutputHelper output)
    : EndToEndTests<DsrIpipBalancer>(fixture, output), IClassFixture<DsrIpipBalancer>;

public sealed class DsrL2Tests(DsrL2Balancer fixture, ITestOutputHelper output)
    : EndToEndTests<DsrL2Balancer>(fixture, output), IClassFixture<DsrL2Balancer>;
