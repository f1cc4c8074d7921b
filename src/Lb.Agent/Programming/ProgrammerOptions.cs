using System.Net;
using System.Net.Sockets;

namespace Lb.Agent.Programming;

/// <summary>
/// Settings the programmer writes into lb_config that lb.yaml does not carry (yet), and the SNAT
/// addresses the agent resolved from the interfaces when the config names none.
/// </summary>
public sealed record ProgrammerOptions
{
    /// <summary>
    /// SNAT source ports 1024..29999: below Kubernetes' NodePort range (30000-32767) and Linux's default
    /// ephemeral range (32768-60999), so a reply to one of the host's own connections (a health check
    /// from this node to a backend, say) never matches a reverse-NAT entry. Ports are per (backend, protocol),
    /// so this is 28 976 concurrent NAT flows per backend and Lb node.
    /// </summary>
    public const ushort DefaultNatPortMin = 1024;

    /// <inheritdoc cref="DefaultNatPortMin"/>
    public const ushort DefaultNatPortMax = 29999;

    /// <summary>The egress MTU the dsr-ipip MSS clamp and the too-big check assume.</summary>
    public const ushort DefaultMtu = 1500;

    /// <summary>The smallest MTU accepted: IPv4's minimum datagram every host must take (RFC 791).</summary>
    public const ushort MinMtu = 576;

    /// <summary>
    /// A flow idle for longer than this is scheduled again (by affinity or Maglev) on its next packet.
    /// Five minutes: a TCP connection that sends nothing for five minutes and whose backend set changed
    /// meanwhile may move; one that keeps sending never does.
    /// </summary>
    public static readonly TimeSpan DefaultFlowTimeout = TimeSpan.FromSeconds(300);

    public static ProgrammerOptions Default { get; } = new();

    public ushort NatPortMin { get; init; } = DefaultNatPortMin;

    public ushort NatPortMax { get; init; } = DefaultNatPortMax;

    public ushort Mtu { get; init; } = DefaultMtu;

    public TimeSpan FlowTimeout { get; init; } = DefaultFlowTimeout;

    /// <summary>Lb's IPv4 address for NAT and the IPIP outer header; overrides <c>datapath.snatAddress</c> when set.</summary>
    public IPAddress? SnatAddressV4 { get; init; }

    /// <summary>Lb's IPv6 address; overrides <c>datapath.snatAddressV6</c> when set.</summary>
    public IPAddress? SnatAddressV6 { get; init; }

    /// <summary>Every problem with these settings, or an empty list.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (NatPortMin == 0 || NatPortMin > NatPortMax)
            errors.Add($"the NAT port range {NatPortMin}..{NatPortMax} must satisfy 1 <= min <= max");
        if (Mtu < MinMtu)
            errors.Add($"the MTU {Mtu} is below {MinMtu}");
        if (FlowTimeout <= TimeSpan.Zero)
            errors.Add($"the flow timeout {FlowTimeout} must be positive");
        if (SnatAddressV4 is { AddressFamily: not AddressFamily.InterNetwork })
            errors.Add($"the IPv4 SNAT address {SnatAddressV4} is not IPv4");
        if (SnatAddressV6 is { AddressFamily: not AddressFamily.InterNetworkV6 })
            errors.Add($"the IPv6 SNAT address {SnatAddressV6} is not IPv6");
        return errors;
    }
}
