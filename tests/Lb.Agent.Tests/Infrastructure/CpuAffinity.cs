using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Lb.Agent.Tests.Infrastructure;

/// <summary>
/// Keeps the calling thread on one CPU, for tests of per-CPU state in the XDP program: BPF_PROG_TEST_RUN
/// runs the program on the CPU of the calling thread.
/// </summary>
internal static class CpuAffinity
{
    public static void PinCurrentThread(int cpu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, 64);
        var mask = 1UL << cpu;
        if (SchedSetAffinity(0, sizeof(ulong), ref mask) != 0)
            throw new Win32Exception(Marshal.GetLastWin32Error(), $"sched_setaffinity to CPU {cpu} failed");
    }

    // DllImport, not LibraryImport: the blittable signature needs no generated stub, and the project no unsafe code.
    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int pid, nuint cpusetsize, ref ulong mask);
}
