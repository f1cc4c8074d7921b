using System.Diagnostics;
using Lb.Native;

namespace Lb.XdpBench;

/// <summary>The median of one batch of calls, by the kernel's timer and by the caller's clock.</summary>
public readonly record struct BatchResult(double KernelNs, double SyscallNs);

/// <summary>Median, minimum and maximum of a figure over the rounds.</summary>
public readonly record struct Spread(double Median, double Min, double Max)
{
    public static Spread Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            throw new ArgumentException("No values to summarise.", nameof(values));
        var sorted = values.Order().ToArray();
        return new Spread(MedianOfSorted(sorted), sorted[0], sorted[^1]);
    }

    /// <summary>The middle value of sorted values (the mean of the two middle ones for an even count).</summary>
    public static double MedianOfSorted(ReadOnlySpan<double> sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

/// <summary>
/// Runs a program once per BPF_PROG_TEST_RUN call (repeat 1), so every call starts from the caller's
/// bytes; with repeat &gt; 1 the kernel would hand a rewriting program its own output from the second
/// run on. Each call is timed twice: by the kernel (the duration field: ktime_get_ns around the single
/// run, inside the syscall) and by the caller (Stopwatch around the whole syscall). The verdict of every
/// call is checked, and the first output of a batch is checked in full, so a batch never measures a
/// path other than the one it names.
/// </summary>
public sealed class CallTimer
{
    private readonly XdpMd _context;
    private readonly byte[] _output = new byte[2048];
    private double[] _kernel = [];
    private double[] _syscall = [];

    private readonly List<double> _steps = [];

    /// <summary>
    /// The kernel timer's effective resolution on this machine: the median gap between neighbouring
    /// distinct durations of every batch. Gaps of 1 ns are left out; they are rounding of the clock's
    /// conversion, not a finer step (a VM's clock may tick in steps of several ns).
    /// </summary>
    public double KernelTimerStepNs
    {
        get
        {
            if (_steps.Count == 0)
                return double.NaN;
            var sorted = _steps.Order().ToArray();
            return Spread.MedianOfSorted(sorted);
        }
    }

    private void TrackTimerStep()
    {
        for (var i = 1; i < _kernel.Length; i++)
        {
            var gap = _kernel[i] - _kernel[i - 1];
            if (gap >= 2 && gap <= 50)
                _steps.Add(gap);
        }
    }

    public CallTimer(uint ingressIfindex)
    {
        _context = new XdpMd { IngressIfindex = ingressIfindex };
    }

    /// <summary>Runs one frame once, for warm-ups and for frames whose output decides the next packet.</summary>
    public byte[] RunOnce(BpfProgram program, byte[] frame, XdpAction expected, string what)
    {
        var result = program.TestRun(frame, _output, _context);
        if (result.Action != expected)
            throw new InvalidOperationException($"{what}: {program.Name} returned {result.Action}, expected {expected}.");
        return _output.AsSpan(0, result.OutputLength).ToArray();
    }

    /// <summary>
    /// Runs <paramref name="frames"/>(i) for i in 0..calls-1, one call each; <paramref name="checkFirst"/>
    /// gets the first call's input and output and returns why it is wrong, or null.
    /// </summary>
    public BatchResult Run(BpfProgram program, int calls, Func<int, byte[]> frames, XdpAction expected,
        Func<byte[], byte[], string?> checkFirst, string what)
    {
        if (_kernel.Length != calls)
        {
            _kernel = new double[calls];
            _syscall = new double[calls];
        }
        var tickNs = 1e9 / Stopwatch.Frequency;
        for (var i = 0; i < calls; i++)
        {
            var frame = frames(i);
            var start = Stopwatch.GetTimestamp();
            var result = program.TestRun(frame, _output, _context);
            var end = Stopwatch.GetTimestamp();
            if (result.Action != expected)
                throw new InvalidOperationException($"{what}, call {i}: {program.Name} returned {result.Action}, expected {expected}.");
            if (i == 0 && checkFirst(frame, _output.AsSpan(0, result.OutputLength).ToArray()) is { } wrong)
                throw new InvalidOperationException($"{what}: wrong output frame: {wrong}");
            _kernel[i] = result.DurationNs;
            _syscall[i] = (end - start) * tickNs;
        }
        Array.Sort(_kernel);
        Array.Sort(_syscall);
        TrackTimerStep();
        return new BatchResult(Spread.MedianOfSorted(_kernel), Spread.MedianOfSorted(_syscall));
    }
}
