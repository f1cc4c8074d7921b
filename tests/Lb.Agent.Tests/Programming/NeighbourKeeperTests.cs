using System.Net;
using System.Text.Json;
using Lb.Agent.Demo;
using Lb.Agent.Programming;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Native;
using Lb.Testing.Kernel;

namespace Lb.Agent.Tests.Programming;

/// <summary>
/// The programmer with <see cref="IpNeighbourKeeper"/> on a namespace topology whose balancer has no
/// neighbour entries: lb_xdp attached to the balancer, one nat service, real connections from the client.
/// </summary>
public sealed class NeighbourKeeperTests
{
    private const ushort Port = 80;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Apply_BackendWithoutNeighbour_GetsManagedEntryAndAnswersTheFirstConnection(bool ipv6)
    {
        await using var balancer = await Balancer.Start();
        var backend = balancer.Topology.Backends[0];
        Assert.Null(balancer.Neighbour(backend.Address(ipv6), backend.BalancerInterface));

        balancer.Program(0);

        var entry = balancer.Neighbour(backend.Address(ipv6), backend.BalancerInterface);
        Assert.NotNull(entry);
        Assert.True(entry.Managed, $"the entry for {backend.Address(ipv6)} is not managed: {entry}");
        // Nothing sends to the backend: the kernel resolves a managed entry on its own.
        await balancer.WaitUntilResolved(backend.Address(ipv6), backend.BalancerInterface);

        var vip = new IPEndPoint(ipv6 ? Topology.VipV6 : Topology.VipV4, Port);
        var (socket, answer) = await LbClient.ConnectAndAsk(balancer.Topology.ClientNs, vip, Timeout);
        socket.Dispose();
        Assert.Equal(backend.Name, answer);
        // The first SYN went out through XDP, not back to the kernel for want of a neighbour.
        Assert.Equal(0UL, balancer.ReasonCount(LbReason.PassFibNoNeighbour));
        Assert.True(balancer.ReasonCount(LbReason.FwdRedirect) > 0);
    }

    [Fact]
    public async Task Apply_BackendRemoved_RemovesTheEntryLbCreatedAndKeepsTheOthers()
    {
        await using var balancer = await Balancer.Start();
        var (gone, stays) = (balancer.Topology.Backends[0], balancer.Topology.Backends[1]);
        balancer.Program(0, 1);
        Assert.True(balancer.Neighbour(gone.AddressV4, gone.BalancerInterface)?.Managed);
        Assert.True(balancer.Neighbour(gone.AddressV6, gone.BalancerInterface)?.Managed);

        balancer.Program(1);

        Assert.Null(balancer.Neighbour(gone.AddressV4, gone.BalancerInterface));
        Assert.Null(balancer.Neighbour(gone.AddressV6, gone.BalancerInterface));
        Assert.True(balancer.Neighbour(stays.AddressV4, stays.BalancerInterface)?.Managed);
        Assert.True(balancer.Neighbour(stays.AddressV6, stays.BalancerInterface)?.Managed);
        Assert.Equal(
            new[] { $"{stays.AddressV4} dev {stays.BalancerInterface}", $"{stays.AddressV6} dev {stays.BalancerInterface}" }.Order(),
            balancer.Recorded().Order());
    }

    [Fact]
    public async Task Apply_PermanentEntryExists_LeavesItAloneWhileProgrammedAndAfterRemoval()
    {
        await using var balancer = await Balancer.Start();
        var backend = balancer.Topology.Backends[0];
        const string mac = "02:00:5e:00:53:01";
        Topology.Ip(balancer.Topology.BalancerNs, "neigh", "add", backend.AddressV4.ToString(), "lladdr", mac, "dev", backend.BalancerInterface, "nud", "permanent");

        balancer.Program(0);
        var programmed = balancer.Neighbour(backend.AddressV4, backend.BalancerInterface);
        balancer.Program();
        var removed = balancer.Neighbour(backend.AddressV4, backend.BalancerInterface);

        foreach (var entry in new[] { programmed, removed })
        {
            Assert.NotNull(entry);
            Assert.False(entry.Managed);
            Assert.Equal(["PERMANENT"], entry.States);
            Assert.Equal(mac, entry.LinkAddress);
        }
        Assert.DoesNotContain($"{backend.AddressV4} dev {backend.BalancerInterface}", balancer.Recorded());
        // The IPv6 address had no entry: that one is Lb's, and goes with the backend.
        Assert.Null(balancer.Neighbour(backend.AddressV6, backend.BalancerInterface));
    }

    [Fact]
    public async Task RemoveAll_KeeperReadFromTheRecord_RemovesWhatTheFirstKeeperCreated()
    {
        await using var balancer = await Balancer.Start();
        var backend = balancer.Topology.Backends[1];
        balancer.Program(1);

        // As `lb down` does after `lb run` stopped: only the record says which entries are Lb's.
        var successor = new IpNeighbourKeeper(balancer.Topology.BalancerNs, balancer.RecordPath);
        Assert.Equal(2, successor.Created.Count);
        successor.RemoveAll();

        Assert.Null(balancer.Neighbour(backend.AddressV4, backend.BalancerInterface));
        Assert.Null(balancer.Neighbour(backend.AddressV6, backend.BalancerInterface));
        Assert.False(File.Exists(balancer.RecordPath));
    }

    private sealed record NeighbourEntry(bool Managed, IReadOnlyList<string> States, string? LinkAddress);

    /// <summary>Two backends (each serving <see cref="Port"/>), lb_xdp on every balancer interface, a programmer with a keeper.</summary>
    private sealed class Balancer : IAsyncDisposable
    {
        private readonly List<BackendServer> _servers = [];
        private readonly PinRoot _pinRoot = new();
        private readonly string _recordDirectory = Directory.CreateTempSubdirectory("lb-neigh-").FullName;
        private LbDatapath? _datapath;
        private Programmer? _programmer;

        private Balancer(Topology topology) => Topology = topology;

        public Topology Topology { get; }

        public string RecordPath => Path.Combine(_recordDirectory, IpNeighbourKeeper.RecordFileName);

        public static async Task<Balancer> Start()
        {
            var balancer = new Balancer(Topology.Create(backendCount: 2, vipOnBackends: false));
            try
            {
                balancer.Build();
                return balancer;
            }
            catch
            {
                await balancer.DisposeAsync();
                throw;
            }
        }

        private void Build()
        {
            foreach (var b in Topology.Backends)
                _servers.Add(new BackendServer(b.Namespace, b.Name, Port, [b.AddressV4, b.AddressV6]));
            _datapath = LbDatapath.Load(new LbDatapathOptions
            {
                ObjectPath = BpfObjects.LbXdp,
                PinRoot = _pinRoot.Path,
                FlowTableCapacity = TestDatapath.TestFlowCapacity,
                MaglevTableSize = MaglevOptions.DefaultTableSize,
            });
            var datapath = _datapath;
            foreach (var attachment in InNamespace.Run(Topology.BalancerNs, () => datapath.Attach(Topology.BalancerInterfaces, XdpMode.Native, allowGenericFallback: false)))
                attachment.Dispose();
            _programmer = new Programmer(datapath.Maps, new ProgrammerOptions { SnatAddressV4 = Topology.BalancerV4, SnatAddressV6 = Topology.BalancerV6 },
                neighbours: new IpNeighbourKeeper(Topology.BalancerNs, RecordPath));
        }

        /// <summary>Programs one nat service on both VIPs whose backends are the given hosts, both families.</summary>
        public void Program(params int[] hosts)
        {
            var service = new Service(
                "web",
                EquatableArray.Create(Frontend.At(Topology.VipV4, Port, L4Protocol.Tcp), Frontend.At(Topology.VipV6, Port, L4Protocol.Tcp)),
                hosts.SelectMany(i => new[] { new Backend(Topology.Backends[i].AddressV4, Port), new Backend(Topology.Backends[i].AddressV6, Port) }).ToEquatableArray(),
                ServicePolicy.Default with { Forwarding = ForwardingMode.Nat });
            var options = DatapathOptions.Default with { FlowTableCapacity = TestDatapath.TestFlowCapacity };
            _programmer!.Apply(DesiredState.Build(options, [service], _programmer.Applied));
        }

        /// <summary>The balancer's entry for <paramref name="address"/> on <paramref name="device"/>, or null.</summary>
        public NeighbourEntry? Neighbour(IPAddress address, string device)
        {
            var output = Topology.Ip(Topology.BalancerNs, "-j", "neigh", "show", address.ToString(), "dev", device);
            using var document = JsonDocument.Parse(output.Trim().Length == 0 ? "[]" : output);
            foreach (var entry in document.RootElement.EnumerateArray())
            {
                return new NeighbourEntry(
                    entry.TryGetProperty("managed", out _),
                    entry.TryGetProperty("state", out var state) ? [.. state.EnumerateArray().Select(s => s.GetString()!)] : [],
                    entry.TryGetProperty("lladdr", out var lladdr) ? lladdr.GetString() : null);
            }
            return null;
        }

        public async Task WaitUntilResolved(IPAddress address, string device)
        {
            var deadline = DateTime.UtcNow + Timeout;
            while (Neighbour(address, device) is not { LinkAddress: not null, States: var states } || !states.Contains("REACHABLE"))
            {
                if (DateTime.UtcNow > deadline)
                    throw new Xunit.Sdk.XunitException($"the kernel did not resolve {address} dev {device} within {Timeout}: {Neighbour(address, device)}");
                await Task.Delay(20);
            }
        }

        /// <summary>The entries in the keeper's record, as "ADDRESS dev DEVICE".</summary>
        public IReadOnlyList<string> Recorded()
        {
            using var document = JsonDocument.Parse(File.ReadAllText(RecordPath));
            return [.. document.RootElement.EnumerateArray().Select(e => $"{e.GetProperty("Address").GetString()} dev {e.GetProperty("Device").GetString()}")];
        }

        public ulong ReasonCount(LbReason reason) =>
            _datapath!.Maps.Reasons.LookupPerCpu((uint)reason)?.Aggregate(0UL, (sum, n) => sum + n) ?? 0;

        public async ValueTask DisposeAsync()
        {
            foreach (var server in _servers)
                await server.DisposeAsync();
            _datapath?.Dispose();
            await Topology.DisposeAsync();
            _pinRoot.Dispose();
            Directory.Delete(_recordDirectory, recursive: true);
        }
    }
}
