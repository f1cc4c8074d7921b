using Lb.Agent.Programming;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Datapath.Tables;
using Lb.Testing.Fixtures;
using Lb.Testing.Kernel;

namespace Lb.Bpf.Tests;

/// <summary>
/// The managed engine's golden-fixture runs (tests/Lb.Datapath.Tests) use InMemoryTables.Apply instead of
/// the programmer. This checks that the two agree: for every snapshot of every golden fixture, the maps the
/// real Programmer wrote (read back from the kernel) and the in-memory tables hold the same config,
/// services, backends, Maglev tables and source ranges, byte for byte.
/// </summary>
public sealed class InMemoryTablesAgreementTests
{
    [Theory]
    [MemberData(nameof(GoldenFixtures.NameRows), MemberType = typeof(GoldenFixtures))]
    public void Apply_GoldenFixtureSnapshots_HoldWhatTheProgrammerWrites(string name)
    {
        var fixture = GoldenFixtures.Named(name);
        using var datapath = new TestDatapath(fixture.Options.Maglev.TableSize);
        var programmer = new Programmer(datapath.Maps, new ProgrammerOptions { FlowTimeout = fixture.FlowTimeout });
        var tables = new InMemoryTables();
        var state = DesiredState.Build(fixture.Options, fixture.Services);
        var snapshot = 1;
        Compare(state);
        foreach (var step in fixture.Steps)
        {
            if (step.ProgramBefore is not { } services)
                continue;
            state = DesiredState.Build(fixture.Options, services, state);
            snapshot++;
            Compare(state);
        }

        void Compare(DesiredState target)
        {
            programmer.Apply(target);
            tables.Apply(target, FixtureTables.Config(target, fixture.FlowTimeout));
            var where = $"{fixture.Name} snapshot {snapshot}";
            var maps = datapath.Maps;

            Assert.True(maps.Config.TryLookup(0, out var config), $"{where}: no lb_config");
            Assert.True(tables.TryGetConfig(out var inMemory));
            Assert.True(Bytewise<LbDatapathConfig>.Same(config, inMemory), $"{where}: lb_config differs");

            var services = maps.Services.Keys().ToList();
            Assert.True(services.Count == tables.Services.Count, $"{where}: {services.Count} lb_services entries, {tables.Services.Count} in memory");
            foreach (var key in services)
            {
                Assert.True(maps.Services.TryLookup(key, out var value));
                Assert.True(tables.TryGetService(key, out var mine) && Bytewise<LbService>.Same(value, mine), $"{where}: lb_services entry of {key.Addr}:{key.Port} differs");
            }

            // lb_backends is an array whose free ids are all-zero entries; the live ones must match.
            var backends = maps.ReadBackends();
            Assert.Equal(backends.Select(b => b.Id).Order(), tables.Backends.Keys.Order());
            foreach (var (id, value) in backends)
                Assert.True(Bytewise<LbBackend>.Same(value, tables.Backends[id]), $"{where}: backend {id} differs");

            var slots = maps.ReadMaglevSlots().Select(s => s.Key).Order().ToList();
            Assert.Equal(slots, tables.MaglevKeys.Order());
            foreach (var slot in slots)
                Assert.True(maps.ReadMaglevTable(slot)!.AsSpan().SequenceEqual(tables.MaglevTable(slot)), $"{where}: Maglev table {slot} differs");

            var ranges = maps.SrcRanges.Keys().Select(Hex).Order().ToList();
            Assert.Equal(ranges, tables.SourceRanges.Select(Hex).Order());
        }
    }

    private static string Hex(LbSrcRangeKey key) =>
        Convert.ToHexString(System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<LbSrcRangeKey>(in key)));
}
