using Lb.Core.Model;
using Lb.Core.State;

namespace Lb.Core.Tests.State;

public class DesiredStatePropertyTests
{
    [Fact]
    public void Apply_DiffOfSuccessiveSnapshots_GivesTheSecondSnapshot()
    {
        StateGen.Check(StateGen.ConfigPairs, pair =>
        {
            var first = DesiredState.Build(pair.First);
            var second = DesiredState.Build(pair.Second, first);

            var applied = DesiredState.Apply(first, DesiredState.Diff(first, second));

            Assert.Equal(second, applied);
            Assert.Equal(second.SchedulableSets.ToArray(), applied.SchedulableSets.ToArray());
            Assert.Equal(second.Frontends.OrderBy(f => f.Key, Canonical.FrontendKeys), applied.Frontends.OrderBy(f => f.Key, Canonical.FrontendKeys));
        });
    }

    [Fact]
    public void Apply_DiffBackwardsAndAcrossTwoBuilds_GivesTheTarget()
    {
        StateGen.Check(StateGen.ConfigTriples, triple =>
        {
            var first = DesiredState.Build(triple.First);
            var second = DesiredState.Build(triple.Second, first);
            var third = DesiredState.Build(triple.Third, second);

            Assert.Equal(first, DesiredState.Apply(second, DesiredState.Diff(second, first)));
            Assert.Equal(third, DesiredState.Apply(first, DesiredState.Diff(first, third)));
        });
    }

    [Fact]
    public void Diff_SnapshotAgainstItselfOrARebuildOfTheSameInput_IsEmpty()
    {
        StateGen.Check(StateGen.ConfigPairs, pair =>
        {
            var first = DesiredState.Build(pair.First);
            var rebuilt = DesiredState.Build(pair.First with { Services = pair.First.Services.Reverse().ToEquatableArray() }, first);

            Assert.True(DesiredState.Diff(first, first).IsEmpty);
            Assert.True(DesiredState.Diff(first, rebuilt).IsEmpty, DesiredState.Diff(first, rebuilt).ToString());
            Assert.Equal(first, rebuilt);
            Assert.Equal(first.Generation + 1, rebuilt.Generation);
        });
    }

    [Fact]
    public void Build_AnyNextConfig_KeepsTheIdOfEverythingThatStillExistsAndHandsOutNoIdJustHeld()
    {
        StateGen.Check(StateGen.ConfigPairs, pair =>
        {
            var first = DesiredState.Build(pair.First);
            var second = DesiredState.Build(pair.Second, first);

            foreach (var service in second.ServicesById.Values)
            {
                if (first.ServicesByName.TryGetValue(service.Name, out var before))
                    Assert.Equal(before.Id, service.Id);
                else
                    Assert.DoesNotContain(service.Id, first.ServicesById.Keys);

                foreach (var backend in service.Backends)
                {
                    if (before is not null && before.TryGetBackend(backend.Identity, out var backendBefore))
                        Assert.Equal(backendBefore.Id, backend.Id);
                    else
                        Assert.DoesNotContain(backend.Id, first.BackendsById.Keys);
                }
            }
        });
    }

    [Fact]
    public void Diff_ChangeConfinedToOneService_KeepsEveryOtherIdAndTouchesOnlyThatService()
    {
        StateGen.Check(StateGen.ConfigsWithOneChange, change =>
        {
            var before = DesiredState.Build(change.Before);
            var after = DesiredState.Build(change.After, before);
            var diff = DesiredState.Diff(before, after);

            foreach (var service in before.ServicesById.Values.Where(s => s.Name != change.Changed))
                Assert.Equal(service, after.ServicesByName[service.Name]);

            var changedIds = new[] { before, after }
                .Select(s => s.ServicesByName.GetValueOrDefault(change.Changed)?.Id)
                .OfType<uint>()
                .ToHashSet();
            Assert.All(diff.Ordered(), item => Assert.True(ServiceIdOf(item) is { } id && changedIds.Contains(id), item.ToString()));
        });
    }

    [Fact]
    public void Diff_AnyTwoSnapshots_ListsOnlyRealChanges()
    {
        StateGen.Check(StateGen.ConfigPairs, pair =>
        {
            var first = DesiredState.Build(pair.First);
            var second = DesiredState.Build(pair.Second, first);
            var diff = DesiredState.Diff(first, second);

            Assert.All(diff.PoliciesChanged, c => Assert.NotEqual(c.From, c.To));
            Assert.All(diff.BackendsChanged, c => Assert.True(
                c.From.Backend.Weight != c.To.Backend.Weight || c.From.Backend.State != c.To.Backend.State));
            Assert.All(diff.FrontendsChanged, c => Assert.NotEqual(c.From, c.To));
            Assert.All(diff.SourceRangesChanged, c =>
            {
                Assert.True(c.Added.Count + c.Removed.Count > 0);
                Assert.Empty(c.Added.Intersect(c.Removed));
            });
            var maglevOptionsChanged = first.Options.Maglev != second.Options.Maglev;
            Assert.All(diff.TablesRebuilt, c =>
            {
                Assert.NotEmpty(c.Backends);
                if (!maglevOptionsChanged && first.SchedulableSets.TryGetValue(c.Key, out var old))
                    Assert.NotEqual(
                        old.Select(b => (b.Id, b.Identity, b.Backend.Weight)),
                        c.Backends.Select(b => (b.Id, b.Identity, b.Backend.Weight)));
            });
            Assert.All(diff.TablesRemoved, c => Assert.False(second.SchedulableSets.ContainsKey(c.Key)));
            Assert.Equal(diff.Options is null, first.Options == second.Options);
        });
    }

    [Fact]
    public void Ordered_DiffOfSuccessiveSnapshots_KeepsTheMapsConsistentAfterEveryWrite()
    {
        StateGen.Check(StateGen.ConfigPairs, pair =>
        {
            var first = DesiredState.Build(pair.First);
            MapModel.Replay(first, DesiredState.Build(pair.Second, first));
        });
    }

    [Fact]
    public void Ordered_DiffOfUnrelatedSnapshots_RetiresReplacedIdsFirstAndKeepsTheMapsConsistent()
    {
        StateGen.Check(StateGen.ConfigPairs, pair =>
        {
            // Built independently, both hand out ids from 1: most ids name something else in the other.
            var first = DesiredState.Build(pair.First);
            var unrelated = DesiredState.Build(pair.Second);

            MapModel.Replay(first, unrelated);
            Assert.Equal(unrelated, DesiredState.Apply(first, DesiredState.Diff(first, unrelated)));
        });
    }

    /// <summary>The service an item belongs to; options have none.</summary>
    private static uint? ServiceIdOf(StateChange change) => change switch
    {
        ServiceAdded c => c.ServiceId,
        ServiceRemoved c => c.ServiceId,
        ServicePolicyChanged c => c.ServiceId,
        SourceRangesChanged c => c.ServiceId,
        BackendAdded c => c.Backend.ServiceId,
        BackendRemoved c => c.Backend.ServiceId,
        BackendChanged c => c.To.ServiceId,
        FrontendAdded c => c.Frontend.ServiceId,
        FrontendRemoved c => c.Frontend.ServiceId,
        FrontendChanged c when !c.Retargeted => c.To.ServiceId,
        MaglevTableRebuilt c => c.Key.ServiceId,
        MaglevTableRemoved c => c.Key.ServiceId,
        _ => null,
    };
}
