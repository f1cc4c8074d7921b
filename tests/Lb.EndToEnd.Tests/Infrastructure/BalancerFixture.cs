using Lb.Testing.Kernel;
using System.Net;
using System.Net.Sockets;
using Lb.Agent.Demo;
using Lb.Agent.Programming;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.EndToEnd.Tests.Infrastructure;

/// <summary>
/// One balanced topology, shared by the tests of a class: <see cref="Topology"/> with three backends,
/// each running a <see cref="BackendServer"/> on port 80 (TCP, and UDP on its own addresses and the
/// VIPs); lb_xdp loaded with its own pin root /sys/fs/bpf/lb-e2e-&lt;id&gt; and attached in native mode
/// to every balancer interface; for dsr-ipip, lb_decap on each backend's e0. The service "web" is
/// programmed through <see cref="Programmer"/>, which also keeps the balancer's neighbour entries. Dispose removes the namespaces (and with their veths the
/// attachments) and the pin root, also when setting up failed half-way.
/// </summary>
public abstract class BalancerFixture : IAsyncLifetime
{
    public const ushort Port = 80;
    public const string ServiceName = "web";

    /// <summary>Room for every flow a class opens (a few thousand per family) without LRU eviction.</summary>
    private const uint FlowCapacity = 65536;

    private readonly List<BackendServer> _servers = [];
    private LbDatapath? _datapath;
    private Programmer? _programmer;
    private bool _disposed;

    protected BalancerFixture(ForwardingMode mode)
    {
        Mode = mode;
        Options = DatapathOptions.Default with { FlowTableCapacity = FlowCapacity };
    }

    /// <summary>ClientIP affinity with a 2 s timeout.</summary>
    public const uint AffinityTimeoutSeconds = 2;

    /// <summary>The affinity test starts with backends 0 and 1 and then adds backend 2.</summary>
    public static readonly int[] AffinityHostsBefore = [0, 1];

    public ForwardingMode Mode { get; }

    public DatapathOptions Options { get; private set; }

    public Topology Topology { get; private set; } = null!;

    public string PinRoot { get; private set; } = "";

    public IReadOnlyList<BackendServer> Servers => _servers;

    /// <summary>The managed neighbour entries the programmer keeps on the balancer.</summary>
    public IpNeighbourKeeper Neighbours { get; private set; } = null!;

    public LbMaps Maps => _datapath?.Maps ?? throw new InvalidOperationException("the datapath is not loaded");

    /// <summary>The service last programmed.</summary>
    public Service Programmed { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        try
        {
            Build();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private void Build()
    {
        Topology = Topology.Create(3);
        Options = Options with { Maglev = Options.Maglev with { Seed = FindAffinitySeed() } };
        foreach (var b in Topology.Backends)
            _servers.Add(new BackendServer(b.Namespace, b.Name, Port, [b.AddressV4, b.AddressV6, Topology.VipV4, Topology.VipV6]));

        BpfFileSystem.EnsureMounted();
        PinRoot = Path.Combine(BpfFileSystem.DefaultRoot, $"lb-e2e-{Topology.Id}");
        _datapath = LbDatapath.Load(new LbDatapathOptions
        {
            ObjectPath = BpfObjects.LbXdp,
            PinRoot = PinRoot,
            FlowTableCapacity = FlowCapacity,
            MaglevTableSize = Options.Maglev.TableSize,
        });
        // Netlink acts on the calling thread's namespace: attach from a thread inside the balancer's.
        var modes = InNamespace.Run(Topology.BalancerNs, () =>
        {
            var attachments = _datapath.Attach(Topology.BalancerInterfaces, XdpMode.Native, allowGenericFallback: false);
            var result = attachments.Select(a => a.Mode).ToList();
            foreach (var a in attachments)
                a.Dispose();
            return result;
        });
        if (modes.Count != Topology.BalancerInterfaces.Count || modes.Any(m => m != XdpMode.Native))
            throw new InvalidOperationException($"lb_xdp is not attached natively everywhere: {string.Join(", ", modes)}");

        if (Mode == ForwardingMode.DsrIpip)
        {
            // This kernel has no ipip / ip6_tunnel module: the backends decapsulate with Lb's own program.
            foreach (var b in Topology.Backends)
                InNamespace.Run(b.Namespace, AttachDecap);
        }

        // The topology has no neighbour entries on the balancer: the programmer has the kernel keep managed ones
        // for the backends' next hops, as `lb run` does. They go with the namespace.
        Neighbours = new IpNeighbourKeeper(Topology.BalancerNs, recordPath: null);
        _programmer = new Programmer(_datapath.Maps, new ProgrammerOptions
        {
            SnatAddressV4 = Topology.BalancerV4,
            SnatAddressV6 = Topology.BalancerV6,
            // Short enough that a 5-tuple the client reuses after TIME_WAIT (60 s) is scheduled afresh.
            FlowTimeout = TimeSpan.FromSeconds(30),
        }, neighbours: Neighbours);
        Apply(Web());
    }

    private static uint AttachDecap()
    {
        using var obj = BpfObject.Open(BpfObjects.LbDecap);
        obj.Load();
        using var program = obj.GetProgram("lb_decap");
        using var attachment = XdpAttachment.Attach(Interfaces.IndexOf("e0"), program, XdpMode.Native, allowGenericFallback: false);
        return attachment.ProgramId;
    }

    /// <summary>The backends of the three hosts given (all three by default), both families, port 80, active.</summary>
    public EquatableArray<Backend> Backends(params int[] hosts) =>
        (hosts.Length == 0 ? [0, 1, 2] : hosts)
            .SelectMany(i => new[] { Topology.Backends[i].AddressV4, Topology.Backends[i].AddressV6 })
            .Select(address => new Backend(address, Port))
            .ToEquatableArray();

    /// <summary>"web": both VIPs, port 80, TCP and UDP, every backend, this fixture's forwarding mode.</summary>
    public Service Web() => new(
        ServiceName,
        EquatableArray.Create(
            Frontend.At(Topology.VipV4, Port, L4Protocol.Tcp),
            Frontend.At(Topology.VipV4, Port, L4Protocol.Udp),
            Frontend.At(Topology.VipV6, Port, L4Protocol.Tcp),
            Frontend.At(Topology.VipV6, Port, L4Protocol.Udp)),
        Backends(),
        ServicePolicy.Default with { Forwarding = Mode });

    /// <summary>Programs <paramref name="service"/> as the only service, keeping the ids of what stays.</summary>
    public ApplyResult Apply(Service service)
    {
        var programmer = _programmer ?? throw new InvalidOperationException("the programmer is not set up");
        var result = programmer.Apply(DesiredState.Build(Options, [service], programmer.Applied));
        Programmed = service;
        return result;
    }

    /// <summary>"web" with ClientIP affinity (2 s) and only the backends of <paramref name="hosts"/>.</summary>
    public Service WithAffinity(params int[] hosts)
    {
        var web = Web();
        return web with { Backends = Backends(hosts), Policy = web.Policy with { Affinity = new SessionAffinity(AffinityTimeoutSeconds) } };
    }

    /// <summary>
    /// With affinity Maglev hashes only the client address, so whether adding backend 2 moves the client
    /// depends on the seed. The first seed (of a fixed sequence, so every run uses the same one) under
    /// which it moves for both the IPv4 and the IPv6 client lets the affinity test see a new choice.
    /// </summary>
    private string FindAffinitySeed()
    {
        for (var i = 0; i < 1000; i++)
        {
            var options = Options with { Maglev = Options.Maglev with { Seed = $"e2e-{i}" } };
            if (new[] { false, true }.All(ipv6 => !PickForClient(options, WithAffinity(AffinityHostsBefore), ipv6)
                    .Equals(PickForClient(options, WithAffinity(), ipv6))))
                return options.Maglev.Seed;
        }
        throw new InvalidOperationException("no seed among e2e-0..e2e-999 moves the client when backend 2 is added");
    }

    private static IPAddress PickForClient(DatapathOptions options, Service service, bool ipv6) =>
        new MaglevPrediction(options, service).Pick(Client(ipv6), 0, Vip(ipv6), Port, L4Protocol.Tcp);

    public MaglevPrediction Predict() => new(Options, Programmed);

    /// <summary>How often lb_xdp gave <paramref name="reason"/>, summed over the CPUs.</summary>
    public ulong ReasonCount(LbReason reason) =>
        Maps.Reasons.LookupPerCpu((uint)reason)?.Aggregate(0UL, (sum, n) => sum + n)
        ?? throw new InvalidOperationException($"lb_reasons has no slot {reason}");

    public BackendHost HostOf(string name) => Topology.Backends.Single(b => b.Name == name);

    public static IPAddress Vip(bool ipv6) => ipv6 ? Topology.VipV6 : Topology.VipV4;

    public static IPAddress Client(bool ipv6) => ipv6 ? Topology.ClientV6 : Topology.ClientV4;

    public async Task DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        var failures = new List<Exception>();
        foreach (var server in _servers)
        {
            try
            {
                await server.DisposeAsync();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }
        _datapath?.Dispose();
        try
        {
            // Deleting the namespaces deletes the veths, and the XDP attachments with them.
            if (Topology is not null)
                await Topology.DisposeAsync();
        }
        catch (Exception e)
        {
            failures.Add(e);
        }
        try
        {
            if (PinRoot.Length > 0 && Directory.Exists(PinRoot))
                Directory.Delete(PinRoot, recursive: true);
        }
        catch (Exception e)
        {
            failures.Add(e);
        }
        if (failures.Count > 0)
            throw new AggregateException("cleaning up the end-to-end topology failed", failures);
    }
}

public sealed class NatBalancer() : BalancerFixture(ForwardingMode.Nat);

public sealed class DsrIpipBalancer() : BalancerFixture(ForwardingMode.DsrIpip);

public sealed class DsrL2Balancer() : BalancerFixture(ForwardingMode.DsrL2);
