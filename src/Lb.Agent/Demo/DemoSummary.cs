namespace Lb.Agent.Demo;

public sealed record FamilyCounts(int V4, int V6);

/// <summary>Requests sent, answered, failed, and who answered in which family.</summary>
/// <param name="Flows">Distinct (family, client port) pairs among the answered requests: the flows Lb saw.</param>
public sealed record TrafficTally(int Sent, int Answered, int Failed, int Flows, IReadOnlyDictionary<string, FamilyCounts> ByBackend, IReadOnlyList<string> FirstFailures)
{
    public int Count(string backend, bool v6) =>
        ByBackend.TryGetValue(backend, out var counts) ? (v6 ? counts.V6 : counts.V4) : 0;
}

public sealed record TrafficResult(TrafficTally Http, TrafficTally Udp, double Seconds);

public sealed record ServiceCounters(string Name, long NewFlows, long Packets, long Bytes);

/// <summary>What lb_svc_stats, lb_reasons and lb_flows held after the traffic.</summary>
public sealed record LbCounters(IReadOnlyList<ServiceCounters> Services, IReadOnlyDictionary<string, long> Reasons, int FlowEntries);

/// <summary>One long-lived connection: who answered before the removal, and after it (a backend's name, or "error: ...").</summary>
public sealed record ConnectionOutcome(string Before, string After);

public sealed record RemovalResult(
    string Removed,
    IReadOnlyDictionary<string, int> Before,
    IReadOnlyList<ConnectionOutcome> Connections,
    int KeptOnRemaining,
    int MovedOrFailedOnRemaining,
    TrafficTally NewConnections);

/// <summary>The demo's result; <c>lb demo --output json</c> prints it.</summary>
public sealed record DemoSummary(string Id, uint ProgramId, IReadOnlyList<string> Backends, TrafficResult Traffic, LbCounters Counters, RemovalResult Removal)
{
    public bool Succeeded { get; init; }

    public IReadOnlyList<string> ProblemList { get; init; } = [];

    /// <summary>Every way the run fell short of what the demo shows; empty when it succeeded.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Traffic.Http.Failed > 0)
            problems.Add($"{Traffic.Http.Failed} of {Traffic.Http.Sent} HTTP requests failed (first: {string.Join("; ", Traffic.Http.FirstFailures)})");
        if (Traffic.Udp.Failed > 0)
            problems.Add($"{Traffic.Udp.Failed} of {Traffic.Udp.Sent} UDP datagrams got no answer (first: {string.Join("; ", Traffic.Udp.FirstFailures)})");
        foreach (var backend in Backends)
        {
            if (Traffic.Http.Count(backend, false) + Traffic.Http.Count(backend, true) == 0)
                problems.Add($"{backend} answered no HTTP request");
            if (Traffic.Udp.Count(backend, false) + Traffic.Udp.Count(backend, true) == 0)
                problems.Add($"{backend} answered no UDP datagram");
        }
        foreach (var (service, flows) in new[] { (DemoRun.WebService, Traffic.Http.Flows), (DemoRun.DnsService, Traffic.Udp.Flows) })
        {
            var counted = Counters.Services.Single(s => s.Name == service).NewFlows;
            if (counted != flows)
                problems.Add($"lb_svc_stats counted {counted} new flows for {service}, but the client used {flows} distinct flows");
        }
        if (Removal.MovedOrFailedOnRemaining > 0)
            problems.Add($"removing {Removal.Removed} moved or broke {Removal.MovedOrFailedOnRemaining} connections to other backends");
        if (Removal.NewConnections.Failed > 0)
            problems.Add($"{Removal.NewConnections.Failed} new connections after the removal failed (first: {string.Join("; ", Removal.NewConnections.FirstFailures)})");
        var toRemoved = Removal.NewConnections.Count(Removal.Removed, false) + Removal.NewConnections.Count(Removal.Removed, true);
        if (toRemoved > 0)
            problems.Add($"{toRemoved} new connections still went to the removed {Removal.Removed}");
        return problems;
    }
}
