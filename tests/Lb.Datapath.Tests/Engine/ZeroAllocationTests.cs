using Lb.Core.Model;
using Lb.Datapath.Abi;
using Lb.Datapath.Engine;
using Lb.Datapath.Tables;
using Lb.Testing.Fixtures;
using static Lb.Testing.Fixtures.GoldenFixtures;

namespace Lb.Datapath.Tests.Engine;

/// <summary>STYLE rule 14: the packet path allocates nothing per packet (GC.GetAllocatedBytesForCurrentThread around a loop).</summary>
public sealed class ZeroAllocationTests
{
    private const int Packets = 3000;

    private readonly ManualClock _clock = new();
    private readonly FixtureNextHop _network = new();

    [Theory]
    [InlineData(ForwardingMode.Nat)]
    [InlineData(ForwardingMode.DsrIpip)]
    [InlineData(ForwardingMode.DsrL2)]
    public void Process_EstablishedFlowPackets_AllocateNothing(ForwardingMode forwarding)
    {
        var (engine, tables) = Engine(Web(FixtureNetwork.V4, forwarding));
        var syn = Syn(FixtureNetwork.V4, 45001).Bytes();
        var data = Data(FixtureNetwork.V4, 45001).Bytes();
        var buffer = new byte[EngineRun.Headroom + data.Length];
        Assert.Equal(LbReason.FwdRedirect, Send(engine, buffer, syn).Reason);

        var allocated = Measure(() => Send(engine, buffer, data));

        Assert.Equal(0, allocated);
        Assert.Equal((ulong)(Packets + 100 + 1), tables.ReasonCount(LbReason.FwdRedirect));
    }

    [Fact]
    public void Process_NatReplies_AllocateNothing()
    {
        var (engine, tables) = Engine(Web(FixtureNetwork.V4));
        var syn = Syn(FixtureNetwork.V4, 45101);
        var forwarded = new byte[EngineRun.Headroom + 128];
        Assert.Equal(LbReason.FwdRedirect, Send(engine, forwarded, syn.Bytes()).Reason);
        // The reply goes to the NAT port the SYN got, read from the rewritten frame (TCP source port).
        var natPort = (ushort)(forwarded[EngineRun.Headroom + 34] << 8 | forwarded[EngineRun.Headroom + 35]);
        var backend = tables.TryGetFlow(FlowKeyOf(syn), out var flow) ? flow.BackendId : 0;
        Assert.True(tables.TryGetBackend(backend, out var be));
        var reply = new Packet
        {
            SrcMac = FixtureNetwork.BackendMac(0), DstMac = FixtureNetwork.BackendSideMac,
            Src = be.Addr.ToIPAddress(LbFamily.IPv4), SrcPort = be.Port.ToHost(),
            Dst = FixtureNetwork.V4.Balancer, DstPort = natPort, Flags = Lb.Testing.TcpFlags.Ack,
        }.Bytes();
        var buffer = new byte[EngineRun.Headroom + reply.Length];

        var allocated = Measure(() => Send(engine, buffer, reply, _network.BackendSideIfindex));

        Assert.Equal(0, allocated);
        Assert.Equal((ulong)(Packets + 100), tables.ReasonCount(LbReason.FwdRedirect) - 1);
    }

    [Fact]
    public void Process_NewFlows_AllocateNothing()
    {
        var (engine, tables) = Engine(Web(FixtureNetwork.V4));
        var syns = Enumerable.Range(0, Packets + 100).Select(i => Syn(FixtureNetwork.V4, (ushort)(20000 + i)).Bytes()).ToArray();
        var buffer = new byte[EngineRun.Headroom + syns[0].Length];
        var next = 0;

        var allocated = Measure(() => Send(engine, buffer, syns[next++]));

        Assert.Equal(0, allocated);
        Assert.Equal(Packets + 100, tables.FlowCount);
    }

    private (PacketEngine Engine, InMemoryTables Tables) Engine(Service service)
    {
        var fixture = new PacketFixture("alloc", "", Options, [service], []);
        var tables = FixtureTables.Create(fixture, out _);
        return (new PacketEngine(tables, _network, _clock, new SeededRandom(1)), tables);
    }

    private PacketVerdict Send(PacketEngine engine, byte[] buffer, byte[] frame, uint? ingress = null)
    {
        frame.CopyTo(buffer.AsSpan(EngineRun.Headroom));
        var offset = EngineRun.Headroom;
        var length = frame.Length;
        return engine.Process(buffer, ref offset, ref length, new PacketContext(ingress ?? _network.ClientSideIfindex));
    }

    /// <summary>
    /// Bytes allocated on this thread by <see cref="Packets"/> calls after 100 of warm-up: the least of three
    /// rounds, because the runtime itself may allocate once while it recompiles a hot method (tiering), while
    /// a packet path that allocates does so in every round.
    /// </summary>
    private static long Measure(Func<PacketVerdict> send)
    {
        for (var i = 0; i < 100; i++)
            send();
        var least = long.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Packets / 3; i++)
                send();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }

    private static LbFlowKey FlowKeyOf(Packet packet) => new()
    {
        Saddr = LbAddress.FromIPAddress(packet.Src),
        Daddr = LbAddress.FromIPAddress(packet.Dst),
        Sport = Be16.FromHost(packet.SrcPort),
        Dport = Be16.FromHost(packet.DstPort),
        Proto = (byte)packet.Protocol,
        Family = LbFamily.IPv4,
    };
}
