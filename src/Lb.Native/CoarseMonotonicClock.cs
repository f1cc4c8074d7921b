using Lb.Datapath.Engine;

namespace Lb.Native;

/// <summary>
/// CLOCK_MONOTONIC_COARSE in nanoseconds: the XDP program's packet-path clock (lb_now, docs/xdp-datapath.md), so the
/// managed engine's flow, affinity and reverse-NAT stamps mean what the program's mean in the tables they share.
/// </summary>
/// <remarks>
/// The program reads bpf_ktime_get_coarse_ns once per tick per CPU because the helper costs a call; here the read is
/// a vDSO call of a few nanoseconds with no system call, so each read goes to the clock. Both see the same value
/// within a tick; the program's copy may lag by one more tick at a tick's edge, which lb_fresh tolerates (a stamp
/// at or after now counts as fresh).
/// </remarks>
public sealed unsafe class CoarseMonotonicClock : IMonotonicClock
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    private CoarseMonotonicClock()
    {
    }

    public static CoarseMonotonicClock Instance { get; } = new();

    public ulong NowNanoseconds()
    {
        Interop.Libc.Timespec time;
        // clock_gettime fails only for an unknown clock id or a bad pointer, neither of which this call can pass.
        if (Interop.Libc.ClockGetTime(Interop.Libc.CLOCK_MONOTONIC_COARSE, &time) != 0)
            throw Interop.GetExceptionForLastErrno("clock_gettime", "CLOCK_MONOTONIC_COARSE");
        return (ulong)(time.Seconds * NanosecondsPerSecond + time.Nanoseconds);
    }
}
