using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lb.ScalingBench;

/// <summary>One client run, reduced: percentiles of the answered requests and the failures by reason.</summary>
public sealed record ClientSummary(int Concurrency, int Answered, int Failed, double? P50Us, double? P90Us, double? P99Us, double PerSecond, Dictionary<string, int> FailureReasons)
{
    public static ClientSummary Of(ClientRun run)
    {
        var sorted = run.LatenciesMicros.Order().ToArray();
        double? At(double q) => sorted.Length == 0 ? null : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new(run.Concurrency, run.Answered, run.Failed, At(0.50), At(0.90), At(0.99), run.PerSecond, run.Failures);
    }
}

/// <summary>One contender at one service count in one repeat. <see cref="Failures"/> lists whatever went wrong; nothing is left out.</summary>
public sealed record PointResult(string Contender, int Services, int Repeat)
{
    public double? LoadSeconds { get; set; }

    /// <summary>False for a contender with nothing to install (plain routing): its load and change times are not applicable, not failed.</summary>
    public bool LoadApplicable { get; set; } = true;
    public double? EndpointChangeSeconds { get; set; }
    public long? BpfMemoryBytes { get; set; }
    public ClientSummary? HttpSingle { get; set; }
    public ClientSummary? HttpConcurrent { get; set; }
    public ClientSummary? Udp { get; set; }
    public List<string> Failures { get; } = [];

    /// <summary>What the datapath counted during this point's client runs, by reason (Lb only): where a failed request's packets went.</summary>
    public Dictionary<string, ulong> DatapathReasons { get; set; } = [];
}

/// <summary>Median, min and max over the repeats that produced the figure.</summary>
public sealed record Spread(double Median, double Min, double Max, int Samples)
{
    public static Spread? Of(IEnumerable<double?> values)
    {
        var v = values.Where(x => x.HasValue).Select(x => x!.Value).Order().ToArray();
        if (v.Length == 0)
            return null;
        var median = v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
        return new Spread(median, v[0], v[^1], v.Length);
    }
}

public sealed record Aggregate(
    string Contender, int Services, int Repeats,
    Spread? LoadSeconds, Spread? EndpointChangeSeconds, Spread? BpfMemoryBytes,
    Spread? P50UsSingle, Spread? P90UsSingle, Spread? P99UsSingle,
    Spread? P50UsConcurrent, Spread? P90UsConcurrent, Spread? P99UsConcurrent,
    Spread? RequestsPerSecondConcurrent, Spread? UdpPerSecond,
    string? Mpps, List<string> Failures)
{
    /// <summary>Whether the contender installs services at all (plain routing does not).</summary>
    public bool LoadApplicable { get; init; } = true;

    public static Aggregate Of(string contender, int services, IReadOnlyList<PointResult> points) => new(
        contender, services, points.Count,
        Spread.Of(points.Select(p => p.LoadSeconds)),
        Spread.Of(points.Select(p => p.EndpointChangeSeconds)),
        Spread.Of(points.Select(p => (double?)p.BpfMemoryBytes)),
        Spread.Of(points.Select(p => p.HttpSingle?.P50Us)),
        Spread.Of(points.Select(p => p.HttpSingle?.P90Us)),
        Spread.Of(points.Select(p => p.HttpSingle?.P99Us)),
        Spread.Of(points.Select(p => p.HttpConcurrent?.P50Us)),
        Spread.Of(points.Select(p => p.HttpConcurrent?.P90Us)),
        Spread.Of(points.Select(p => p.HttpConcurrent?.P99Us)),
        Spread.Of(points.Select(p => p.HttpConcurrent is { Answered: > 0 } c ? c.PerSecond : (double?)null)),
        Spread.Of(points.Select(p => p.Udp is { Answered: > 0 } u ? u.PerSecond : (double?)null)),
        null,
        points.SelectMany(p => p.Failures.Select(f => $"repeat {p.Repeat}: {f}")).ToList());
}

public sealed record Machine(string Cpu, int LogicalCpus, string Kernel, string LoadavgBefore, string LoadavgAfter, Dictionary<string, string> Tools)
{
    public static string Loadavg() => File.ReadAllText("/proc/loadavg").Trim();

    public static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
}

public sealed record ScalingReport(
    DateTime StartedUtc, DateTime FinishedUtc, Machine Machine, object Options, string Method,
    List<string> ContendersNotImplemented, string Mpps, List<Aggregate> Results, List<PointResult> Points)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string ToMarkdown(int concurrency)
    {
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"Measured {StartedUtc:yyyy-MM-dd HH:mm} UTC on {Machine.Cpu} ({Machine.LogicalCpus} CPUs), kernel {Machine.Kernel}, load average {Machine.LoadavgBefore.Split(' ')[0]}–{Machine.LoadavgAfter.Split(' ')[0]} (1 min, before → after). ");
        md.Append("Median (min–max) over the repeats; latency is one HTTP request per new TCP connection, connect to close.\n\n");
        md.Append(CultureInfo.InvariantCulture, $"| contender | services | load | endpoint change | p50 / p90 / p99 µs, 1 client | p50 / p90 / p99 µs, {concurrency} clients | req/s, {concurrency} clients | UDP req-resp/s | BPF memory | Mpps | failures |\n");
        md.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        foreach (var a in Results)
        {
            md.Append(CultureInfo.InvariantCulture,
                $"| {a.Contender} | {a.Services:N0} | {Seconds(a.LoadSeconds, a.LoadApplicable)} | {Seconds(a.EndpointChangeSeconds, a.LoadApplicable)} | {Latency(a.P50UsSingle, a.P90UsSingle, a.P99UsSingle)} | {Latency(a.P50UsConcurrent, a.P90UsConcurrent, a.P99UsConcurrent)} | {Number(a.RequestsPerSecondConcurrent)} | {Number(a.UdpPerSecond)} | {Bytes(a.BpfMemoryBytes)} | {Mpps} | {Failures(a.Failures)} |\n");
        }
        foreach (var name in ContendersNotImplemented)
            md.Append(CultureInfo.InvariantCulture, $"| {name} | - | **not implemented** | - | - | - | - | - | - | - | - |\n");
        return md.ToString();
    }

    private static string Range(Spread s, Func<double, string> f) => s.Samples == 1 || s.Min == s.Max ? f(s.Median) : $"{f(s.Median)} ({f(s.Min)}–{f(s.Max)})";

    private static string Seconds(Spread? s, bool applicable) => !applicable ? "n/a" : s is null ? "**failed**" : Range(s, v => v switch
    {
        0 => "0",
        < 1e-3 => $"{v * 1e6:0} µs",
        < 1 => $"{v * 1e3:0.#} ms",
        _ => $"{v:0.##} s",
    });

    private static string Latency(Spread? p50, Spread? p90, Spread? p99) =>
        p50 is null || p90 is null || p99 is null ? "**failed**" : $"{p50.Median:0} / {p90.Median:0} / {p99.Median:0} ({p99.Min:0}–{p99.Max:0})";

    private static string Number(Spread? s) => s is null ? "**failed**" : Range(s, v => v.ToString("N0", CultureInfo.InvariantCulture));

    private static string Bytes(Spread? s) => s is null ? "-" : Range(s, v => $"{v / (1 << 20):0.#} MiB");

    private static string Failures(List<string> failures) =>
        failures.Count == 0 ? "" : "**" + string.Join("; ", failures.Take(3)).Replace("|", "/") + (failures.Count > 3 ? $"; +{failures.Count - 3} more" : "") + "**";
}
