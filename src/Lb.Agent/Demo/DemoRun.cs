using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Lb.Agent.Programming;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Native;
using Spectre.Console;

namespace Lb.Agent.Demo;

/// <summary>What `lb demo` is asked to do.</summary>
public sealed record DemoSettings
{
    public int HttpRequests { get; init; } = 1000;
    public int Datagrams { get; init; } = 1000;
    public int LongLivedConnections { get; init; } = 30;
    public int Concurrency { get; init; } = 16;
    public bool Json { get; init; }
    public string? BpfObject { get; init; }
}

/// <summary>
/// `lb demo`: builds a client, the balancer and three backends in network namespaces, runs Lb's XDP
/// datapath on the balancer, sends real HTTP and UDP traffic through it, removes a backend while
/// connections are open, and removes everything again. Every step prints what it does; the summary
/// (text, or JSON with --output json) says what was measured.
/// </summary>
public sealed class DemoRun
{
    public const ushort HttpPort = 80;
    public const ushort UdpPort = 53;
    public const string WebService = "demo/web";
    public const string DnsService = "demo/dns";
    public const int RemovedBackendIndex = 1;
    private const int BackendCount = 3;
    private const uint FlowTableCapacity = 65536;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(3);

    private readonly DemoSettings _settings;
    private readonly DemoOutput _out;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public DemoRun(DemoSettings settings, DemoOutput output)
    {
        _settings = settings;
        _out = output;
    }

    /// <summary>Runs the demo; everything it made is gone when this returns or throws.</summary>
    public async Task<DemoSummary> Run(CancellationToken cancellationToken)
    {
        var objectPath = XdpObjectLocator.Find(_settings.BpfObject, "--bpf-object");

        var stale = DemoLease.RemoveStale();
        foreach (var (staleId, removed) in stale)
            Say($"removed what a dead demo {staleId} left behind: {string.Join(", ", removed)}");
        if (stale.Count == 0)
            Say("no leftovers of an earlier demo");

        var lease = DemoLease.Acquire();
        Say($"demo {lease.Id}: namespaces {lease.NamespacePrefix}*, pins under {lease.PinRoot}, owner recorded in {lease.RecordPath} (pid {Environment.ProcessId})");

        Topology? topology = null;
        LbDatapath? datapath = null;
        var backends = new List<BackendServer>();
        var held = new List<HeldConnection>();
        var completed = false;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            Say("step 1: topology");
            topology = Topology.Create(BackendCount, vipOnBackends: false, namePrefix: DemoLease.NamePrefix, id: lease.Id);
            Say($"  client    {topology.ClientNs,-18} c0 {Topology.ClientV4}, {Topology.ClientV6}");
            Say($"  balancer  {topology.BalancerNs,-18} l0 {Topology.BalancerV4}, {Topology.BalancerV6}; b0..b{BackendCount - 1} toward the backends");
            foreach (var b in topology.Backends)
                Say($"  {b.Name} {b.Namespace,-18} e0 {b.AddressV4}, {b.AddressV6}");

            foreach (var b in topology.Backends)
                backends.Add(new BackendServer(b.Namespace, b.Name, HttpPort, [b.AddressV4, b.AddressV6], UdpPort));
            Say($"  backends serve HTTP/1.1 on tcp/{HttpPort} and name themselves on udp/{UdpPort}");
            cancellationToken.ThrowIfCancellationRequested();

            Say("step 2: Lb on the balancer");
            datapath = LbDatapath.Load(new LbDatapathOptions
            {
                ObjectPath = objectPath,
                PinRoot = lease.PinRoot,
                FlowTableCapacity = FlowTableCapacity,
                MaglevTableSize = MaglevOptions.DefaultTableSize,
            });
            Say($"  loaded {objectPath} (program id {datapath.Program.Id}), maps pinned under {lease.PinRoot}");
            var loaded = datapath;
            var attachments = InNamespace.Run(topology.BalancerNs, () => loaded.Attach(topology.BalancerInterfaces));
            Say($"  XDP attached to {string.Join(", ", attachments.Select((a, i) => $"{topology.BalancerInterfaces[i]} ({a.Mode.ToString().ToLowerInvariant()})"))}");
            foreach (var attachment in attachments)
                attachment.Dispose();

            var options = DatapathOptions.Default with
            {
                Interfaces = topology.BalancerInterfaces.ToEquatableArray(),
                SnatAddress = Topology.BalancerV4,
                SnatAddressV6 = Topology.BalancerV6,
                FlowTableCapacity = FlowTableCapacity,
            };
            // The balancer's kernel has never talked to the backends: Lb asks it for managed neighbour entries,
            // which XDP's FIB lookup needs. They go with the namespace, so they are recorded in memory only.
            var neighbours = new IpNeighbourKeeper(topology.BalancerNs, recordPath: null);
            var programmer = new Programmer(datapath.Maps, new ProgrammerOptions { SnatAddressV4 = Topology.BalancerV4, SnatAddressV6 = Topology.BalancerV6 },
                neighbours: neighbours);
            var services = Services(topology.Backends);
            var state = DesiredState.Build(options, services);
            var applied = programmer.Apply(state);
            foreach (var service in services)
                Say($"  service {service.Name}: {string.Join(", ", service.Frontends.Select(f => f.Key.ToString()))} -> {service.Backends.Count} backends ({string.Join(", ", service.Backends.Select(b => b.Identity))}), nat");
            Say($"  programmed: {applied.MapWrites} map writes, {applied.TablesBuilt} Maglev tables of {MaglevOptions.DefaultTableSize} slots, {applied.Duration.TotalMilliseconds:F1} ms");
            Say($"  managed neighbour entries on the balancer for the backends' next hops: {string.Join(", ", neighbours.Created.Select(h => h.ToString()))}");

            Say($"step 3: traffic: {_settings.HttpRequests} HTTP requests (a new connection each) and {_settings.Datagrams} UDP datagrams (a new socket each), IPv4 and IPv6 alternating");
            var traffic = await SendTraffic(topology, cancellationToken);
            ReportTraffic(topology, backends, traffic);
            var counters = ReadCounters(datapath.Maps, state);
            ReportCounters(counters);

            Say($"step 4: remove {topology.Backends[RemovedBackendIndex].Name} while {_settings.LongLivedConnections} connections stay open");
            var removal = await RemoveBackendUnderLoad(topology, programmer, options, services, state, held, cancellationToken);

            var summary = new DemoSummary(lease.Id, datapath.Program.Id, topology.Backends.Select(b => b.Name).ToList(), traffic, counters, removal);
            var problems = summary.Problems();
            summary = summary with { Succeeded = problems.Count == 0, ProblemList = problems };
            Say(problems.Count == 0
                ? "result: every backend answered, and removing one moved no other connection"
                : $"result: FAILED: {string.Join("; ", problems)}");
            completed = true;
            return summary;
        }
        finally
        {
            Say("clean-up");
            var failures = new List<string>();
            async Task Attempt(string what, Func<Task> step)
            {
                try
                {
                    await step();
                }
                catch (Exception e)
                {
                    failures.Add($"{what}: {e.Message}");
                }
            }
            await Attempt("client sockets", () =>
            {
                foreach (var h in held)
                    h.Socket.Dispose();
                return Task.CompletedTask;
            });
            foreach (var b in backends)
                await Attempt(b.Name, () => b.DisposeAsync().AsTask());
            await Attempt("datapath descriptors", () =>
            {
                datapath?.Dispose();
                return Task.CompletedTask;
            });
            if (topology is not null)
            {
                await Attempt("namespaces", async () =>
                {
                    await topology.DisposeAsync();
                    Say($"  deleted namespaces {topology.ClientNs}, {topology.BalancerNs}, {string.Join(", ", topology.Backends.Select(b => b.Namespace))} (their veths and XDP attachments with them)");
                });
            }
            await Attempt("pins and record", () =>
            {
                Say($"  removed {string.Join(", ", lease.Release())}");
                return Task.CompletedTask;
            });
            var left = DemoLease.ResourcesOf(lease.Id);
            if (left.Count > 0)
                failures.Add($"still there: {string.Join(", ", left)}");
            if (failures.Count > 0)
            {
                Say($"  clean-up incomplete ({string.Join("; ", failures)}); the next `lb demo` removes the rest once this process has exited");
                // An earlier exception says more about what went wrong; this one only when the run itself got through.
                if (completed)
                    throw new InvalidOperationException($"clean-up incomplete: {string.Join("; ", failures)}");
            }
        }
    }

    /// <summary>
    /// Two services on one VIP (a backend has one port, and HTTP and DNS-style UDP differ), each with an
    /// IPv4 and an IPv6 frontend and every backend in both families.
    /// </summary>
    public static List<Service> Services(IReadOnlyList<BackendHost> hosts)
    {
        Service Make(string name, ushort port, L4Protocol protocol) => new(
            name,
            EquatableArray.Create(Frontend.At(Topology.VipV4, port, protocol), Frontend.At(Topology.VipV6, port, protocol)),
            hosts.SelectMany(h => new[] { new Backend(h.AddressV4, port), new Backend(h.AddressV6, port) }).ToEquatableArray(),
            ServicePolicy.Default with { Forwarding = ForwardingMode.Nat });
        return [Make(WebService, HttpPort, L4Protocol.Tcp), Make(DnsService, UdpPort, L4Protocol.Udp)];
    }

    private async Task<TrafficResult> SendTraffic(Topology topology, CancellationToken cancellationToken)
    {
        var http = new Tally();
        var udp = new Tally();
        var started = _clock.Elapsed;
        await _out.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var httpTask = context.AddTask($"HTTP GET {Topology.VipV4}:{HttpPort}", maxValue: _settings.HttpRequests);
                var udpTask = context.AddTask($"UDP {Topology.VipV4}:{UdpPort}", maxValue: _settings.Datagrams);
                var parallel = new ParallelOptions { MaxDegreeOfParallelism = _settings.Concurrency, CancellationToken = cancellationToken };
                await Parallel.ForEachAsync(Enumerable.Range(0, _settings.HttpRequests), parallel, async (i, token) =>
                {
                    var vip = new IPEndPoint(i % 2 == 0 ? Topology.VipV4 : Topology.VipV6, HttpPort);
                    await http.Record(vip, async () =>
                    {
                        using var socket = InNamespace.TcpSocket(topology.ClientNs, vip.AddressFamily);
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                        timeout.CancelAfter(RequestTimeout);
                        await socket.ConnectAsync(vip, timeout.Token);
                        var localPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
                        return (BackendOf(await HttpGet.Send(socket, HostOf(vip), "/", timeout.Token)), localPort);
                    }, token);
                    httpTask.Increment(1);
                });
                await Parallel.ForEachAsync(Enumerable.Range(0, _settings.Datagrams), parallel, async (i, token) =>
                {
                    var vip = new IPEndPoint(i % 2 == 0 ? Topology.VipV4 : Topology.VipV6, UdpPort);
                    await udp.Record(vip, () => UdpAsk(topology.ClientNs, vip, token), token);
                    udpTask.Increment(1);
                });
            });
        return new TrafficResult(http.ToResult(), udp.ToResult(), (_clock.Elapsed - started).TotalSeconds);
    }

    private void ReportTraffic(Topology topology, IReadOnlyList<BackendServer> servers, TrafficResult traffic)
    {
        Say($"  done in {traffic.Seconds:F1} s: HTTP {traffic.Http.Answered}/{traffic.Http.Sent} answered ({traffic.Http.Flows} distinct client ports), " +
            $"UDP {traffic.Udp.Answered}/{traffic.Udp.Sent} answered ({traffic.Udp.Flows} distinct client ports: a source port that comes round again is the same flow)");
        Say("  who answered (as the client saw it), and what each backend counted itself:");
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("backend")
            .AddColumn(new TableColumn("HTTP v4").RightAligned()).AddColumn(new TableColumn("HTTP v6").RightAligned())
            .AddColumn(new TableColumn("UDP v4").RightAligned()).AddColumn(new TableColumn("UDP v6").RightAligned())
            .AddColumn(new TableColumn("its own count").RightAligned());
        foreach (var (host, server) in topology.Backends.Zip(servers))
        {
            table.AddRow(
                host.Name,
                traffic.Http.Count(host.Name, v6: false).ToString(),
                traffic.Http.Count(host.Name, v6: true).ToString(),
                traffic.Udp.Count(host.Name, v6: false).ToString(),
                traffic.Udp.Count(host.Name, v6: true).ToString(),
                $"{server.HttpRequests} HTTP, {server.Datagrams} UDP");
        }
        _out.Console.Write(table);
        foreach (var failure in traffic.Http.FirstFailures.Concat(traffic.Udp.FirstFailures))
            Say($"  failed: {failure}");
    }

    private static LbCounters ReadCounters(LbMaps maps, DesiredState state)
    {
        ServiceCounters Of(string name)
        {
            var stats = maps.SvcStats.LookupPerCpu(state.ServicesByName[name].Id) ?? [];
            return new ServiceCounters(name, (long)stats.Sum(s => (decimal)s.NewFlows), (long)stats.Sum(s => (decimal)s.Packets), (long)stats.Sum(s => (decimal)s.Bytes));
        }
        var reasons = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var reason in Enum.GetValues<LbReason>())
        {
            var count = (long)(maps.Reasons.LookupPerCpu((uint)reason) ?? []).Sum(c => (decimal)c);
            if (count > 0)
                reasons[reason.ToString()] = count;
        }
        return new LbCounters([Of(WebService), Of(DnsService)], reasons, maps.Flows.Keys().Count());
    }

    private void ReportCounters(LbCounters counters)
    {
        Say("  Lb's counters, read from the pinned maps:");
        foreach (var s in counters.Services)
            Say($"    {s.Name,-10} new flows {s.NewFlows,6}   packets {s.Packets,7}   bytes {s.Bytes,9}   (lb_svc_stats)");
        Say($"    verdicts  {string.Join(", ", counters.Reasons.Select(r => $"{r.Key} {r.Value}"))}   (lb_reasons)");
        Say($"    flow table entries {counters.FlowEntries}   (lb_flows)");
    }

    private async Task<RemovalResult> RemoveBackendUnderLoad(
        Topology topology, Programmer programmer, DatapathOptions options, List<Service> services, DesiredState state,
        List<HeldConnection> held, CancellationToken cancellationToken)
    {
        var removedHost = topology.Backends[RemovedBackendIndex];
        for (var i = 0; i < _settings.LongLivedConnections; i++)
        {
            var vip = new IPEndPoint(i % 2 == 0 ? Topology.VipV4 : Topology.VipV6, HttpPort);
            var socket = InNamespace.TcpSocket(topology.ClientNs, vip.AddressFamily);
            held.Add(new HeldConnection(socket, vip, ""));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(RequestTimeout);
            try
            {
                await socket.ConnectAsync(vip, timeout.Token);
                held[^1] = held[^1] with { Backend = BackendOf(await HttpGet.Send(socket, HostOf(vip), "/", timeout.Token)) };
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException($"long-lived connection {i + 1} to {vip} failed before the removal: {Describe(e)}", e);
            }
        }
        var before = held.GroupBy(h => h.Backend).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
        Say($"  {held.Count} keep-alive connections open: {string.Join(", ", before.Select(b => $"{b.Key} {b.Value}"))}");

        var remaining = services.Select(s => s with
        {
            Backends = s.Backends.Where(b => !b.Address.Equals(removedHost.AddressV4) && !b.Address.Equals(removedHost.AddressV6)).ToEquatableArray(),
        }).ToList();
        var result = programmer.Apply(DesiredState.Build(options, remaining, state));
        Say($"  programmer: {result.Changes}; {result.MapWrites} map writes, {result.TablesBuilt} tables rebuilt and swapped, {result.Duration.TotalMilliseconds:F1} ms");

        var outcomes = new List<ConnectionOutcome>();
        foreach (var h in held)
        {
            string after;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(RequestTimeout);
                after = BackendOf(await HttpGet.Send(h.Socket, HostOf(h.Vip), "/", timeout.Token));
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                after = $"error: {Describe(e)}";
            }
            outcomes.Add(new ConnectionOutcome(h.Backend, after));
        }
        var onRemaining = outcomes.Where(o => o.Before != removedHost.Name).ToList();
        var onRemoved = outcomes.Where(o => o.Before == removedHost.Name).ToList();
        var kept = onRemaining.Count(o => o.After == o.Before);
        Say($"  asked again on every connection: {kept} of {onRemaining.Count} connections to the remaining backends answered from the same backend, {onRemaining.Count - kept} moved or failed");
        foreach (var o in onRemaining.Where(o => o.After != o.Before))
            Say($"    {o.Before} -> {o.After}");
        if (onRemoved.Count > 0)
            Say($"  the {onRemoved.Count} connections to {removedHost.Name}: {string.Join(", ", onRemoved.GroupBy(o => o.After).Select(g => $"{g.Count()} x {g.Key}"))} (its backend is gone from Lb, so the next backend resets them)");

        var fresh = new Tally();
        var newCount = _settings.LongLivedConnections * 2;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _settings.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, newCount), parallel, async (i, token) =>
        {
            var vip = new IPEndPoint(i % 2 == 0 ? Topology.VipV4 : Topology.VipV6, HttpPort);
            await fresh.Record(vip, async () =>
            {
                using var socket = InNamespace.TcpSocket(topology.ClientNs, vip.AddressFamily);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(RequestTimeout);
                await socket.ConnectAsync(vip, timeout.Token);
                var localPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
                return (BackendOf(await HttpGet.Send(socket, HostOf(vip), "/", timeout.Token)), localPort);
            }, token);
        });
        var freshResult = fresh.ToResult();
        Say($"  {newCount} new connections: {string.Join(", ", freshResult.ByBackend.Select(b => $"{b.Key} {b.Value.V4 + b.Value.V6}"))}" +
            (freshResult.Failed > 0 ? $", {freshResult.Failed} failed" : "") +
            $"; {removedHost.Name} got {freshResult.Count(removedHost.Name, false) + freshResult.Count(removedHost.Name, true)}");
        return new RemovalResult(removedHost.Name, before, outcomes, kept, onRemaining.Count - kept, freshResult);
    }

    /// <summary>One datagram from a fresh socket (a fresh source port, so a new flow unless the port comes round again).</summary>
    private static async Task<(string Backend, int LocalPort)> UdpAsk(string ns, IPEndPoint vip, CancellationToken cancellationToken)
    {
        using var socket = InNamespace.UdpSocket(ns, vip.AddressFamily);
        socket.Connect(vip);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        await socket.SendAsync("?"u8.ToArray(), SocketFlags.None, timeout.Token);
        var buffer = new byte[256];
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return (System.Text.Encoding.ASCII.GetString(buffer, 0, n), ((IPEndPoint)socket.LocalEndPoint!).Port);
    }

    private static string HostOf(IPEndPoint vip) => vip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{vip.Address}]" : vip.Address.ToString();

    /// <summary>The backend a response names: its body, which must agree with its X-Backend header.</summary>
    private static string BackendOf(HttpAnswer answer)
    {
        if (answer.Status != 200)
            throw new InvalidDataException($"HTTP {answer.Status}: {answer.Body.Trim()}");
        var name = answer.Body.TrimEnd('\n');
        if (!answer.Headers.TryGetValue("X-Backend", out var header) || header != name)
            throw new InvalidDataException($"the body names {name} but X-Backend says {header ?? "nothing"}");
        return name;
    }

    private static string Describe(Exception e) => e switch
    {
        SocketException s => s.SocketErrorCode.ToString(),
        OperationCanceledException => "no answer within " + RequestTimeout.TotalSeconds + " s",
        _ => e.Message,
    };

    private void Say(string line) => _out.Line($"[{_clock.Elapsed.TotalSeconds,5:F1}s] {line}");

    private sealed record HeldConnection(Socket Socket, IPEndPoint Vip, string Backend);

    /// <summary>Answers by backend and family, failures, and the distinct client ports (flows), counted concurrently.</summary>
    private sealed class Tally
    {
        private readonly ConcurrentDictionary<(string Backend, bool V6), int> _answers = new();
        private readonly ConcurrentDictionary<(bool V6, int Port), byte> _flows = new();
        private readonly ConcurrentQueue<string> _failures = new();
        private int _sent;

        public async Task Record(IPEndPoint vip, Func<Task<(string Backend, int LocalPort)>> ask, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _sent);
            var v6 = vip.AddressFamily == AddressFamily.InterNetworkV6;
            try
            {
                var (backend, localPort) = await ask();
                _answers.AddOrUpdate((backend, v6), 1, (_, n) => n + 1);
                _flows.TryAdd((v6, localPort), 0);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                _failures.Enqueue($"{vip}: {Describe(e)}");
            }
        }

        public TrafficTally ToResult() => new(
            _sent,
            _answers.Values.Sum(),
            _failures.Count,
            _flows.Count,
            _answers.GroupBy(a => a.Key.Backend).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(
                g => g.Key,
                g => new FamilyCounts(g.Where(a => !a.Key.V6).Sum(a => a.Value), g.Where(a => a.Key.V6).Sum(a => a.Value))),
            _failures.Take(5).ToList());
    }
}
