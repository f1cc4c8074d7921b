using System.Collections.Immutable;
using System.Net.Sockets;
using Lb.Core.Model;

namespace Lb.Core.State;

/// <summary>
/// What the datapath should hold, as one immutable snapshot: every service with a stable id, its backends
/// with stable ids, the frontends that point at it, and per (service, family) the backends its Maglev
/// table is built from. Readers take a snapshot through one reference swapped whole; the programmer
/// turns the <see cref="Diff"/> between the applied snapshot and the next one into map writes.
/// </summary>
/// <remarks>
/// Equality is content equality: options, services (canonical records, ids, backend ids) and the id
/// cursors. <see cref="Generation"/> is left out: it counts builds, so rebuilding the same input gives a
/// newer but equal snapshot, and an empty diff.
/// </remarks>
public sealed partial class DesiredState : IEquatable<DesiredState>, IIdHistory
{
    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    private DesiredState(long generation, DatapathOptions options, IEnumerable<ServiceEntry> services, IdCursors cursors)
    {
        Generation = generation;
        Options = options;
        Cursors = cursors;
        var byId = ImmutableSortedDictionary.CreateBuilder<uint, ServiceEntry>();
        var byName = ImmutableDictionary.CreateBuilder<string, ServiceEntry>(StringComparer.Ordinal);
        var backends = ImmutableSortedDictionary.CreateBuilder<uint, BackendEntry>();
        var frontends = ImmutableDictionary.CreateBuilder<FrontendKey, FrontendEntry>();
        var sets = ImmutableSortedDictionary.CreateBuilder<MaglevKey, EquatableArray<BackendEntry>>();
        foreach (var service in services)
        {
            byId.Add(service.Id, service);
            byName.Add(service.Name, service);
            foreach (var backend in service.Backends)
                backends.Add(backend.Id, backend);
            foreach (var frontend in service.Service.Frontends)
            {
                if (frontends.TryGetValue(frontend.Key, out var taken))
                    throw new ArgumentException(
                        $"Frontend {frontend.Key} would belong to both service {taken.ServiceId} and service {service.Id}.");
                frontends.Add(frontend.Key, new FrontendEntry(frontend, service.Id));
            }

            foreach (var family in Families)
            {
                var set = SchedulableSet(service, family);
                if (set.Count > 0)
                    sets.Add(new MaglevKey(service.Id, family), set);
            }
        }

        ServicesById = byId.ToImmutable();
        ServicesByName = byName.ToImmutable();
        BackendsById = backends.ToImmutable();
        Frontends = frontends.ToImmutable();
        SchedulableSets = sets.ToImmutable();
    }

    /// <summary>Nothing programmed: no services, default options, cursors at 0, generation 0.</summary>
    public static DesiredState Empty { get; } = new(0, DatapathOptions.Default, [], default);

    /// <summary>Counts builds: <see cref="Empty"/> is 0 and each build or apply adds one. Not part of equality.</summary>
    public long Generation { get; }

    public DatapathOptions Options { get; }

    public IdCursors Cursors { get; }

    public ImmutableSortedDictionary<uint, ServiceEntry> ServicesById { get; }

    public ImmutableDictionary<string, ServiceEntry> ServicesByName { get; }

    public ImmutableSortedDictionary<uint, BackendEntry> BackendsById { get; }

    /// <summary>Every frontend key and the service id its lb_services entry points at.</summary>
    public ImmutableDictionary<FrontendKey, FrontendEntry> Frontends { get; }

    /// <summary>
    /// The backends each Maglev table is built from, in identity order; only non-empty sets are listed (a
    /// family without schedulable backends takes the no-backend path and needs no table).
    /// </summary>
    public ImmutableSortedDictionary<MaglevKey, EquatableArray<BackendEntry>> SchedulableSets { get; }

    /// <summary>Builds the next snapshot from a validated config; ids of everything that still exists are kept.</summary>
    public static DesiredState Build(LbConfig config, DesiredState? previous = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Build(config.Datapath, config.Services, previous);
    }

    /// <summary>
    /// Builds the next snapshot. A service keeps its id while its name exists; a backend keeps its id while
    /// (service name, identity) exists, whatever else changed. New ids are handed out in name and identity
    /// order, so the result does not depend on the order of <paramref name="services"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Services that cannot be programmed together: repeated names,
    /// a frontend key in two places, a backend listed twice in one service, mismatched address families.</exception>
    /// <exception cref="IdSpaceExhaustedException">More services or backends than the maps have ids for.</exception>
    public static DesiredState Build(DatapathOptions options, IEnumerable<Service> services, DesiredState? previous = null)
    {
        previous ??= Empty;
        return Create(previous.Generation + 1, options, services, previous);
    }

    /// <summary>
    /// Builds a snapshot whose ids start from those read back after a restart (the pinned maps and the
    /// programmer's record of names), so flows recorded by the previous agent keep their backends.
    /// </summary>
    public static DesiredState Restore(DatapathOptions options, IEnumerable<Service> services, IdAssignment restored)
    {
        ArgumentNullException.ThrowIfNull(restored);
        return Create(1, options, services, restored);
    }

    /// <inheritdoc cref="Restore(DatapathOptions, IEnumerable{Service}, IdAssignment)"/>
    public static DesiredState Restore(LbConfig config, IdAssignment restored)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Restore(config.Datapath, config.Services, restored);
    }

    /// <summary>The ids and cursors of this snapshot, for the programmer to persist and restore.</summary>
    public IdAssignment ToIdAssignment() =>
        new(
            ServicesById.Values.Select(s => KeyValuePair.Create(s.Name, s.Id)),
            ServicesById.Values.SelectMany(s => s.Backends.Select(b => KeyValuePair.Create(new BackendKey(s.Name, b.Identity), b.Id))),
            Cursors);

    /// <summary>The backends the (service, family) Maglev table is built from; empty when there is no table.</summary>
    public EquatableArray<BackendEntry> SchedulableBackends(uint serviceId, AddressFamily family) =>
        SchedulableSets.TryGetValue(new MaglevKey(serviceId, family), out var set) ? set : EquatableArray<BackendEntry>.Empty;

    public bool Equals(DesiredState? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Options.Equals(other.Options)
                && Cursors == other.Cursors
                && ServicesById.Count == other.ServicesById.Count
                && ServicesById.Values.SequenceEqual(other.ServicesById.Values)));

    public override bool Equals(object? obj) => Equals(obj as DesiredState);

    public override int GetHashCode() => HashCode.Combine(Options, Cursors, ServicesById.Count, BackendsById.Count);

    public override string ToString() =>
        $"generation {Generation}: {ServicesById.Count} services, {Frontends.Count} frontends, {BackendsById.Count} backends";

    IEnumerable<uint> IIdHistory.ServiceIds => ServicesById.Keys;

    IEnumerable<uint> IIdHistory.BackendIds => BackendsById.Keys;

    bool IIdHistory.TryGetServiceId(string serviceName, out uint id)
    {
        var found = ServicesByName.TryGetValue(serviceName, out var service);
        id = found ? service!.Id : 0;
        return found;
    }

    bool IIdHistory.TryGetBackendId(string serviceName, string identity, out uint id)
    {
        if (ServicesByName.TryGetValue(serviceName, out var service) && service.TryGetBackend(identity, out var backend))
        {
            id = backend.Id;
            return true;
        }

        id = 0;
        return false;
    }

    private static EquatableArray<BackendEntry> SchedulableSet(ServiceEntry service, AddressFamily family)
    {
        var chosen = service.Service.SchedulableBackends(family);
        if (chosen.Count == 0)
            return EquatableArray<BackendEntry>.Empty;
        var members = new HashSet<Backend>(chosen);
        return service.Backends.Where(b => members.Contains(b.Backend)).ToEquatableArray();
    }

    private static DesiredState Create(long generation, DatapathOptions options, IEnumerable<Service> services, IIdHistory previous)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        var prepared = Prepare(services);
        if (prepared.Count > IdSpace.Services.MaxId)
            throw new IdSpaceExhaustedException(IdSpace.Services, prepared.Count);
        var backendCount = prepared.Sum(p => (long)p.Identities.Length);
        if (backendCount > IdSpace.Backends.MaxId)
            throw new IdSpaceExhaustedException(IdSpace.Backends, backendCount);

        // Carried-over ids are all kept before any new one is handed out, so a new one can never take an
        // id that a later service in the list still holds.
        var serviceIds = new IdAllocator(IdSpace.Services, previous.Cursors.LastServiceId, previous.ServiceIds);
        var backendIds = new IdAllocator(IdSpace.Backends, previous.Cursors.LastBackendId, previous.BackendIds);
        var assigned = new (uint Service, uint[] Backends)[prepared.Count];
        for (var i = 0; i < prepared.Count; i++)
        {
            var (service, identities) = prepared[i];
            assigned[i] = (0, new uint[identities.Length]);
            if (previous.TryGetServiceId(service.Name, out var serviceId))
            {
                serviceIds.Keep(serviceId);
                assigned[i].Service = serviceId;
            }

            for (var j = 0; j < identities.Length; j++)
            {
                if (previous.TryGetBackendId(service.Name, identities[j], out var backendId))
                {
                    backendIds.Keep(backendId);
                    assigned[i].Backends[j] = backendId;
                }
            }
        }

        var entries = new ServiceEntry[prepared.Count];
        for (var i = 0; i < prepared.Count; i++)
        {
            var (service, identities) = prepared[i];
            if (assigned[i].Service == 0)
                assigned[i].Service = serviceIds.Allocate();
            var serviceId = assigned[i].Service;
            var backends = new BackendEntry[identities.Length];
            for (var j = 0; j < identities.Length; j++)
            {
                var backendId = assigned[i].Backends[j] != 0 ? assigned[i].Backends[j] : backendIds.Allocate();
                backends[j] = new BackendEntry(backendId, serviceId, service.Backends[j], identities[j]);
            }

            entries[i] = new ServiceEntry(serviceId, service, backends.ToEquatableArray());
        }

        return new DesiredState(generation, options, entries, new IdCursors(serviceIds.Cursor, backendIds.Cursor));
    }

    /// <summary>
    /// Checks what Build relies on and brings each service into canonical order, sorted by name. The config
    /// validator reports these with file positions; this is the guard for every other source.
    /// </summary>
    private static List<(Service Service, string[] Identities)> Prepare(IEnumerable<Service> services)
    {
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var frontendOwners = new Dictionary<FrontendKey, string>();
        var prepared = new List<(Service, string[])>();
        foreach (var service in services)
        {
            if (service is null)
            {
                errors.Add("a service is null");
                continue;
            }

            var name = service.Name;
            if (string.IsNullOrWhiteSpace(name))
            {
                errors.Add("a service has no name");
                continue;
            }

            if (!names.Add(name))
            {
                errors.Add($"service '{name}' is listed twice");
                continue;
            }

            if (service.Policy is null)
                errors.Add($"service '{name}' has no policy");
            foreach (var frontend in service.Frontends)
            {
                if (frontend is null)
                    errors.Add($"service '{name}' has a null frontend");
                else if (!IsIpFamily(frontend.Family) || (frontend.Address is { } address && address.AddressFamily != frontend.Family))
                    errors.Add($"service '{name}' has frontend {frontend.Key} whose family is {frontend.Family}");
                else if (frontendOwners.TryGetValue(frontend.Key, out var owner))
                    errors.Add(owner == name
                        ? $"service '{name}' lists frontend {frontend.Key} twice"
                        : $"frontend {frontend.Key} belongs to both '{owner}' and '{name}'");
                else
                    frontendOwners.Add(frontend.Key, name);
            }

            var backends = new List<(string Identity, Backend Backend)>(service.Backends.Count);
            var identities = new HashSet<string>(StringComparer.Ordinal);
            foreach (var backend in service.Backends)
            {
                if (backend?.Address is null)
                {
                    errors.Add($"service '{name}' has a backend without an address");
                    continue;
                }

                var identity = backend.Identity;
                if (!IsIpFamily(backend.Address.AddressFamily))
                    errors.Add($"service '{name}' has backend {identity} of family {backend.Address.AddressFamily}");
                else if (!identities.Add(identity))
                    errors.Add($"service '{name}' lists backend {identity} twice");
                else
                    backends.Add((identity, backend));
            }

            if (service.Policy is null || errors.Count > 0)
                continue;
            backends.Sort((a, b) => string.CompareOrdinal(a.Identity, b.Identity));
            var canonical = new Service(
                name,
                service.Frontends.OrderBy(f => f.Key, Canonical.FrontendKeys).ToEquatableArray(),
                backends.Select(b => b.Backend).ToEquatableArray(),
                Canonical.Normalize(service.Policy));
            prepared.Add((canonical, backends.Select(b => b.Identity).ToArray()));
        }

        if (errors.Count > 0)
        {
            const int shown = 20;
            var more = errors.Count > shown ? $"; and {errors.Count - shown} more" : "";
            throw new ArgumentException($"Services cannot be programmed together: {string.Join("; ", errors.Take(shown))}{more}.");
        }

        prepared.Sort((a, b) => string.CompareOrdinal(a.Item1.Name, b.Item1.Name));
        return prepared;
    }

    private static bool IsIpFamily(AddressFamily family) =>
        family is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;
}

/// <summary>Where a build takes carried-over ids from: the previous snapshot, or ids restored after a restart.</summary>
internal interface IIdHistory
{
    IdCursors Cursors { get; }

    /// <summary>Every service id held before this build; none of them is handed out anew by it.</summary>
    IEnumerable<uint> ServiceIds { get; }

    IEnumerable<uint> BackendIds { get; }

    bool TryGetServiceId(string serviceName, out uint id);

    bool TryGetBackendId(string serviceName, string identity, out uint id);
}
