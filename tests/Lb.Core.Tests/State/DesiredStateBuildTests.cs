using System.Net;
using System.Net.Sockets;
using Lb.Core.Model;
using Lb.Core.State;
using static Lb.Core.Tests.State.Fixtures;

namespace Lb.Core.Tests.State;

public class DesiredStateBuildTests
{
    private static readonly DatapathOptions Options = DatapathOptions.Default;

    [Fact]
    public void Build_ReorderedInput_KeepsEveryIdAndGivesAnEqualSnapshot()
    {
        var web = Svc("web", [Fe("198.51.100.1"), Fe("2001:db8::1")], [Be("10.0.0.1"), Be("10.0.0.2"), Be("fd00::1")]);
        var api = Svc("api", [Fe("198.51.100.2")], [Be("10.0.0.3"), Be("10.0.0.4")]);
        var first = DesiredState.Build(Options, [web, api]);

        var reordered = new[]
        {
            api with { Backends = api.Backends.Reverse().ToEquatableArray() },
            web with { Frontends = web.Frontends.Reverse().ToEquatableArray(), Backends = web.Backends.Reverse().ToEquatableArray() },
        };
        var second = DesiredState.Build(Options, reordered, first);

        Assert.Equal(first, second);
        Assert.True(DesiredState.Diff(first, second).IsEmpty);
        Assert.Equal(
            first.BackendsById.Select(b => (b.Key, b.Value.Identity)),
            second.BackendsById.Select(b => (b.Key, b.Value.Identity)));
    }

    [Fact]
    public void Build_FreshInputInAnyOrder_HandsOutIdsInNameAndIdentityOrder()
    {
        var web = Svc("web", Be("10.0.0.2"), Be("10.0.0.1"));
        var api = Svc("api", Be("10.0.0.9"));

        var one = DesiredState.Build(Options, [web, api]);
        var other = DesiredState.Build(Options, [api, web]);

        Assert.Equal(one, other);
        Assert.Equal(1u, one.ServicesByName["api"].Id);
        Assert.Equal(2u, one.ServicesByName["web"].Id);
        Assert.Equal(["10.0.0.9:8080", "10.0.0.1:8080", "10.0.0.2:8080"], one.BackendsById.Values.Select(b => b.Identity));
        Assert.Equal(new IdCursors(2, 3), one.Cursors);
    }

    [Fact]
    public void Build_ServiceReplacedByAnother_DoesNotReuseTheFreedIdAtOnce()
    {
        var first = DesiredState.Build(Options, [Svc("api"), Svc("web")]);
        var second = DesiredState.Build(Options, [Svc("api"), Svc("db")], first);
        var third = DesiredState.Build(Options, [Svc("api"), Svc("db"), Svc("mail")], second);

        Assert.Equal(2u, first.ServicesByName["web"].Id);
        Assert.Equal(1u, second.ServicesByName["api"].Id);
        Assert.Equal(3u, second.ServicesByName["db"].Id);
        Assert.Equal(4u, third.ServicesByName["mail"].Id);
    }

    [Fact]
    public void Build_BackendReplacedByAnother_DoesNotReuseTheFreedIdAtOnce()
    {
        var first = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1"), Be("10.0.0.2"))]);
        var second = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1"), Be("10.0.0.3"))], first);

        Assert.Equal(2u, first.ServicesByName["web"].Backends[1].Id);
        Assert.Equal([(1u, "10.0.0.1:8080"), (3u, "10.0.0.3:8080")], second.BackendsById.Values.Select(b => (b.Id, b.Identity)));
    }

    [Fact]
    public void Build_BackendMovedToAnotherService_GetsANewIdOwnedByThatService()
    {
        var first = DesiredState.Build(Options, [Svc("api"), Svc("web", Be("10.0.0.1"))]);
        var second = DesiredState.Build(Options, [Svc("api", Be("10.0.0.1")), Svc("web")], first);

        var moved = Assert.Single(second.BackendsById.Values);
        Assert.Equal(2u, moved.Id);
        Assert.Equal(second.ServicesByName["api"].Id, moved.ServiceId);
    }

    [Fact]
    public void Build_CursorAtTheLastId_WrapsAndSkipsIdsInUse()
    {
        var restored = new IdAssignment(
            [new("a", 65535), new("b", 1), new("c", 2)],
            [new(new BackendKey("a", "10.0.0.1:8080"), 262143), new(new BackendKey("b", "10.0.0.2:8080"), 1)]);

        var state = DesiredState.Restore(Options, [Svc("a", Be("10.0.0.1")), Svc("b", Be("10.0.0.2")), Svc("c"), Svc("d", Be("10.0.0.4"))], restored);

        Assert.Equal(3u, state.ServicesByName["d"].Id);
        Assert.Equal(2u, state.ServicesByName["d"].Backends[0].Id);
        Assert.Equal(new IdCursors(3, 2), state.Cursors);
    }

    [Fact]
    public void Build_CursorWrapsOntoAnIdFreedByThisChange_SkipsIt()
    {
        var restored = new IdAssignment(
            [new("a", 65535), new("b", 1)],
            [new(new BackendKey("a", "10.0.0.1:8080"), 262143), new(new BackendKey("b", "10.0.0.2:8080"), 1)]);
        var before = DesiredState.Restore(Options, [Svc("a", Be("10.0.0.1")), Svc("b", Be("10.0.0.2"))], restored);

        var after = DesiredState.Build(Options, [Svc("a", Be("10.0.0.1")), Svc("c", Be("10.0.0.3"))], before);

        Assert.Equal(2u, after.ServicesByName["c"].Id);
        Assert.Equal(2u, after.ServicesByName["c"].Backends[0].Id);
    }

    [Fact]
    public void Build_EveryIdHeldTheMomentBefore_ReusesTheJustFreedIdRatherThanRefuse()
    {
        var names = Enumerable.Range(1, (int)IdSpace.Services.MaxId).Select(i => $"s{i:D5}").ToList();
        var full = DesiredState.Build(Options, names.Select(n => Svc(n)));
        Assert.Equal(IdSpace.Services.MaxId, full.ServicesByName["s65535"].Id);

        var next = DesiredState.Build(Options, names.Where(n => n != "s00007").Append("zz-new").Select(n => Svc(n)), full);

        Assert.Equal(7u, next.ServicesByName["zz-new"].Id);
        Assert.Equal(8u, next.ServicesByName["s00008"].Id);
        var diff = DesiredState.Diff(full, next);
        Assert.Equal([new ServiceRemoved(7, "s00007"), new ServiceAdded(7, "zz-new", ServicePolicy.Default)], diff.Ordered());
    }

    [Fact]
    public void Build_MoreServicesThanServiceIds_ThrowsNamingTheLimit()
    {
        var services = Enumerable.Range(0, (int)IdSpace.Services.AbiLimit).Select(i => Svc($"s{i}"));

        var error = Assert.Throws<IdSpaceExhaustedException>(() => DesiredState.Build(Options, services));

        Assert.Same(IdSpace.Services, error.Space);
        Assert.Contains("65536 services need ids, but there are only 65535", error.Message);
        Assert.Contains("LB_MAX_SERVICES", error.Message);
    }

    [Fact]
    public void Build_MoreBackendsThanBackendIds_ThrowsNamingTheLimit()
    {
        // 262144 distinct backends over four services: 10.x.y.z, one port each.
        var services = Enumerable.Range(0, 4).Select(s => Svc(
            $"s{s}",
            Enumerable.Range(0, 65536).Select(i => new Backend(new IPAddress([10, (byte)s, (byte)(i >> 8), (byte)i]), 80)).ToArray()));

        var error = Assert.Throws<IdSpaceExhaustedException>(() => DesiredState.Build(Options, services));

        Assert.Same(IdSpace.Backends, error.Space);
        Assert.Contains("262144 backends need ids, but there are only 262143", error.Message);
        Assert.Contains("LB_MAX_BACKENDS", error.Message);
    }

    [Fact]
    public void SchedulableBackends_NoActiveBackend_FallsBackToTheTerminatingOnes()
    {
        var state = DesiredState.Build(Options, [Svc("web",
            Be("10.0.0.1", state: BackendState.Terminating),
            Be("10.0.0.2", state: BackendState.Maintenance),
            Be("10.0.0.3", state: BackendState.Terminating),
            Be("10.0.0.4", weight: 0, state: BackendState.Terminating))]);

        var set = state.SchedulableBackends(state.ServicesByName["web"].Id, AddressFamily.InterNetwork);

        Assert.Equal(["10.0.0.1:8080", "10.0.0.3:8080"], set.Select(b => b.Identity));
    }

    [Fact]
    public void Diff_ActiveBackendJoinsTerminatingOnes_RebuildsTheTableWithTheActiveOneOnly()
    {
        var first = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1", state: BackendState.Terminating))]);
        var second = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1", state: BackendState.Terminating), Be("10.0.0.2"))], first);

        var diff = DesiredState.Diff(first, second);

        var table = Assert.Single(diff.TablesRebuilt);
        Assert.Equal(new MaglevKey(1, AddressFamily.InterNetwork), table.Key);
        Assert.Equal(["10.0.0.2:8080"], table.Backends.Select(b => b.Identity));
        Assert.Equal("10.0.0.2:8080", Assert.Single(diff.BackendsAdded).Backend.Identity);
    }

    [Fact]
    public void SchedulableBackends_ActiveIPv4AndTerminatingIPv6_FallsBackPerFamily()
    {
        var state = DesiredState.Build(Options, [Svc("web",
            Be("10.0.0.1"),
            Be("10.0.0.2", state: BackendState.Terminating),
            Be("fd00::1", state: BackendState.Terminating))]);
        var id = state.ServicesByName["web"].Id;

        Assert.Equal(["10.0.0.1:8080"], state.SchedulableBackends(id, AddressFamily.InterNetwork).Select(b => b.Identity));
        Assert.Equal(["[fd00::1]:8080"], state.SchedulableBackends(id, AddressFamily.InterNetworkV6).Select(b => b.Identity));
    }

    [Fact]
    public void Diff_LastTerminatingBackendBecomesActive_ChangesTheBackendButNotTheTable()
    {
        var first = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1", state: BackendState.Terminating))]);
        var second = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1"))], first);

        var diff = DesiredState.Diff(first, second);

        Assert.Equal(BackendState.Active, Assert.Single(diff.BackendsChanged).To.Backend.State);
        Assert.Empty(diff.TablesRebuilt);
        Assert.Equal(1, diff.Count);
    }

    [Fact]
    public void Diff_OnlyBackendGoesToMaintenance_RemovesTheTable()
    {
        var first = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1"))]);
        var second = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1", state: BackendState.Maintenance))], first);

        var diff = DesiredState.Diff(first, second);

        Assert.Empty(second.SchedulableSets);
        Assert.Equal(new MaglevKey(1, AddressFamily.InterNetwork), Assert.Single(diff.TablesRemoved).Key);
        Assert.Single(diff.BackendsChanged);
    }

    [Fact]
    public void Restore_IdsOfASnapshot_GivesAnEqualSnapshot()
    {
        var config = new LbConfig(Options, AdminOptions.Default, EquatableArray.Create(
            Svc("web", [Fe("198.51.100.1")], [Be("10.0.0.1"), Be("fd00::1")]),
            Svc("api", [Fe("198.51.100.2")], [Be("10.0.0.2")])));
        var first = DesiredState.Build(config);
        var second = DesiredState.Build(config with { Services = config.Services.Skip(1).ToEquatableArray() }, first);

        var restored = DesiredState.Restore(config with { Services = config.Services.Skip(1).ToEquatableArray() }, second.ToIdAssignment());

        Assert.Equal(second, restored);
        Assert.Equal(1, restored.Generation);
    }

    [Fact]
    public void Restore_IdsReadBackFromMaps_KeepsThemAndHandsOutNewOnesAroundAllOfThem()
    {
        // After a restart the maps still hold service 40 and backend 500, which no longer exist in the config:
        // their ids stay out of reach of new services, as flows may still carry them.
        var restored = new IdAssignment(
            [new("web", 7), new("gone", 40)],
            [new(new BackendKey("web", "10.0.0.1:8080"), 300), new(new BackendKey("gone", "10.0.0.9:8080"), 500)]);

        var state = DesiredState.Restore(Options, [Svc("web", Be("10.0.0.1"), Be("10.0.0.2")), Svc("api", Be("10.0.0.3"))], restored);

        Assert.Equal(7u, state.ServicesByName["web"].Id);
        Assert.Equal(41u, state.ServicesByName["api"].Id);
        Assert.Equal([300u, 501u, 502u], state.BackendsById.Keys);
        Assert.Equal(new IdCursors(41, 502), state.Cursors);
    }

    [Fact]
    public void IdAssignment_InvalidIds_ThrowsListingEachProblem()
    {
        var error = Assert.Throws<ArgumentException>(() => new IdAssignment(
            [new("a", 0), new("b", 65536), new("c", 5), new("d", 5)],
            [new(new BackendKey("a", "10.0.0.1:80"), 262144)]));

        Assert.Contains("'a' has id 0, outside service ids 1..65535", error.Message);
        Assert.Contains("'b' has id 65536", error.Message);
        Assert.Contains("service id 5 is given to both 'c' and 'd'", error.Message);
        Assert.Contains("'a/10.0.0.1:80' has id 262144, outside backend ids 1..262143", error.Message);
    }

    [Fact]
    public void Build_ServicesThatCannotBeProgrammedTogether_ThrowsListingEachProblem()
    {
        Service[] services =
        [
            Svc("web", [Fe("198.51.100.1")], [Be("10.0.0.1"), Be("10.0.0.1", weight: 2)]),
            Svc("api", [Fe("198.51.100.1")], []),
            Svc("web", [], []),
            Svc("dns", [new Frontend(IPAddress.Parse("198.51.100.5"), 53, L4Protocol.Udp, FrontendKind.Static, AddressFamily.InterNetworkV6)], []),
        ];

        var error = Assert.Throws<ArgumentException>(() => DesiredState.Build(Options, services));

        Assert.Contains("service 'web' lists backend 10.0.0.1:8080 twice", error.Message);
        Assert.Contains("frontend 198.51.100.1:80/tcp belongs to both 'web' and 'api'", error.Message);
        Assert.Contains("service 'web' is listed twice", error.Message);
        Assert.Contains("service 'dns' has frontend", error.Message);
    }

    [Fact]
    public void Build_FromPrevious_CountsGenerations()
    {
        var first = DesiredState.Build(Options, []);
        var second = DesiredState.Build(Options, [], first);

        Assert.Equal(0, DesiredState.Empty.Generation);
        Assert.Equal(1, first.Generation);
        Assert.Equal(2, second.Generation);
        Assert.Equal(DesiredState.Empty, second);
    }

    [Fact]
    public void Build_SourceRangesInAnyOrderOrRepeated_GivesOnePolicy()
    {
        var first = DesiredState.Build(Options, [Svc("web", [], [], Ranges("fd00::/8", "10.0.0.0/8", "10.0.0.0/8"))]);
        var second = DesiredState.Build(Options, [Svc("web", [], [], Ranges("10.0.0.0/8", "fd00::/8"))], first);

        Assert.True(DesiredState.Diff(first, second).IsEmpty);
        Assert.Equal(Ranges("10.0.0.0/8", "fd00::/8"), second.ServicesByName["web"].Service.Policy);
    }
}
