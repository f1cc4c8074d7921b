using System.Net.Sockets;
using Lb.Core.Model;

namespace Lb.Core.State;

/// <summary>
/// A service as a snapshot holds it: its id, its record in canonical order (frontends by key, backends by
/// identity, source ranges sorted) and its backends with their ids, in the same order.
/// </summary>
public sealed record ServiceEntry
{
    internal ServiceEntry(uint id, Service service, EquatableArray<BackendEntry> backends)
    {
        Id = id;
        Service = service;
        Backends = backends;
    }

    public uint Id { get; }

    public Service Service { get; }

    public EquatableArray<BackendEntry> Backends { get; }

    public string Name => Service.Name;

    public bool TryGetBackend(string identity, out BackendEntry backend)
    {
        var items = Backends.AsImmutableArray();
        int low = 0, high = items.Length - 1;
        while (low <= high)
        {
            var middle = low + ((high - low) >> 1);
            var order = string.CompareOrdinal(items[middle].Identity, identity);
            if (order == 0)
            {
                backend = items[middle];
                return true;
            }

            if (order < 0)
                low = middle + 1;
            else
                high = middle - 1;
        }

        backend = null!;
        return false;
    }

    public override string ToString() => $"{Name} (id {Id}, {Backends.Count} backends)";
}

/// <summary>
/// A backend with its id and its owner's id, as lb_backends stores it. The identity is kept beside the
/// record because Maglev, the diff and the id lookup all key on it.
/// </summary>
public sealed record BackendEntry
{
    internal BackendEntry(uint id, uint serviceId, Backend backend, string identity)
    {
        Id = id;
        ServiceId = serviceId;
        Backend = backend;
        Identity = identity;
    }

    public uint Id { get; }

    public uint ServiceId { get; }

    public Backend Backend { get; }

    /// <summary><c>address:port</c>, as <see cref="Model.Backend.Identity"/>.</summary>
    public string Identity { get; }

    public AddressFamily Family => Backend.Address.AddressFamily;

    public override string ToString() => $"#{Id} {Backend} (service {ServiceId})";
}

/// <summary>A frontend and the service id its lb_services entry points at.</summary>
public sealed record FrontendEntry(Frontend Frontend, uint ServiceId)
{
    public FrontendKey Key => Frontend.Key;

    public override string ToString() => $"{Frontend} -> service {ServiceId}";
}

/// <summary>
/// One Maglev table: a service's table for one address family (a packet can only go to a backend of its
/// family). lb_maglev keys it as <c>(service_id &lt;&lt; 1) | is_ipv6</c>.
/// </summary>
public readonly record struct MaglevKey(uint ServiceId, AddressFamily Family) : IComparable<MaglevKey>
{
    public int CompareTo(MaglevKey other)
    {
        var byService = ServiceId.CompareTo(other.ServiceId);
        return byService != 0 ? byService : IsIPv6.CompareTo(other.IsIPv6);
    }

    private bool IsIPv6 => Family == AddressFamily.InterNetworkV6;

    public override string ToString() => $"service {ServiceId} {(IsIPv6 ? "IPv6" : "IPv4")}";
}
