using System.Net;
using Lb.Core.Model;

namespace Lb.Core.State;

/// <summary>
/// The smallest set of changes that turns one snapshot into another, as typed lists, each sorted by id or
/// key. Made by <see cref="DesiredState.Diff"/>; <see cref="DesiredState.Apply"/> replays it. Items are
/// listed once each: a service's removal also lists the removal of its frontends, backends, tables and
/// source ranges, so every map write the change needs is an item, and nothing else is.
/// </summary>
public sealed record StateDiff
{
    public static StateDiff Empty { get; } = new();

    public OptionsChanged? Options { get; init; }

    public EquatableArray<ServiceAdded> ServicesAdded { get; init; } = EquatableArray<ServiceAdded>.Empty;

    public EquatableArray<ServiceRemoved> ServicesRemoved { get; init; } = EquatableArray<ServiceRemoved>.Empty;

    public EquatableArray<ServicePolicyChanged> PoliciesChanged { get; init; } = EquatableArray<ServicePolicyChanged>.Empty;

    public EquatableArray<SourceRangesChanged> SourceRangesChanged { get; init; } = EquatableArray<SourceRangesChanged>.Empty;

    public EquatableArray<BackendAdded> BackendsAdded { get; init; } = EquatableArray<BackendAdded>.Empty;

    public EquatableArray<BackendRemoved> BackendsRemoved { get; init; } = EquatableArray<BackendRemoved>.Empty;

    public EquatableArray<BackendChanged> BackendsChanged { get; init; } = EquatableArray<BackendChanged>.Empty;

    public EquatableArray<FrontendAdded> FrontendsAdded { get; init; } = EquatableArray<FrontendAdded>.Empty;

    public EquatableArray<FrontendRemoved> FrontendsRemoved { get; init; } = EquatableArray<FrontendRemoved>.Empty;

    /// <summary>Retargeted frontends (same key, another service id), and kind-only changes.</summary>
    public EquatableArray<FrontendChanged> FrontendsChanged { get; init; } = EquatableArray<FrontendChanged>.Empty;

    public EquatableArray<MaglevTableRebuilt> TablesRebuilt { get; init; } = EquatableArray<MaglevTableRebuilt>.Empty;

    public EquatableArray<MaglevTableRemoved> TablesRemoved { get; init; } = EquatableArray<MaglevTableRemoved>.Empty;

    /// <summary>
    /// The target's id cursors when they moved (null when not). Not a map write, but the programmer persists
    /// them with the ids, and a snapshot with other cursors is another snapshot.
    /// </summary>
    public IdCursors? Cursors { get; init; }

    /// <summary>The number of change items (cursors not counted).</summary>
    public int Count =>
        (Options is null ? 0 : 1) + ServicesAdded.Count + ServicesRemoved.Count + PoliciesChanged.Count
        + SourceRangesChanged.Count + BackendsAdded.Count + BackendsRemoved.Count + BackendsChanged.Count
        + FrontendsAdded.Count + FrontendsRemoved.Count + FrontendsChanged.Count + TablesRebuilt.Count + TablesRemoved.Count;

    public bool IsEmpty => Count == 0 && Cursors is null;

    /// <summary>
    /// Every item in the order the programmer applies them, so that no packet meets a half-built service
    /// and no flow loses its backend early:
    /// <list type="number">
    /// <item>the options;</item>
    /// <item>only when an id is replaced (see <see cref="DesiredState.Diff"/>): the old holder's frontends,
    /// tables the new holder will not have, dropped CIDRs, backends and service, so that nothing of the old
    /// one is left for the new one's frontends to reach;</item>
    /// <item>new services, then new and changed backends;</item>
    /// <item>CIDRs added to source ranges;</item>
    /// <item>Maglev tables, built and swapped in before a frontend entry counts on them;</item>
    /// <item>what makes them visible: policy changes, new and changed frontends;</item>
    /// <item>deletions: frontends, tables, CIDRs dropped from source ranges, backends, services.</item>
    /// </list>
    /// A source-range change that both adds and drops CIDRs appears twice, split: the additions before the
    /// frontends change and the removals after, so the service is never closed to a client both the old
    /// and the new ranges allow. Each lb_services entry carries its service's policy and schedulable count,
    /// so at the policy step the programmer also rewrites the entries of every service that has a policy or
    /// table item.
    /// </summary>
    public IEnumerable<StateChange> Ordered()
    {
        var replacedServices = ServicesAdded.Select(s => s.ServiceId).Intersect(ServicesRemoved.Select(s => s.ServiceId)).ToHashSet();
        var replacedBackends = BackendsAdded.Select(b => b.Backend.Id).Intersect(BackendsRemoved.Select(b => b.Backend.Id)).ToHashSet();
        bool Retires(StateChange change) => change switch
        {
            FrontendRemoved c => replacedServices.Contains(c.Frontend.ServiceId),
            MaglevTableRemoved c => replacedServices.Contains(c.Key.ServiceId),
            SourceRangesChanged c => replacedServices.Contains(c.ServiceId),
            BackendRemoved c => replacedServices.Contains(c.Backend.ServiceId) || replacedBackends.Contains(c.Backend.Id),
            ServiceRemoved c => replacedServices.Contains(c.ServiceId),
            _ => false,
        };

        var additions = SourceRangesChanged.Where(c => c.Added.Count > 0).Select(c => c.Removed.Count == 0 ? c : c with { Removed = [] });
        var removals = SourceRangesChanged.Where(c => c.Removed.Count > 0).Select(c => c.Added.Count == 0 ? c : c with { Added = [] });
        var makeRoom = ((IEnumerable<StateChange>)FrontendsRemoved).Concat(TablesRemoved).Concat(removals).Concat(BackendsRemoved).Concat(ServicesRemoved).Where(Retires);
        var create = ((IEnumerable<StateChange>)ServicesAdded).Concat(BackendsAdded).Concat(BackendsChanged).Concat(additions).Concat(TablesRebuilt);
        var publish = ((IEnumerable<StateChange>)PoliciesChanged).Concat(FrontendsAdded).Concat(FrontendsChanged);
        var retire = ((IEnumerable<StateChange>)FrontendsRemoved).Concat(TablesRemoved).Concat(removals).Concat(BackendsRemoved).Concat(ServicesRemoved)
            .Where(change => !Retires(change));
        var options = Options is null ? [] : new StateChange[] { Options };
        return options.Concat(makeRoom).Concat(create).Concat(publish).Concat(retire);
    }

    /// <summary>A one-line summary for logs: counts per kind of change, never the whole content.</summary>
    public override string ToString()
    {
        if (IsEmpty)
            return "no changes";
        var parts = new List<string>();
        if (Options is not null)
            parts.Add("options");
        Add(parts, ServicesAdded.Count, ServicesRemoved.Count, PoliciesChanged.Count, "services");
        Add(parts, BackendsAdded.Count, BackendsRemoved.Count, BackendsChanged.Count, "backends");
        Add(parts, FrontendsAdded.Count, FrontendsRemoved.Count, FrontendsChanged.Count, "frontends");
        Add(parts, 0, TablesRemoved.Count, TablesRebuilt.Count, "maglev tables");
        if (SourceRangesChanged.Count > 0)
            parts.Add($"source ranges of {SourceRangesChanged.Count} services");
        if (Cursors is not null)
            parts.Add("id cursors");
        return string.Join(", ", parts);
    }

    private static void Add(List<string> parts, int added, int removed, int changed, string what)
    {
        if (added + removed + changed == 0)
            return;
        var counts = new List<string>();
        if (added > 0)
            counts.Add($"+{added}");
        if (removed > 0)
            counts.Add($"-{removed}");
        if (changed > 0)
            counts.Add($"~{changed}");
        parts.Add($"{what} {string.Join(" ", counts)}");
    }
}
