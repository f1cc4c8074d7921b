using System.Net;

namespace Lb.Agent.Demo;

/// <summary>
/// A namespace topology for end-to-end tests, the demo and the benchmarks:
/// <code>
///   client ns            balancer ns                     backend ns i (0..n-1)
///   [c0] 198.18.1.2 ---- [l0] 198.18.1.1   [b{i}] ---- [e0] 198.18.(10+i).2
///        fd5b:1::2            fd5b:1::1     198.18.(10+i).1    fd5b:(10+i)::2
///                                           fd5b:(10+i)::1     VIP on lo (for DSR)
/// </code>
/// The client routes the VIPs to the balancer; backends route everything back through it. The balancer
/// has no neighbour entries made for it: Lb's programmer asks for managed ones (IpNeighbourKeeper). Names are
/// unique per instance (tests run in parallel), addresses are fixed (every namespace has its own
/// stack). <see cref="DisposeAsync"/> deletes every namespace, which removes every veth with it.
/// </summary>
public sealed class Topology : IAsyncDisposable
{
    public static readonly IPAddress VipV4 = IPAddress.Parse("198.19.0.10");
    public static readonly IPAddress VipV6 = IPAddress.Parse("fd5b:ff::10");
    public static readonly IPAddress ClientV4 = IPAddress.Parse("198.18.1.2");
    public static readonly IPAddress ClientV6 = IPAddress.Parse("fd5b:1::2");
    public static readonly IPAddress BalancerV4 = IPAddress.Parse("198.18.1.1");
    public static readonly IPAddress BalancerV6 = IPAddress.Parse("fd5b:1::1");

    private readonly List<string> _namespaces = new();

    /// <summary>The namespaces' prefix unless the caller names its own (tests: "lbt", the demo: "lbdemo").</summary>
    public const string DefaultNamePrefix = "lbt";

    private Topology(string prefix, string id, int backendCount)
    {
        Id = id;
        NamePrefix = $"{prefix}-{id}-";
        ClientNs = $"{prefix}-{id}-c";
        BalancerNs = $"{prefix}-{id}-lb";
        Backends = Enumerable.Range(0, backendCount).Select(i => new BackendHost(
            i,
            $"{prefix}-{id}-b{i}",
            $"b{i}",
            IPAddress.Parse($"198.18.{10 + i}.2"),
            IPAddress.Parse($"fd5b:{10 + i}::2"),
            IPAddress.Parse($"198.18.{10 + i}.1"),
            IPAddress.Parse($"fd5b:{10 + i}::1"))).ToList();
    }

    public string Id { get; }

    /// <summary>What every namespace name of this topology starts with, "&lt;prefix&gt;-&lt;id&gt;-".</summary>
    public string NamePrefix { get; }
    public string ClientNs { get; }
    public string BalancerNs { get; }
    public IReadOnlyList<BackendHost> Backends { get; }

    /// <summary>The balancer's interfaces: the client-facing one first, then one per backend.</summary>
    public IReadOnlyList<string> BalancerInterfaces => ["l0", .. Backends.Select(b => b.BalancerInterface)];

    /// <param name="id">Part of every namespace name; a fresh random one unless given.</param>
    public static Topology Create(int backendCount = 3, bool vipOnBackends = true, string namePrefix = DefaultNamePrefix, string? id = null)
    {
        var topology = new Topology(namePrefix, id ?? Guid.NewGuid().ToString("N")[..6], backendCount);
        try
        {
            topology.Build(vipOnBackends);
            return topology;
        }
        catch
        {
            topology.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    private void Build(bool vipOnBackends)
    {
        AddNamespace(ClientNs);
        AddNamespace(BalancerNs);
        foreach (var b in Backends)
            AddNamespace(b.Namespace);

        Link(ClientNs, "c0", BalancerNs, "l0");
        Address(ClientNs, "c0", ClientV4, 24, ClientV6, 64);
        Address(BalancerNs, "l0", BalancerV4, 24, BalancerV6, 64);
        Ip(ClientNs, "route", "add", "default", "via", BalancerV4.ToString());
        Ip(ClientNs, "-6", "route", "add", "default", "via", BalancerV6.ToString());
        Sysctl(BalancerNs, "net.ipv4.ip_forward=1");
        Sysctl(BalancerNs, "net.ipv6.conf.all.forwarding=1");
        Sysctl(BalancerNs, "net.ipv4.conf.all.rp_filter=0");

        foreach (var b in Backends)
        {
            Link(BalancerNs, b.BalancerInterface, b.Namespace, "e0");
            Address(BalancerNs, b.BalancerInterface, b.GatewayV4, 24, b.GatewayV6, 64);
            Address(b.Namespace, "e0", b.AddressV4, 24, b.AddressV6, 64);
            Ip(b.Namespace, "route", "add", "default", "via", b.GatewayV4.ToString());
            Ip(b.Namespace, "-6", "route", "add", "default", "via", b.GatewayV6.ToString());
            Sysctl(b.Namespace, "net.ipv4.conf.all.rp_filter=0");
            Sysctl(b.Namespace, "net.ipv4.conf.e0.rp_filter=0");
            if (vipOnBackends)
            {
                Ip(b.Namespace, "addr", "add", $"{VipV4}/32", "dev", "lo");
                Ip(b.Namespace, "addr", "add", $"{VipV6}/128", "dev", "lo", "nodad");
            }
            PrepareEndpointInterface(b.Namespace, "e0");
        }
        PrepareEndpointInterface(ClientNs, "c0");
    }

    /// <summary>The MAC address of <paramref name="dev"/> in <paramref name="ns"/> (`ip -br link`: name, state, address, flags).</summary>
    public static string MacOf(string ns, string dev)
    {
        var fields = Ip(ns, "-br", "link", "show", "dev", dev).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 3 || fields[2].Count(c => c == ':') != 5)
            throw new InvalidOperationException($"cannot read the MAC address of {dev} in {ns} from `ip -br link`: {string.Join(' ', fields)}");
        return fields[2];
    }

    /// <summary>
    /// XDP_TX / XDP_REDIRECT into a veth arrive only if the receiving peer runs NAPI (GRO on). TX
    /// checksum offload is off because a veth hands the balancer's XDP program frames whose L4
    /// checksum is only partial, and an incremental update of a partial checksum is wrong.
    /// </summary>
    private static void PrepareEndpointInterface(string ns, string dev)
    {
        Shell.InNamespace(ns, "ethtool", "-K", dev, "gro", "on");
        Shell.InNamespace(ns, "ethtool", "-K", dev, "tx", "off");
    }

    private void AddNamespace(string ns)
    {
        Shell.Run("ip", "netns", "add", ns);
        _namespaces.Add(ns);
        Ip(ns, "link", "set", "lo", "up");
        Sysctl(ns, "net.ipv6.conf.all.accept_dad=0");
        Sysctl(ns, "net.ipv6.conf.default.accept_dad=0");
    }

    private static void Link(string nsA, string ifA, string nsB, string ifB)
    {
        Shell.Run("ip", "link", "add", ifA, "netns", nsA, "type", "veth", "peer", "name", ifB, "netns", nsB);
        Ip(nsA, "link", "set", ifA, "up");
        Ip(nsB, "link", "set", ifB, "up");
    }

    private static void Address(string ns, string dev, IPAddress v4, int v4Prefix, IPAddress v6, int v6Prefix)
    {
        Ip(ns, "addr", "add", $"{v4}/{v4Prefix}", "dev", dev);
        Ip(ns, "addr", "add", $"{v6}/{v6Prefix}", "dev", dev, "nodad");
    }

    public static string Ip(string ns, params string[] args) => Shell.Run("ip", ["-n", ns, .. args]);

    public static void Sysctl(string ns, string setting) => Shell.InNamespace(ns, "sysctl", "-q", "-w", setting);

    public ValueTask DisposeAsync()
    {
        List<string> failures = new();
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            var (code, _, err) = Shell.TryRun("ip", "netns", "delete", ns);
            if (code != 0 && !err.Contains("No such file"))
                failures.Add($"{ns}: {err.Trim()}");
        }
        _namespaces.Clear();
        if (failures.Count > 0)
            throw new InvalidOperationException("could not delete namespaces: " + string.Join("; ", failures));
        return ValueTask.CompletedTask;
    }
}

/// <summary>One backend namespace, its addresses and the balancer-side interface that leads to it.</summary>
public sealed record BackendHost(
    int Index,
    string Namespace,
    string BalancerInterface,
    IPAddress AddressV4,
    IPAddress AddressV6,
    IPAddress GatewayV4,
    IPAddress GatewayV6)
{
    public string Name => $"backend-{Index}";

    public IPAddress Address(bool v6) => v6 ? AddressV6 : AddressV4;
}
