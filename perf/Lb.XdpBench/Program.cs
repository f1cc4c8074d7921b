// The XDP engine's cost per packet, by BPF_PROG_TEST_RUN: `perf/run.sh xdp` (root, after the build).
// Writes perf/results/xdp.json and prints a markdown table; perf/README.md explains the figures.

using System.Globalization;
using Lb.Native;
using Lb.XdpBench;

BenchOptions options;
try
{
    options = ParseArguments(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine("usage: Lb.XdpBench [--rounds N] [--calls N] [--warmup N] [--services 1,10000] [--backends N] " +
                            "[--maglev-size M] [--flow-capacity N] [--bpf-dir DIR] [--output FILE]");
    return 2;
}
if (!Environment.IsPrivilegedProcess)
{
    Console.Error.WriteLine("Lb.XdpBench needs root (BPF programs, network namespaces, bpffs).");
    return 1;
}

var loadBefore = MachineInfo.Loadavg();
var id = Guid.NewGuid().ToString("N")[..8];
var pinRoot = $"/sys/fs/bpf/lb-bench-{id}";
BpfFileSystem.EnsureMounted();
using var network = BenchNetwork.Create(id, options.Backends);
BenchRun? run = null;
try
{
    Exception? failure = null;
    // TestRun's bpf_fib_lookup uses the namespace of the calling thread: one dedicated thread enters the
    // benchmark's namespace, runs everything synchronously, and leaves it (NetworkNamespace.Enter).
    var worker = new Thread(() =>
    {
        try
        {
            using var inside = NetworkNamespace.Enter(network.Name);
            run = new BenchRun(options, network);
            run.Execute(pinRoot, Console.Error);
        }
        catch (Exception e)
        {
            failure = e;
        }
    }, maxStackSize: 16 * 1024 * 1024) { Name = "xdp-bench", IsBackground = false };
    worker.Start();
    worker.Join();
    if (failure is not null || run is null)
    {
        Console.Error.WriteLine($"benchmark failed: {failure}");
        return 1;
    }
}
finally
{
    if (Directory.Exists(pinRoot))
        Directory.Delete(pinRoot, recursive: true);
}

var figures = BenchReport.Compute(run.Samples);
var machine = MachineInfo.Read(loadBefore);
BenchReport.WriteJson(options.Output, machine, options, run.NewFlowsPerInstance, run.NatFlowsPerInstance, run.KernelTimerStepNs,
    "lb_xdp loaded by Lb.Native's LbDatapath, maps programmed by Lb.Agent's Programmer from Lb.Core DesiredState snapshots (default ProgrammerOptions)", figures);
Console.WriteLine($"XDP engine (BPF_PROG_TEST_RUN): {machine.Cpu}, {machine.LogicalCpus} CPUs, kernel {machine.Kernel}, load {machine.LoadavgBefore} -> {machine.LoadavgAfter}");
Console.WriteLine($"{options.Rounds} rounds x {options.Calls} calls per case; ns per packet, median (min–max) over the rounds; net = raw - fixed cost of a call");
Console.WriteLine($"kernel timer: typical step {run.KernelTimerStepNs:F0} ns (figures closer than that are not told apart by one sample)");
Console.WriteLine();
Console.Write(BenchReport.Markdown(figures));
Console.WriteLine();
Console.WriteLine($"written to {options.Output}");
return 0;

static BenchOptions ParseArguments(string[] args)
{
    var options = new BenchOptions();
    for (var i = 0; i < args.Length; i++)
    {
        var name = args[i];
        if (i + 1 >= args.Length)
            throw new ArgumentException($"{name} needs a value.");
        var value = args[++i];
        options = name switch
        {
            "--rounds" => options with { Rounds = Positive(name, value) },
            "--calls" => options with { Calls = Positive(name, value) },
            "--warmup" => options with { WarmupCalls = Positive(name, value) },
            "--services" => options with { ServiceCounts = value.Split(',').Select(v => Positive(name, v)).Distinct().Order().ToList() },
            "--backends" => options with { Backends = Positive(name, value) },
            "--maglev-size" => options with { MaglevSize = (uint)Positive(name, value) },
            "--flow-capacity" => options with { FlowCapacity = (uint)Positive(name, value) },
            "--bpf-dir" => options with { BpfDirectory = value },
            "--output" => options with { Output = value },
            _ => throw new ArgumentException($"unknown option {name}"),
        };
    }
    return options;
}

static int Positive(string name, string value) =>
    int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
        ? n
        : throw new ArgumentException($"{name} takes a positive integer, not '{value}'.");
