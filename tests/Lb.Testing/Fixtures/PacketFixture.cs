using System.Net.Sockets;
using Lb.Agent.Programming;
using Lb.Core.Hashing;
using Lb.Core.Maglev;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.Testing.Fixtures;

/// <summary>
/// A golden packet fixture (STYLE rule 17): a one-line description, the table state (services, programmed
/// through the real programmer), and steps, each an input frame with the verdict, the output frame and
/// the counters it must produce. Steps run in order on one datapath, so a later step sees the flows
/// earlier ones made; a step may reprogram the services or wait first.
/// </summary>
public sealed record PacketFixture(string Name, string Description, DatapathOptions Options, IReadOnlyList<Service> Services, IReadOnlyList<FixtureStep> Steps)
{
    /// <summary>lb_config's flow timeout (the programmer's FlowTimeout): how long an idle flow keeps its backend.</summary>
    public TimeSpan FlowTimeout { get; init; } = ProgrammerOptions.DefaultFlowTimeout;

    public override string ToString() => Name;
}

/// <summary>
/// One frame of a fixture. <see cref="Output"/> is the whole frame the engine must hand back (the input
/// itself for an untouched frame). <see cref="CountedService"/> names the service whose lb_svc_stats must
/// move by one packet and the input's length in bytes (plus one new flow with <see cref="NewFlow"/>);
/// every other service's counters, and every lb_reasons slot but <see cref="Reason"/>'s, must stay.
/// </summary>
public sealed record FixtureStep(
    string Description,
    string Ingress,
    FrameSpec Input,
    LbReason Reason,
    XdpAction Action,
    FrameSpec Output,
    string? CountedService,
    bool NewFlow)
{
    /// <summary>Services to program (the whole set, as the next snapshot) before the frame is sent.</summary>
    public IReadOnlyList<Service>? ProgramBefore { get; init; }

    /// <summary>Time to let pass before the frame is sent (for timeouts, which the program reads from CLOCK_MONOTONIC).</summary>
    public TimeSpan WaitBefore { get; init; }

    public override string ToString() => Description;
}

/// <summary>
/// Writes a fixture step by step, and predicts what the datapath must choose with Lb.Core alone: the
/// backend by the flow hash (FlowHash, checked against native/testdata) indexing the Maglev table that
/// MaglevTableBuilder builds from the snapshot's schedulable set, and the SNAT port by the formula of
/// docs/xdp-datapath.md. Snapshots are built with DesiredState exactly as a runner replays them, so the
/// ids agree.
/// </summary>
public sealed class FixtureScript
{
    /// <summary>docs/xdp-datapath.md, "SNAT port": the NAT port hash's initval is the flow-hash seed XOR this.</summary>
    public const uint NatPortHashXor = 0x9e3779b9;

    private readonly string _name;
    private readonly string _description;
    private readonly IReadOnlyList<Service> _services;
    private readonly List<FixtureStep> _steps = [];
    private IReadOnlyList<Service>? _programBefore;
    private TimeSpan _waitBefore;

    public FixtureScript(string name, string description, DatapathOptions options, params Service[] services)
    {
        _name = name;
        _description = description;
        Options = options;
        _services = services;
        State = DesiredState.Build(options, services);
    }

    public DatapathOptions Options { get; }

    /// <summary>The snapshot the next step runs against.</summary>
    public DesiredState State { get; private set; }

    /// <summary>The next step runs after the services are reprogrammed to <paramref name="services"/>.</summary>
    public void Program(params Service[] services)
    {
        _programBefore = services;
        State = DesiredState.Build(Options, services, State);
    }

    /// <summary>The next step runs after <paramref name="time"/> has passed.</summary>
    public void Wait(TimeSpan time) => _waitBefore = time;

    /// <summary>A frame for a service: counted under the service that owns its frontend.</summary>
    public void Step(string description, Packet input, LbReason reason, FrameSpec output, bool newFlow, string ingress = FixtureNetwork.ClientSide) =>
        Add(description, input, reason, output, ServiceOf(input).Name, newFlow, ingress);

    /// <summary>A frame no service counts (a reply of a NAT flow).</summary>
    public void Reply(string description, Packet input, LbReason reason, FrameSpec output, string ingress = FixtureNetwork.BackendSide) =>
        Add(description, input, reason, output, null, false, ingress);

    /// <summary>The flow timeout the fixture runs with.</summary>
    public TimeSpan FlowTimeout { get; init; } = ProgrammerOptions.DefaultFlowTimeout;

    public PacketFixture Build() => new(_name, _description, Options, _services, _steps.ToList()) { FlowTimeout = FlowTimeout };

    /// <summary>The backend the Maglev table of the current snapshot gives the packet (affinity services hash the client address only).</summary>
    public BackendEntry Pick(Packet packet)
    {
        var service = ServiceOf(packet);
        var set = State.SchedulableBackends(service.Id, packet.Family);
        var table = new MaglevTableBuilder(Options.Maglev).Build(set.Select(b => MaglevBackend.From(b.Backend, b.Id)));
        var seed = FlowHash.DeriveSeed(Options.Maglev.Seed);
        var hash = service.Service.Policy.Affinity is null
            ? FlowHash.Compute(packet.Src, packet.SrcPort, packet.Dst, packet.DstPort, packet.Protocol, seed)
            : FlowHash.ComputeAffinity(packet.Src, seed);
        return State.BackendsById[table.BackendIds.Span[(int)(hash % Options.Maglev.TableSize)]];
    }

    /// <summary>
    /// The SNAT port candidate <paramref name="candidate"/> of a new flow: min + (hash(5-tuple, seed ^ 0x9e3779b9) + i) % range
    /// (u32), in the programmer's default range. A flow gets the first candidate no other flow to its backend holds.
    /// </summary>
    public ushort NatPort(Packet packet, uint candidate = 0)
    {
        const ushort min = ProgrammerOptions.DefaultNatPortMin, max = ProgrammerOptions.DefaultNatPortMax;
        var seed = FlowHash.DeriveSeed(Options.Maglev.Seed) ^ NatPortHashXor;
        var hash = FlowHash.Compute(packet.Src, packet.SrcPort, packet.Dst, packet.DstPort, packet.Protocol, seed);
        return (ushort)(min + unchecked(hash + candidate) % (uint)(max - min + 1));
    }

    /// <summary>The service whose frontend the packet hits: its exact address first, then the NodePort any-address frontend.</summary>
    public ServiceEntry ServiceOf(Packet packet)
    {
        if (!State.Frontends.TryGetValue(new FrontendKey(packet.Dst, packet.DstPort, packet.Protocol, packet.Family), out var frontend)
            && !State.Frontends.TryGetValue(new FrontendKey(null, packet.DstPort, packet.Protocol, packet.Family), out frontend))
            throw new ArgumentException($"no frontend of the fixture's services matches {packet}");
        return State.ServicesById[frontend.ServiceId];
    }

    /// <summary>The action a reason's number gives (docs/xdp-datapath.md, "Verdicts"): below 32 pass, below 64 drop, 64 TX, 65 redirect.</summary>
    public static XdpAction ActionOf(LbReason reason) => (uint)reason switch
    {
        < 32 => XdpAction.Pass,
        < 64 => XdpAction.Drop,
        64 => XdpAction.Tx,
        65 => XdpAction.Redirect,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "no action for this reason"),
    };

    private void Add(string description, Packet input, LbReason reason, FrameSpec output, string? counted, bool newFlow, string ingress)
    {
        _steps.Add(new FixtureStep(description, ingress, input, reason, ActionOf(reason), output, counted, newFlow)
        {
            ProgramBefore = _programBefore,
            WaitBefore = _waitBefore,
        });
        _programBefore = null;
        _waitBefore = TimeSpan.Zero;
    }
}
