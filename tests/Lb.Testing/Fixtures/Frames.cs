using System.Net;
using System.Net.Sockets;
using Lb.Core.Model;

namespace Lb.Testing.Fixtures;

/// <summary>A frame a fixture sends or expects, described by its fields; <see cref="Bytes"/> builds it with <see cref="PacketBuilder"/>, every checksum from scratch.</summary>
public abstract record FrameSpec
{
    public abstract byte[] Bytes();
}

/// <summary>
/// A TCP segment or UDP datagram in an Ethernet frame (optionally with an 802.1Q tag). Expected frames
/// are written as the input <c>with</c> the fields the engine must change, so a fixture reads as the rewrite.
/// </summary>
public sealed record Packet : FrameSpec
{
    public required Mac SrcMac { get; init; }
    public required Mac DstMac { get; init; }
    public ushort? Vlan { get; init; }
    public byte Ttl { get; init; } = 64;
    /// <summary>IPv4 TOS, or the IPv6 traffic class.</summary>
    public byte Tos { get; init; }
    public required IPAddress Src { get; init; }
    public required ushort SrcPort { get; init; }
    public required IPAddress Dst { get; init; }
    public required ushort DstPort { get; init; }
    public L4Protocol Protocol { get; init; } = L4Protocol.Tcp;
    public TcpFlags Flags { get; init; } = TcpFlags.Syn;
    public uint Seq { get; init; } = 1000;
    public uint Ack { get; init; }
    public byte[] TcpOptions { get; init; } = [];
    public byte[] Payload { get; init; } = [];
    /// <summary>IPv4 UDP sent without a checksum (0).</summary>
    public bool NoUdpChecksum { get; init; }
    /// <summary>Ethernet padding behind the IP packet (zeros), as a short frame carries it to reach 60 bytes.</summary>
    public int Padding { get; init; }

    public AddressFamily Family => Src.AddressFamily;

    public override byte[] Bytes()
    {
        var builder = new PacketBuilder { SrcMac = SrcMac, DstMac = DstMac, VlanId = Vlan, Ttl = Ttl, Tos = Tos };
        var frame = Protocol == L4Protocol.Tcp
            ? builder.Tcp(Src, SrcPort, Dst, DstPort, Flags, Payload, Seq, Ack, options: TcpOptions)
            : builder.Udp(Src, SrcPort, Dst, DstPort, Payload, NoUdpChecksum);
        return [.. frame, .. new byte[Padding]];
    }

    public override string ToString() =>
        $"{SrcMac}>{DstMac}{(Vlan is { } v ? $" vlan {v}" : "")} {Endpoints.Format(Src, SrcPort)} -> {Endpoints.Format(Dst, DstPort)} " +
        $"{Protocol.ToString().ToLowerInvariant()}{(Protocol == L4Protocol.Tcp ? $" [{Flags}]" : "")} ttl {Ttl} tos 0x{Tos:x2}, {Payload.Length} bytes" +
        (Padding > 0 ? $" + {Padding} padding" : "");
}

/// <summary>
/// <see cref="Inner"/> in IPIP (IPv4) or IP6IP6 (IPv6), as docs/xdp-datapath.md lays the outer header
/// out: TOS / traffic class copied from the inner packet, TTL 64, IPv4 id 0 without DF, flow label 0.
/// The Ethernet header (and tag) is the inner packet's, with these MACs.
/// </summary>
public sealed record Encapsulated(Packet Inner, IPAddress OuterSrc, IPAddress OuterDst, Mac SrcMac, Mac DstMac) : FrameSpec
{
    public const byte OuterTtl = 64;

    /// <summary>The inner packet's Ethernet padding stays behind it, outside the outer IP length.</summary>
    public override byte[] Bytes() =>
        [.. new PacketBuilder { SrcMac = SrcMac, DstMac = DstMac, VlanId = Inner.Vlan }
            .Encapsulate((Inner with { Padding = 0 }).Bytes(), OuterSrc, OuterDst, OuterTtl), .. new byte[Inner.Padding]];

    public override string ToString() => $"{SrcMac}>{DstMac} {OuterSrc} -> {OuterDst} ipip ttl {OuterTtl} [{Inner}]";
}
