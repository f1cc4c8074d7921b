using System.Buffers.Binary;
using System.Net;

namespace Lb.Testing;

/// <summary>
/// Reads back what an engine produced and checks it from first principles: header fields, lengths and
/// every checksum recomputed over the whole packet. Test assertions use this, never the engine's code.
/// </summary>
public sealed class PacketView
{
    public PacketView(byte[] frame)
    {
        Frame = frame;
        EthLength = PacketBuilder.EthernetLength(frame);
        EtherType = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(EthLength - 2));
        var ip = frame.AsSpan(EthLength);
        if (EtherType == 0x0800)
        {
            IpHeaderLength = (ip[0] & 0x0f) * 4;
            Protocol = ip[9];
            Ttl = ip[8];
            Source = new IPAddress(ip.Slice(12, 4));
            Destination = new IPAddress(ip.Slice(16, 4));
            IpTotalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        }
        else if (EtherType == 0x86dd)
        {
            IpHeaderLength = 40;
            Protocol = ip[6];
            Ttl = ip[7];
            Source = new IPAddress(ip.Slice(8, 16));
            Destination = new IPAddress(ip.Slice(24, 16));
            IpTotalLength = 40 + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        }
        else
        {
            throw new InvalidDataException($"not an IP frame (ethertype 0x{EtherType:x4})");
        }
    }

    public byte[] Frame { get; }
    public int EthLength { get; }
    public ushort EtherType { get; }
    public int IpHeaderLength { get; }
    public int IpTotalLength { get; }
    public byte Protocol { get; }
    public byte Ttl { get; }
    public IPAddress Source { get; }
    public IPAddress Destination { get; }
    public Mac DstMac => Mac.Read(Frame);
    public Mac SrcMac => Mac.Read(Frame.AsSpan(6));

    public ReadOnlySpan<byte> Ip => Frame.AsSpan(EthLength, IpTotalLength);
    public ReadOnlySpan<byte> L4 => Frame.AsSpan(EthLength + IpHeaderLength, IpTotalLength - IpHeaderLength);
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(L4);
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(L4[2..]);

    /// <summary>The packet inside an IPIP / IP6IP6 header, as a frame with this frame's Ethernet header.</summary>
    public PacketView Inner()
    {
        if (Protocol is not (4 or 41))
            throw new InvalidDataException($"protocol {Protocol} is not IPIP or IPv6-in-IPv6");
        var inner = L4;
        var etherType = (inner[0] >> 4) == 4 ? (ushort)0x0800 : (ushort)0x86dd;
        var frame = new byte[14 + inner.Length];
        Frame.AsSpan(0, 12).CopyTo(frame);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), etherType);
        inner.CopyTo(frame.AsSpan(14));
        return new PacketView(frame);
    }

    /// <summary>True when the IPv4 header checksum (if any) and the TCP/UDP checksum verify from scratch.</summary>
    public bool ChecksumsValid(out string why)
    {
        if (EtherType == 0x0800 && Checksums.Internet(Ip[..IpHeaderLength]) != 0)
        {
            why = "IPv4 header checksum is wrong";
            return false;
        }
        if (Protocol is 6 or 17)
        {
            var l4 = L4;
            if (Protocol == 17 && EtherType == 0x0800 && BinaryPrimitives.ReadUInt16BigEndian(l4[6..]) == 0)
            {
                why = "";
                return true; // IPv4 UDP without checksum
            }
            ulong sum = 0;
            sum = Checksums.Sum(Source.GetAddressBytes(), sum);
            sum = Checksums.Sum(Destination.GetAddressBytes(), sum);
            sum += Protocol;
            sum += (uint)l4.Length;
            sum = Checksums.Sum(l4, sum);
            if (Checksums.Fold(sum) != 0xffff)
            {
                why = $"{(Protocol == 6 ? "TCP" : "UDP")} checksum is wrong";
                return false;
            }
        }
        why = "";
        return true;
    }

    public override string ToString() => $"{Source}:{(Protocol is 6 or 17 ? SourcePort : 0)} -> {Destination}:{(Protocol is 6 or 17 ? DestinationPort : 0)} proto {Protocol} ttl {Ttl}";
}
