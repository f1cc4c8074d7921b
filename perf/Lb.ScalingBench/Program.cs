using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Lb.Agent.Demo;
using Lb.Core.Model;
using Lb.Datapath.Abi;
using Lb.ScalingBench;

// Lb against kube-proxy and plain routing from 1 to 30,000 services, with real clients: see perf/README.md.
var options = ScalingOptions.Parse(args);
if (options is null)
    return 2;
if (Environment.UserName != "root")
{
    Console.Error.WriteLine("the scaling benchmark needs root (network namespaces, BPF, iptables)");
    return 1;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Let the run stop between steps, so the finally below removes everything it made.
    e.Cancel = true;
    stop.Cancel();
    Console.Error.WriteLine("stopping: cleaning up namespaces, nginx, pins...");
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
{
    c.Cancel = true;
    stop.Cancel();
});

var runId = Guid.NewGuid().ToString("N")[..4];
var work = Path.Combine(Path.GetTempPath(), $"lb-scaling-{runId}");
Directory.CreateDirectory(work);
var started = DateTime.UtcNow;
var loadBefore = Machine.Loadavg();
var loadLimit = TimeSpan.FromSeconds(options.LoadTimeoutSeconds);

// Every contender, in the order they are first set up; a contender that cannot be set up stays in the
// results with its error at every point.
var factories = new List<(string Name, Func<string, Contender> Create)>
{
    ("routing (no balancing)", id => new PlainRouting(id, work)),
    ("Lb xdp nat", id => new LbXdpContender(ForwardingMode.Nat, id, work, options.BpfDirectory, options.MaglevSize, options.FlowCapacity)),
    ("Lb xdp dsr-ipip", id => new LbXdpContender(ForwardingMode.DsrIpip, id, work, options.BpfDirectory, options.MaglevSize, options.FlowCapacity)),
    ("kube-proxy iptables (legacy)", id => new KubeProxyIptablesContender("kube-proxy iptables (legacy)", "iptables-legacy-restore", id, work, loadLimit)),
    ("kube-proxy iptables (nft)", id => new KubeProxyIptablesContender("kube-proxy iptables (nft)", "iptables-nft-restore", id, work, loadLimit)),
    ("kube-proxy nftables", id => new KubeProxyNftContender(id, work, loadLimit)),
};
var notImplemented = new List<string> { "Lb afxdp (mode not implemented yet)" };
const string MppsStatus = "not measured (no live-frame generator in this harness yet)";

var contenders = new List<(string Name, Contender? Instance, string? SetupError)>();
var points = new List<PointResult>();
try
{
    for (var i = 0; i < factories.Count && !stop.IsCancellationRequested; i++)
    {
        var (name, create) = factories[i];
        Console.Error.WriteLine($"setting up {name}...");
        try
        {
            contenders.Add((name, create($"{runId}{i}"), null));
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"  {name} could not be set up: {e.Message}");
            contenders.Add((name, null, $"setup failed: {e.Message}"));
        }
    }

    foreach (var count in options.ServiceCounts)
    {
        for (var repeat = 0; repeat < options.Repeats; repeat++)
        {
            // Rotate the order each repeat, so no contender always runs right after the same one.
            for (var k = 0; k < contenders.Count; k++)
            {
                if (stop.IsCancellationRequested)
                    throw new OperationCanceledException();
                var (name, contender, setupError) = contenders[(k + repeat) % contenders.Count];
                var point = new PointResult(name, count, repeat + 1);
                points.Add(point);
                if (contender is null)
                {
                    point.Failures.Add(setupError!);
                    continue;
                }
                try
                {
                    Measure(contender, count, point, options, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    point.Failures.Add("interrupted before this point was complete");
                    throw;
                }
                Console.Error.WriteLine($"  {count,6} services, repeat {repeat + 1}: {name}: load {point.LoadSeconds:0.####} s, " +
                    $"p50 {point.HttpSingle?.P50Us:0} µs, {point.HttpConcurrent?.PerSecond:0} req/s, udp {point.Udp?.PerSecond:0}/s" +
                    (point.Failures.Count > 0 ? $", FAILURES: {string.Join("; ", point.Failures)}" : ""));
            }
        }
    }
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("interrupted: the results written hold the points measured so far");
}
finally
{
    foreach (var (name, contender, _) in contenders)
    {
        try
        {
            if (contender is not null)
                await contender.DisposeAsync();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"cleaning up {name}: {e.Message}");
        }
    }
    try
    {
        Directory.Delete(work, recursive: true);
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"cannot remove {work}: {e.Message}");
    }
}

var machine = new Machine(Machine.CpuModel(), Environment.ProcessorCount, File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), loadBefore, Machine.Loadavg(), ToolVersions());
var aggregates = points.GroupBy(p => (p.Contender, p.Services))
    .Select(g => Aggregate.Of(g.Key.Contender, g.Key.Services, g.ToList()) with { Mpps = MppsStatus, LoadApplicable = g.All(p => p.LoadApplicable) })
    .OrderBy(a => factories.FindIndex(f => f.Name == a.Contender)).ThenBy(a => a.Services)
    .ToList();
var report = new ScalingReport(started, DateTime.UtcNow, machine, options,
    "Each contender has its own namespace topology (client, balancer, two backends running nginx on TCP 80 and a UDP echo on UDP 80). " +
    "Per point: every service removed (untimed), the N-service set loaded (timed: iptables-restore / nft -f / Programmer.Apply), " +
    "one HTTP GET per new TCP connection (connect to close) from 1 and from C client threads for a fixed time, UDP request-response from one socket, " +
    "then one endpoint of the measured service removed (timed). The measured service is last in every rule set. Repeats interleave the contenders in a rotating order.",
    notImplemented, MppsStatus, aggregates, points);
Directory.CreateDirectory(options.OutputDirectory);
var jsonPath = Path.Combine(options.OutputDirectory, "scaling.json");
File.WriteAllText(jsonPath, report.ToJson());
var markdown = report.ToMarkdown(options.Concurrency);
File.WriteAllText(Path.Combine(options.OutputDirectory, "scaling.md"), markdown);
Console.WriteLine(markdown);
Console.Error.WriteLine($"wrote {jsonPath} and scaling.md");
return stop.IsCancellationRequested ? 130 : 0;

static void Measure(Contender contender, int count, PointResult point, ScalingOptions options, CancellationToken stop)
{
    var ports = ServiceSet.Build(count, contender.BackendAddresses);
    var measured = ports.First(p => p.Name == ServiceSet.MeasuredName && p.Protocol == "tcp");
    var timeout = TimeSpan.FromSeconds(options.RequestTimeoutSeconds);
    var duration = TimeSpan.FromSeconds(options.Seconds);
    try
    {
        contender.Reset();
        point.LoadSeconds = contender.Load(ports)?.TotalSeconds;
        point.LoadApplicable = point.LoadSeconds.HasValue;
    }
    catch (Exception e)
    {
        point.Failures.Add($"load: {e.Message}");
        return;
    }
    try
    {
        point.BpfMemoryBytes = contender.BpfMemoryBytes();
    }
    catch (Exception e)
    {
        point.Failures.Add($"BPF memory: {e.Message}");
    }
    var runs = new (string What, Func<ClientRun> Run, Action<ClientSummary> Keep)[]
    {
        ("HTTP, 1 client", () => Clients.Http(contender.Topology.ClientNs, contender.TcpTarget, 1, duration, timeout), s => point.HttpSingle = s),
        ($"HTTP, {options.Concurrency} clients", () => Clients.Http(contender.Topology.ClientNs, contender.TcpTarget, options.Concurrency, duration, timeout), s => point.HttpConcurrent = s),
        ("UDP", () => Clients.Udp(contender.Topology.ClientNs, contender.UdpTarget, duration, timeout), s => point.Udp = s),
    };
    var reasonsBefore = contender.DatapathReasons();
    foreach (var (what, run, keep) in runs)
    {
        stop.ThrowIfCancellationRequested();
        try
        {
            var summary = ClientSummary.Of(run());
            keep(summary);
            if (summary.Answered == 0)
                point.Failures.Add($"{what}: no answer ({string.Join(", ", summary.FailureReasons.Select(r => $"{r.Value}× {r.Key}"))})");
            else if (summary.Failed > 0)
                point.Failures.Add($"{what}: {summary.Failed} of {summary.Answered + summary.Failed} failed ({string.Join(", ", summary.FailureReasons.Select(r => $"{r.Value}× {r.Key}"))})");
        }
        catch (Exception e)
        {
            point.Failures.Add($"{what}: {e.Message}");
        }
    }
    point.DatapathReasons = contender.DatapathReasons()
        .Select(r => (r.Key, Delta: r.Value - reasonsBefore.GetValueOrDefault(r.Key)))
        .Where(r => r.Delta > 0)
        .ToDictionary(r => r.Key, r => r.Delta);
    try
    {
        point.EndpointChangeSeconds = contender.RemoveEndpoint(ports, measured, measured.Endpoints[^1])?.TotalSeconds;
    }
    catch (Exception e)
    {
        point.Failures.Add($"endpoint change: {e.Message}");
    }
}

static Dictionary<string, string> ToolVersions()
{
    var tools = new Dictionary<string, string>();
    foreach (var (name, file, arg) in new[] { ("nginx", "nginx", "-v"), ("iptables", "iptables-legacy", "-V"), ("nft", "nft", "-v"), ("bpftool", "bpftool", "version") })
    {
        try
        {
            var (_, stdout, stderr) = Shell.TryRun(file, arg);
            tools[name] = (stdout + stderr).Trim().Split('\n')[0];
        }
        catch (Exception e)
        {
            tools[name] = $"unavailable: {e.Message}";
        }
    }
    return tools;
}

/// <summary>What the command line chose.</summary>
public sealed record ScalingOptions
{
    public IReadOnlyList<int> ServiceCounts { get; init; } = [1, 1000, 10_000, 30_000];
    public int Repeats { get; init; } = 3;
    public double Seconds { get; init; } = 5;
    public int Concurrency { get; init; } = 8;
    public double RequestTimeoutSeconds { get; init; } = 1;
    public double LoadTimeoutSeconds { get; init; } = 900;
    public uint MaglevSize { get; init; } = MaglevOptions.DefaultTableSize;
    public uint FlowCapacity { get; init; } = LbLimits.DefaultFlows;
    public string BpfDirectory { get; init; } = "build/bpf";
    public string OutputDirectory { get; init; } = "perf/results";

    public const string Usage = """
        usage: Lb.ScalingBench [--services 1,1000,10000,30000] [--repeats 3] [--seconds 5] [--concurrency 8]
                               [--request-timeout 1] [--load-timeout 900] [--maglev-size 16381] [--flow-capacity 1000000]
                               [--bpf-dir build/bpf] [--output-dir perf/results]
        """;

    public static ScalingOptions? Parse(string[] args)
    {
        var o = new ScalingOptions();
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                o = args[i] switch
                {
                    "--services" => o with { ServiceCounts = Value().Split(',').Select(s => Positive(int.Parse(s, CultureInfo.InvariantCulture), "--services", ServiceSet.MaxServices)).ToList() },
                    "--repeats" => o with { Repeats = Positive(int.Parse(Value(), CultureInfo.InvariantCulture), "--repeats", 1000) },
                    "--seconds" => o with { Seconds = PositiveD(Value(), "--seconds") },
                    "--concurrency" => o with { Concurrency = Positive(int.Parse(Value(), CultureInfo.InvariantCulture), "--concurrency", 1024) },
                    "--request-timeout" => o with { RequestTimeoutSeconds = PositiveD(Value(), "--request-timeout") },
                    "--load-timeout" => o with { LoadTimeoutSeconds = PositiveD(Value(), "--load-timeout") },
                    "--maglev-size" => o with { MaglevSize = uint.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--flow-capacity" => o with { FlowCapacity = uint.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--bpf-dir" => o with { BpfDirectory = Value() },
                    "--output-dir" => o with { OutputDirectory = Value() },
                    "-h" or "--help" => throw new ArgumentException(""),
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }
            if (!File.Exists(Path.Combine(o.BpfDirectory, "lb_xdp.bpf.o")) || !File.Exists(Path.Combine(o.BpfDirectory, "lb_decap.bpf.o")))
                throw new ArgumentException($"no lb_xdp.bpf.o / lb_decap.bpf.o in {o.BpfDirectory}: build the BPF objects first (cmake --build build --target bpf)");
            return o;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            if (e.Message.Length > 0)
                Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return null;
        }
    }

    private static int Positive(int value, string option, int max) =>
        value >= 1 && value <= max ? value : throw new ArgumentException($"{option} takes values from 1 to {max}, not {value}");

    private static double PositiveD(string text, string option)
    {
        var value = double.Parse(text, CultureInfo.InvariantCulture);
        return value > 0 ? value : throw new ArgumentException($"{option} must be above 0, not {text}");
    }
}
