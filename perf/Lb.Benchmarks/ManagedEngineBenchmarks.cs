using BenchmarkDotNet.Attributes;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Datapath.Engine;
using Lb.Datapath.Tables;
using Lb.Testing;
using Lb.Testing.Fixtures;
using static Lb.Testing.Fixtures.GoldenFixtures;

namespace Lb.Benchmarks;

/// <summary>
/// Nanoseconds per packet of the managed engine (PacketEngine over InMemoryTables, the fixture network as
/// next hop, the system CLOCK_MONOTONIC) for the golden fixtures' nat service over IPv4: an established
/// flow's data segment, a backend's reply through reverse NAT, and a SYN that is scheduled as a new flow.
/// Each operation copies the frame into its buffer (the engine rewrites in place) and processes it; 256
/// distinct flows per invocation keep one tuple from being hot in every cache and predictor.
/// </summary>
[MemoryDiagnoser]
public class ManagedEngineBenchmarks
{
    private const int Flows = 256;
    private const int Headroom = 256;

    private PacketEngine _established = null!;
    private PacketEngine _newFlows = null!;
    private byte[][] _data = [];
    private byte[][] _replies = [];
    private byte[][] _syns = [];
    private readonly byte[] _buffer = new byte[Headroom + 256];
    private uint _clientSide;
    private uint _backendSide;

    [GlobalSetup]
    public void Setup()
    {
        var network = new FixtureNextHop();
        _clientSide = network.ClientSideIfindex;
        _backendSide = network.BackendSideIfindex;
        var state = DesiredState.Build(Options, [Web(FixtureNetwork.V4)]);

        var tables = new InMemoryTables();
        tables.Apply(state, FixtureTables.Config(state, TimeSpan.FromSeconds(300)));
        _established = new PacketEngine(tables, network, TimeProviderClock.System, new SeededRandom(1));
        _syns = new byte[Flows][];
        _data = new byte[Flows][];
        _replies = new byte[Flows][];
        for (var i = 0; i < Flows; i++)
        {
            var port = (ushort)(30000 + i);
            _syns[i] = Syn(FixtureNetwork.V4, port).Bytes();
            _data[i] = Data(FixtureNetwork.V4, port).Bytes();
            var forwarded = Send(_established, _syns[i], _clientSide, out var verdict);
            if (verdict.Reason != LbReason.FwdRedirect)
                throw new InvalidOperationException($"the SYN of flow {i} was not forwarded: {verdict}");
            var view = new PacketView(forwarded);
            _replies[i] = new Packet
            {
                SrcMac = view.DstMac, DstMac = FixtureNetwork.BackendSideMac,
                Src = view.Destination, SrcPort = view.DestinationPort, Dst = view.Source, DstPort = view.SourcePort,
                Flags = TcpFlags.Ack, Seq = 5000, Ack = 1001,
            }.Bytes();
        }

        // A flow timeout of 1 ns makes every flow's entry stale by its next packet: each SYN is scheduled
        // as a new flow (Maglev pick, NAT port, flow record, counter) and finds its own reverse-NAT entry.
        var fresh = new InMemoryTables();
        fresh.Apply(state, FixtureTables.Config(state, TimeSpan.FromSeconds(300)) with { FlowTimeoutNs = 1 });
        _newFlows = new PacketEngine(fresh, network, TimeProviderClock.System, new SeededRandom(1));
    }

    [Benchmark(OperationsPerInvoke = Flows)]
    public LbReason EstablishedFlow() => Run(_established, _data, _clientSide);

    [Benchmark(OperationsPerInvoke = Flows)]
    public LbReason NatReply() => Run(_established, _replies, _backendSide);

    [Benchmark(OperationsPerInvoke = Flows)]
    public LbReason NewFlow() => Run(_newFlows, _syns, _clientSide);

    private LbReason Run(PacketEngine engine, byte[][] frames, uint ingress)
    {
        var last = default(LbReason);
        var context = new PacketContext(ingress);
        for (var i = 0; i < frames.Length; i++)
        {
            var frame = frames[i];
            frame.CopyTo(_buffer.AsSpan(Headroom));
            var offset = Headroom;
            var length = frame.Length;
            last = engine.Process(_buffer, ref offset, ref length, context).Reason;
        }
        return last;
    }

    private byte[] Send(PacketEngine engine, byte[] frame, uint ingress, out PacketVerdict verdict)
    {
        frame.CopyTo(_buffer.AsSpan(Headroom));
        var offset = Headroom;
        var length = frame.Length;
        verdict = engine.Process(_buffer, ref offset, ref length, new PacketContext(ingress));
        return _buffer.AsSpan(offset, length).ToArray();
    }
}
