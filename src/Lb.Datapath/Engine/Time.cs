using System.Diagnostics;

namespace Lb.Datapath.Engine;

/// <summary>
/// The clock flow, affinity and reverse-NAT stamps are written with: nanoseconds of CLOCK_MONOTONIC,
/// as bpf_ktime_get_ns gives the XDP program. Both engines write stamps into the same tables, so they
/// must read the same clock.
/// </summary>
public interface IMonotonicClock
{
    ulong NowNanoseconds();
}

/// <summary>
/// A <see cref="TimeProvider"/>'s timestamps in nanoseconds. The system provider's timestamps are
/// Stopwatch ticks, which on Linux are CLOCK_MONOTONIC nanoseconds: the XDP program's clock.
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

    /// <summary>The system clock, the one bpf_ktime_get_ns reads (when Stopwatch is high resolution, as on Linux).</summary>
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
