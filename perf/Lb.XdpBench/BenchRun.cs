using Lb.Agent.Programming;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.XdpBench;

/// <summary>What the command line chose.</summary>
public sealed record BenchOptions
{
    public int Rounds { get; init; } = 10;
    public int Calls { get; init; } = 10_000;
    public int WarmupCalls { get; init; } = 2_000;
    public IReadOnlyList<int> ServiceCounts { get; init; } = [1, 10_000];
    public int Backends { get; init; } = 32;
    public uint MaglevSize { get; init; } = MaglevOptions.DefaultTableSize;
    public uint FlowCapacity { get; init; } = DatapathOptions.DefaultFlowTableCapacity;
    public string BpfDirectory { get; init; } = "build/bpf";
    public string Output { get; init; } = "perf/results/xdp.json";
}

/// <summary>The per-round batch medians of one case.</summary>
public sealed record CaseSamples(string Case, string Mode, int Services, string Floor)
{
    public List<BatchResult> Rounds { get; } = [];
}

/// <summary>
/// The whole measurement, on the calling thread, which must already be inside the benchmark's network
/// namespace: loads the floor programs and one lb_xdp per service count (each under its own pin root,
/// so their flow tables are apart), programs them, then runs every case in every round, cases
/// interleaved so that a slow moment of the machine spreads over all of them.
/// </summary>
public sealed class BenchRun
{
    public const string Fixed = "fixed cost (return XDP_TX)";
    public const string Floor = "floor: parse + XDP_TX";
    public const string FloorIpip = "floor: parse + IPIP + XDP_TX";
    public const string ReferenceFib = "reference: parse + bpf_fib_lookup + XDP_TX";
    public const string ReferenceKtime = "reference: parse + bpf_ktime_get_ns + XDP_TX";
    public const string ReferenceKtimeCoarse = "reference: parse + bpf_ktime_get_coarse_ns + XDP_TX";

    private static readonly ForwardingMode[] Modes = [ForwardingMode.Nat, ForwardingMode.DsrIpip, ForwardingMode.DsrL2];

    private readonly BenchOptions _options;
    private readonly BenchNetwork _network;
    private readonly CallTimer _timer;
    private readonly Dictionary<string, CaseSamples> _samples = [];
    private long _nextNewFlow;

    public BenchRun(BenchOptions options, BenchNetwork network)
    {
        _options = options;
        _network = network;
        _timer = new CallTimer((uint)Interfaces.IndexOf(BenchNetwork.Ingress));
    }

    /// <summary>New flows each lb_xdp instance gets over the run: warm-up and measured rounds, every mode.</summary>
    public long NewFlowsPerInstance => (long)Modes.Length * (_options.WarmupCalls + (long)_options.Rounds * _options.Calls);

    /// <summary>The share of <see cref="NewFlowsPerInstance"/> made in nat mode, each holding a SNAT port.</summary>
    public long NatFlowsPerInstance => _options.WarmupCalls + (long)_options.Rounds * _options.Calls;

    public IReadOnlyCollection<CaseSamples> Samples => _samples.Values;

    public double KernelTimerStepNs => _timer.KernelTimerStepNs;

    public void Execute(string pinRoot, TextWriter log)
    {
        if (NewFlowsPerInstance >= _options.FlowCapacity)
            throw new ArgumentException($"{NewFlowsPerInstance} new flows would not fit in a flow table of {_options.FlowCapacity}: the new-flow case would measure LRU eviction. Lower --calls or --rounds.");
        // Past about half the SNAT ports, new nat flows would spend their time probing for a free port
        // (and some would be handed over): that is a port-exhaustion benchmark, not this one.
        var natPorts = (long)_options.Backends * (ProgrammerOptions.Default.NatPortMax - ProgrammerOptions.Default.NatPortMin + 1);
        if (NatFlowsPerInstance * 2 > natPorts)
            throw new ArgumentException($"{NatFlowsPerInstance} nat flows would take more than half of the {natPorts} SNAT ports of {_options.Backends} backends. Raise --backends or lower --calls.");

        using var fixedCost = BpfProgram.Load(BpfProgramType.Xdp, "bench_fixed",
            [BpfInstruction.Mov64(BpfRegister.R0, (int)XdpAction.Tx), BpfInstruction.Exit()]);
        using var floor = LoadProgram("xdp_floor", "xdp_floor");
        using var floorIpip = LoadProgram("xdp_floor_ipip", "xdp_floor_ipip");
        using var referenceFib = LoadProgram("xdp_ref_helpers", "xdp_ref_fib");
        using var referenceKtime = LoadProgram("xdp_ref_helpers", "xdp_ref_ktime");
        using var referenceKtimeCoarse = LoadProgram("xdp_ref_helpers", "xdp_ref_ktime_coarse");

        var instances = new List<Instance>();
        try
        {
            foreach (var count in _options.ServiceCounts)
            {
                var started = DateTime.UtcNow;
                instances.Add(Instance.Create(_options, _network, count, Path.Combine(pinRoot, $"s{count}")));
                log.WriteLine($"programmed {count} service(s) in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
            }

            for (var round = -1; round < _options.Rounds; round++)
            {
                var calls = round < 0 ? _options.WarmupCalls : _options.Calls;
                var record = round >= 0;
                var reference = BenchFrames.Data(BenchNetwork.Client, 40_000);
                Measure(record, new CaseSamples(Fixed, "-", 0, ""), fixedCost, calls, _ => reference, XdpAction.Tx, (i, o) => BenchFrames.CheckLength(i, o, 0));
                Measure(record, new CaseSamples(Floor, "-", 0, ""), floor, calls, _ => reference, XdpAction.Tx, (i, o) => BenchFrames.CheckLength(i, o, 0));
                Measure(record, new CaseSamples(FloorIpip, "-", 0, ""), floorIpip, calls, _ => reference, XdpAction.Tx, (i, o) => BenchFrames.CheckLength(i, o, 20));
                Measure(record, new CaseSamples(ReferenceFib, "-", 0, Floor), referenceFib, calls, _ => reference, XdpAction.Tx,
                    (_, o) => new Lb.Testing.PacketView(o).DstMac == BenchNetwork.BackendMac(0) ? null : "the FIB lookup did not give backend 0's MAC");
                Measure(record, new CaseSamples(ReferenceKtime, "-", 0, Floor), referenceKtime, calls, _ => reference, XdpAction.Tx, (i, o) => BenchFrames.CheckLength(i, o, 0));
                Measure(record, new CaseSamples(ReferenceKtimeCoarse, "-", 0, Floor), referenceKtimeCoarse, calls, _ => reference, XdpAction.Tx, (i, o) => BenchFrames.CheckLength(i, o, 0));
                foreach (var mode in Modes)
                    MeasureMode(record, instances, mode, calls);
                if (record)
                    log.WriteLine($"round {round + 1}/{_options.Rounds} done");
            }
            foreach (var instance in instances)
                CheckNewFlowCount(instance);
        }
        finally
        {
            foreach (var instance in instances)
                instance.Dispose();
        }
    }

    /// <summary>
    /// Every case of one forwarding mode. The service counts of a case run back to back, so that their
    /// comparison (a round's 10,000 services against the same round's 1) sees the same machine.
    /// </summary>
    private void MeasureMode(bool record, IReadOnlyList<Instance> instances, ForwardingMode mode, int calls)
    {
        foreach (var instance in instances)
            instance.Apply(mode);
        var floor = mode == ForwardingMode.DsrIpip ? FloorIpip : Floor;
        var name = ModeName(mode);

        var nonService = BenchFrames.NonService();
        foreach (var instance in instances)
        {
            Measure(record, new CaseSamples("non-service packet", name, instance.Services, Floor), instance.Program, calls,
                _ => nonService, XdpAction.Pass, BenchFrames.CheckUntouched);
        }

        foreach (var instance in instances)
        {
            var first = _nextNewFlow;
            var syns = new byte[calls][];
            for (var i = 0; i < calls; i++)
                syns[i] = BenchFrames.NewFlowSyn(first + i);
            _nextNewFlow += calls;
            Measure(record, new CaseSamples("new flow (SYN)", name, instance.Services, floor), instance.Program, calls,
                i => syns[i], XdpAction.Tx, (i, o) => BenchFrames.CheckForwarded(mode, _network, i, o));
        }

        // One client port per mode: an entry of another mode's flow must not answer for this one. The
        // flow's first packet (a SYN, not timed) makes it exist before the timed batch of data segments.
        var clientPort = (ushort)(41_000 + (int)mode);
        var data = BenchFrames.Data(BenchNetwork.Client, clientPort);
        var handshakes = new List<byte[]>();
        foreach (var instance in instances)
        {
            handshakes.Add(_timer.RunOnce(instance.Program, BenchFrames.Syn(BenchNetwork.Client, clientPort), XdpAction.Tx,
                $"{name}, {instance.Services} services: first packet of the established flow"));
            Measure(record, new CaseSamples("established flow", name, instance.Services, floor), instance.Program, calls,
                _ => data, XdpAction.Tx, (i, o) => BenchFrames.CheckForwarded(mode, _network, i, o));
        }

        if (mode != ForwardingMode.Nat)
            return;
        for (var k = 0; k < instances.Count; k++)
        {
            // The backend answers the established flow: to the SNAT address and port of its first output frame.
            var forwarded = new Lb.Testing.PacketView(handshakes[k]);
            var reply = BenchFrames.NatReply(forwarded.Destination, forwarded.SourcePort);
            Measure(record, new CaseSamples("reply (NAT)", name, instances[k].Services, Floor), instances[k].Program, calls,
                _ => reply, XdpAction.Tx, (_, o) => BenchFrames.CheckReply(clientPort, o));
        }
    }

    /// <summary>
    /// The program's own count of new flows (lb_svc_stats) must match the new-flow calls: each one took
    /// the new-flow path, none hit an old entry. The first packet of each mode's established flow adds
    /// one per round at most (after a mode switch its entry may be reused or not, both are right).
    /// </summary>
    private void CheckNewFlowCount(Instance instance)
    {
        var counted = instance.ReadNewFlows();
        var calls = NewFlowsPerInstance;
        var handshakes = Modes.Length * (_options.Rounds + 1);
        if (counted < (ulong)calls || counted > (ulong)(calls + handshakes))
            throw new InvalidOperationException($"lb_xdp with {instance.Services} services counted {counted} new flows for {calls} new-flow calls (+ at most {handshakes} handshakes).");
    }

    private void Measure(bool record, CaseSamples key, BpfProgram program, int calls, Func<int, byte[]> frames,
        XdpAction expected, Func<byte[], byte[], string?> check)
    {
        var what = key.Services == 0 ? key.Case : $"{key.Case}, {key.Mode}, {key.Services} services";
        var result = _timer.Run(program, calls, frames, expected, check, what);
        if (!record)
            return;
        var id = $"{key.Case}|{key.Mode}|{key.Services}";
        if (!_samples.TryGetValue(id, out var samples))
            _samples[id] = samples = key;
        samples.Rounds.Add(result);
    }

    private BpfProgram LoadProgram(string objectName, string name)
    {
        var path = Path.Combine(_options.BpfDirectory, objectName + ".bpf.o");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: build the BPF objects first (cmake --build build).", path);
        using var loaded = BpfObject.Open(path);
        loaded.Load();
        return loaded.GetProgram(name);
    }

    public static string ModeName(ForwardingMode mode) => mode switch
    {
        ForwardingMode.Nat => "nat",
        ForwardingMode.DsrIpip => "dsr-ipip",
        _ => "dsr-l2",
    };

    /// <summary>
    /// One lb_xdp loaded by <see cref="LbDatapath"/> under its own pin root and programmed by Lb.Agent's
    /// <see cref="Programmer"/> with a service count, and the three snapshots that differ only in the bench
    /// service's forwarding mode: switching modes is a one-entry diff (lb_services).
    /// </summary>
    private sealed class Instance : IDisposable
    {
        private readonly LbDatapath _datapath;
        private readonly Programmer _programmer;
        private readonly Dictionary<ForwardingMode, DesiredState> _states = [];

        private Instance(LbDatapath datapath, int services)
        {
            _datapath = datapath;
            _programmer = new Programmer(datapath.Maps);
            Services = services;
        }

        public int Services { get; }
        public BpfProgram Program => _datapath.Program;

        public static Instance Create(BenchOptions options, BenchNetwork network, int services, string pinRoot)
        {
            var datapath = LbDatapath.Load(new LbDatapathOptions
            {
                ObjectPath = Path.Combine(options.BpfDirectory, "lb_xdp.bpf.o"),
                PinRoot = pinRoot,
                FlowTableCapacity = options.FlowCapacity,
                MaglevTableSize = options.MaglevSize,
            });
            var instance = new Instance(datapath, services);
            try
            {
                var datapathOptions = BenchServices.Options(options.MaglevSize, options.FlowCapacity);
                DesiredState? previous = null;
                foreach (var mode in Modes)
                {
                    previous = DesiredState.Build(datapathOptions, BenchServices.Build(services, mode, network.Backends), previous);
                    instance._states[mode] = previous;
                }
                instance.Apply(ForwardingMode.Nat);
                return instance;
            }
            catch
            {
                instance.Dispose();
                throw;
            }
        }

        public void Apply(ForwardingMode mode) => _programmer.Apply(_states[mode]);

        /// <summary>lb_svc_stats[bench].new_flows, summed over the CPUs.</summary>
        public ulong ReadNewFlows()
        {
            var id = _states[ForwardingMode.Nat].ServicesByName[BenchServices.BenchName].Id;
            var perCpu = _datapath.Maps.SvcStats.LookupPerCpu(id) ?? throw new InvalidOperationException($"lb_svc_stats has no entry {id}.");
            var total = 0UL;
            foreach (var cpu in perCpu)
                total += cpu.NewFlows;
            return total;
        }

        public void Dispose() => _datapath.Dispose();
    }
}
