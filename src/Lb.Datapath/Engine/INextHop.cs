using System.Runtime.CompilerServices;
using Lb.Datapath.Abi;

namespace Lb.Datapath.Engine;

/// <summary>The three answers bpf_fib_lookup gives the XDP program that it acts on.</summary>
public enum NextHopOutcome : byte
{
    /// <summary>BPF_FIB_LKUP_RET_SUCCESS: egress interface and both MACs known.</summary>
    Success = 0,
    /// <summary>BPF_FIB_LKUP_RET_NO_NEIGH: a route, but no resolved neighbour (LB_PASS_FIB_NO_NEIGHBOUR).</summary>
    NoNeighbour = 1,
    /// <summary>Anything else: no route, forwarding off, bigger than the route's MTU, an error (LB_PASS_FIB_FAILED).</summary>
    Failed = 2,
}

/// <summary>A MAC address, 6 bytes as they sit in the Ethernet header.</summary>
[InlineArray(6)]
public struct LbMacAddress
{
    public const int Size = 6;

    private byte _element0;

    public static LbMacAddress From(ReadOnlySpan<byte> bytes)
    {
        var mac = default(LbMacAddress);
        bytes[..Size].CopyTo(mac);
        return mac;
    }

    public override readonly string ToString()
    {
        ReadOnlySpan<byte> b = this;
        return $"{b[0]:x2}:{b[1]:x2}:{b[2]:x2}:{b[3]:x2}:{b[4]:x2}:{b[5]:x2}";
    }
}

/// <summary>
/// The parameters lb_fib_init gives bpf_fib_lookup: the packet as it will leave (addresses, L4 protocol
/// and ports, IP length, which the kernel checks against the route's MTU, IPv4 TOS or IPv6 flowinfo),
/// arriving on the ingress interface.
/// </summary>
public struct NextHopQuery
{
    public uint IngressIfindex;
    public LbFamily Family;
    public byte L4Protocol;
    public Be16 SourcePort;
    public Be16 DestinationPort;
    public ushort TotalLength;
    /// <summary>IPv4: the TOS byte. 0 for IPv6.</summary>
    public byte Tos;
    /// <summary>IPv6: traffic class and flow label, network order (for ipip only the traffic class). 0 for IPv4.</summary>
    public Be32 FlowInfo;
    public LbAddress Source;
    public LbAddress Destination;
}

/// <summary>The answer of a successful lookup.</summary>
public struct NextHop
{
    public uint Ifindex;
    /// <summary>The egress interface's MAC: the frame's new source.</summary>
    public LbMacAddress SourceMac;
    /// <summary>The neighbour's MAC: the frame's new destination.</summary>
    public LbMacAddress DestinationMac;
}

/// <summary>
/// Next-hop resolution, what bpf_fib_lookup gives the XDP program (the kernel's FIB and neighbour
/// tables). The engine makes no OS calls, so the worker supplies it. Called once per forwarded frame:
/// an implementation must not allocate.
/// </summary>
public interface INextHop
{
    NextHopOutcome Resolve(in NextHopQuery query, out NextHop nextHop);
}
