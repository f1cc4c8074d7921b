using System.Net;
using System.Net.Sockets;
using Lb.Core.Model;

namespace Lb.Core.State;

/// <summary>
/// Orders that make a snapshot independent of the order a source listed things in: a reordered lb.yaml
/// or a relisted EndpointSlice must give an equal snapshot and an empty diff.
/// </summary>
public static class Canonical
{
    /// <summary>IPv4 before IPv6, any-address before addresses, then address bytes, port, protocol.</summary>
    public static IComparer<FrontendKey> FrontendKeys { get; } = Comparer<FrontendKey>.Create(CompareFrontendKeys);

    /// <summary>IPv4 before IPv6, then base address bytes, then prefix length.</summary>
    public static IComparer<IPNetwork> Networks { get; } = Comparer<IPNetwork>.Create(CompareNetworks);

    private static int CompareFrontendKeys(FrontendKey a, FrontendKey b)
    {
        var byFamily = FamilyRank(a.Family).CompareTo(FamilyRank(b.Family));
        if (byFamily != 0)
            return byFamily;
        var byAddress = (a.Address, b.Address) switch
        {
            (null, null) => 0,
            (null, _) => -1,
            (_, null) => 1,
            var (x, y) => CompareAddresses(x, y),
        };
        if (byAddress != 0)
            return byAddress;
        var byPort = a.Port.CompareTo(b.Port);
        return byPort != 0 ? byPort : ((byte)a.Protocol).CompareTo((byte)b.Protocol);
    }

    private static int CompareNetworks(IPNetwork a, IPNetwork b)
    {
        var byAddress = CompareAddresses(a.BaseAddress, b.BaseAddress);
        return byAddress != 0 ? byAddress : a.PrefixLength.CompareTo(b.PrefixLength);
    }

    private static int CompareAddresses(IPAddress a, IPAddress b)
    {
        var byFamily = FamilyRank(a.AddressFamily).CompareTo(FamilyRank(b.AddressFamily));
        if (byFamily != 0)
            return byFamily;
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, out var xLength);
        b.TryWriteBytes(y, out var yLength);
        var byBytes = x[..xLength].SequenceCompareTo(y[..yLength]);
        return byBytes != 0 || a.AddressFamily != AddressFamily.InterNetworkV6 ? byBytes : a.ScopeId.CompareTo(b.ScopeId);
    }

    private static int FamilyRank(AddressFamily family) => family == AddressFamily.InterNetwork ? 0 : 1;

    /// <summary>Source ranges sorted and without repeats: the same set of CIDRs is the same policy.</summary>
    internal static ServicePolicy Normalize(ServicePolicy policy)
    {
        var ranges = policy.SourceRanges.Distinct().Order(Networks).ToEquatableArray();
        return ranges == policy.SourceRanges ? policy : policy with { SourceRanges = ranges };
    }
}
