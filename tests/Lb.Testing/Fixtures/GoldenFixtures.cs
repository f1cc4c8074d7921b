using System.Buffers.Binary;
using System.Net;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Testing.Kernel;
using static Lb.Testing.Fixtures.FixtureNetwork;

namespace Lb.Testing.Fixtures;

/// <summary>
/// The golden packet fixtures of the packet path (docs/xdp-datapath.md), for IPv4 and IPv6: every
/// forwarding mode, replies, affinity, source ranges, NodePort, the flow table across backend changes,
/// FIB failures and VLAN tags. Expected backends and NAT ports are predicted by <see cref="FixtureScript"/>
/// from Lb.Core; expected frames are the inputs with the documented rewrite applied, rebuilt from scratch.
/// </summary>
public static class GoldenFixtures
{
    public const string Seed = "golden-fixtures";
    public const uint TableSize = 16381;
    public const ushort VipPort = 80;
    public const ushort NatBackendPort = 8080;
    public const ushort NodePort = 30080;
    /// <summary>The programmer's default MTU (ProgrammerOptions.DefaultMtu): the dsr-ipip limits below follow from it.</summary>
    public const int Mtu = 1500;

    public static readonly DatapathOptions Options = DatapathOptions.Default with
    {
        SnatAddress = V4.Balancer,
        SnatAddressV6 = V6.Balancer,
        Maglev = new MaglevOptions(TableSize, Seed),
        FlowTableCapacity = TestDatapath.TestFlowCapacity,
    };

    private static readonly Lazy<IReadOnlyList<PacketFixture>> s_all = new(Create);

    public static IReadOnlyList<PacketFixture> All => s_all.Value;

    public static PacketFixture Named(string name) => All.Single(f => f.Name == name);

    /// <summary>One row per fixture name, for the theories that run every fixture (xunit's MemberData).</summary>
    public static IEnumerable<object[]> NameRows => All.Select(f => new object[] { f.Name });

    private static List<PacketFixture> Create()
    {
        var fixtures = new List<PacketFixture>();
        foreach (var net in new[] { V4, V6 })
        {
            fixtures.Add(NatTcp(net));
            fixtures.Add(NatUdp(net));
            fixtures.Add(NatTtlExpired(net));
            fixtures.Add(NatKeepClient(net));
            fixtures.Add(NatKeepClientNoLonger(net));
            fixtures.Add(DsrIpip(net));
            fixtures.Add(DsrIpipVlan(net));
            fixtures.Add(DsrL2(net));
            fixtures.Add(Affinity(net));
            fixtures.Add(SourceRanges(net));
            fixtures.Add(NodePortAnyAddress(net));
            fixtures.Add(BackendRemoved(net));
            fixtures.Add(BackendTerminating(net));
            fixtures.Add(FibNoNeighbour(net));
            fixtures.Add(NatVlan(net));
            fixtures.Add(NatPortCollision(net));
            fixtures.Add(Padded(net));
            fixtures.Add(FlowExpired(net));
            fixtures.Add(ForwardingChanged(net));
        }
        return fixtures;
    }

    private static PacketFixture NatTcp(FamilyAddresses net)
    {
        var f = new FixtureScript($"nat-{net.Name}-tcp",
            "nat TCP: SYNs go where the flow hash points, the flow's next segment keeps backend and port, replies return as VIP -> client",
            Options, Web(net));
        for (ushort port = 40001; port <= 40004; port++)
        {
            var syn = Syn(net, port);
            f.Step($"SYN from client port {port}: DNAT to the picked backend, SNAT to the balancer and the hashed port, TTL - 1",
                syn, LbReason.FwdRedirect, Nat(syn, net, f.Pick(syn), f.NatPort(syn)), newFlow: true);
        }
        var first = Syn(net, 40001);
        var backend = f.Pick(first);
        var natPort = f.NatPort(first);
        var data = Data(net, 40001) with { Tos = 0x28 };
        f.Step("the first flow's next segment (TOS / traffic class 0x28, kept): same backend, same NAT port, no new flow", data, LbReason.FwdRedirect, Nat(data, net, backend, natPort), newFlow: false);
        var synAck = FromBackend(backend, net.Balancer, natPort, TcpFlags.Syn | TcpFlags.Ack);
        f.Reply("the backend's SYN-ACK to the NAT port: reverse NAT to VIP:80 -> client:40001, redirected to the client side",
            synAck, LbReason.FwdRedirect, ToClient(synAck, net, 40001));
        var ack = FromBackend(backend, net.Balancer, natPort, TcpFlags.Ack | TcpFlags.Psh) with { Payload = Bytes(48) };
        f.Reply("a reply that arrives on the client side (one-armed balancer) leaves by XDP_TX",
            ack, LbReason.FwdTx, ToClient(ack, net, 40001), ingress: ClientSide);
        return f.Build();
    }

    private static PacketFixture NatUdp(FamilyAddresses net)
    {
        var f = new FixtureScript($"nat-{net.Name}-udp",
            "nat UDP: a new flow is balanced and its reply returns; an IPv4 datagram without checksum keeps checksum 0",
            Options, Web(net));
        var datagram = Datagram(net, 50001);
        var backend = f.Pick(datagram);
        var natPort = f.NatPort(datagram);
        f.Step("UDP datagram of a new flow: DNAT + SNAT, checksum updated", datagram, LbReason.FwdRedirect, Nat(datagram, net, backend, natPort), newFlow: true);
        var reply = FromBackend(backend, net.Balancer, natPort, 0) with { Protocol = L4Protocol.Udp, Payload = Bytes(20) };
        f.Reply("the backend's answer: reverse NAT to VIP:80 -> client:50001", reply, LbReason.FwdRedirect, ToClient(reply, net, 50001));
        var zero = DatagramWithZeroChecksumAfterNat(f, net, 50003);
        f.Step("a datagram whose rewritten checksum computes to 0x0000: sent as 0xffff (RFC 768)", zero, LbReason.FwdRedirect,
            Nat(zero, net, f.Pick(zero), f.NatPort(zero)), newFlow: true);
        if (net == V4)
        {
            var bare = Datagram(net, 50002) with { NoUdpChecksum = true };
            f.Step("IPv4 UDP without checksum (0): rewritten, the checksum stays 0", bare, LbReason.FwdRedirect,
                Nat(bare, net, f.Pick(bare), f.NatPort(bare)), newFlow: true);
        }
        return f.Build();
    }

    /// <summary>
    /// A datagram whose checksum after the NAT rewrite is 0x0000 computed, by choosing its first payload word:
    /// with that word 0 the rewritten checksum is ~S, and a word of ~S makes the sum 0xffff, its complement 0.
    /// </summary>
    private static Packet DatagramWithZeroChecksumAfterNat(FixtureScript f, FamilyAddresses net, ushort clientPort)
    {
        var probe = Datagram(net, clientPort) with { Payload = new byte[24] };
        var checksumOffset = 14 + (net == V4 ? 20 : 40) + 6;
        var complement = BinaryPrimitives.ReadUInt16BigEndian(Nat(probe, net, f.Pick(probe), f.NatPort(probe)).Bytes().AsSpan(checksumOffset));
        var payload = new byte[24];
        BinaryPrimitives.WriteUInt16BigEndian(payload, complement);
        var datagram = probe with { Payload = payload };
        var rewritten = Nat(datagram, net, f.Pick(datagram), f.NatPort(datagram)).Bytes();
        if (BinaryPrimitives.ReadUInt16BigEndian(rewritten.AsSpan(checksumOffset)) != 0xffff)
            throw new InvalidOperationException("the chosen payload should make the rewritten UDP checksum compute to 0 (sent as 0xffff)");
        return datagram;
    }

    private static PacketFixture NatTtlExpired(FamilyAddresses net)
    {
        var f = new FixtureScript($"nat-{net.Name}-ttl-expired",
            "nat with TTL / hop limit 1, in either direction: passed untouched, no flow made",
            Options, Web(net));
        var dying = Syn(net, 40101) with { Ttl = 1 };
        f.Step("SYN with TTL 1: LB_PASS_TTL_EXPIRED, untouched, counted for the service but no new flow", dying, LbReason.PassTtlExpired, dying, newFlow: false);
        var retry = Syn(net, 40101);
        f.Step("that flow's SYN again with TTL 64: a new flow (the expired one left no entry)", retry, LbReason.FwdRedirect, Nat(retry, net, f.Pick(retry), f.NatPort(retry)), newFlow: true);
        var syn = Syn(net, 40102);
        var backend = f.Pick(syn);
        var natPort = f.NatPort(syn);
        f.Step("SYN with TTL 64 of another flow: forwarded", syn, LbReason.FwdRedirect, Nat(syn, net, backend, natPort), newFlow: true);
        var reply = FromBackend(backend, net.Balancer, natPort, TcpFlags.Syn | TcpFlags.Ack) with { Ttl = 1 };
        f.Reply("the backend's reply with TTL 1: LB_PASS_TTL_EXPIRED, untouched", reply, LbReason.PassTtlExpired, reply);
        return f.Build();
    }

    private static PacketFixture NatKeepClient(FamilyAddresses net)
    {
        var f = new FixtureScript($"nat-{net.Name}-keep-client",
            "nat with externalTrafficPolicy Local: DNAT only, the client's address and port stay; the reply to the client is reverse-NATed",
            Options, Web(net, policy: ServicePolicy.Default with { ExternalTrafficPolicy = TrafficPolicy.Local }));
        var syn = Syn(net, 40201);
        var backend = f.Pick(syn);
        var dnat = Nat(syn, net, backend, 0) with { Src = net.Client, SrcPort = 40201 };
        f.Step("SYN: destination becomes the backend, source stays client:40201, TTL - 1", syn, LbReason.FwdRedirect, dnat, newFlow: true);
        var synAck = FromBackend(backend, net.Client, 40201, TcpFlags.Syn | TcpFlags.Ack);
        f.Reply("the backend's SYN-ACK to the client: source becomes VIP:80", synAck, LbReason.FwdRedirect, ToClient(synAck, net, 40201));
        return f.Build();
    }

    private static PacketFixture NatKeepClientNoLonger(FamilyAddresses net)
    {
        var local = Web(net, policy: ServicePolicy.Default with { ExternalTrafficPolicy = TrafficPolicy.Local });
        var f = new FixtureScript($"nat-{net.Name}-keep-client-no-longer",
            "once no nat service keeps the client, lb_config loses LB_CFG_F_KEEP_CLIENT_NAT and lb_rev_nat is probed only for packets to the SNAT address: a backend's packet to a client is not reverse-NATed even though its entry is still there",
            Options, local);
        var syn = Syn(net, 40251);
        var backend = f.Pick(syn);
        var dnat = Nat(syn, net, backend, 0) with { Src = net.Client, SrcPort = 40251 };
        f.Step("SYN under keep-client nat: destination becomes the backend, the reply entry is keyed to the client", syn, LbReason.FwdRedirect, dnat, newFlow: true);
        var synAck = FromBackend(backend, net.Client, 40251, TcpFlags.Syn | TcpFlags.Ack);
        f.Reply("the backend's SYN-ACK to the client, with the flag set: reverse-NATed", synAck, LbReason.FwdRedirect, ToClient(synAck, net, 40251));
        f.Program(local with { Policy = local.Policy with { ExternalTrafficPolicy = TrafficPolicy.Cluster } });
        f.Reply("the same SYN-ACK after the service turned SNAT: not addressed to Lb, so no lb_rev_nat probe; no service matches it", synAck, LbReason.PassNoService, synAck);
        return f.Build();
    }

    private static PacketFixture DsrIpip(FamilyAddresses net)
    {
        var v4 = net == V4;
        // Linux's SYN options (MSS 1460 first: an even offset) for IPv4; NOP then MSS 1440 (an odd offset) for IPv6.
        byte[] synOptions = v4 ? LinuxSynOptions(1460) : [1, 2, 4, 0x05, 0xa0, 1, 1, 1];
        var maxMss = (ushort)(Mtu - (v4 ? 60 : 100));
        byte[] clamped = v4 ? LinuxSynOptions(maxMss) : [1, 2, 4, (byte)(maxMss >> 8), (byte)maxMss, 1, 1, 1];
        var outer = v4 ? 20 : 40;
        var f = new FixtureScript($"dsr-ipip-{net.Name}",
            $"dsr-ipip: SYNs encapsulated with the MSS clamped to mtu - {(v4 ? 60 : 100)}, other segments encapsulated as they are, a frame that would exceed the MTU dropped",
            Options, Web(net, ForwardingMode.DsrIpip));
        var syn = Syn(net, 40301) with { Tos = 0xb8, TcpOptions = synOptions };
        var backend = f.Pick(syn);
        f.Step($"SYN with MSS {(v4 ? 1460 : 1440)} and TOS 0xb8: MSS {maxMss}, then IPIP from the balancer to the backend (TOS copied, TTL 64)",
            syn, LbReason.FwdRedirect, Ipip(syn with { TcpOptions = clamped }, net, backend), newFlow: true);
        foreach (var (port, options, what) in new (ushort, byte[], string)[]
        {
            (40303, LinuxSynOptions(1200), "MSS 1200, below the limit"),
            (40304, [3, 1, 2, 4, 0x05, 0xb4, 0, 0], "an option of length 1 before MSS 1460: the walk stops"),
            (40305, [0, 2, 4, 0x05, 0xb4, 0, 0, 0], "EOL before MSS 1460: the walk stops"),
        })
        {
            var unclamped = Syn(net, port) with { TcpOptions = options };
            f.Step($"SYN with {what}: encapsulated with its options unchanged", unclamped, LbReason.FwdRedirect, Ipip(unclamped, net, f.Pick(unclamped)), newFlow: true);
        }
        var ack = Data(net, 40301) with { TcpOptions = LinuxSynOptions(1460) };
        f.Step("a non-SYN segment carrying an MSS option: encapsulated unchanged", ack, LbReason.FwdRedirect, Ipip(ack, net, backend), newFlow: false);
        var largest = Data(net, 40301) with { Payload = Bytes(Mtu - outer - (v4 ? 20 : 40) - 20) };
        f.Step($"the largest segment that fits: IP length {Mtu - outer} + {outer} = mtu", largest, LbReason.FwdRedirect, Ipip(largest, net, backend), newFlow: false);
        var tooBig = largest with { Payload = Bytes(largest.Payload.Length + 1) };
        f.Step($"one byte more: LB_DROP_FRAME_TOO_BIG, untouched, no new flow", tooBig, LbReason.DropFrameTooBig, tooBig, newFlow: false);
        var otherFlow = Syn(net, 40302) with { Payload = Bytes(Mtu - outer - (v4 ? 20 : 40) - 20 + 1) };
        f.Step("a too-big SYN of a new flow: dropped before any flow is made", otherFlow, LbReason.DropFrameTooBig, otherFlow, newFlow: false);
        var retry = Syn(net, 40302);
        f.Step("that flow's SYN again, small enough: a new flow (the dropped one left no entry)", retry, LbReason.FwdRedirect, Ipip(retry, net, f.Pick(retry)), newFlow: true);
        return f.Build();
    }

    private static PacketFixture DsrIpipVlan(FamilyAddresses net)
    {
        var f = new FixtureScript($"dsr-ipip-{net.Name}-vlan",
            "dsr-ipip of a VLAN-tagged frame: the outer header goes behind the tag, which is kept",
            Options, Web(net, ForwardingMode.DsrIpip));
        var data = Data(net, 40311) with { Vlan = 100 };
        f.Step("tagged data segment: encapsulated, tag 100 kept", data, LbReason.FwdRedirect, Ipip(data, net, f.Pick(data)), newFlow: true);
        return f.Build();
    }

    private static PacketFixture DsrL2(FamilyAddresses net)
    {
        var f = new FixtureScript($"dsr-l2-{net.Name}",
            "dsr-l2: only the MAC addresses change, to the backend's and the egress interface's; TTL too stays",
            Options, Web(net, ForwardingMode.DsrL2));
        var syn = Syn(net, 40401);
        var backend = f.Pick(syn);
        f.Step("SYN: MACs rewritten toward the picked backend", syn, LbReason.FwdRedirect, MacsOnly(syn, backend), newFlow: true);
        var data = Data(net, 40401);
        f.Step("the flow's next segment: same backend", data, LbReason.FwdRedirect, MacsOnly(data, backend), newFlow: false);
        return f.Build();
    }

    private static PacketFixture Affinity(FamilyAddresses net)
    {
        var sticky = Web(net, policy: ServicePolicy.Default with { Affinity = new SessionAffinity(1) });
        var two = sticky with { Backends = sticky.Backends.Take(2).ToEquatableArray() };
        // A client whose slot (the affinity hash of its address) the third backend takes over once it is added.
        var probe = new FixtureScript("probe", "", Options, sticky);
        var client = Enumerable.Range(2, 60).Select(i => ClientAddress(net, i))
            .First(c => probe.Pick(Syn(net, 1) with { Src = c }).Backend.Address.Equals(net.Backends[2]));
        var f = new FixtureScript($"affinity-{net.Name}",
            "ClientIP affinity (1 s): new flows of one client go to its backend, whatever the table says, until the affinity expires",
            Options, two);
        var first = Syn(net, 41001) with { Src = client };
        var affine = f.Pick(first);
        f.Step("first flow: the backend at the affinity hash of the client address", first, LbReason.FwdRedirect, Nat(first, net, affine, f.NatPort(first)), newFlow: true);
        var second = Syn(net, 41002) with { Src = client };
        f.Step("a second flow from another port: the same backend, its own NAT port", second, LbReason.FwdRedirect, Nat(second, net, affine, f.NatPort(second)), newFlow: true);
        f.Program(sticky);
        var third = Syn(net, 41003) with { Src = client };
        if (f.Pick(third).Id == affine.Id)
            throw new InvalidOperationException("the probe should have found a client whose slot moved");
        f.Step("a third backend now owns the client's slot, but the affinity entry (fresh) keeps the client where it was",
            third, LbReason.FwdRedirect, Nat(third, net, affine, f.NatPort(third)), newFlow: true);
        f.Wait(TimeSpan.FromSeconds(1.5));
        var late = Syn(net, 41004) with { Src = client };
        f.Step("1.5 s later the affinity has expired: the table's backend", late, LbReason.FwdRedirect, Nat(late, net, f.Pick(late), f.NatPort(late)), newFlow: true);
        return f.Build();
    }

    private static PacketFixture SourceRanges(FamilyAddresses net)
    {
        var f = new FixtureScript($"source-ranges-{net.Name}",
            $"source ranges [{net.ClientRange}]: a client inside is balanced, one outside dropped and counted",
            Options, Web(net, policy: ServicePolicy.Default with { SourceRanges = EquatableArray.Create(net.ClientRange) }));
        var inside = Syn(net, 41101);
        f.Step("client inside the range: forwarded", inside, LbReason.FwdRedirect, Nat(inside, net, f.Pick(inside), f.NatPort(inside)), newFlow: true);
        var outside = Syn(net, 41102) with { Src = net.OutsideClient };
        f.Step("client outside: LB_DROP_SOURCE_RANGE, counted for the service, no flow", outside, LbReason.DropSourceRange, outside, newFlow: false);
        return f.Build();
    }

    private static PacketFixture NodePortAnyAddress(FamilyAddresses net)
    {
        var nodePort = new Service("nodeport",
            EquatableArray.Create(Frontend.AnyAddress(NodePort, L4Protocol.Tcp, net.Family)),
            Backends(net, NatBackendPort),
            ServicePolicy.Default);
        var f = new FixtureScript($"nodeport-{net.Name}-any-address",
            $"a NodePort frontend on any address: a packet to port {NodePort} of any address is balanced",
            Options, nodePort);
        var local = Syn(net, 41201) with { Dst = net.ClientSideAddress, DstPort = NodePort };
        f.Step("SYN to the node's own address", local, LbReason.FwdRedirect, Nat(local, net, f.Pick(local), f.NatPort(local)), newFlow: true);
        var routed = Syn(net, 41202) with { DstPort = NodePort };
        f.Step("SYN to an address the node only routes: matched too", routed, LbReason.FwdRedirect, Nat(routed, net, f.Pick(routed), f.NatPort(routed)), newFlow: true);
        return f.Build();
    }

    private static PacketFixture BackendRemoved(FamilyAddresses net)
    {
        var web = Web(net);
        var f = new FixtureScript($"flow-{net.Name}-backend-removed",
            "a flow whose backend is removed is picked again from the new table on its next packet (same NAT port number, new flow)",
            Options, web);
        var syn = Syn(net, 41301);
        var before = f.Pick(syn);
        f.Step("SYN: the picked backend", syn, LbReason.FwdRedirect, Nat(syn, net, before, f.NatPort(syn)), newFlow: true);
        f.Program(web with { Backends = web.Backends.Where(b => !b.Address.Equals(before.Backend.Address)).ToEquatableArray() });
        var data = Data(net, 41301);
        var after = f.Pick(data);
        f.Step("after its backend was removed: the new table's backend", data, LbReason.FwdRedirect, Nat(data, net, after, f.NatPort(data)), newFlow: true);
        return f.Build();
    }

    private static PacketFixture BackendTerminating(FamilyAddresses net)
    {
        var web = Web(net);
        var f = new FixtureScript($"flow-{net.Name}-backend-terminating",
            "a terminating backend keeps its established flow and takes no new one (the table holds the active ones)",
            Options, web);
        var syn = Syn(net, 41401);
        var draining = f.Pick(syn);
        var natPort = f.NatPort(syn);
        f.Step("SYN: the picked backend", syn, LbReason.FwdRedirect, Nat(syn, net, draining, natPort), newFlow: true);
        // Another client port whose slot is that backend's too, before it starts terminating.
        var wouldGo = Enumerable.Range(41402, 200).Select(p => Syn(net, (ushort)p)).First(s => f.Pick(s).Id == draining.Id);
        f.Program(web with
        {
            Backends = web.Backends.Select(b => b.Address.Equals(draining.Backend.Address) ? b with { State = BackendState.Terminating } : b).ToEquatableArray(),
        });
        var data = Data(net, 41401);
        f.Step("the established flow's next segment: still the terminating backend, same port", data, LbReason.FwdRedirect, Nat(data, net, draining, natPort), newFlow: false);
        var moved = f.Pick(wouldGo);
        if (moved.Backend.Address.Equals(draining.Backend.Address))
            throw new InvalidOperationException("a terminating backend is in the new table");
        f.Step($"a new flow (port {wouldGo.SrcPort}) that the old table gave it: an active backend", wouldGo, LbReason.FwdRedirect,
            Nat(wouldGo, net, moved, f.NatPort(wouldGo)), newFlow: true);
        return f.Build();
    }

    private static PacketFixture FibNoNeighbour(FamilyAddresses net)
    {
        const ushort l2Port = 81;
        var nat = new Service("unresolved-nat",
            EquatableArray.Create(Frontend.At(net.Vip, VipPort, L4Protocol.Tcp)),
            EquatableArray.Create(new Backend(net.Unresolved, NatBackendPort)),
            ServicePolicy.Default);
        var l2 = new Service("unresolved-l2",
            EquatableArray.Create(Frontend.At(net.Vip, l2Port, L4Protocol.Tcp)),
            EquatableArray.Create(new Backend(net.Unresolved, l2Port)),
            ServicePolicy.Default with { Forwarding = ForwardingMode.DsrL2 });
        var f = new FixtureScript($"fib-{net.Name}-no-neighbour",
            "a backend with a route but no neighbour entry: nat passes the rewritten frame for the kernel to resolve, dsr-l2 passes it untouched",
            Options, nat, l2);
        var syn = Syn(net, 41501);
        var rewritten = NatRewrite(syn, net, f.Pick(syn), f.NatPort(syn));
        f.Step("nat: LB_PASS_FIB_NO_NEIGHBOUR, addresses and ports rewritten, MACs as they came", syn, LbReason.PassFibNoNeighbour, rewritten, newFlow: true);
        var l2Syn = Syn(net, 41502) with { DstPort = l2Port };
        f.Step("dsr-l2: LB_PASS_FIB_NO_NEIGHBOUR, untouched (the flow is recorded)", l2Syn, LbReason.PassFibNoNeighbour, l2Syn, newFlow: true);
        return f.Build();
    }

    private static PacketFixture NatVlan(FamilyAddresses net)
    {
        var f = new FixtureScript($"nat-{net.Name}-vlan",
            "nat of a VLAN-tagged frame: rewritten behind the tag, which is kept",
            Options, Web(net));
        var syn = Syn(net, 41601) with { Vlan = 100 };
        f.Step("tagged SYN: NAT, tag 100 kept", syn, LbReason.FwdRedirect, Nat(syn, net, f.Pick(syn), f.NatPort(syn)), newFlow: true);
        return f.Build();
    }

    private static PacketFixture NatPortCollision(FamilyAddresses net)
    {
        var f = new FixtureScript($"nat-{net.Name}-port-collision",
            "two flows to one backend whose first NAT port candidates are equal: the second takes the next candidate",
            Options, Web(net));
        // The first two client ports whose flows pick the same backend and hash to the same first candidate.
        var seen = new Dictionary<(uint Backend, ushort Port), Packet>();
        (Packet First, Packet Second)? pair = null;
        for (var port = 43000; pair is null; port++)
        {
            var syn = Syn(net, (ushort)port);
            var key = (f.Pick(syn).Id, f.NatPort(syn));
            if (seen.TryGetValue(key, out var earlier))
                pair = (earlier, syn);
            else
                seen.Add(key, syn);
        }
        var (first, second) = pair.Value;
        var backend = f.Pick(first);
        f.Step($"SYN from port {first.SrcPort}: the first candidate", first, LbReason.FwdRedirect, Nat(first, net, backend, f.NatPort(first)), newFlow: true);
        f.Step($"SYN from port {second.SrcPort}, same backend, same first candidate: the second candidate", second, LbReason.FwdRedirect,
            Nat(second, net, backend, f.NatPort(second, candidate: 1)), newFlow: true);
        return f.Build();
    }

    private static PacketFixture Padded(FamilyAddresses net)
    {
        var f = new FixtureScript($"padded-{net.Name}",
            "frames padded to the Ethernet minimum: the padding is not parsed, is counted in bytes, and stays behind the packet (nat and dsr-ipip)",
            Options, Web(net), Web(net, ForwardingMode.DsrIpip) with
            {
                Name = "web-ipip",
                Frontends = EquatableArray.Create(Frontend.At(net.Vip, 443, L4Protocol.Tcp)),
                Backends = Backends(net, 443),
            });
        // IPv4: padded up to the 60-byte minimum; IPv6 is long enough, but a frame may carry trailing bytes all the same.
        var datagram = Datagram(net, 44001) with { Payload = Bytes(1), Padding = net == V4 ? 60 - (14 + 20 + 8 + 1) : 5 };
        f.Step($"UDP datagram of 1 byte + {datagram.Padding} bytes of padding: NAT, padding kept", datagram, LbReason.FwdRedirect,
            Nat(datagram, net, f.Pick(datagram), f.NatPort(datagram)), newFlow: true);
        var ack = Syn(net, 44002) with { DstPort = 443, Flags = TcpFlags.Ack, Padding = 6 };
        f.Step("bare ACK + 6 bytes of padding to dsr-ipip: encapsulated, the padding after the inner packet", ack, LbReason.FwdRedirect,
            Ipip(ack, net, f.Pick(ack)), newFlow: true);
        return f.Build();
    }

    private static PacketFixture FlowExpired(FamilyAddresses net)
    {
        var f = new FixtureScript($"flow-{net.Name}-expired",
            "a flow idle past the flow timeout (1 s) is scheduled again, and its reverse-NAT entry, which is its own, gives it back its port",
            Options, Web(net)) { FlowTimeout = TimeSpan.FromSeconds(1) };
        var syn = Syn(net, 44101);
        var backend = f.Pick(syn);
        var natPort = f.NatPort(syn);
        f.Step("SYN: the picked backend and the first candidate port", syn, LbReason.FwdRedirect, Nat(syn, net, backend, natPort), newFlow: true);
        f.Wait(TimeSpan.FromSeconds(1.5));
        var data = Data(net, 44101);
        f.Step("1.5 s later: a new flow by the counters, the same backend (same table) and the same port (not the next candidate)",
            data, LbReason.FwdRedirect, Nat(data, net, backend, natPort), newFlow: true);
        return f.Build();
    }

    private static PacketFixture ForwardingChanged(FamilyAddresses net)
    {
        var l2 = Web(net, ForwardingMode.DsrL2);
        var f = new FixtureScript($"flow-{net.Name}-forwarding-changed",
            "a flow recorded under dsr-l2 has no NAT port: once the service is nat, its next packet is a new nat flow",
            Options, l2);
        var syn = Syn(net, 44201);
        var backend = f.Pick(syn);
        f.Step("SYN under dsr-l2: MACs only", syn, LbReason.FwdRedirect, MacsOnly(syn, backend), newFlow: true);
        f.Program(l2 with { Policy = l2.Policy with { Forwarding = ForwardingMode.Nat } });
        var data = Data(net, 44201);
        f.Step("the same flow under nat: same backend (same table), a NAT port, counted as a new flow", data, LbReason.FwdRedirect,
            Nat(data, net, f.Pick(data), f.NatPort(data)), newFlow: true);
        return f.Build();
    }

    // ---- Services and frames -------------------------------------------------------------------

    /// <summary>Service "web": VIP:80 over TCP and UDP, the three backends on 8080 (nat) or 80 (DSR cannot change ports).</summary>
    public static Service Web(FamilyAddresses net, ForwardingMode forwarding = ForwardingMode.Nat, ServicePolicy? policy = null) =>
        new("web",
            EquatableArray.Create(Frontend.At(net.Vip, VipPort, L4Protocol.Tcp), Frontend.At(net.Vip, VipPort, L4Protocol.Udp)),
            Backends(net, forwarding == ForwardingMode.Nat ? NatBackendPort : VipPort),
            (policy ?? ServicePolicy.Default) with { Forwarding = forwarding });

    private static EquatableArray<Backend> Backends(FamilyAddresses net, ushort port) =>
        net.Backends.Select(a => new Backend(a, port)).ToEquatableArray();

    public static Packet Syn(FamilyAddresses net, ushort clientPort) => new()
    {
        SrcMac = ClientMac,
        DstMac = ClientSideMac,
        Src = net.Client,
        SrcPort = clientPort,
        Dst = net.Vip,
        DstPort = VipPort,
        Flags = TcpFlags.Syn,
    };

    /// <summary>A data segment (ACK|PSH, 32 bytes) of the client's flow.</summary>
    public static Packet Data(FamilyAddresses net, ushort clientPort) =>
        Syn(net, clientPort) with { Flags = TcpFlags.Ack | TcpFlags.Psh, Seq = 1001, Ack = 5001, Payload = Bytes(32) };

    public static Packet Datagram(FamilyAddresses net, ushort clientPort) =>
        Syn(net, clientPort) with { Protocol = L4Protocol.Udp, Payload = Bytes(24) };

    /// <summary>A backend's segment to Lb (or, keeping the client, to the client), arriving from the backend's MAC.</summary>
    public static Packet FromBackend(BackendEntry backend, IPAddress to, ushort toPort, TcpFlags flags) => new()
    {
        SrcMac = NeighbourMac(backend.Backend.Address),
        DstMac = BackendSideMac,
        Src = backend.Backend.Address,
        SrcPort = backend.Backend.Port,
        Dst = to,
        DstPort = toPort,
        Flags = flags,
        Seq = 5000,
        Ack = 1001,
    };

    /// <summary>nat toward the backend: source = Lb:natPort, destination = backend, TTL - 1, MACs of the backend-side hop.</summary>
    public static Packet Nat(Packet packet, FamilyAddresses net, BackendEntry backend, ushort natPort) =>
        NatRewrite(packet, net, backend, natPort) with { SrcMac = BackendSideMac, DstMac = NeighbourMac(backend.Backend.Address) };

    /// <summary>The nat rewrite of the IP and L4 headers alone, with the MACs as they came (the FIB found no next hop).</summary>
    public static Packet NatRewrite(Packet packet, FamilyAddresses net, BackendEntry backend, ushort natPort) => packet with
    {
        Src = net.Balancer,
        SrcPort = natPort,
        Dst = backend.Backend.Address,
        DstPort = backend.Backend.Port,
        Ttl = (byte)(packet.Ttl - 1),
    };

    /// <summary>A reply after reverse NAT: VIP:80 -> client:port, TTL - 1, toward the client's MAC from the client-side interface.</summary>
    public static Packet ToClient(Packet reply, FamilyAddresses net, ushort clientPort) => reply with
    {
        SrcMac = ClientSideMac,
        DstMac = ClientMac,
        Src = net.Vip,
        SrcPort = VipPort,
        Dst = net.Client,
        DstPort = clientPort,
        Ttl = (byte)(reply.Ttl - 1),
    };

    public static Encapsulated Ipip(Packet inner, FamilyAddresses net, BackendEntry backend) =>
        new(inner, net.Balancer, backend.Backend.Address, BackendSideMac, NeighbourMac(backend.Backend.Address));

    public static Packet MacsOnly(Packet packet, BackendEntry backend) =>
        packet with { SrcMac = BackendSideMac, DstMac = NeighbourMac(backend.Backend.Address) };

    /// <summary>MSS, SACK permitted, timestamps, NOP, window scale 7: what Linux puts in a SYN.</summary>
    public static byte[] LinuxSynOptions(ushort mss) =>
        [2, 4, (byte)(mss >> 8), (byte)mss, 4, 2, 8, 10, 0, 0, 0x10, 0, 0, 0, 0, 0, 1, 3, 3, 7];

    private static IPAddress ClientAddress(FamilyAddresses net, int host)
    {
        var bytes = net.Client.GetAddressBytes();
        bytes[^1] = (byte)host;
        return new IPAddress(bytes);
    }

    private static byte[] Bytes(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 7 + 3)).ToArray();
}
