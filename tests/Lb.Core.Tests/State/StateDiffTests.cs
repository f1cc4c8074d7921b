using System.Net;
using System.Net.Sockets;
using Lb.Core.Model;
using Lb.Core.State;
using static Lb.Core.Tests.State.Fixtures;

namespace Lb.Core.Tests.State;

public class StateDiffTests
{
    private static readonly DatapathOptions Options = DatapathOptions.Default;

    [Fact]
    public void Diff_FrontendMovesBetweenServices_ListsOneRetargetAndNoAddOrRemove()
    {
        var first = DesiredState.Build(Options, [Svc("web", [Fe("198.51.100.1")], [Be("10.0.0.1")]), Svc("api", [], [Be("10.0.0.2")])]);
        var second = DesiredState.Build(Options, [Svc("web", [], [Be("10.0.0.1")]), Svc("api", [Fe("198.51.100.1")], [Be("10.0.0.2")])], first);

        var diff = DesiredState.Diff(first, second);

        var moved = Assert.Single(diff.FrontendsChanged);
        Assert.True(moved.Retargeted);
        Assert.Equal(first.ServicesByName["web"].Id, moved.From.ServiceId);
        Assert.Equal(second.ServicesByName["api"].Id, moved.To.ServiceId);
        Assert.Equal(1, diff.Count);
        Assert.Equal(second, DesiredState.Apply(first, diff));
    }

    [Fact]
    public void Ordered_FrontendMovesToANewService_BuildsTheServiceAndItsTableBeforeRetargeting()
    {
        var first = DesiredState.Build(Options, [Svc("web", [Fe("198.51.100.1"), Fe("198.51.100.2")], [Be("10.0.0.1")])]);
        var second = DesiredState.Build(Options, [
            Svc("web", [Fe("198.51.100.2")], [Be("10.0.0.1")]),
            Svc("new", [Fe("198.51.100.1")], [Be("10.0.0.7")]),
        ], first);

        var ordered = DesiredState.Diff(first, second).Ordered().ToList();

        Assert.Collection(ordered,
            c => Assert.Equal("new", Assert.IsType<ServiceAdded>(c).Name),
            c => Assert.Equal("10.0.0.7:8080", Assert.IsType<BackendAdded>(c).Backend.Identity),
            c => Assert.Equal(second.ServicesByName["new"].Id, Assert.IsType<MaglevTableRebuilt>(c).Key.ServiceId),
            c => Assert.True(Assert.IsType<FrontendChanged>(c).Retargeted));
    }

    [Fact]
    public void Ordered_ServiceRemoved_RetiresItsFrontendsTablesRangesAndBackendsBeforeTheService()
    {
        var first = DesiredState.Build(Options, [Svc("web", [Fe("198.51.100.1")], [Be("10.0.0.1")], Ranges("10.0.0.0/8"))]);
        var second = DesiredState.Build(Options, [], first);

        var ordered = DesiredState.Diff(first, second).Ordered().ToList();

        Assert.Collection(ordered,
            c => Assert.IsType<FrontendRemoved>(c),
            c => Assert.Equal(new MaglevKey(1, AddressFamily.InterNetwork), Assert.IsType<MaglevTableRemoved>(c).Key),
            c => Assert.Equal([IPNetwork.Parse("10.0.0.0/8")], Assert.IsType<SourceRangesChanged>(c).Removed),
            c => Assert.IsType<BackendRemoved>(c),
            c => Assert.Equal("web", Assert.IsType<ServiceRemoved>(c).Name));
        Assert.Equal(second, DesiredState.Apply(first, DesiredState.Diff(first, second)));
    }

    [Fact]
    public void Ordered_SourceRangesReplaced_AddsBeforeThePolicyChangeAndDropsAfterIt()
    {
        var first = DesiredState.Build(Options, [Svc("web", [Fe("198.51.100.1")], [], Ranges("10.0.0.0/8", "fd00::/8"))]);
        var second = DesiredState.Build(Options, [Svc("web", [Fe("198.51.100.1")], [], Ranges("192.168.0.0/16", "fd00::/8"))], first);

        var diff = DesiredState.Diff(first, second);
        var ordered = diff.Ordered().ToList();

        var change = Assert.Single(diff.SourceRangesChanged);
        Assert.Equal([IPNetwork.Parse("192.168.0.0/16")], change.Added);
        Assert.Equal([IPNetwork.Parse("10.0.0.0/8")], change.Removed);
        Assert.Collection(ordered,
            c => Assert.Equal(change with { Removed = [] }, c),
            c => Assert.IsType<ServicePolicyChanged>(c),
            c => Assert.Equal(change with { Added = [] }, c));
    }

    [Fact]
    public void Diff_WeightChange_ChangesTheBackendAndRebuildsItsFamilysTableOnly()
    {
        var first = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1"), Be("10.0.0.2"), Be("fd00::1"))]);
        var second = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1", weight: 3), Be("10.0.0.2"), Be("fd00::1"))], first);

        var diff = DesiredState.Diff(first, second);

        var changed = Assert.Single(diff.BackendsChanged);
        Assert.Equal((1, 3), (changed.From.Backend.Weight, changed.To.Backend.Weight));
        Assert.Equal(AddressFamily.InterNetwork, Assert.Single(diff.TablesRebuilt).Key.Family);
        Assert.Equal(2, diff.Count);
    }

    [Fact]
    public void Diff_MaglevSeedChanged_RebuildsEveryTable()
    {
        Service[] services = [Svc("web", Be("10.0.0.1"), Be("fd00::1")), Svc("api", Be("10.0.0.2"))];
        var first = DesiredState.Build(Options, services);
        var second = DesiredState.Build(Options with { Maglev = new MaglevOptions(MaglevOptions.DefaultTableSize, "new seed") }, services, first);

        var diff = DesiredState.Diff(first, second);

        Assert.NotNull(diff.Options);
        Assert.Equal(first.SchedulableSets.Keys, diff.TablesRebuilt.Select(t => t.Key));
        Assert.Equal(4, diff.Count);
    }

    [Fact]
    public void Diff_InterfacesChanged_ListsTheOptionsAlone()
    {
        Service[] services = [Svc("web", Be("10.0.0.1"))];
        var first = DesiredState.Build(Options, services);
        var second = DesiredState.Build(Options with { Interfaces = EquatableArray.Create("eth1") }, services, first);

        var diff = DesiredState.Diff(first, second);

        Assert.Equal(new OptionsChanged(first.Options, second.Options), diff.Options);
        Assert.Equal(1, diff.Count);
        Assert.Equal("options", diff.ToString());
    }

    [Fact]
    public void Diff_FrontendKindChangedOnly_ListsAChangeThatIsNotARetarget()
    {
        var first = DesiredState.Build(Options, [Svc("web", [Fe("198.51.100.1", kind: FrontendKind.LoadBalancer)], [])]);
        var second = DesiredState.Build(Options, [Svc("web", [Fe("198.51.100.1", kind: FrontendKind.ExternalIP)], [])], first);

        var change = Assert.Single(DesiredState.Diff(first, second).FrontendsChanged);

        Assert.False(change.Retargeted);
        Assert.Equal(FrontendKind.ExternalIP, change.To.Frontend.Kind);
    }

    [Fact]
    public void Diff_ServiceAddedThenRemovedBetweenSnapshots_CarriesOnlyTheMovedCursor()
    {
        var first = DesiredState.Build(Options, [Svc("web")]);
        var second = DesiredState.Build(Options, [Svc("web"), Svc("api")], first);
        var third = DesiredState.Build(Options, [Svc("web")], second);

        var diff = DesiredState.Diff(first, third);

        Assert.Equal(0, diff.Count);
        Assert.False(diff.IsEmpty);
        Assert.Equal(new IdCursors(2, 0), diff.Cursors);
        Assert.NotEqual(first, third);
        Assert.Equal(third, DesiredState.Apply(first, diff));
    }

    [Fact]
    public void Ordered_IdNowHeldByAnotherService_RetiresTheOldHolderBeforeCreatingTheNewOne()
    {
        var web = DesiredState.Build(Options, [Svc("web", [Fe("198.51.100.1")], [Be("10.0.0.1")])]);
        var api = DesiredState.Build(Options, [Svc("api", [Fe("198.51.100.1")], [Be("10.0.0.2")])]);

        var diff = DesiredState.Diff(web, api);

        Assert.Collection(diff.Ordered(),
            c => Assert.Equal(new FrontendEntry(Fe("198.51.100.1"), 1), Assert.IsType<FrontendRemoved>(c).Frontend),
            c => Assert.Equal("10.0.0.1:8080", Assert.IsType<BackendRemoved>(c).Backend.Identity),
            c => Assert.Equal(new ServiceRemoved(1, "web"), c),
            c => Assert.Equal(new ServiceAdded(1, "api", ServicePolicy.Default), c),
            c => Assert.Equal("10.0.0.2:8080", Assert.IsType<BackendAdded>(c).Backend.Identity),
            c => Assert.Equal(1u, Assert.IsType<MaglevTableRebuilt>(c).Key.ServiceId),
            c => Assert.Equal(1u, Assert.IsType<FrontendAdded>(c).Frontend.ServiceId));
        Assert.Equal(api, DesiredState.Apply(web, diff));
    }

    [Fact]
    public void Apply_DiffMadeForAnotherSnapshot_ThrowsSayingWhy()
    {
        var first = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1"))]);
        var second = DesiredState.Build(Options, [Svc("web", Be("10.0.0.1"), Be("10.0.0.2"))], first);
        var diff = DesiredState.Diff(first, second);

        var error = Assert.Throws<ArgumentException>(() => DesiredState.Apply(second, diff));

        Assert.Contains("The diff does not apply to this snapshot: it adds backend #2 10.0.0.2:8080", error.Message);
    }

    [Fact]
    public void ToString_MixedDiff_SummarisesCountsPerKind()
    {
        var first = DesiredState.Build(Options, [Svc("web", [Fe("198.51.100.1")], [Be("10.0.0.1"), Be("10.0.0.2")])]);
        var second = DesiredState.Build(Options, [Svc("web", [Fe("198.51.100.1")], [Be("10.0.0.1", weight: 2), Be("10.0.0.3")]), Svc("api")], first);

        var summary = DesiredState.Diff(first, second).ToString();

        Assert.Equal("services +1, backends +1 -1 ~1, maglev tables ~1, id cursors", summary);
    }
}
