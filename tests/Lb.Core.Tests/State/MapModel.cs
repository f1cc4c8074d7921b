using System.Net;
using Lb.Core.Model;
using Lb.Core.State;

namespace Lb.Core.Tests.State;

/// <summary>
/// What the BPF maps would hold, keyed as they are (ids and frontend keys, no names), for replaying a
/// diff's <see cref="StateDiff.Ordered"/> items one at a time and checking after each write that no
/// packet could meet a half-built or half-removed service.
/// </summary>
internal sealed class MapModel
{
    private readonly Dictionary<uint, (string Name, ServicePolicy Policy)> _services = [];
    private readonly Dictionary<uint, BackendEntry> _backends = [];
    private readonly Dictionary<MaglevKey, EquatableArray<(uint Id, string Identity, ushort Weight)>> _tables = [];
    private readonly Dictionary<FrontendKey, FrontendEntry> _frontends = [];
    private readonly Dictionary<uint, HashSet<IPNetwork>> _ranges = [];

    public MapModel(DesiredState state)
    {
        foreach (var service in state.ServicesById.Values)
        {
            _services.Add(service.Id, (service.Name, service.Service.Policy));
            _ranges.Add(service.Id, [.. service.Service.Policy.SourceRanges]);
        }

        foreach (var (id, backend) in state.BackendsById)
            _backends.Add(id, backend);
        foreach (var (key, set) in state.SchedulableSets)
            _tables.Add(key, Table(set));
        foreach (var (key, frontend) in state.Frontends)
            _frontends.Add(key, frontend);
    }

    /// <summary>Replays every item in order, checking the invariants after each, and ends equal to <paramref name="to"/>.</summary>
    public static void Replay(DesiredState from, DesiredState to)
    {
        var diff = DesiredState.Diff(from, to);
        var replacedBackends = diff.BackendsAdded.Select(b => b.Backend.Id).Intersect(diff.BackendsRemoved.Select(b => b.Backend.Id)).ToHashSet();
        var model = new MapModel(from);
        foreach (var change in diff.Ordered())
        {
            model.Write(change, to);
            model.CheckConsistent(from, to, replacedBackends, change);
        }

        model.CheckEquals(to);
    }

    private void Write(StateChange change, DesiredState to)
    {
        switch (change)
        {
            case OptionsChanged:
                break;
            case ServiceAdded c:
                Assert.True(_services.TryAdd(c.ServiceId, (c.Name, c.Policy)), $"{c}: id in use");
                _ranges.TryAdd(c.ServiceId, []);
                break;
            case ServiceRemoved c:
                Assert.Equal(c.Name, _services[c.ServiceId].Name);
                Assert.DoesNotContain(_frontends.Values, f => f.ServiceId == c.ServiceId);
                Assert.DoesNotContain(_backends.Values, b => b.ServiceId == c.ServiceId);
                _services.Remove(c.ServiceId);
                if (!to.ServicesById.ContainsKey(c.ServiceId))
                {
                    Assert.Empty(_ranges[c.ServiceId]);
                    Assert.DoesNotContain(_tables.Keys, k => k.ServiceId == c.ServiceId);
                    _ranges.Remove(c.ServiceId);
                }

                break;
            case ServicePolicyChanged c:
                Assert.Equal(c.From, _services[c.ServiceId].Policy);
                _services[c.ServiceId] = (c.Name, c.To);

                // The policy lives in every lb_services entry of the service, so they are all rewritten now.
                foreach (var frontend in _frontends.Values.Where(f => f.ServiceId == c.ServiceId))
                    CheckReadyToServe(frontend, to);
                break;
            case SourceRangesChanged c:
                var ranges = _ranges.TryGetValue(c.ServiceId, out var held) ? held : _ranges[c.ServiceId] = [];
                Assert.All(c.Added, r => Assert.True(ranges.Add(r), $"{c}: {r} already there"));
                Assert.All(c.Removed, r => Assert.True(ranges.Remove(r), $"{c}: {r} not there"));
                break;
            case BackendAdded c:
                Assert.True(_services.ContainsKey(c.Backend.ServiceId), $"{c}: owner missing");
                Assert.True(_backends.TryAdd(c.Backend.Id, c.Backend), $"{c}: id in use");
                break;
            case BackendRemoved c:
                Assert.Equal(c.Backend, _backends[c.Backend.Id]);
                _backends.Remove(c.Backend.Id);
                break;
            case BackendChanged c:
                Assert.Equal(c.From, _backends[c.From.Id]);
                _backends[c.To.Id] = c.To;
                break;
            case MaglevTableRebuilt c:
                Assert.True(_services.ContainsKey(c.Key.ServiceId), $"{c}: service missing");
                Assert.All(c.Backends, b => Assert.Equal(b, _backends.GetValueOrDefault(b.Id)));
                _tables[c.Key] = Table(c.Backends);
                break;
            case MaglevTableRemoved c:
                Assert.True(_tables.Remove(c.Key), $"{c}: no such table");
                break;
            case FrontendAdded c:
                Assert.True(_frontends.TryAdd(c.Frontend.Key, c.Frontend), $"{c}: key in use");
                CheckReadyToServe(c.Frontend, to);
                break;
            case FrontendChanged c:
                Assert.Equal(c.From, _frontends[c.From.Key]);
                _frontends[c.To.Key] = c.To;
                CheckReadyToServe(c.To, to);
                break;
            case FrontendRemoved c:
                Assert.Equal(c.Frontend, _frontends[c.Frontend.Key]);
                _frontends.Remove(c.Frontend.Key);
                break;
            default:
                Assert.Fail($"unknown change {change}");
                break;
        }
    }

    /// <summary>A frontend that becomes visible finds its service exactly as the target has it.</summary>
    private void CheckReadyToServe(FrontendEntry frontend, DesiredState to)
    {
        var id = frontend.ServiceId;
        var key = new MaglevKey(id, frontend.Key.Family);
        Assert.Equal(to.ServicesById[id].Service.Policy, _services[id].Policy);
        Assert.Superset(to.ServicesById[id].Service.Policy.SourceRanges.ToHashSet(), _ranges[id]);
        // Without a target table the entry is written with a schedulable count of 0 and the datapath takes
        // the no-backend path without reading any table, so a table still waiting for removal is harmless.
        if (to.SchedulableSets.TryGetValue(key, out var set))
            Assert.Equal(Table(set), _tables.GetValueOrDefault(key));
    }

    private void CheckConsistent(DesiredState from, DesiredState to, HashSet<uint> replacedBackends, StateChange after)
    {
        var context = $"after {after}";
        Assert.All(_frontends.Values, f => Assert.True(_services.ContainsKey(f.ServiceId), $"{context}: {f} points at a missing service"));
        Assert.All(_backends.Values, b => Assert.True(_services.ContainsKey(b.ServiceId), $"{context}: {b} has no owner"));

        // A table a frontend reaches holds no missing backend, except while that id is being handed to
        // another backend (only when ids are replaced).
        var reachable = _frontends.Values.Select(f => new MaglevKey(f.ServiceId, f.Key.Family)).ToHashSet();
        Assert.All(_tables.Where(t => reachable.Contains(t.Key)), table => Assert.All(table.Value, b => Assert.True(
            _backends.ContainsKey(b.Id) || replacedBackends.Contains(b.Id), $"{context}: table {table.Key} holds missing backend {b}")));

        // A service present before and after is never closed to a client both its old and new ranges admit,
        // nor open to one that neither admits.
        foreach (var frontend in _frontends.Values)
        {
            var id = frontend.ServiceId;
            if (!from.ServicesById.TryGetValue(id, out var before) || !to.ServicesById.TryGetValue(id, out var target) || before.Name != target.Name)
                continue;
            var now = _services[id].Policy.AllowsEveryClient ? null : _ranges[id];
            var old = Allowed(before);
            var next = Allowed(target);
            Assert.True(IsSubset(Intersect(old, next), now), $"{context}: service {id} closed to clients both policies admit");
            Assert.True(IsSubset(now, Union(old, next)), $"{context}: service {id} open to clients no policy admits");
        }
    }

    private void CheckEquals(DesiredState to)
    {
        Assert.Equal(
            to.ServicesById.Values.Select(s => (s.Id, s.Name, s.Service.Policy)),
            _services.OrderBy(s => s.Key).Select(s => (s.Key, s.Value.Name, s.Value.Policy)));
        Assert.True(to.BackendsById.ToHashSet().SetEquals(_backends), "backends differ from the target");
        Assert.True(to.SchedulableSets.Select(t => KeyValuePair.Create(t.Key, Table(t.Value))).ToHashSet().SetEquals(_tables), "tables differ from the target");
        Assert.True(to.Frontends.ToHashSet().SetEquals(_frontends), "frontends differ from the target");
        Assert.Equal(to.ServicesById.Keys, _ranges.Keys.Order());
        foreach (var service in to.ServicesById.Values)
            Assert.True(_ranges[service.Id].SetEquals(service.Service.Policy.SourceRanges), $"source ranges of {service} differ");
    }

    /// <summary>What a Maglev table is made of: backend ids (its content), identities and weights (its fill).</summary>
    private static EquatableArray<(uint Id, string Identity, ushort Weight)> Table(EquatableArray<BackendEntry> set) =>
        set.Select(b => (b.Id, b.Identity, b.Backend.Weight)).ToEquatableArray();

    // Admitted clients as a set of CIDRs, null for everyone. Set containment of CIDRs is stricter than
    // address containment, which is what a test wants.
    private static HashSet<IPNetwork>? Allowed(ServiceEntry service) =>
        service.Service.Policy.AllowsEveryClient ? null : [.. service.Service.Policy.SourceRanges];

    private static HashSet<IPNetwork>? Intersect(HashSet<IPNetwork>? a, HashSet<IPNetwork>? b) =>
        a is null ? b : b is null ? a : [.. a.Intersect(b)];

    private static HashSet<IPNetwork>? Union(HashSet<IPNetwork>? a, HashSet<IPNetwork>? b) =>
        a is null || b is null ? null : [.. a.Union(b)];

    private static bool IsSubset(HashSet<IPNetwork>? inner, HashSet<IPNetwork>? outer) =>
        outer is null || (inner is not null && inner.IsSubsetOf(outer));
}
