using System.Net;
using System.Net.Sockets;
using Lb.Agent.Programming;
using Lb.Testing.Kernel;
using Lb.Core.Hashing;
using Lb.Core.Maglev;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Native;
using Lb.Testing;

namespace Lb.Agent.Tests.Programming;

/// <summary>
/// The loaded lb_xdp program balances with exactly what the programmer wrote: frames run through
/// BPF_PROG_TEST_RUN inside a namespace where the backends are reachable (static neighbours, so
/// bpf_fib_lookup succeeds), and each leaves for the backend that the flow hash and the Maglev table
/// predict, rewritten as NAT says.
/// </summary>
public sealed class ProgrammedDatapathTests
{
    private const string Seed = "end-to-end";
    private const uint TableSize = 16381;
    private const ushort VipPort = 80;
    private const ushort BackendPort = 8080;
    private static readonly Mac EgressMac = Mac.Parse("02:00:00:00:0a:01");
    private static readonly Mac IngressMac = Mac.Parse("02:00:00:00:0a:02");

    public static TheoryData<bool> Families => new() { false, true };

    [Theory]
    [MemberData(nameof(Families))]
    public void TestRun_TcpSynToProgrammedVip_RedirectsToTheBackendMaglevPredicts(bool ipv6)
    {
        var net = ipv6 ? Addresses.V6 : Addresses.V4;
        using var ns = new TestNamespace();
        ns.Ip("link", "set", TestNamespace.Veth0, "address", EgressMac.ToString());
        ns.Ip("link", "set", TestNamespace.Veth1, "address", IngressMac.ToString());
        string[] noDad = ipv6 ? ["nodad"] : [];
        ns.Ip([ipv6 ? "-6" : "-4", "addr", "add", $"{net.EgressAddress}/{net.Prefix}", "dev", TestNamespace.Veth0, .. noDad]);
        ns.Ip([ipv6 ? "-6" : "-4", "addr", "add", $"{net.IngressAddress}/{net.Prefix}", "dev", TestNamespace.Veth1, .. noDad]);
        foreach (var (address, mac) in net.Backends)
            ns.Ip(ipv6 ? "-6" : "-4", "neigh", "add", address.ToString(), "lladdr", mac.ToString(), "dev", TestNamespace.Veth0, "nud", "permanent");

        using var test = new TestDatapath(TableSize);
        var options = DatapathOptions.Default with
        {
            SnatAddress = Addresses.V4.EgressAddress,
            SnatAddressV6 = Addresses.V6.EgressAddress,
            Maglev = new MaglevOptions(TableSize, Seed),
            FlowTableCapacity = TestDatapath.TestFlowCapacity,
        };
        var service = new Service(
            "web",
            EquatableArray.Create(Frontend.At(net.Vip, VipPort, L4Protocol.Tcp)),
            net.Backends.Select(b => new Backend(b.Address, BackendPort)).ToEquatableArray(),
            ServicePolicy.Default);
        var state = DesiredState.Build(options, [service]);
        var programmer = new Programmer(test.Maps);
        programmer.Apply(state);

        var entry = state.ServicesByName["web"];
        var table = new MaglevTableBuilder(options.Maglev).Build(entry.Backends.Select(b => MaglevBackend.From(b.Backend, b.Id)));
        var seed = FlowHash.DeriveSeed(Seed);
        var ingress = ns.Run(() => Interfaces.IndexOf(TestNamespace.Veth1));
        var chosen = new HashSet<IPAddress>();
        for (ushort clientPort = 40000; clientPort < 40016; clientPort++)
        {
            var frame = new PacketBuilder { DstMac = IngressMac }.Tcp(net.Client, clientPort, net.Vip, VipPort, TcpFlags.Syn);
            var output = new byte[frame.Length + 64];
            var run = ns.Run(() => test.Datapath.Program.TestRun(frame, output, new XdpMd { IngressIfindex = (uint)ingress }));

            Assert.True(run.Action == XdpAction.Redirect, $"client port {clientPort}: {run.Action} ({ReasonsSeen(test.Maps)})");
            var expectedId = table.BackendIds.Span[(int)(FlowHash.Compute(net.Client, clientPort, net.Vip, VipPort, L4Protocol.Tcp, seed) % TableSize)];
            var expected = state.BackendsById[expectedId].Backend;
            var sent = new PacketView(output[..run.OutputLength]);
            var natPort = (ushort)(ProgrammerOptions.DefaultNatPortMin
                + FlowHash.Compute(net.Client, clientPort, net.Vip, VipPort, L4Protocol.Tcp, seed ^ LbLimits.NatPortHashXor)
                % (uint)(ProgrammerOptions.DefaultNatPortMax - ProgrammerOptions.DefaultNatPortMin + 1));
            Assert.Equal(expected.Address, sent.Destination);
            Assert.Equal(BackendPort, sent.DestinationPort);
            Assert.Equal(net.EgressAddress, sent.Source);
            Assert.Equal(natPort, sent.SourcePort);
            Assert.Equal(net.Backends.Single(b => b.Address.Equals(expected.Address)).Mac, sent.DstMac);
            Assert.Equal(EgressMac, sent.SrcMac);
            Assert.Equal(63, sent.Ttl);
            Assert.True(sent.ChecksumsValid(out var why), why);

            var flowKey = new LbFlowKey
            {
                Saddr = LbAddress.FromIPAddress(net.Client),
                Daddr = LbAddress.FromIPAddress(net.Vip),
                Sport = Be16.FromHost(clientPort),
                Dport = Be16.FromHost(VipPort),
                Proto = (byte)L4Protocol.Tcp,
                Family = ipv6 ? LbFamily.IPv6 : LbFamily.IPv4,
            };
            Assert.True(test.Maps.Flows.TryLookup(flowKey, out var flow));
            Assert.Equal((expectedId, entry.Id, natPort), (flow.BackendId, flow.ServiceId, flow.NatPort.ToHost()));
            chosen.Add(sent.Destination);
        }

        // Sixteen flows over two backends: the table, not a constant, chose them.
        Assert.Equal(2, chosen.Count);

        // Both backends drained: the table goes, a new flow takes the no-backend path, an established one
        // keeps its backend (its flow entry and backend entry are still there).
        var drained = service with { Backends = service.Backends.Select(b => b with { State = BackendState.Maintenance }).ToEquatableArray() };
        programmer.Apply(DesiredState.Build(options, [drained], state));
        var newFlow = new PacketBuilder { DstMac = IngressMac }.Tcp(net.Client, 50000, net.Vip, VipPort, TcpFlags.Syn);
        var established = new PacketBuilder { DstMac = IngressMac }.Tcp(net.Client, 40000, net.Vip, VipPort, TcpFlags.Ack);
        var buffer = new byte[newFlow.Length + 64];
        var passed = ns.Run(() => test.Datapath.Program.TestRun(newFlow, buffer, new XdpMd { IngressIfindex = (uint)ingress }));
        var noBackend = ReasonCount(test.Maps, LbReason.PassNoBackend);
        var kept = ns.Run(() => test.Datapath.Program.TestRun(established, buffer, new XdpMd { IngressIfindex = (uint)ingress }));

        Assert.Equal(XdpAction.Pass, passed.Action);
        Assert.Equal(1UL, noBackend);
        Assert.Equal(XdpAction.Redirect, kept.Action);
        var firstBackend = state.BackendsById[table.BackendIds.Span[(int)(FlowHash.Compute(net.Client, 40000, net.Vip, VipPort, L4Protocol.Tcp, seed) % TableSize)]];
        Assert.Equal(firstBackend.Backend.Address, new PacketView(buffer[..kept.OutputLength]).Destination);
    }

    private static ulong ReasonCount(LbMaps maps, LbReason reason) =>
        maps.Reasons.LookupPerCpu((uint)reason)!.Aggregate(0UL, (sum, count) => sum + count);

    private static string ReasonsSeen(LbMaps maps) =>
        string.Join(", ", Enum.GetValues<LbReason>()
            .Select(reason => (reason, count: maps.Reasons.LookupPerCpu((uint)reason)?.Aggregate(0UL, (a, b) => a + b) ?? 0))
            .Where(r => r.count > 0)
            .Select(r => $"{r.reason} x{r.count}"));

    private sealed record Addresses(IPAddress Vip, IPAddress Client, IPAddress EgressAddress, IPAddress IngressAddress, int Prefix, (IPAddress Address, Mac Mac)[] Backends)
    {
        public static readonly Addresses V4 = new(
            IPAddress.Parse("198.51.100.10"), IPAddress.Parse("10.20.0.2"), IPAddress.Parse("10.10.0.1"), IPAddress.Parse("10.20.0.1"), 24,
            [(IPAddress.Parse("10.10.0.11"), Mac.Parse("02:00:00:00:0b:11")), (IPAddress.Parse("10.10.0.12"), Mac.Parse("02:00:00:00:0b:12"))]);

        public static readonly Addresses V6 = new(
            IPAddress.Parse("2001:db8::10"), IPAddress.Parse("fd20::2"), IPAddress.Parse("fd10::1"), IPAddress.Parse("fd20::1"), 64,
            [(IPAddress.Parse("fd10::11"), Mac.Parse("02:00:00:00:0b:11")), (IPAddress.Parse("fd10::12"), Mac.Parse("02:00:00:00:0b:12"))]);
    }
}
