using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Lb.Agent.Demo;
using Lb.Agent.Programming;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.ScalingBench;

/// <summary>
/// One contender with a topology of its own (<see cref="Topology"/>: client, balancer, two backends),
/// so no two contenders share a conntrack table or a backend's TIME_WAIT sockets: each backend runs
/// nginx on port 80 and a UDP echo (<see cref="BackendServer"/>) on UDP port 80. The measured TCP and
/// UDP targets are the VIP, except for plain routing, which talks to backend 0 directly.
/// </summary>
public abstract class Contender : IAsyncDisposable
{
    /// <summary>BackendServer always listens on TCP too; this port keeps it off nginx's.</summary>
    private const ushort EchoTcpPort = 8080;

    private readonly List<Nginx> _nginx = [];
    private readonly List<BackendServer> _echo = [];

    protected Contender(string name, string id, string workDirectory, bool vipOnBackends)
    {
        Name = name;
        Topology = Topology.Create(2, vipOnBackends, "lbs", id);
        try
        {
            // The whole port range, so a client port (and with it a 4-tuple) comes back as rarely as possible.
            Topology.Sysctl(Topology.ClientNs, "net.ipv4.ip_local_port_range=1024 65535");
            // The client closes first and so holds the TIME_WAITs; reuse lets a long run at thousands of
            // connections a second go on past 64,000 of them (the timestamps keep reuse safe).
            Topology.Sysctl(Topology.ClientNs, "net.ipv4.tcp_tw_reuse=1");
            foreach (var b in Topology.Backends)
            {
                Topology.Sysctl(b.Namespace, "net.core.somaxconn=4096");
                _nginx.Add(new Nginx(b.Namespace, b.Name, Path.Combine(workDirectory, b.Namespace)));
                IPAddress[] udpAddresses = vipOnBackends ? [b.AddressV4, ServiceSet.MeasuredVip] : [b.AddressV4];
                _echo.Add(new BackendServer(b.Namespace, b.Name, EchoTcpPort, udpAddresses, ServiceSet.Port));
            }
        }
        catch
        {
            DisposeServers();
            Topology.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    public string Name { get; }
    public Topology Topology { get; }

    public IReadOnlyList<IPAddress> BackendAddresses => Topology.Backends.Select(b => b.AddressV4).ToList();

    public virtual IPEndPoint TcpTarget => new(ServiceSet.MeasuredVip, ServiceSet.Port);
    public virtual IPEndPoint UdpTarget => new(ServiceSet.MeasuredVip, ServiceSet.Port);

    /// <summary>Removes every service (untimed, before each load).</summary>
    public abstract void Reset();

    /// <summary>Installs <paramref name="ports"/> from nothing; returns how long that took (null: nothing to install). Throws when it fails.</summary>
    public abstract TimeSpan? Load(IReadOnlyList<ServicePort> ports);

    /// <summary>Removes one endpoint of the measured service with <paramref name="ports"/> installed; returns how long that took.</summary>
    public abstract TimeSpan? RemoveEndpoint(IReadOnlyList<ServicePort> ports, ServicePort changed, IPEndPoint removed);

    /// <summary>Bytes of BPF map memory the contender holds, when it is a BPF contender.</summary>
    public virtual long? BpfMemoryBytes() => null;

    /// <summary>The datapath's own counters of what it did with packets, by reason, when it keeps any (Lb's lb_reasons).</summary>
    public virtual Dictionary<string, ulong> DatapathReasons() => [];

    private void DisposeServers()
    {
        foreach (var e in _echo)
            e.DisposeAsync().AsTask().GetAwaiter().GetResult();
        foreach (var n in _nginx)
            n.Dispose();
        _echo.Clear();
        _nginx.Clear();
    }

    protected virtual void DisposeContender()
    {
    }

    public async ValueTask DisposeAsync()
    {
        var failures = new List<Exception>();
        foreach (var step in new Action[] { DisposeServers, DisposeContender })
        {
            try
            {
                step();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }
        try
        {
            await Topology.DisposeAsync();
        }
        catch (Exception e)
        {
            failures.Add(e);
        }
        if (failures.Count > 0)
            throw new AggregateException($"cleaning up {Name} failed", failures);
    }

    /// <summary>Runs a tool inside the balancer namespace with a time limit; a tool still running at the limit is killed and reported.</summary>
    protected TimeSpan TimedTool(TimeSpan limit, string file, params string[] args)
    {
        var psi = new ProcessStartInfo("nsenter") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add($"--net=/run/netns/{Topology.BalancerNs}");
        psi.ArgumentList.Add(file);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        var watch = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"{file} did not finish within {limit.TotalSeconds:0.###} s");
        }
        p.WaitForExit();
        watch.Stop();
        if (p.ExitCode != 0)
        {
            var message = (stderr.Result + stdout.Result).Trim();
            throw new InvalidOperationException($"{file} exited {p.ExitCode}: {(message.Length > 400 ? message[..400] + "..." : message)}");
        }
        return watch.Elapsed;
    }
}

/// <summary>The floor: the client talks to backend 0's own address, forwarded by the balancer's kernel with no rules at all.</summary>
public sealed class PlainRouting(string id, string work) : Contender("routing (no balancing)", id, work, vipOnBackends: false)
{
    public override IPEndPoint TcpTarget => new(Topology.Backends[0].AddressV4, ServiceSet.Port);
    public override IPEndPoint UdpTarget => new(Topology.Backends[0].AddressV4, ServiceSet.Port);

    public override void Reset()
    {
    }

    // Routing has no services to install or change: its load and endpoint-change figures are "not applicable".
    public override TimeSpan? Load(IReadOnlyList<ServicePort> ports) => null;

    public override TimeSpan? RemoveEndpoint(IReadOnlyList<ServicePort> ports, ServicePort changed, IPEndPoint removed) => null;
}

/// <summary>kube-proxy's iptables mode, loaded with the given restore tool (iptables-legacy-restore or iptables-nft-restore).</summary>
public sealed class KubeProxyIptablesContender(string name, string restoreTool, string id, string work, TimeSpan loadLimit)
    : Contender(name, id, work, vipOnBackends: false)
{
    private readonly string _files = Path.Combine(work, $"{id}-rules");

    public override void Reset()
    {
        Directory.CreateDirectory(_files);
        var path = Path.Combine(_files, "reset.rules");
        File.WriteAllText(path, KubeProxyIptables.Reset);
        TimedTool(loadLimit, restoreTool, path);
    }

    public override TimeSpan? Load(IReadOnlyList<ServicePort> ports)
    {
        var path = Path.Combine(_files, "full.rules");
        File.WriteAllText(path, KubeProxyIptables.FullRestore(ports));
        return TimedTool(loadLimit, restoreTool, "--noflush", path);
    }

    public override TimeSpan? RemoveEndpoint(IReadOnlyList<ServicePort> ports, ServicePort changed, IPEndPoint removed)
    {
        var path = Path.Combine(_files, "endpoint.rules");
        File.WriteAllText(path, KubeProxyIptables.EndpointRemoved(ports, changed, removed));
        return TimedTool(loadLimit, restoreTool, "--noflush", path);
    }
}

/// <summary>kube-proxy's nftables mode, loaded with <c>nft -f</c>.</summary>
public sealed class KubeProxyNftContender(string id, string work, TimeSpan loadLimit)
    : Contender("kube-proxy nftables", id, work, vipOnBackends: false)
{
    private readonly string _files = Path.Combine(work, $"{id}-rules");

    public override void Reset()
    {
        Directory.CreateDirectory(_files);
        var path = Path.Combine(_files, "reset.nft");
        File.WriteAllText(path, KubeProxyNftables.Reset);
        TimedTool(loadLimit, "nft", "-f", path);
    }

    public override TimeSpan? Load(IReadOnlyList<ServicePort> ports)
    {
        var path = Path.Combine(_files, "full.nft");
        File.WriteAllText(path, KubeProxyNftables.Full(ports));
        return TimedTool(loadLimit, "nft", "-f", path);
    }

    public override TimeSpan? RemoveEndpoint(IReadOnlyList<ServicePort> ports, ServicePort changed, IPEndPoint removed)
    {
        var path = Path.Combine(_files, "endpoint.nft");
        File.WriteAllText(path, KubeProxyNftables.EndpointRemoved(changed, removed));
        return TimedTool(loadLimit, "nft", "-f", path);
    }
}

/// <summary>
/// Lb's XDP datapath: lb_xdp loaded by <see cref="LbDatapath"/> under its own pin root and attached
/// natively to every balancer interface from a thread inside the balancer namespace; for dsr-ipip
/// lb_decap on each backend's e0 and the VIP on the backends' loopback. Services are programmed by
/// <see cref="Programmer"/> from Lb.Core snapshots; load time is one Apply from an empty snapshot.
/// </summary>
public sealed class LbXdpContender : Contender
{
    private readonly LbDatapath _datapath;
    private readonly Programmer _programmer;
    private readonly DatapathOptions _options;
    private readonly ForwardingMode _mode;

    public LbXdpContender(ForwardingMode mode, string id, string work, string bpfDirectory, uint maglevSize, uint flowCapacity)
        : base(mode == ForwardingMode.Nat ? "Lb xdp nat" : "Lb xdp dsr-ipip", id, work, vipOnBackends: mode != ForwardingMode.Nat)
    {
        _mode = mode;
        BpfFileSystem.EnsureMounted();
        PinRoot = Path.Combine(BpfFileSystem.DefaultRoot, $"lb-scaling-{id}");
        _options = DatapathOptions.Default with { FlowTableCapacity = flowCapacity, Maglev = DatapathOptions.Default.Maglev with { TableSize = maglevSize } };
        _datapath = LbDatapath.Load(new LbDatapathOptions
        {
            ObjectPath = Path.Combine(bpfDirectory, "lb_xdp.bpf.o"),
            PinRoot = PinRoot,
            FlowTableCapacity = flowCapacity,
            MaglevTableSize = maglevSize,
        });
        var modes = InNamespace.Run(Topology.BalancerNs, () =>
        {
            var attachments = _datapath.Attach(Topology.BalancerInterfaces, XdpMode.Native, allowGenericFallback: false);
            var result = attachments.Select(a => a.Mode).ToList();
            foreach (var a in attachments)
                a.Dispose();
            return result;
        });
        if (modes.Count != Topology.BalancerInterfaces.Count || modes.Any(m => m != XdpMode.Native))
            throw new InvalidOperationException($"lb_xdp is not attached natively everywhere: {string.Join(", ", modes)}");
        if (mode == ForwardingMode.DsrIpip)
        {
            var decap = Path.Combine(bpfDirectory, "lb_decap.bpf.o");
            foreach (var b in Topology.Backends)
                InNamespace.Run(b.Namespace, () =>
                {
                    using var obj = BpfObject.Open(decap);
                    obj.Load();
                    using var program = obj.GetProgram("lb_decap");
                    using var attachment = XdpAttachment.Attach(Interfaces.IndexOf("e0"), program, XdpMode.Native, allowGenericFallback: false);
                    return attachment.ProgramId;
                });
        }
        // Managed neighbour entries for the backends' next hops, as `lb run` keeps them (they go with the namespace).
        _programmer = new Programmer(_datapath.Maps, new ProgrammerOptions
        {
            SnatAddressV4 = Topology.BalancerV4,
            SnatAddressV6 = Topology.BalancerV6,
            FlowTimeout = TimeSpan.FromSeconds(30),
        }, neighbours: new IpNeighbourKeeper(Topology.BalancerNs, recordPath: null));
    }

    public string PinRoot { get; }

    public override void Reset() => _programmer.Apply(DesiredState.Build(_options, [], _programmer.Applied));

    public override TimeSpan? Load(IReadOnlyList<ServicePort> ports) => Timed(() => _programmer.Apply(DesiredState.Build(_options, ToServices(ports), _programmer.Applied)));

    public override TimeSpan? RemoveEndpoint(IReadOnlyList<ServicePort> ports, ServicePort changed, IPEndPoint removed)
    {
        var after = ports.Select(p => p.Name == changed.Name && p.Namespace == changed.Namespace
            ? p with { Endpoints = p.Endpoints.Where(e => !e.Equals(removed)).ToList() }
            : p).ToList();
        return Timed(() => _programmer.Apply(DesiredState.Build(_options, ToServices(after), _programmer.Applied)));
    }

    private static TimeSpan Timed(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed;
    }

    /// <summary>The service ports of one Kubernetes service become one Lb service with a frontend per port.</summary>
    private IEnumerable<Service> ToServices(IReadOnlyList<ServicePort> ports) =>
        ports.GroupBy(p => (p.Namespace, p.Name)).Select(g => new Service(
            g.Key.Name,
            g.Select(p => Frontend.At(p.ClusterIp, p.Port, p.Protocol == "udp" ? L4Protocol.Udp : L4Protocol.Tcp)).ToEquatableArray(),
            g.SelectMany(p => p.Endpoints).Distinct().Select(e => new Backend(e.Address, (ushort)e.Port)).ToEquatableArray(),
            ServicePolicy.Default with { Forwarding = _mode }));

    /// <summary>
    /// The memlock bytes of every map pinned under this contender's pin root and of every inner map
    /// those hold (the per-service Maglev tables are not pinned themselves), as bpftool reports them.
    /// </summary>
    public override long? BpfMemoryBytes()
    {
        using var maps = JsonDocument.Parse(Shell.Run("bpftool", "-j", "-f", "map", "show"));
        var memlock = new Dictionary<long, long>();
        var pinnedHere = new List<(long Id, string Path)>();
        foreach (var map in maps.RootElement.EnumerateArray())
        {
            var id = map.GetProperty("id").GetInt64();
            memlock[id] = map.GetProperty("bytes_memlock").GetInt64();
            if (map.TryGetProperty("pinned", out var pinned))
            {
                var path = pinned.EnumerateArray().Select(p => p.GetString()!).FirstOrDefault(p => p.StartsWith(PinRoot + "/", StringComparison.Ordinal));
                if (path is not null)
                    pinnedHere.Add((id, path));
            }
        }
        if (pinnedHere.Count == 0)
            throw new InvalidOperationException($"bpftool shows no map pinned under {PinRoot}");
        var counted = pinnedHere.Select(p => p.Id).ToHashSet();
        foreach (var (_, path) in pinnedHere)
        {
            var type = Shell.Run("bpftool", "-j", "map", "show", "pinned", path);
            if (!type.Contains("\"of_maps\"", StringComparison.Ordinal) && !type.Contains("_of_maps", StringComparison.Ordinal))
                continue;
            using var dump = JsonDocument.Parse(Shell.Run("bpftool", "-j", "map", "dump", "pinned", path));
            foreach (var inner in InnerMapIds(dump.RootElement))
                counted.Add(inner);
        }
        return counted.Sum(id => memlock.TryGetValue(id, out var bytes) ? bytes
            : throw new InvalidOperationException($"map {id} held under {PinRoot} is missing from `bpftool map show`"));
    }

    /// <summary>
    /// The inner map ids of a map-of-maps dump: bpftool prints each value either as "inner_map_id" or,
    /// for an array of maps, as the raw four bytes of the id (little-endian hex strings).
    /// </summary>
    private static IEnumerable<long> InnerMapIds(JsonElement dump)
    {
        foreach (var entry in dump.EnumerateArray())
        {
            if (entry.TryGetProperty("inner_map_id", out var id) && id.ValueKind == JsonValueKind.Number)
                yield return id.GetInt64();
            else if (entry.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 4)
            {
                var bytes = value.EnumerateArray().Select(b => Convert.ToByte(b.GetString(), 16)).ToArray();
                yield return BitConverter.ToUInt32(bytes);
            }
            else
                throw new InvalidOperationException($"cannot read an inner map id from the bpftool dump entry {entry}");
        }
    }

    public override Dictionary<string, ulong> DatapathReasons()
    {
        var counts = new Dictionary<string, ulong>();
        for (var reason = 1u; reason < LbLimits.ReasonMax; reason++)
        {
            var total = _datapath.Maps.Reasons.LookupPerCpu(reason)?.Aggregate(0UL, (sum, n) => sum + n) ?? 0;
            if (total > 0)
                counts[Enum.IsDefined((LbReason)reason) ? ((LbReason)reason).ToString() : $"reason {reason}"] = total;
        }
        return counts;
    }

    protected override void DisposeContender()
    {
        _datapath.Dispose();
        if (Directory.Exists(PinRoot))
            Directory.Delete(PinRoot, recursive: true);
    }
}
