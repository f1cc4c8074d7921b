using Lb.Agent.Programming;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Datapath.Engine;
using Lb.Datapath.Tables;

namespace Lb.Testing.Fixtures;

/// <summary>
/// The managed engine's side of a golden fixture: in-memory tables holding what the programmer writes for
/// the fixture's snapshots (the same <see cref="MapEncoding"/>, with the programmer's default NAT range and
/// MTU and the fixture's flow timeout), and a clock the steps move by their waits.
/// </summary>
public static class FixtureTables
{
    /// <summary>lb_config as the programmer writes it for a fixture run with <paramref name="flowTimeout"/>.</summary>
    public static LbDatapathConfig Config(DesiredState state, TimeSpan flowTimeout) =>
        MapEncoding.Config(state, ProgrammerOptions.DefaultNatPortMin, ProgrammerOptions.DefaultNatPortMax, ProgrammerOptions.DefaultMtu,
            flowTimeout, state.Options.SnatAddress, state.Options.SnatAddressV6);

    /// <summary>Tables sized as the fixture's options say, holding the fixture's first snapshot.</summary>
    public static InMemoryTables Create(PacketFixture fixture, out DesiredState state)
    {
        var tables = new InMemoryTables((int)fixture.Options.FlowTableCapacity);
        state = DesiredState.Build(fixture.Options, fixture.Services);
        tables.Apply(state, Config(state, fixture.FlowTimeout));
        return tables;
    }
}

/// <summary>A stand-in for the packet path's clock (CLOCK_MONOTONIC_COARSE) that moves only when told: a fixture's waits pass instantly and exactly.</summary>
public sealed class ManualClock : IMonotonicClock
{
    /// <summary>Starts as a machine up for <paramref name="uptime"/> (default 1000 s), so a stamp of 0 is old.</summary>
    public ManualClock(TimeSpan? uptime = null) => Now = checked((ulong)(uptime ?? TimeSpan.FromSeconds(1000)).Ticks * 100);

    public ulong Now { get; private set; }

    public void Advance(TimeSpan time) => Now = checked(Now + (ulong)time.Ticks * 100);

    public ulong NowNanoseconds() => Now;
}
