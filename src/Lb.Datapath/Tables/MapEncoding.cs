using System.Net;
using System.Net.Sockets;
using Lb.Core.Hashing;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;

namespace Lb.Datapath.Tables;

/// <summary>
/// The desired state as map entries: every key and value the programmer writes is made here, from the
/// snapshot and the options, so "what should this entry hold" has one answer. It lives beside the ABI
/// because two writers use it: the programmer (BPF maps) and <see cref="InMemoryTables"/> (the managed
/// engine's tables in tests and benchmarks).
/// </summary>
public static class MapEncoding
{
    public static LbFamily Family(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => LbFamily.IPv4,
        AddressFamily.InterNetworkV6 => LbFamily.IPv6,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Lb balances IPv4 and IPv6 only."),
    };

    public static uint MaglevSlot(MaglevKey key) => LbAbi.MaglevKey(key.ServiceId, Family(key.Family));

    /// <summary>The lb_services key of a frontend; a NodePort on any address has the all-zero address.</summary>
    public static LbServiceKey ServiceKey(FrontendKey frontend) => new()
    {
        Addr = frontend.Address is null ? default : LbAddress.FromIPAddress(frontend.Address),
        Port = Be16.FromHost(frontend.Port),
        Proto = (byte)frontend.Protocol,
        Family = Family(frontend.Family),
    };

    /// <summary>Whether the service forwards with the client's own address (LB_SVC_F_KEEP_CLIENT).</summary>
    public static bool KeepsClient(ServiceEntry service) => service.Service.Policy.ExternalTrafficPolicy == TrafficPolicy.Local;

    /// <summary>The lb_services value of one frontend of <paramref name="service"/>: its policy and the schedulable count of its family.</summary>
    public static LbService Service(ServiceEntry service, AddressFamily family, int schedulable)
    {
        var policy = service.Service.Policy;
        var flags = LbServiceFlags.None;
        if (policy.Affinity is not null)
            flags |= LbServiceFlags.Affinity;
        if (!policy.AllowsEveryClient)
            flags |= LbServiceFlags.SrcRanges;
        if (policy.Scheduler == SchedulerKind.Random)
            flags |= LbServiceFlags.SchedRandom;
        if (KeepsClient(service))
            flags |= LbServiceFlags.KeepClient;
        return new LbService
        {
            Id = service.Id,
            Flags = flags,
            AffinityTimeoutS = policy.Affinity?.TimeoutSeconds ?? 0,
            Forwarding = Forwarding(policy.Forwarding),
            BackendCount = (uint)schedulable,
        };
    }

    public static LbBackend Backend(BackendEntry backend) => new()
    {
        Addr = LbAddress.FromIPAddress(backend.Backend.Address),
        Port = Be16.FromHost(backend.Backend.Port),
        Family = Family(backend.Family),
        State = backend.Backend.State switch
        {
            BackendState.Active => LbBackendState.Active,
            BackendState.Terminating => LbBackendState.Terminating,
            BackendState.Maintenance => LbBackendState.Maintenance,
            var other => throw new ArgumentOutOfRangeException(nameof(backend), other, "Unknown backend state."),
        },
        ServiceId = backend.ServiceId,
    };

    /// <summary>The lb_src_ranges key of one CIDR of a service: service id and family always match in full, then the prefix.</summary>
    public static LbSrcRangeKey SourceRange(uint serviceId, IPNetwork network) => new()
    {
        Prefixlen = LbSrcRangeKey.PrefixBitsBeforeAddress + (uint)network.PrefixLength,
        ServiceId = serviceId,
        Family = (uint)Family(network.BaseAddress.AddressFamily),
        Addr = LbAddress.FromIPAddress(network.BaseAddress),
    };

    /// <summary>Every source-range key the snapshot needs.</summary>
    public static IEnumerable<LbSrcRangeKey> SourceRanges(DesiredState state) =>
        state.ServicesById.Values.SelectMany(s => s.Service.Policy.SourceRanges.Select(n => SourceRange(s.Id, n)));

    /// <summary>
    /// The lb_config value: the snapshot's options, the programmer's NAT port range, MTU and flow timeout,
    /// and Lb's own addresses. <see cref="LbConfigFlags.KeepClientNat"/> when some nat service of
    /// <paramref name="state"/> keeps client addresses: only then may a reply be addressed to something
    /// other than the SNAT address, and the program must look every packet up in lb_rev_nat.
    /// </summary>
    public static LbDatapathConfig Config(DesiredState state, ushort natPortMin, ushort natPortMax, ushort mtu, TimeSpan flowTimeout,
        IPAddress? snatV4, IPAddress? snatV6) => new()
    {
        FlowHashSeed = FlowHash.DeriveSeed(state.Options.Maglev.Seed),
        MaglevSize = state.Options.Maglev.TableSize,
        NatPortMin = natPortMin,
        NatPortMax = natPortMax,
        Mtu = mtu,
        Flags = state.ServicesById.Values.Any(s => s.Service.Policy.Forwarding == ForwardingMode.Nat && KeepsClient(s))
            ? LbConfigFlags.KeepClientNat
            : LbConfigFlags.None,
        FlowTimeoutNs = checked((ulong)flowTimeout.Ticks * 100),
        SnatV4 = snatV4 is null ? default : LbAddress.FromIPAddress(snatV4),
        SnatV6 = snatV6 is null ? default : LbAddress.FromIPAddress(snatV6),
    };

    public static LbForwarding Forwarding(ForwardingMode mode) => mode switch
    {
        ForwardingMode.Nat => LbForwarding.Nat,
        ForwardingMode.DsrIpip => LbForwarding.DsrIpip,
        ForwardingMode.DsrL2 => LbForwarding.DsrL2,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown forwarding mode."),
    };
}
