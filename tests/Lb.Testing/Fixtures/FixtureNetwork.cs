using System.Net;
using System.Net.Sockets;

namespace Lb.Testing.Fixtures;

/// <summary>
/// The network every golden fixture is set in, as data: the balancer's two interfaces and the
/// neighbours it knows. The BPF tests build it as a namespace (bpf_fib_lookup then answers from it);
/// an engine without a FIB can answer from the same table.
/// <code>
///   client 198.18.1.2 / fd5b:1::2 ---- [lbf0] 198.18.1.1/24, fd5b:1::1/64    (client side, ingress)
///                                       [lbf1] 198.18.2.1/24, fd5b:2::1/64    (backend side, SNAT address)
///                                        ---- backends 198.18.2.11-13 / fd5b:2::11-13
///   VIPs 198.19.0.10 and fd5b:ff::10 are nobody's address; 198.18.2.99 / fd5b:2::99 has no neighbour entry.
/// </code>
/// </summary>
public static class FixtureNetwork
{
    public const string ClientSide = "lbf0";
    public const string BackendSide = "lbf1";

    public static readonly Mac ClientSideMac = Mac.Parse("02:00:00:00:f0:01");
    public static readonly Mac BackendSideMac = Mac.Parse("02:00:00:00:f1:01");
    public static readonly Mac ClientMac = Mac.Parse("02:00:00:00:01:02");

    public static readonly FamilyAddresses V4 = new(
        AddressFamily.InterNetwork,
        Client: IPAddress.Parse("198.18.1.2"),
        OutsideClient: IPAddress.Parse("198.18.1.200"),
        ClientRange: IPNetwork.Parse("198.18.1.0/28"),
        Vip: IPAddress.Parse("198.19.0.10"),
        ClientSideAddress: IPAddress.Parse("198.18.1.1"),
        Balancer: IPAddress.Parse("198.18.2.1"),
        Prefix: 24,
        Backends: [IPAddress.Parse("198.18.2.11"), IPAddress.Parse("198.18.2.12"), IPAddress.Parse("198.18.2.13")],
        Unresolved: IPAddress.Parse("198.18.2.99"));

    public static readonly FamilyAddresses V6 = new(
        AddressFamily.InterNetworkV6,
        Client: IPAddress.Parse("fd5b:1::2"),
        OutsideClient: IPAddress.Parse("fd5b:1::c8"),
        ClientRange: IPNetwork.Parse("fd5b:1::/124"),
        Vip: IPAddress.Parse("fd5b:ff::10"),
        ClientSideAddress: IPAddress.Parse("fd5b:1::1"),
        Balancer: IPAddress.Parse("fd5b:2::1"),
        Prefix: 64,
        Backends: [IPAddress.Parse("fd5b:2::11"), IPAddress.Parse("fd5b:2::12"), IPAddress.Parse("fd5b:2::13")],
        Unresolved: IPAddress.Parse("fd5b:2::99"));

    public static FamilyAddresses Of(AddressFamily family) => family == AddressFamily.InterNetwork ? V4 : V6;

    /// <summary>Backend i's MAC, the same in both families (one host with two addresses).</summary>
    public static Mac BackendMac(int index) => new(0x02, 0, 0, 0, 0x02, (byte)(0x11 + index));

    /// <summary>Every neighbour entry of the balancer: (interface, address, MAC). The unresolved address has none.</summary>
    public static IEnumerable<(string Interface, IPAddress Address, Mac Mac)> Neighbours()
    {
        foreach (var net in new[] { V4, V6 })
        {
            yield return (ClientSide, net.Client, ClientMac);
            for (var i = 0; i < net.Backends.Length; i++)
                yield return (BackendSide, net.Backends[i], BackendMac(i));
        }
    }

    /// <summary>The MAC of a neighbour address: what the balancer must write as the destination toward it.</summary>
    public static Mac NeighbourMac(IPAddress address)
    {
        foreach (var (_, neighbour, mac) in Neighbours())
        {
            if (neighbour.Equals(address))
                return mac;
        }
        throw new ArgumentException($"{address} has no neighbour entry in the fixture network", nameof(address));
    }
}

/// <summary>The fixture network's addresses of one family. <see cref="Balancer"/> is Lb's own (SNAT, IPIP source) address.</summary>
public sealed record FamilyAddresses(
    AddressFamily Family,
    IPAddress Client,
    IPAddress OutsideClient,
    IPNetwork ClientRange,
    IPAddress Vip,
    IPAddress ClientSideAddress,
    IPAddress Balancer,
    int Prefix,
    IPAddress[] Backends,
    IPAddress Unresolved)
{
    public string Name => Family == AddressFamily.InterNetwork ? "v4" : "v6";
}
