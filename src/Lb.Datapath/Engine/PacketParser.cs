using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Lb.Datapath.Abi;

namespace Lb.Datapath.Engine;

/// <summary>
/// struct lb_pkt: what the packet path knows about a frame it may balance. Offsets, not references, as in
/// the XDP program: encapsulation moves the frame's start.
/// </summary>
public struct ParsedPacket
{
    /// <summary>The 5-tuple as the packet carries it, padding zero.</summary>
    public LbFlowKey Key;
    /// <summary>The frame's length on arrival: the bytes counted per service (VLAN tag and padding included).</summary>
    public uint FrameLength;
    /// <summary>IPv4 tot_len, IPv6 40 + payload_len: the IP packet without Ethernet padding.</summary>
    public uint IpLength;
    /// <summary>IPv6 traffic class and flow label (network order); 0 for IPv4.</summary>
    public Be32 FlowInfo;
    /// <summary>14, or 18 behind one 802.1Q tag.</summary>
    public ushort L3Offset;
    /// <summary>L3Offset + 20 (IPv4) or + 40 (IPv6).</summary>
    public ushort L4Offset;
    /// <summary>IPv4 TTL or IPv6 hop limit.</summary>
    public byte Ttl;
    /// <summary>IPv4 TOS or IPv6 traffic class.</summary>
    public byte Tos;
    /// <summary>Byte 13 of the TCP header; 0 for UDP.</summary>
    public byte TcpFlags;
}

/// <summary>
/// lb_parse.h over a span: a cursor walks Ethernet (one 802.1Q tag), IPv4 or IPv6, then TCP or UDP,
/// checking every length before it reads, in the order of docs/xdp-datapath.md ("Parse"); the first
/// failing check gives the verdict. The IP header's length, not the frame's, bounds L4 (padding).
/// </summary>
public ref struct PacketParser
{
    public const int EthernetHeaderLength = 14;
    public const int VlanTagLength = 4;
    public const int Ipv4HeaderLength = 20;
    public const int Ipv6HeaderLength = 40;
    public const int TcpHeaderLength = 20;
    public const int UdpHeaderLength = 8;
    public const byte ProtocolIcmp = 1;
    public const byte ProtocolIpip = 4;
    public const byte ProtocolTcp = 6;
    public const byte ProtocolUdp = 17;
    public const byte ProtocolIpv6 = 41;
    public const byte ProtocolIcmpv6 = 58;
    public const byte TcpFlagSyn = 0x02;

    private const ushort EtherTypeIpv4 = 0x0800;
    private const ushort EtherTypeIpv6 = 0x86dd;
    private const ushort EtherTypeVlan = 0x8100;
    private const ushort Ipv4MoreFragments = 0x2000;
    private const ushort Ipv4FragmentOffset = 0x1fff;

    private readonly ReadOnlySpan<byte> _frame;
    private int _position;

    public PacketParser(ReadOnlySpan<byte> frame)
    {
        _frame = frame;
        _position = 0;
    }

    /// <summary>
    /// lb_parse: 0 (<see cref="LbReason.ReasonUnused0"/>) when the frame is a TCP or UDP packet the fast path
    /// may balance, with all of <paramref name="packet"/> filled in; otherwise the reason of its verdict.
    /// </summary>
    public LbReason Parse(out ParsedPacket packet)
    {
        packet = default;
        packet.FrameLength = (uint)_frame.Length;
        if (!TryParseEthernet(out var etherType))
            return LbReason.DropMalformedEthernet;
        packet.L3Offset = (ushort)_position;
        LbReason reason;
        if (etherType == EtherTypeIpv4)
            reason = ParseIpv4(ref packet);
        else if (etherType == EtherTypeIpv6)
            reason = ParseIpv6(ref packet);
        else
            return LbReason.PassNotIp;
        if (reason != 0)
            return reason;
        packet.L4Offset = (ushort)_position;
        return ParseL4(ref packet, packet.IpLength - (uint)(packet.L4Offset - packet.L3Offset));
    }

    /// <summary>lb_parse_eth: false when the frame ends inside its Ethernet header or tag. A second tag comes back as 0x8100, "not IP".</summary>
    private bool TryParseEthernet(out ushort etherType)
    {
        etherType = 0;
        if (_frame.Length < EthernetHeaderLength)
            return false;
        etherType = BinaryPrimitives.ReadUInt16BigEndian(_frame[12..]);
        _position = EthernetHeaderLength;
        if (etherType == EtherTypeVlan)
        {
            if (_frame.Length < EthernetHeaderLength + VlanTagLength)
                return false;
            etherType = BinaryPrimitives.ReadUInt16BigEndian(_frame[(EthernetHeaderLength + 2)..]);
            _position = EthernetHeaderLength + VlanTagLength;
        }
        return true;
    }

    /// <summary>lb4_parse: malformed checks, then options, fragments, ICMP, other protocols.</summary>
    private LbReason ParseIpv4(ref ParsedPacket packet)
    {
        var rest = _frame[_position..];
        if (rest.Length < Ipv4HeaderLength)
            return LbReason.DropMalformedIpv4;
        var version = rest[0] >> 4;
        var ihl = rest[0] & 0x0f;
        if (version != 4 || ihl < 5)
            return LbReason.DropMalformedIpv4;
        var totalLength = BinaryPrimitives.ReadUInt16BigEndian(rest[2..]);
        if (totalLength < ihl * 4 || totalLength > rest.Length)
            return LbReason.DropMalformedIpv4;
        if (ihl > 5)
            return LbReason.PassIpv4Options;
        if ((BinaryPrimitives.ReadUInt16BigEndian(rest[6..]) & (Ipv4MoreFragments | Ipv4FragmentOffset)) != 0)
            return LbReason.PassFragment;
        var protocol = rest[9];
        if (protocol == ProtocolIcmp)
            return LbReason.PassIcmp;
        if (protocol != ProtocolTcp && protocol != ProtocolUdp)
            return LbReason.PassNoService;

        packet.Key.Family = LbFamily.IPv4;
        packet.Key.Proto = protocol;
        rest.Slice(12, 4).CopyTo(packet.Key.Saddr);
        rest.Slice(16, 4).CopyTo(packet.Key.Daddr);
        packet.IpLength = totalLength;
        packet.Ttl = rest[8];
        packet.Tos = rest[1];
        _position += Ipv4HeaderLength;
        return 0;
    }

    /// <summary>lb6_parse: malformed checks, then ICMPv6, extension headers, other protocols.</summary>
    private LbReason ParseIpv6(ref ParsedPacket packet)
    {
        var rest = _frame[_position..];
        if (rest.Length < Ipv6HeaderLength)
            return LbReason.DropMalformedIpv6;
        if (rest[0] >> 4 != 6)
            return LbReason.DropMalformedIpv6;
        var payloadLength = BinaryPrimitives.ReadUInt16BigEndian(rest[4..]);
        if (Ipv6HeaderLength + payloadLength > rest.Length)
            return LbReason.DropMalformedIpv6;
        var nextHeader = rest[6];
        if (nextHeader == ProtocolIcmpv6)
            return LbReason.PassIcmp;
        if (nextHeader != ProtocolTcp && nextHeader != ProtocolUdp)
            return IsExtensionHeader(nextHeader) ? LbReason.PassIpv6Extension : LbReason.PassNoService;

        packet.Key.Family = LbFamily.IPv6;
        packet.Key.Proto = nextHeader;
        rest.Slice(8, 16).CopyTo(packet.Key.Saddr);
        rest.Slice(24, 16).CopyTo(packet.Key.Daddr);
        packet.IpLength = (uint)(Ipv6HeaderLength + payloadLength);
        packet.Ttl = rest[7];
        packet.Tos = (byte)((rest[0] << 4) | (rest[1] >> 4));
        packet.FlowInfo = Be32.FromRaw(MemoryMarshal.Read<uint>(rest) & Be32.FromHost(0x0fffffff).Raw);
        _position += Ipv6HeaderLength;
        return 0;
    }

    /// <summary>lb6_is_extension: IANA's IPv6 extension header types.</summary>
    private static bool IsExtensionHeader(byte nextHeader) => nextHeader switch
    {
        0 or 43 or 44 or 50 or 51 or 60 or 135 or 139 or 140 or 253 or 254 => true,
        _ => false,
    };

    /// <summary>lb_parse_l4: the TCP or UDP header, bounded by the frame and by what the IP header leaves for L4.</summary>
    private LbReason ParseL4(ref ParsedPacket packet, uint l4Length)
    {
        var rest = _frame[_position..];
        if (packet.Key.Proto == ProtocolTcp)
        {
            if (rest.Length < TcpHeaderLength || l4Length < TcpHeaderLength)
                return LbReason.DropMalformedTcp;
            var dataOffset = rest[12] >> 4;
            if (dataOffset < 5 || dataOffset * 4u > l4Length)
                return LbReason.DropMalformedTcp;
            packet.Key.Sport = Be16.FromRaw(MemoryMarshal.Read<ushort>(rest));
            packet.Key.Dport = Be16.FromRaw(MemoryMarshal.Read<ushort>(rest[2..]));
            packet.TcpFlags = rest[13];
            return 0;
        }

        if (rest.Length < UdpHeaderLength || l4Length < UdpHeaderLength)
            return LbReason.DropMalformedUdp;
        uint length = BinaryPrimitives.ReadUInt16BigEndian(rest[4..]);
        if (length < UdpHeaderLength || length > l4Length)
            return LbReason.DropMalformedUdp;
        packet.Key.Sport = Be16.FromRaw(MemoryMarshal.Read<ushort>(rest));
        packet.Key.Dport = Be16.FromRaw(MemoryMarshal.Read<ushort>(rest[2..]));
        return 0;
    }
}
