using System.Diagnostics;

namespace Lb.Datapath.Engine;

/// <summary>
/// The clock flow, affinity and reverse-NAT stamps are written with: nanoseconds of CLOCK_MONOTONIC_COARSE, the
/// packet path's clock in the XDP program (lb_now in native/bpf/lb_maps.h: bpf_ktime_get_coarse_ns, read once per
/// tick per CPU). Both engines write and compare stamps in the same tables, so they must read the same clock: the
/// coarse clock is the time of the last timer tick, up to one tick (1 to 10 ms) behind CLOCK_MONOTONIC, so a stamp
/// from the fine clock would read as "in the future" to the program, and lb_fresh would keep such an entry fresh.
/// Within a tick the value does not move, which the engine relies on to skip rewriting an unchanged stamp. An
/// implementation that reads the OS clock belongs in Lb.Native (Lb.Datapath makes no OS calls).
/// </summary>
public interface IMonotonicClock
{
    ulong NowNanoseconds();
}

/// <summary>
/// A <see cref="TimeProvider"/>'s timestamps in nanoseconds. The system provider's timestamps are Stopwatch ticks,
/// which on Linux are CLOCK_MONOTONIC nanoseconds: NOT the XDP program's CLOCK_MONOTONIC_COARSE. It reads ahead of
/// the program's clock by up to a tick (plus the tick lb_now may lag), so stamps it writes into tables the program
/// shares look up to two ticks in the future to the program, which keeps them fresh that much longer, and the engine
/// rewrites a flow's stamp on nearly every packet. Fine for tests and for an engine with tables of its own; an engine
/// sharing tables with the program reads Lb.Native's CoarseMonotonicClock.
/// </summary>
public sealed class TimeProviderClock : IMonotonicClock
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    private readonly TimeProvider _time;
    private readonly long _frequency;

    public TimeProviderClock(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _frequency = time.TimestampFrequency;
    }

    /// <summary>The system clock: CLOCK_MONOTONIC on Linux (when Stopwatch is high resolution), bpf_ktime_get_ns's clock, not lb_now's.</summary>
    public static TimeProviderClock System { get; } = new(TimeProvider.System);

    public ulong NowNanoseconds()
    {
        var ticks = _time.GetTimestamp();
        if (_frequency == NanosecondsPerSecond)
            return (ulong)ticks;
        return (ulong)((UInt128)(ulong)ticks * NanosecondsPerSecond / (ulong)_frequency);
    }

    /// <summary>Whether <see cref="System"/> reads CLOCK_MONOTONIC in nanoseconds directly.</summary>
    public static bool SystemIsNanoseconds => Stopwatch.Frequency == NanosecondsPerSecond;
}

/// <summary>The random scheduler's numbers (bpf_get_prandom_u32 in the XDP program).</summary>
public interface IRandomSource
{
    uint NextUInt32();
}

/// <summary>A seeded <see cref="Random"/>: reproducible for tests, which bpf_get_prandom_u32 is not.</summary>
public sealed class SeededRandom : IRandomSource
{
    private readonly Random _random;

    public SeededRandom(int seed) => _random = new Random(seed);

    public uint NextUInt32() => (uint)_random.NextInt64(0, 1L << 32);
}
