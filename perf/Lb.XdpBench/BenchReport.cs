using System.Globalization;
using Lb.Agent.Programming;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lb.XdpBench;

public sealed record MachineInfo(string Cpu, int LogicalCpus, string Kernel, string Clocksource, string LoadavgBefore, string LoadavgAfter)
{
    public static string Loadavg() => File.ReadAllText("/proc/loadavg").Trim();

    public static MachineInfo Read(string loadavgBefore)
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
            ?.Split(':', 2)[1].Trim() ?? "unknown";
        var clocksource = File.Exists("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            ? File.ReadAllText("/sys/devices/system/clocksource/clocksource0/current_clocksource").Trim()
            : "unknown";
        return new MachineInfo(cpu, Environment.ProcessorCount, File.ReadAllText("/proc/sys/kernel/osrelease").Trim(),
            clocksource, loadavgBefore, Loadavg());
    }
}

public sealed record CaseFigures(
    string Case,
    string Mode,
    int Services,
    Spread RawNs,
    Spread NetNs,
    string? Floor,
    Spread? AboveFloorNs,
    Spread SyscallRawNs,
    Spread SyscallNetNs,
    double? ChangeVsFewestServicesPercent,
    bool? ScalingTargetMet,
    double? AboveFloorTargetNs,
    bool? AboveFloorTargetMet);

/// <summary>
/// Turns the per-round batch medians into the published figures. Every difference is taken within a
/// round (a case minus the same round's fixed cost or floor), then summarised over the rounds as
/// median, min and max, so the machine's state at the time cancels as far as it can.
/// </summary>
public static class BenchReport
{
    /// <summary>Issue targets: at the most services within this much of the figure at the fewest (net, paired by round).</summary>
    public const double ScalingTargetPercent = 5;
    /// <summary>Issue targets: an established flow at most this far above its mode's floor (the IPIP floor for dsr-ipip).</summary>
    public const double EstablishedTargetNs = 100;
    /// <summary>Issue targets: a new flow at most this far above its mode's floor.</summary>
    public const double NewFlowTargetNs = 250;

    public const string Method =
        "(a) one run per BPF_PROG_TEST_RUN call (repeat = 1, so every run starts from the caller's frame), " +
        "timed by the kernel's own duration field (ktime_get_ns around the single run, inside the syscall); " +
        "per batch the median over all calls; the fixed cost of a call (the same frame through a program " +
        "that only returns XDP_TX) measured in every round and subtracted within the round. The wall-clock " +
        "time of the whole syscall is reported beside it (syscall_*), with its own fixed cost subtracted.";

    public static IReadOnlyList<CaseFigures> Compute(IReadOnlyCollection<CaseSamples> samples)
    {
        var byName = samples.Where(s => s.Services == 0).ToDictionary(s => s.Case);
        var fixedCost = byName[BenchRun.Fixed].Rounds;
        var fewest = samples.Where(s => s.Services > 0).Select(s => s.Services).DefaultIfEmpty(0).Min();
        var figures = new List<CaseFigures>();
        foreach (var s in samples)
        {
            var rounds = s.Rounds.Count;
            var raw = s.Rounds.Select(r => r.KernelNs).ToList();
            var net = Enumerable.Range(0, rounds).Select(r => s.Rounds[r].KernelNs - fixedCost[r].KernelNs).ToList();
            var syscall = s.Rounds.Select(r => r.SyscallNs).ToList();
            var syscallNet = Enumerable.Range(0, rounds).Select(r => s.Rounds[r].SyscallNs - fixedCost[r].SyscallNs).ToList();
            Spread? above = null;
            if (s.Floor.Length > 0)
            {
                var floor = byName[s.Floor].Rounds;
                above = Spread.Of(Enumerable.Range(0, rounds).Select(r => s.Rounds[r].KernelNs - floor[r].KernelNs).ToList());
            }
            figures.Add(new CaseFigures(s.Case, s.Mode, s.Services, Spread.Of(raw), Spread.Of(net), s.Floor.Length > 0 ? s.Floor : null,
                above, Spread.Of(syscall), Spread.Of(syscallNet), null, null, null, null));
        }

        // Targets: the service count must not matter (within 5 % of the net figure at the fewest
        // services), and an established / new flow must stay within 100 / 250 ns of its mode's floor.
        for (var i = 0; i < figures.Count; i++)
        {
            var f = figures[i];
            if (f.Services == 0)
                continue;
            double? change = null;
            bool? scalingMet = null;
            if (f.Services != fewest)
            {
                change = PairedChangePercent(samples, f, fewest, fixedCost);
                scalingMet = Math.Abs(change.Value) <= ScalingTargetPercent;
            }
            var limit = f.Case switch { "established flow" => EstablishedTargetNs, "new flow (SYN)" => NewFlowTargetNs, _ => (double?)null };
            figures[i] = f with
            {
                ChangeVsFewestServicesPercent = change,
                ScalingTargetMet = scalingMet,
                AboveFloorTargetNs = limit,
                AboveFloorTargetMet = limit is { } ns && f.AboveFloorNs is { } above ? above.Median <= ns : null,
            };
        }
        return figures
            .OrderBy(f => f.Services == 0 ? 0 : 1)
            .ThenBy(f => CaseOrder(f.Case))
            .ThenBy(f => f.Mode, StringComparer.Ordinal)
            .ThenBy(f => f.Services)
            .ToList();
    }

    /// <summary>
    /// The change of a case's net figure against the same case at the fewest services, taken round by round
    /// (the two ran back to back) and then the median over the rounds: a slow round of a shared machine
    /// moves both figures of its pair, not one.
    /// </summary>
    private static double PairedChangePercent(IReadOnlyCollection<CaseSamples> samples, CaseFigures f, int fewest, List<BatchResult> fixedCost)
    {
        var mine = samples.First(s => s.Case == f.Case && s.Mode == f.Mode && s.Services == f.Services).Rounds;
        var baseline = samples.First(s => s.Case == f.Case && s.Mode == f.Mode && s.Services == fewest).Rounds;
        var changes = Enumerable.Range(0, mine.Count)
            .Select(r => (mine[r].KernelNs - baseline[r].KernelNs) / (baseline[r].KernelNs - fixedCost[r].KernelNs) * 100)
            .ToList();
        return Spread.Of(changes).Median;
    }

    private static int CaseOrder(string name) => name switch
    {
        BenchRun.Fixed => 0,
        BenchRun.Floor => 1,
        BenchRun.FloorIpip => 2,
        BenchRun.ReferenceKtime => 3,
        BenchRun.ReferenceKtimeCoarse => 4,
        BenchRun.ReferenceFib => 5,
        "non-service packet" => 6,
        "new flow (SYN)" => 7,
        "established flow" => 8,
        _ => 9,
    };

    public static void WriteJson(string path, MachineInfo machine, BenchOptions options, long newFlowsPerInstance,
        long natFlowsPerInstance, double kernelStepNs, string programming, IReadOnlyList<CaseFigures> figures)
    {
        var fixedCost = figures.First(f => f.Case == BenchRun.Fixed);
        var document = new
        {
            Date = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Machine = machine,
            Method = Method,
            Rounds = options.Rounds,
            CallsPerBatch = options.Calls,
            WarmupCallsPerCase = options.WarmupCalls,
            Frame = "IPv4 TCP; SYN with Linux's 20 option bytes for new flows, ACK|PSH with 64 payload bytes otherwise",
            Programming = programming,
            FlowTable = new
            {
                Capacity = options.FlowCapacity,
                NewFlowsPerInstance = newFlowsPerInstance,
                Eviction = "none: every lb_xdp instance (one per service count) inserts fewer new flows than its flow table holds",
            },
            NatPorts = new
            {
                PerBackend = ProgrammerOptions.Default.NatPortMax - ProgrammerOptions.Default.NatPortMin + 1,
                Backends = options.Backends,
                NatFlowsPerInstance = natFlowsPerInstance,
                FillAtEnd = Math.Round((double)natFlowsPerInstance / (options.Backends * (ProgrammerOptions.Default.NatPortMax - ProgrammerOptions.Default.NatPortMin + 1)), 3),
            },
            MaglevTableSize = options.MaglevSize,
            BenchServiceBackends = options.Backends,
            KernelTimerStepNs = kernelStepNs,
            FixedCostNs = new { Kernel = fixedCost.RawNs, Syscall = fixedCost.SyscallRawNs },
            Cases = figures,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var json = JsonSerializer.Serialize(document, new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            // Plain apostrophes and dashes in the prose fields; the file is read by people and scripts, not embedded in HTML.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        File.WriteAllText(path, json + "\n");
    }

    public static string Markdown(IReadOnlyList<CaseFigures> figures)
    {
        var md = new StringBuilder();
        md.AppendLine("| case | mode | services | raw ns | net ns | above floor ns | target above floor | vs fewest services (paired) | target: within 5 % |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---|---:|---|");
        foreach (var f in figures)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {f.Case} | {f.Mode} | {(f.Services == 0 ? "-" : f.Services.ToString("N0", CultureInfo.InvariantCulture))} ");
            md.Append(CultureInfo.InvariantCulture, $"| {Format(f.RawNs)} | {Format(f.NetNs)} ");
            md.Append(CultureInfo.InvariantCulture, $"| {(f.AboveFloorNs is { } a ? Format(a) : "-")} ");
            md.Append(CultureInfo.InvariantCulture, $"| {(f.AboveFloorTargetNs is { } t ? $"<= {t:F0}: {Verdict(f.AboveFloorTargetMet)}" : "-")} ");
            md.Append(CultureInfo.InvariantCulture, $"| {(f.ChangeVsFewestServicesPercent is { } c ? $"{c:+0.0;-0.0} %" : "-")} ");
            md.Append(CultureInfo.InvariantCulture, $"| {(f.ScalingTargetMet is { } m ? Verdict(m) : "-")} |");
            md.AppendLine();
        }
        return md.ToString();
    }

    private static string Verdict(bool? met) => met == true ? "met" : "**missed**";

    private static string Format(Spread s) =>
        string.Create(CultureInfo.InvariantCulture, $"{s.Median:F0} ({s.Min:F0}–{s.Max:F0})");
}
