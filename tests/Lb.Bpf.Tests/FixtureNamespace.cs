using System.Net.Sockets;
using Lb.Native;
using Lb.Testing.Fixtures;
using Lb.Testing.Kernel;

namespace Lb.Bpf.Tests;

/// <summary>
/// <see cref="FixtureNetwork"/> built as a network namespace: the two interfaces with their MACs and
/// addresses, forwarding on, and permanent neighbour entries, so bpf_fib_lookup answers every golden
/// fixture as the network's data says. One per test class; removed on Dispose.
/// </summary>
public sealed class FixtureNamespace : IDisposable
{
    public FixtureNamespace()
    {
        Namespace = new TestNamespace();
        try
        {
            Namespace.AddVethPair(FixtureNetwork.ClientSide, FixtureNetwork.ClientSide + "p");
            Namespace.AddVethPair(FixtureNetwork.BackendSide, FixtureNetwork.BackendSide + "p");
            Namespace.Ip("link", "set", FixtureNetwork.ClientSide, "address", FixtureNetwork.ClientSideMac.ToString());
            Namespace.Ip("link", "set", FixtureNetwork.BackendSide, "address", FixtureNetwork.BackendSideMac.ToString());
            foreach (var net in new[] { FixtureNetwork.V4, FixtureNetwork.V6 })
            {
                string[] noDad = net.Family == AddressFamily.InterNetworkV6 ? ["nodad"] : [];
                Namespace.Ip(["addr", "add", $"{net.ClientSideAddress}/{net.Prefix}", "dev", FixtureNetwork.ClientSide, .. noDad]);
                Namespace.Ip(["addr", "add", $"{net.Balancer}/{net.Prefix}", "dev", FixtureNetwork.BackendSide, .. noDad]);
            }
            foreach (var (device, address, mac) in FixtureNetwork.Neighbours())
                Namespace.Ip("neigh", "replace", address.ToString(), "lladdr", mac.ToString(), "dev", device, "nud", "permanent");
            Ifindex = Namespace.Run(() => new Dictionary<string, uint>
            {
                [FixtureNetwork.ClientSide] = (uint)Interfaces.IndexOf(FixtureNetwork.ClientSide),
                [FixtureNetwork.BackendSide] = (uint)Interfaces.IndexOf(FixtureNetwork.BackendSide),
            });
        }
        catch
        {
            Namespace.Dispose();
            throw;
        }
    }

    public TestNamespace Namespace { get; }

    public IReadOnlyDictionary<string, uint> Ifindex { get; }

    public void Dispose() => Namespace.Dispose();
}
