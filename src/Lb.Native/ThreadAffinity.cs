namespace Lb.Native;

/// <summary>
/// Keeps the calling thread on one CPU. BPF_PROG_TEST_RUN runs a program on the CPU of the calling
/// thread, so tests of per-CPU state (counters, the next-hop cache) and benchmarks pin themselves.
/// </summary>
public static unsafe class ThreadAffinity
{
    public static void PinCurrentThread(int cpu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, 64);
        var mask = 1UL << cpu;
        if (Interop.Libc.SchedSetAffinity(0, sizeof(ulong), &mask) != 0)
            throw Interop.GetExceptionForLastErrno("sched_setaffinity", $"CPU {cpu}");
    }
}
