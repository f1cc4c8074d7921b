using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Lb.Testing;

/// <summary>A MAC address as six bytes; the builder writes it verbatim.</summary>
public readonly record struct Mac(byte B0, byte B1, byte B2, byte B3, byte B4, byte B5)
{
    public static Mac Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 6)
            throw new FormatException($"'{text}' is not a MAC address");
        var b = parts.Select(p => Convert.ToByte(p, 16)).ToArray();
        return new Mac(b[0], b[1], b[2], b[3], b[4], b[5]);
    }

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = B0; destination[1] = B1; destination[2] = B2;
        destination[3] = B3; destination[4] = B4; destination[5] = B5;
    }

    public static Mac Read(ReadOnlySpan<byte> source) => new(source[0], source[1], source[2], source[3], source[4], source[5]);

    public override string ToString() => $"{B0:x2}:{B1:x2}:{B2:x2}:{B3:x2}:{B4:x2}:{B5:x2}";
}

[Flags]
public enum TcpFlags : byte
{
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
}

/// <summary>
/// Builds Ethernet frames carrying IPv4/IPv6 with TCP/UDP/ICMP, or IPIP/IP6IP6 around them. Every length
/// and checksum is computed here from scratch (RFC 791/793/768/8200 sums over the whole header and
/// payload), independent of the engines under test, which update checksums incrementally.
/// </summary>
public sealed record PacketBuilder
{
    public static readonly Mac DefaultSrcMac = Mac.Parse("02:00:00:00:00:01");
    public static readonly Mac DefaultDstMac = Mac.Parse("02:00:00:00:00:02");

    public Mac SrcMac { get; init; } = DefaultSrcMac;
    public Mac DstMac { get; init; } = DefaultDstMac;
    public ushort? VlanId { get; init; }
    public byte Ttl { get; init; } = 64;
    public byte Tos { get; init; }
    public ushort IpId { get; init; } = 0x1234;
    public bool DontFragment { get; init; } = true;

    public byte[] Tcp(IPAddress src, ushort sport, IPAddress dst, ushort dport, TcpFlags flags,
        ReadOnlySpan<byte> payload = default, uint seq = 1000, uint ack = 0, ushort window = 65535, byte[]? options = null)
    {
        options ??= [];
        if (options.Length % 4 != 0)
            throw new ArgumentException("TCP options must be padded to 4 bytes", nameof(options));
        var l4 = new byte[20 + options.Length + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(0), sport);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(l4.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(l4.AsSpan(8), ack);
        l4[12] = (byte)(((20 + options.Length) / 4) << 4);
        l4[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(14), window);
        options.CopyTo(l4.AsSpan(20));
        payload.CopyTo(l4.AsSpan(20 + options.Length));
        var sum = Checksums.Transport(src, dst, 6, l4);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(16), sum);
        return Frame(src, dst, 6, l4);
    }

    /// <summary>A UDP datagram; <paramref name="zeroChecksum"/> sends IPv4's "no checksum" (0).</summary>
    public byte[] Udp(IPAddress src, ushort sport, IPAddress dst, ushort dport, ReadOnlySpan<byte> payload, bool zeroChecksum = false)
    {
        var l4 = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(0), sport);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(4), (ushort)l4.Length);
        payload.CopyTo(l4.AsSpan(8));
        if (!zeroChecksum || src.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var sum = Checksums.Transport(src, dst, 17, l4);
            BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(6), sum == 0 ? (ushort)0xffff : sum);
        }
        return Frame(src, dst, 17, l4);
    }

    /// <summary>A frame around an arbitrary L4 payload (ICMP, or deliberately broken headers).</summary>
    public byte[] Frame(IPAddress src, IPAddress dst, byte protocol, ReadOnlySpan<byte> l4)
    {
        var ip = src.AddressFamily == AddressFamily.InterNetwork ? Ipv4Header(src, dst, protocol, l4.Length) : Ipv6Header(src, dst, protocol, l4.Length);
        var eth = EthernetHeader(src.AddressFamily == AddressFamily.InterNetwork ? (ushort)0x0800 : (ushort)0x86dd);
        var frame = new byte[eth.Length + ip.Length + l4.Length];
        eth.CopyTo(frame, 0);
        ip.CopyTo(frame, eth.Length);
        l4.CopyTo(frame.AsSpan(eth.Length + ip.Length));
        return frame;
    }

    /// <summary>Wraps the IP packet of <paramref name="innerFrame"/> in IPIP (IPv4) or IP6IP6 (IPv6).</summary>
    public byte[] Encapsulate(byte[] innerFrame, IPAddress outerSrc, IPAddress outerDst, byte outerTtl = 64, byte? tos = null)
    {
        var innerEthLength = EthernetLength(innerFrame);
        var inner = innerFrame.AsSpan(innerEthLength);
        byte[] outer;
        if (outerSrc.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = this with { Ttl = outerTtl, IpId = 0, DontFragment = false, Tos = tos ?? inner[1] };
            outer = b.Ipv4Header(outerSrc, outerDst, 4, inner.Length);
        }
        else
        {
            var trafficClass = (byte)(((inner[0] & 0x0f) << 4) | (inner[1] >> 4));
            var b = this with { Ttl = outerTtl, Tos = tos ?? trafficClass };
            outer = b.Ipv6Header(outerSrc, outerDst, 41, inner.Length);
        }
        var eth = EthernetHeader(outerSrc.AddressFamily == AddressFamily.InterNetwork ? (ushort)0x0800 : (ushort)0x86dd);
        var frame = new byte[eth.Length + outer.Length + inner.Length];
        eth.CopyTo(frame, 0);
        outer.CopyTo(frame, eth.Length);
        inner.CopyTo(frame.AsSpan(eth.Length + outer.Length));
        return frame;
    }

    public byte[] EthernetHeader(ushort etherType)
    {
        var length = VlanId is null ? 14 : 18;
        var eth = new byte[length];
        DstMac.WriteTo(eth.AsSpan(0));
        SrcMac.WriteTo(eth.AsSpan(6));
        if (VlanId is { } vlan)
        {
            BinaryPrimitives.WriteUInt16BigEndian(eth.AsSpan(12), 0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(eth.AsSpan(14), vlan);
            BinaryPrimitives.WriteUInt16BigEndian(eth.AsSpan(16), etherType);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(eth.AsSpan(12), etherType);
        }
        return eth;
    }

    public byte[] Ipv4Header(IPAddress src, IPAddress dst, byte protocol, int payloadLength)
    {
        var ip = new byte[20];
        ip[0] = 0x45;
        ip[1] = Tos;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)(20 + payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), IpId);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(6), DontFragment ? (ushort)0x4000 : (ushort)0);
        ip[8] = Ttl;
        ip[9] = protocol;
        src.GetAddressBytes().CopyTo(ip, 12);
        dst.GetAddressBytes().CopyTo(ip, 16);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), Checksums.Internet(ip));
        return ip;
    }

    public byte[] Ipv6Header(IPAddress src, IPAddress dst, byte nextHeader, int payloadLength)
    {
        var ip = new byte[40];
        ip[0] = (byte)(0x60 | (Tos >> 4));
        ip[1] = (byte)((Tos & 0x0f) << 4);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), (ushort)payloadLength);
        ip[6] = nextHeader;
        ip[7] = Ttl;
        src.GetAddressBytes().CopyTo(ip, 8);
        dst.GetAddressBytes().CopyTo(ip, 24);
        return ip;
    }

    public static int EthernetLength(ReadOnlySpan<byte> frame) =>
        BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == 0x8100 ? 18 : 14;
}

/// <summary>Internet checksums computed over whole buffers: the reference the engines are checked against.</summary>
public static class Checksums
{
    /// <summary>RFC 1071 one's-complement sum of <paramref name="data"/>, complemented.</summary>
    public static ushort Internet(ReadOnlySpan<byte> data) => (ushort)~Fold(Sum(data, 0));

    /// <summary>TCP/UDP/ICMPv6 checksum including the pseudo-header (the checksum field must be zero or is skipped by the caller).</summary>
    public static ushort Transport(IPAddress src, IPAddress dst, byte protocol, ReadOnlySpan<byte> l4)
    {
        ulong sum = 0;
        sum = Sum(src.GetAddressBytes(), sum);
        sum = Sum(dst.GetAddressBytes(), sum);
        sum += protocol;
        sum += (uint)l4.Length;
        sum = Sum(l4, sum);
        return (ushort)~Fold(sum);
    }

    internal static ulong Sum(ReadOnlySpan<byte> data, ulong sum)
    {
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length)
            sum += (uint)(data[i] << 8);
        return sum;
    }

    internal static ushort Fold(ulong sum)
    {
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)sum;
    }
}
