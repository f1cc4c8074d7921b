using System.Diagnostics;

namespace Lb.Native.Tests;

public sealed class CoarseMonotonicClockTests
{
    [Fact]
    public void NowNanoseconds_ReadsTheCoarseClock_AtMostATickBehindClockMonotonic()
    {
        // Stopwatch is CLOCK_MONOTONIC in nanoseconds on Linux; the coarse clock is its value at the last tick.
        var before = (ulong)Stopwatch.GetTimestamp();
        var coarse = CoarseMonotonicClock.Instance.NowNanoseconds();
        var after = (ulong)Stopwatch.GetTimestamp();

        Assert.True(coarse <= after, $"coarse {coarse} is ahead of CLOCK_MONOTONIC {after}");
        // A tick is 1 to 10 ms (HZ 1000 to 100); 50 ms leaves room for a descheduled test thread.
        Assert.True(before < coarse || before - coarse < 50_000_000, $"coarse {coarse} is {before - coarse} ns behind CLOCK_MONOTONIC");
    }

    [Fact]
    public void NowNanoseconds_WithinATick_RepeatsItsValue_AndNeverGoesBack()
    {
        // CLOCK_MONOTONIC moves between any two reads; the coarse clock moves once a tick, so a thousand reads (tens of
        // microseconds) must repeat a value: what lets the engine skip rewriting an unchanged stamp.
        var repeated = false;
        var previous = CoarseMonotonicClock.Instance.NowNanoseconds();
        for (var i = 0; i < 1000; i++)
        {
            var now = CoarseMonotonicClock.Instance.NowNanoseconds();
            Assert.True(now >= previous, $"went back from {previous} to {now}");
            repeated |= now == previous;
            previous = now;
        }

        Assert.True(repeated, "a thousand consecutive reads all differed: not a tick-resolution clock");
    }
}
