using System.Collections.Immutable;

namespace Lb.Core.State;

/// <summary>A backend's key for id purposes: the same address:port in two services is two backends with two ids.</summary>
public readonly record struct BackendKey(string ServiceName, string Identity)
{
    public override string ToString() => $"{ServiceName}/{Identity}";
}

/// <summary>
/// The last id handed out in each space. New ids are taken after it, so an id freed a moment ago is not
/// handed out again until the cursor has gone round; 0 means nothing has been handed out yet.
/// </summary>
public readonly record struct IdCursors(uint LastServiceId, uint LastBackendId)
{
    public override string ToString() => $"service cursor {LastServiceId}, backend cursor {LastBackendId}";
}

/// <summary>
/// Which id each service and backend holds, and where the cursors stand. A snapshot exports one
/// (<see cref="DesiredState.ToIdAssignment"/>) for the programmer to persist beside the pinned maps, and
/// <see cref="DesiredState.Restore"/> takes one back after a restart, so established flows keep meeting the
/// ids they were recorded with.
/// </summary>
public sealed class IdAssignment : IIdHistory
{
    public static IdAssignment Empty { get; } = new([], []);

    /// <param name="serviceIds">Service name → service id.</param>
    /// <param name="backendIds">(service name, backend identity) → backend id. A pair whose service has no id
    /// here is accepted: its id stays reserved, as it may still sit in the maps.</param>
    /// <param name="cursors">Where allocation resumes; by default after the highest id given, so no id that
    /// might have been freed just before the restart is handed out first.</param>
    public IdAssignment(
        IEnumerable<KeyValuePair<string, uint>> serviceIds,
        IEnumerable<KeyValuePair<BackendKey, uint>> backendIds,
        IdCursors? cursors = null)
    {
        ArgumentNullException.ThrowIfNull(serviceIds);
        ArgumentNullException.ThrowIfNull(backendIds);
        var errors = new List<string>();
        ServiceIds = Collect(serviceIds, IdSpace.Services, name => string.IsNullOrEmpty(name) ? "an empty service name" : null, errors);
        BackendIds = Collect(
            backendIds,
            IdSpace.Backends,
            key => string.IsNullOrEmpty(key.ServiceName) || string.IsNullOrEmpty(key.Identity) ? $"an incomplete backend key '{key}'" : null,
            errors);
        Cursors = cursors ?? new IdCursors(
            ServiceIds.IsEmpty ? 0 : ServiceIds.Values.Max(),
            BackendIds.IsEmpty ? 0 : BackendIds.Values.Max());
        if (Cursors.LastServiceId > IdSpace.Services.MaxId)
            errors.Add($"the service cursor {Cursors.LastServiceId} is outside {IdSpace.Services}");
        if (Cursors.LastBackendId > IdSpace.Backends.MaxId)
            errors.Add($"the backend cursor {Cursors.LastBackendId} is outside {IdSpace.Backends}");
        if (errors.Count > 0)
            throw new ArgumentException("Invalid id assignment: " + string.Join("; ", errors) + ".");
    }

    public ImmutableDictionary<string, uint> ServiceIds { get; }

    public ImmutableDictionary<BackendKey, uint> BackendIds { get; }

    public IdCursors Cursors { get; }

    IEnumerable<uint> IIdHistory.ServiceIds => ServiceIds.Values;

    IEnumerable<uint> IIdHistory.BackendIds => BackendIds.Values;

    bool IIdHistory.TryGetServiceId(string serviceName, out uint id) => ServiceIds.TryGetValue(serviceName, out id);

    bool IIdHistory.TryGetBackendId(string serviceName, string identity, out uint id) =>
        BackendIds.TryGetValue(new BackendKey(serviceName, identity), out id);

    private static ImmutableDictionary<TKey, uint> Collect<TKey>(
        IEnumerable<KeyValuePair<TKey, uint>> pairs, IdSpace space, Func<TKey, string?> checkKey, List<string> errors)
        where TKey : notnull
    {
        var byKey = ImmutableDictionary.CreateBuilder<TKey, uint>();
        var ownerOfId = new Dictionary<uint, TKey>();
        foreach (var (key, id) in pairs)
        {
            if (checkKey(key) is { } keyError)
                errors.Add(keyError);
            else if (!space.Contains(id))
                errors.Add($"'{key}' has id {id}, outside {space}");
            else if (byKey.TryGetValue(key, out var earlier))
                errors.Add($"'{key}' is given twice (ids {earlier} and {id})");
            else if (ownerOfId.TryGetValue(id, out var other))
                errors.Add($"{space.What} id {id} is given to both '{other}' and '{key}'");
            else
            {
                byKey.Add(key, id);
                ownerOfId.Add(id, key);
            }
        }

        return byKey.ToImmutable();
    }
}
