using System.Net;
using Lb.Core.Model;

namespace Lb.Core.State;

public sealed partial class DesiredState
{
    /// <summary>
    /// The smallest set of changes from <paramref name="from"/> to <paramref name="to"/>, matched by id
    /// (services, backends, tables) and by key (frontends), as the maps are keyed.
    /// </summary>
    /// <remarks>
    /// Along one lineage (each snapshot built from the one before) an id keeps its meaning, except when a
    /// build had to hand out an id that the previous snapshot held (the id space was otherwise full), or
    /// when the two snapshots are further apart. Such an id is <em>replaced</em>: the diff lists the old
    /// holder's removal and the new holder's addition under the same id, with all of the old service's
    /// frontends removed and the new one's added, and <see cref="StateDiff.Ordered"/> retires the old
    /// holder before the new one is created.
    /// </remarks>
    public static StateDiff Diff(DesiredState from, DesiredState to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (ReferenceEquals(from, to))
            return StateDiff.Empty;

        // Ids that name another service in the target: everything of the old service goes, everything of
        // the new one comes, even where a frontend or backend looks the same by id or key.
        var replacedServices = from.ServicesById
            .Where(pair => to.ServicesById.TryGetValue(pair.Key, out var after) && after.Name != pair.Value.Name)
            .Select(pair => pair.Key)
            .ToHashSet();

        var servicesAdded = new List<ServiceAdded>();
        var servicesRemoved = new List<ServiceRemoved>();
        var policiesChanged = new List<ServicePolicyChanged>();
        var rangesChanged = new List<SourceRangesChanged>();
        foreach (var id in from.ServicesById.Keys.Union(to.ServicesById.Keys).Order())
        {
            from.ServicesById.TryGetValue(id, out var before);
            to.ServicesById.TryGetValue(id, out var after);
            if (before is null)
                servicesAdded.Add(new ServiceAdded(id, after!.Name, after.Service.Policy));
            else if (after is null)
                servicesRemoved.Add(new ServiceRemoved(id, before.Name));
            else if (replacedServices.Contains(id))
            {
                servicesRemoved.Add(new ServiceRemoved(id, before.Name));
                servicesAdded.Add(new ServiceAdded(id, after.Name, after.Service.Policy));
            }
            else if (before.Service.Policy != after.Service.Policy)
                policiesChanged.Add(new ServicePolicyChanged(id, after.Name, before.Service.Policy, after.Service.Policy));

            var rangesBefore = before?.Service.Policy.SourceRanges ?? EquatableArray<IPNetwork>.Empty;
            var rangesAfter = after?.Service.Policy.SourceRanges ?? EquatableArray<IPNetwork>.Empty;
            if (rangesBefore != rangesAfter)
            {
                rangesChanged.Add(new SourceRangesChanged(
                    id,
                    rangesAfter.Except(rangesBefore).ToEquatableArray(),
                    rangesBefore.Except(rangesAfter).ToEquatableArray()));
            }
        }

        var backendsAdded = new List<BackendAdded>();
        var backendsRemoved = new List<BackendRemoved>();
        var backendsChanged = new List<BackendChanged>();
        foreach (var id in from.BackendsById.Keys.Union(to.BackendsById.Keys).Order())
        {
            from.BackendsById.TryGetValue(id, out var before);
            to.BackendsById.TryGetValue(id, out var after);
            if (before is null)
                backendsAdded.Add(new BackendAdded(after!));
            else if (after is null)
                backendsRemoved.Add(new BackendRemoved(before));
            else if (before.ServiceId != after.ServiceId || before.Identity != after.Identity || replacedServices.Contains(after.ServiceId))
            {
                backendsRemoved.Add(new BackendRemoved(before));
                backendsAdded.Add(new BackendAdded(after));
            }
            else if (before != after)
                backendsChanged.Add(new BackendChanged(before, after));
        }

        var frontendsAdded = new List<FrontendAdded>();
        var frontendsRemoved = new List<FrontendRemoved>();
        var frontendsChanged = new List<FrontendChanged>();
        foreach (var key in from.Frontends.Keys.Union(to.Frontends.Keys).Order(Canonical.FrontendKeys))
        {
            from.Frontends.TryGetValue(key, out var before);
            to.Frontends.TryGetValue(key, out var after);
            if (before is null)
                frontendsAdded.Add(new FrontendAdded(after!));
            else if (after is null)
                frontendsRemoved.Add(new FrontendRemoved(before));
            else if (replacedServices.Contains(before.ServiceId))
            {
                frontendsRemoved.Add(new FrontendRemoved(before));
                frontendsAdded.Add(new FrontendAdded(after));
            }
            else if (before != after)
                frontendsChanged.Add(new FrontendChanged(before, after));
        }

        // Every table depends on the Maglev options (size, seed) as much as on its backends.
        var everyTableChanged = from.Options.Maglev != to.Options.Maglev;
        var tablesRebuilt = new List<MaglevTableRebuilt>();
        var tablesRemoved = new List<MaglevTableRemoved>();
        foreach (var key in from.SchedulableSets.Keys.Union(to.SchedulableSets.Keys).Order())
        {
            var had = from.SchedulableSets.TryGetValue(key, out var before);
            if (!to.SchedulableSets.TryGetValue(key, out var after))
                tablesRemoved.Add(new MaglevTableRemoved(key));
            else if (!had || everyTableChanged || !SameTableInput(before, after))
                tablesRebuilt.Add(new MaglevTableRebuilt(key, after));
        }

        return new StateDiff
        {
            Options = from.Options == to.Options ? null : new OptionsChanged(from.Options, to.Options),
            ServicesAdded = servicesAdded.ToEquatableArray(),
            ServicesRemoved = servicesRemoved.ToEquatableArray(),
            PoliciesChanged = policiesChanged.ToEquatableArray(),
            SourceRangesChanged = rangesChanged.ToEquatableArray(),
            BackendsAdded = backendsAdded.ToEquatableArray(),
            BackendsRemoved = backendsRemoved.ToEquatableArray(),
            BackendsChanged = backendsChanged.ToEquatableArray(),
            FrontendsAdded = frontendsAdded.ToEquatableArray(),
            FrontendsRemoved = frontendsRemoved.ToEquatableArray(),
            FrontendsChanged = frontendsChanged.ToEquatableArray(),
            TablesRebuilt = tablesRebuilt.ToEquatableArray(),
            TablesRemoved = tablesRemoved.ToEquatableArray(),
            Cursors = from.Cursors == to.Cursors ? null : to.Cursors,
        };
    }

    /// <summary>
    /// Replays <paramref name="diff"/> onto <paramref name="from"/>: <c>Apply(a, Diff(a, b))</c> equals
    /// <c>b</c>. Services, backends, frontends, policies, options and cursors come from the diff; tables and
    /// source ranges follow from them, so those items are for the programmer and not read here.
    /// </summary>
    /// <exception cref="ArgumentException">The diff does not start from <paramref name="from"/>.</exception>
    public static DesiredState Apply(DesiredState from, StateDiff diff)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(diff);
        var options = from.Options;
        if (diff.Options is { } optionsChange)
        {
            Require(optionsChange.From == options, "its options change starts from other options");
            options = optionsChange.To;
        }

        var services = from.ServicesById.Values.ToDictionary(s => s.Id, s => (s.Name, s.Service.Policy));
        foreach (var removed in diff.ServicesRemoved)
        {
            Require(services.TryGetValue(removed.ServiceId, out var held) && held.Name == removed.Name,
                $"it removes service {removed.ServiceId} '{removed.Name}', which is not there");
            services.Remove(removed.ServiceId);
        }

        foreach (var added in diff.ServicesAdded)
        {
            Require(IdSpace.Services.Contains(added.ServiceId) && !string.IsNullOrWhiteSpace(added.Name) && added.Policy is not null,
                $"it adds service {added.ServiceId} '{added.Name}' without a valid id, name and policy");
            Require(services.TryAdd(added.ServiceId, (added.Name, added.Policy!)),
                $"it adds service {added.ServiceId} '{added.Name}', but that id is in use");
        }

        foreach (var changed in diff.PoliciesChanged)
        {
            Require(services.TryGetValue(changed.ServiceId, out var held) && held.Policy == changed.From,
                $"it changes the policy of service {changed.ServiceId}, which does not have the policy it starts from");
            services[changed.ServiceId] = (held.Name, changed.To);
        }

        var backends = new Dictionary<uint, BackendEntry>(from.BackendsById);
        foreach (var removed in diff.BackendsRemoved)
        {
            Require(backends.Remove(removed.Backend.Id, out var held) && held == removed.Backend,
                $"it removes backend {removed.Backend}, which is not there");
        }

        foreach (var added in diff.BackendsAdded)
        {
            Require(IdSpace.Backends.Contains(added.Backend.Id) && backends.TryAdd(added.Backend.Id, added.Backend),
                $"it adds backend {added.Backend}, whose id is invalid or in use");
        }

        foreach (var changed in diff.BackendsChanged)
        {
            var (before, after) = (changed.From, changed.To);
            Require(backends.TryGetValue(before.Id, out var held) && held == before,
                $"it changes backend {before}, which is not there as it says");
            Require(after.Id == before.Id && after.ServiceId == before.ServiceId && after.Identity == before.Identity,
                $"it changes backend {before} into another backend ({after})");
            backends[after.Id] = after;
        }

        var frontends = new Dictionary<FrontendKey, FrontendEntry>(from.Frontends);
        foreach (var removed in diff.FrontendsRemoved)
        {
            Require(frontends.Remove(removed.Frontend.Key, out var held) && held == removed.Frontend,
                $"it removes frontend {removed.Frontend}, which is not there");
        }

        foreach (var added in diff.FrontendsAdded)
        {
            Require(frontends.TryAdd(added.Frontend.Key, added.Frontend),
                $"it adds frontend {added.Frontend}, whose key is in use");
        }

        foreach (var changed in diff.FrontendsChanged)
        {
            Require(frontends.TryGetValue(changed.From.Key, out var held) && held == changed.From && changed.To.Key == changed.From.Key,
                $"it changes frontend {changed.From}, which is not there as it says");
            frontends[changed.To.Key] = changed.To;
        }

        var backendsOf = backends.Values.ToLookup(b => b.ServiceId);
        var frontendsOf = frontends.Values.ToLookup(f => f.ServiceId);
        foreach (var owner in backendsOf.Select(g => g.Key).Concat(frontendsOf.Select(g => g.Key)))
            Require(services.ContainsKey(owner), $"it leaves backends or frontends pointing at service {owner}, which is not there");

        var entries = services.Select(pair =>
        {
            var (id, (name, policy)) = (pair.Key, pair.Value);
            var ownBackends = backendsOf[id].OrderBy(b => b.Identity, StringComparer.Ordinal).ToEquatableArray();
            var service = new Service(
                name,
                frontendsOf[id].Select(f => f.Frontend).OrderBy(f => f.Key, Canonical.FrontendKeys).ToEquatableArray(),
                ownBackends.Select(b => b.Backend).ToEquatableArray(),
                Canonical.Normalize(policy));
            return new ServiceEntry(id, service, ownBackends);
        });
        Require(services.Values.Select(s => s.Name).Distinct(StringComparer.Ordinal).Count() == services.Count,
            "it gives two services one name");
        return new DesiredState(from.Generation + 1, options, entries.ToList(), diff.Cursors ?? from.Cursors);
    }

    private static void Require(bool condition, string reason)
    {
        if (!condition)
            throw new ArgumentException($"The diff does not apply to this snapshot: {reason}.");
    }

    /// <summary>The inputs of a Maglev table: ids (what the table holds), identities and weights (how it is filled).</summary>
    private static bool SameTableInput(EquatableArray<BackendEntry> before, EquatableArray<BackendEntry> after)
    {
        if (before.Count != after.Count)
            return false;
        for (var i = 0; i < before.Count; i++)
        {
            var (x, y) = (before[i], after[i]);
            if (x.Id != y.Id || x.Identity != y.Identity || x.Backend.Weight != y.Backend.Weight)
                return false;
        }

        return true;
    }
}
