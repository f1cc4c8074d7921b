using System.Net;
using System.Net.Sockets;

namespace Lb.Core.Model;

/// <summary>
/// Where clients reach a service. <see cref="Address"/> is null only for a NodePort frontend that
/// matches any local address of the node (of the given <see cref="Family"/>).
/// </summary>
public sealed record Frontend(IPAddress? Address, ushort Port, L4Protocol Protocol, FrontendKind Kind, AddressFamily Family)
{
    public static Frontend At(IPAddress address, ushort port, L4Protocol protocol, FrontendKind kind = FrontendKind.Static) =>
        new(address, port, protocol, kind, address.AddressFamily);

    /// <summary>A NodePort that matches every local address of one family.</summary>
    public static Frontend AnyAddress(ushort port, L4Protocol protocol, AddressFamily family) =>
        new(null, port, protocol, FrontendKind.NodePort, family);

    /// <summary>The datapath's lookup key: address, port and protocol (kind is bookkeeping, not identity).</summary>
    public FrontendKey Key => new(Address, Port, Protocol, Family);

    public override string ToString() => $"{Key} ({Kind})";
}

/// <summary>The identity of a frontend as the datapath matches it. Two services may not share one.</summary>
public readonly record struct FrontendKey(IPAddress? Address, ushort Port, L4Protocol Protocol, AddressFamily Family)
{
    public override string ToString()
    {
        var address = Address is null
            ? (Family == AddressFamily.InterNetworkV6 ? "[::]" : "0.0.0.0")
            : Endpoints.FormatAddress(Address);
        return $"{address}:{Port}/{Protocol.ToString().ToLowerInvariant()}";
    }
}

/// <summary>
/// A backend of one service. Its identity (<c>address:port</c>, IPv6 in brackets) is what Maglev hashes,
/// so every Lb node computes the same table from the same backend set.
/// </summary>
public sealed record Backend(IPAddress Address, ushort Port, ushort Weight = 1, BackendState State = BackendState.Active)
{
    public string Identity => Endpoints.Format(Address, Port);

    public override string ToString() => $"{Identity} w={Weight} {State.ToString().ToLowerInvariant()}";
}

/// <summary>Session affinity by client address; <see cref="TimeoutSeconds"/> is refreshed on every use.</summary>
public sealed record SessionAffinity(uint TimeoutSeconds)
{
    public const uint DefaultTimeoutSeconds = 10800;
    public const uint MaxTimeoutSeconds = 86400;
}

public sealed record ServicePolicy(
    ForwardingMode Forwarding,
    SchedulerKind Scheduler,
    SessionAffinity? Affinity,
    TrafficPolicy ExternalTrafficPolicy,
    EquatableArray<IPNetwork> SourceRanges)
{
    public static ServicePolicy Default { get; } =
        new(ForwardingMode.Nat, SchedulerKind.Maglev, null, TrafficPolicy.Cluster, EquatableArray<IPNetwork>.Empty);

    /// <summary>An empty list allows every client.</summary>
    public bool AllowsEveryClient => SourceRanges.Count == 0;
}

/// <summary>One service: its frontends share one backend set, one policy and one Maglev table.</summary>
public sealed record Service(string Name, EquatableArray<Frontend> Frontends, EquatableArray<Backend> Backends, ServicePolicy Policy)
{
    /// <summary>
    /// The backends that take new flows: the active ones, or, when none is active, the terminating ones.
    /// Sorted by identity so the result does not depend on the order the source listed them in.
    /// </summary>
    public IReadOnlyList<Backend> SchedulableBackends() => Schedulable(Backends);

    /// <summary>
    /// The backends of one address family that take new flows. The terminating fallback is decided per
    /// family, as kube-proxy does: a packet can only reach a backend of its own family, so active IPv4
    /// backends must not leave IPv6 clients without the terminating IPv6 ones.
    /// </summary>
    public IReadOnlyList<Backend> SchedulableBackends(AddressFamily family) =>
        Schedulable(Backends.Where(b => b.Address.AddressFamily == family));

    private static List<Backend> Schedulable(IEnumerable<Backend> backends)
    {
        var candidates = backends.Where(b => b.Weight > 0).ToList();
        var active = candidates.Where(b => b.State == BackendState.Active).ToList();
        var chosen = active.Count > 0 ? active : candidates.Where(b => b.State == BackendState.Terminating).ToList();
        chosen.Sort((a, b) => string.CompareOrdinal(a.Identity, b.Identity));
        return chosen;
    }
}

public static class Endpoints
{
    public static string FormatAddress(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    /// <summary><c>203.0.113.1:80</c> or <c>[2001:db8::1]:80</c>: the canonical form used as a backend identity.</summary>
    public static string Format(IPAddress address, ushort port) => $"{FormatAddress(address)}:{port}";
}
