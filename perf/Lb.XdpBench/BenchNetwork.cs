using Lb.Agent.Demo;
using System.Net;
using Lb.Testing;

namespace Lb.XdpBench;

/// <summary>
/// The one namespace the benchmark runs lb_xdp in, so that bpf_fib_lookup finds a route and a
/// resolved neighbour for every packet it forwards:
/// <code>
///   namespace lbx-ID: veth lbx0 (ingress, 198.18.1.1/24 and 198.18.10.1/24) &lt;-&gt; lbx1
///   permanent neighbours on lbx0: the client 198.18.1.2 and every backend 198.18.10.2 ..
/// </code>
/// Client and backends sit behind the ingress interface (a one-armed balancer), so every forwarded
/// frame leaves by XDP_TX and none needs a redirect target. Nothing is sent: BPF_PROG_TEST_RUN without
/// live frames only returns the frame.
/// </summary>
public sealed class BenchNetwork : IDisposable
{
    public const string Ingress = "lbx0";
    private const string Peer = "lbx1";

    public static readonly IPAddress BalancerAddress = IPAddress.Parse("198.18.1.1");
    public static readonly IPAddress Client = IPAddress.Parse("198.18.1.2");
    public static readonly Mac ClientMac = Mac.Parse("02:00:00:00:01:02");
    public static readonly Mac IngressMac = Mac.Parse("02:00:00:00:01:01");

    private bool _created;

    private BenchNetwork(string name, IReadOnlyList<IPAddress> backends)
    {
        Name = name;
        Backends = backends;
    }

    public string Name { get; }

    /// <summary>The measured service's backends, each with a permanent neighbour entry.</summary>
    public IReadOnlyList<IPAddress> Backends { get; }

    public static Mac BackendMac(int index) => new(0x02, 0, 0, 0, 0x0a, (byte)(index + 2));

    public static IPAddress BackendAddress(int index) => IPAddress.Parse($"198.18.10.{index + 2}");

    public static BenchNetwork Create(string id, int backendCount)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(backendCount, 250);
        var network = new BenchNetwork($"lbx-{id}", Enumerable.Range(0, backendCount).Select(BackendAddress).ToList());
        try
        {
            network.Build();
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>The MAC bpf_fib_lookup must write as destination for a frame toward <paramref name="address"/>.</summary>
    public Mac NeighbourMac(IPAddress address)
    {
        if (address.Equals(Client))
            return ClientMac;
        for (var i = 0; i < Backends.Count; i++)
        {
            if (Backends[i].Equals(address))
                return BackendMac(i);
        }
        throw new ArgumentException($"{address} has no neighbour entry in {Name}.", nameof(address));
    }

    private void Build()
    {
        Shell.Run("ip", "netns", "add", Name);
        _created = true;
        Ip("link", "set", "lo", "up");
        Ip("link", "add", Ingress, "type", "veth", "peer", "name", Peer);
        Ip("link", "set", Ingress, "address", IngressMac.ToString());
        Ip("link", "set", Ingress, "up");
        Ip("link", "set", Peer, "up");
        Ip("addr", "add", $"{BalancerAddress}/24", "dev", Ingress);
        Ip("addr", "add", "198.18.10.1/24", "dev", Ingress);
        // bpf_fib_lookup answers "forwarding disabled" (LB_PASS_FIB_FAILED) without these.
        Shell.InNamespace(Name, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        Shell.InNamespace(Name, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1");
        Neighbour(Client, ClientMac);
        for (var i = 0; i < Backends.Count; i++)
            Neighbour(Backends[i], BackendMac(i));
    }

    private void Neighbour(IPAddress address, Mac mac) =>
        Ip("neigh", "replace", address.ToString(), "lladdr", mac.ToString(), "dev", Ingress, "nud", "permanent");

    private void Ip(params string[] args) => Shell.Run("ip", ["-n", Name, .. args]);

    /// <summary>Deletes the namespace, and the veth pair with it.</summary>
    public void Dispose()
    {
        if (!_created)
            return;
        _created = false;
        var (code, _, err) = Shell.TryRun("ip", "netns", "delete", Name);
        if (code != 0 && !err.Contains("No such file"))
            throw new InvalidOperationException($"could not delete namespace {Name}: {err.Trim()}");
    }
}
