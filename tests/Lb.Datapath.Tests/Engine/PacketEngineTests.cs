using System.Net;
using Lb.Core.Maglev;
using Lb.Core.Model;
using Lb.Datapath.Abi;
using Lb.Datapath.Engine;
using Lb.Datapath.Tables;
using Lb.Testing;
using Lb.Testing.Fixtures;
using static Lb.Testing.Fixtures.GoldenFixtures;

namespace Lb.Datapath.Tests.Engine;

/// <summary>Paths of docs/xdp-datapath.md that the golden fixtures cannot reach in a namespace: full tables, no headroom, random picks, bad NAT ranges.</summary>
public sealed class PacketEngineTests
{
    private readonly ManualClock _clock = new();
    private readonly FixtureNextHop _network = new();

    private (PacketEngine Engine, InMemoryTables Tables) Create(Service service, int flowCapacity = 4096, Func<LbDatapathConfig, LbDatapathConfig>? config = null, int randomSeed = 1)
    {
        var tables = new InMemoryTables(flowCapacity, revNatCapacity: 4096);
        var state = Lb.Core.State.DesiredState.Build(Options, [service]);
        var cfg = FixtureTables.Config(state, TimeSpan.FromSeconds(300));
        tables.Apply(state, config is null ? cfg : config(cfg));
        return (new PacketEngine(tables, _network, _clock, new SeededRandom(randomSeed)), tables);
    }

    [Fact]
    public void Process_DsrIpipWithoutHeadroom_DropsAsEncapFailed()
    {
        var (engine, tables) = Create(Web(FixtureNetwork.V4, ForwardingMode.DsrIpip));
        var frame = Data(FixtureNetwork.V4, 46001).Bytes();
        var buffer = new byte[frame.Length + 19];
        frame.CopyTo(buffer.AsSpan(19));
        int offset = 19, length = frame.Length;

        var verdict = engine.Process(buffer, ref offset, ref length, new PacketContext(_network.ClientSideIfindex));

        Assert.Equal(LbReason.DropEncapFailed, verdict.Reason);
        Assert.Equal(LbAction.Drop, verdict.Action);
        Assert.Equal((19, frame.Length), (offset, length));
        Assert.Equal(1UL, tables.ReasonCount(LbReason.DropEncapFailed));
    }

    [Fact]
    public void Process_NewFlowWhenFlowTableFull_PassesAndReleasesItsNatPort()
    {
        var (engine, tables) = Create(Web(FixtureNetwork.V4), flowCapacity: 1);
        Assert.Equal(LbReason.FwdRedirect, EngineRun.Run(engine, tables, Syn(FixtureNetwork.V4, 46101).Bytes(), _network.ClientSideIfindex).Verdict.Reason);
        var syn = Syn(FixtureNetwork.V4, 46102).Bytes();

        var (verdict, output, moved) = EngineRun.Run(engine, tables, syn, _network.ClientSideIfindex);

        Assert.Equal([$"{LbReason.PassFlowTableFull} +1"], moved);
        Assert.Equal(syn, output);
        Assert.Equal((1, 1), (tables.FlowCount, tables.RevNatCount));
        var service = tables.ServiceStats(1);
        Assert.Equal((2UL, 1UL), (service.Packets, service.NewFlows));
    }

    [Fact]
    public void Process_InvalidNatPortRange_PassesAsPortsExhausted()
    {
        var (engine, tables) = Create(Web(FixtureNetwork.V6), config: c => c with { NatPortMin = 0 });
        var syn = Syn(FixtureNetwork.V6, 46201).Bytes();

        var (verdict, output, moved) = EngineRun.Run(engine, tables, syn, _network.ClientSideIfindex);

        Assert.Equal([$"{LbReason.PassNatPortsExhausted} +1"], moved);
        Assert.Equal(syn, output);
        Assert.Equal(0, tables.FlowCount);
    }

    [Fact]
    public void Process_RandomScheduler_TakesTheSlotOfTheInjectedRandomNumber()
    {
        var service = Web(FixtureNetwork.V4, ForwardingMode.DsrL2, ServicePolicy.Default with { Scheduler = SchedulerKind.Random });
        var (engine, tables) = Create(service, randomSeed: 7);
        var expectedRandom = new SeededRandom(7);
        var state = Lb.Core.State.DesiredState.Build(Options, [service]);
        var set = state.SchedulableBackends(1, System.Net.Sockets.AddressFamily.InterNetwork);
        var table = new MaglevTableBuilder(Options.Maglev).Build(set.Select(b => MaglevBackend.From(b.Backend, b.Id)));
        var chosen = new HashSet<uint>();

        for (ushort port = 46300; port < 46340; port++)
        {
            var syn = Syn(FixtureNetwork.V4, port);
            var expected = state.BackendsById[table.BackendIds.Span[(int)(expectedRandom.NextUInt32() % TableSize)]];

            var (verdict, output, _) = EngineRun.Run(engine, tables, syn.Bytes(), _network.ClientSideIfindex);

            Assert.Equal(LbReason.FwdRedirect, verdict.Reason);
            Assert.Equal(MacsOnly(syn, expected).Bytes(), output);
            chosen.Add(expected.Id);
        }
        Assert.True(chosen.Count > 1, "40 random picks over three backends should not all land on one");
    }

    private static Service KeepClientWeb(FamilyAddresses net) =>
        Web(net, policy: ServicePolicy.Default with { ExternalTrafficPolicy = TrafficPolicy.Local });

    /// <summary>A keep-client nat flow's SYN, then the backend's SYN-ACK to the client (not to Lb's SNAT address) with the config <paramref name="flags"/>.</summary>
    private (LbReason Reason, byte[] Output, byte[] SynAck, byte[] ToClient, int RevNatEntries) KeepClientReply(FamilyAddresses net, ushort clientPort, Func<LbConfigFlags, LbConfigFlags> flags)
    {
        var service = KeepClientWeb(net);
        var (engine, tables) = Create(service, config: c => c with { Flags = flags(c.Flags) });
        var syn = Syn(net, clientPort);
        var backend = new FixtureScript("keep-client", "the backend the SYN gets", Options, service).Pick(syn);
        Assert.Equal(LbReason.FwdRedirect, EngineRun.Run(engine, tables, syn.Bytes(), _network.ClientSideIfindex).Verdict.Reason);
        var synAck = FromBackend(backend, net.Client, clientPort, TcpFlags.Syn | TcpFlags.Ack);

        var (verdict, output, _) = EngineRun.Run(engine, tables, synAck.Bytes(), _network.BackendSideIfindex);

        return (verdict.Reason, output, synAck.Bytes(), ToClient(synAck, net, clientPort).Bytes(), tables.RevNatCount);
    }

    [Theory]
    [InlineData("v4")]
    [InlineData("v6")]
    public void Process_ReplyToClientWithoutKeepClientNatFlag_IsNotReverseTranslated(string family)
    {
        var net = family == "v4" ? FixtureNetwork.V4 : FixtureNetwork.V6;

        var (reason, output, synAck, _, revNatEntries) = KeepClientReply(net, 46401, f => f & ~LbConfigFlags.KeepClientNat);

        // lb_maybe_reply: without the flag only packets to the SNAT address probe lb_rev_nat, so the entry the SYN made is
        // not looked at and the SYN-ACK goes on to the service lookup, which it does not match.
        Assert.Equal(1, revNatEntries);
        Assert.Equal(LbReason.PassNoService, reason);
        Assert.Equal(synAck, output);
    }

    [Theory]
    [InlineData("v4")]
    [InlineData("v6")]
    public void Process_ReplyToClientWithKeepClientNatFlag_IsReverseTranslated(string family)
    {
        var net = family == "v4" ? FixtureNetwork.V4 : FixtureNetwork.V6;

        var (reason, output, _, toClient, _) = KeepClientReply(net, 46402, f => f | LbConfigFlags.KeepClientNat);

        Assert.Equal(LbReason.FwdRedirect, reason);
        Assert.Equal(toClient, output);
    }

    [Fact]
    public void Config_KeepClientNatService_SetsTheKeepClientNatFlag()
    {
        var state = Lb.Core.State.DesiredState.Build(Options, [KeepClientWeb(FixtureNetwork.V4)]);

        var config = FixtureTables.Config(state, TimeSpan.FromSeconds(300));

        Assert.Equal(LbConfigFlags.KeepClientNat, config.Flags & LbConfigFlags.KeepClientNat);
    }

    [Fact]
    public void Process_FrameOutsideItsBuffer_IsRefusedWithAClearError()
    {
        var (engine, _) = Create(Web(FixtureNetwork.V4));
        var buffer = new byte[64];
        int offset = 10, length = 60;

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => engine.Process(buffer, ref offset, ref length, new PacketContext(2)));

        Assert.Contains("does not lie in a buffer of 64 bytes", error.Message);
    }
}

public sealed class InMemoryTablesTests
{
    private static LbFlowKey Key(ushort port) => new()
    {
        Saddr = LbAddress.FromIPAddress(IPAddress.Parse("198.18.2.11")),
        Daddr = LbAddress.FromIPAddress(IPAddress.Parse("198.18.2.1")),
        Sport = Be16.FromHost(8080),
        Dport = Be16.FromHost(port),
        Proto = 6,
        Family = LbFamily.IPv4,
    };

    [Fact]
    public void InsertRevNat_KeyPresent_RefusesAndKeepsTheEntry()
    {
        var tables = new InMemoryTables();
        Assert.True(tables.InsertRevNat(Key(2000), new LbRevNat { ServiceId = 1 }));

        var inserted = tables.InsertRevNat(Key(2000), new LbRevNat { ServiceId = 2 });

        Assert.False(inserted);
        Assert.True(tables.TryGetRevNat(Key(2000), out var kept));
        Assert.Equal(1u, kept.ServiceId);
    }

    [Fact]
    public void UpdateFlow_TableFull_RefusesNewKeysButOverwritesPresentOnes()
    {
        var tables = new InMemoryTables(flowCapacity: 1);
        Assert.True(tables.UpdateFlow(Key(1), new LbFlow { BackendId = 1 }));

        Assert.False(tables.UpdateFlow(Key(2), new LbFlow { BackendId = 2 }));
        Assert.True(tables.UpdateFlow(Key(1), new LbFlow { BackendId = 3 }));
        Assert.True(tables.TryGetFlow(Key(1), out var flow));
        Assert.Equal(3u, flow.BackendId);
    }

    [Theory]
    [InlineData("198.18.1.0/28", "198.18.1.15", true)]
    [InlineData("198.18.1.0/28", "198.18.1.16", false)]
    [InlineData("0.0.0.0/0", "203.0.113.9", true)]
    [InlineData("fd5b:1::/124", "fd5b:1::f", true)]
    [InlineData("fd5b:1::/124", "fd5b:1::10", false)]
    public void MatchSourceRange_FullLengthKey_MatchesByLongestPrefix(string range, string client, bool allowed)
    {
        var tables = new InMemoryTables();
        tables.AddSourceRange(MapEncoding.SourceRange(5, IPNetwork.Parse(range)));
        var address = IPAddress.Parse(client);
        var family = MapEncoding.Family(address.AddressFamily);
        var key = new LbSrcRangeKey
        {
            Prefixlen = LbSrcRangeKey.PrefixBitsBeforeAddress + (family == LbFamily.IPv4 ? 32u : 128u),
            ServiceId = 5,
            Family = (uint)family,
            Addr = LbAddress.FromIPAddress(address),
        };

        Assert.Equal(allowed, tables.MatchSourceRange(key));
        Assert.False(tables.MatchSourceRange(key with { ServiceId = 6 }));
    }
}

public sealed class TimeProviderClockTests
{
    [Fact]
    public void System_ReadsStopwatchNanoseconds_AndNeverGoesBack()
    {
        var first = TimeProviderClock.System.NowNanoseconds();
        var second = TimeProviderClock.System.NowNanoseconds();

        Assert.True(second >= first);
        // On Linux the Stopwatch is CLOCK_MONOTONIC in nanoseconds (bpf_ktime_get_ns; the XDP program stamps with the coarse clock).
        if (OperatingSystem.IsLinux())
            Assert.True(TimeProviderClock.SystemIsNanoseconds);
    }
}
