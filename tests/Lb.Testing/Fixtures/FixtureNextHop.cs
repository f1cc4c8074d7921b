using System.Net;
using Lb.Datapath.Abi;
using Lb.Datapath.Engine;

namespace Lb.Testing.Fixtures;

/// <summary>
/// <see cref="FixtureNetwork"/> as the managed engine's next hop: what bpf_fib_lookup answers inside the
/// namespace the BPF tests build from the same data. A destination in an interface's connected prefix
/// routes out of that interface (no other routes); its neighbour entry gives the MAC, or the answer is
/// "no neighbour"; no route, or an IP length above the interface MTU (1500, a veth's default), fails.
/// Lookups scan small arrays and allocate nothing.
/// </summary>
public sealed class FixtureNextHop : INextHop
{
    /// <summary>The MTU of the namespace's veth interfaces.</summary>
    public const int Mtu = 1500;

    private readonly Route[] _routes;
    private readonly Neighbour[] _neighbours;

    public FixtureNextHop(uint clientSideIfindex = 2, uint backendSideIfindex = 3)
    {
        ClientSideIfindex = clientSideIfindex;
        BackendSideIfindex = backendSideIfindex;
        var routes = new List<Route>();
        foreach (var net in new[] { FixtureNetwork.V4, FixtureNetwork.V6 })
        {
            routes.Add(new Route(Family(net.ClientSideAddress), LbAddress.FromIPAddress(net.ClientSideAddress), net.Prefix, clientSideIfindex, Mac(FixtureNetwork.ClientSideMac)));
            routes.Add(new Route(Family(net.Balancer), LbAddress.FromIPAddress(net.Balancer), net.Prefix, backendSideIfindex, Mac(FixtureNetwork.BackendSideMac)));
        }
        _routes = [.. routes];
        _neighbours = FixtureNetwork.Neighbours()
            .Select(n => new Neighbour(n.Interface == FixtureNetwork.ClientSide ? clientSideIfindex : backendSideIfindex, Family(n.Address), LbAddress.FromIPAddress(n.Address), Mac(n.Mac)))
            .ToArray();
    }

    public uint ClientSideIfindex { get; }

    public uint BackendSideIfindex { get; }

    /// <summary>The ifindex of a fixture interface by name (<see cref="FixtureNetwork.ClientSide"/> or <see cref="FixtureNetwork.BackendSide"/>).</summary>
    public uint IfindexOf(string interfaceName) => interfaceName switch
    {
        FixtureNetwork.ClientSide => ClientSideIfindex,
        FixtureNetwork.BackendSide => BackendSideIfindex,
        _ => throw new ArgumentException($"the fixture network has no interface {interfaceName}", nameof(interfaceName)),
    };

    public NextHopOutcome Resolve(in NextHopQuery query, out NextHop nextHop)
    {
        nextHop = default;
        for (var r = 0; r < _routes.Length; r++)
        {
            ref readonly var route = ref _routes[r];
            if (route.Family != query.Family || !InPrefix(route.Network, query.Destination, route.PrefixLength))
                continue;
            if (query.TotalLength > Mtu)
                return NextHopOutcome.Failed;
            for (var n = 0; n < _neighbours.Length; n++)
            {
                ref readonly var neighbour = ref _neighbours[n];
                if (neighbour.Ifindex == route.Ifindex && neighbour.Family == query.Family && neighbour.Address.Equals(query.Destination))
                {
                    nextHop.Ifindex = route.Ifindex;
                    nextHop.SourceMac = route.Mac;
                    nextHop.DestinationMac = neighbour.Mac;
                    return NextHopOutcome.Success;
                }
            }
            return NextHopOutcome.NoNeighbour;
        }
        return NextHopOutcome.Failed;
    }

    private static bool InPrefix(in LbAddress network, in LbAddress address, int prefixLength)
    {
        ReadOnlySpan<byte> a = network;
        ReadOnlySpan<byte> b = address;
        var whole = prefixLength / 8;
        if (!a[..whole].SequenceEqual(b[..whole]))
            return false;
        var rest = prefixLength % 8;
        if (rest == 0)
            return true;
        var mask = (byte)(0xff << (8 - rest));
        return (a[whole] & mask) == (b[whole] & mask);
    }

    private static LbFamily Family(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? LbFamily.IPv4 : LbFamily.IPv6;

    private static LbMacAddress Mac(Mac mac)
    {
        Span<byte> bytes = stackalloc byte[6];
        mac.WriteTo(bytes);
        return LbMacAddress.From(bytes);
    }

    private readonly record struct Route(LbFamily Family, LbAddress Network, int PrefixLength, uint Ifindex, LbMacAddress Mac);

    private readonly record struct Neighbour(uint Ifindex, LbFamily Family, LbAddress Address, LbMacAddress Mac);
}
