using System.Buffers.Binary;
using System.Net;
using Lb.Datapath.Abi;

namespace Lb.Testing;

/// <summary>
/// Frames the fast path does not handle, sent where <see cref="MalformedFrames.ServiceWithoutBackends"/>
/// is configured: traffic for no service, non-IP, fragments, IPv4 options, IPv6 extension headers, ICMP,
/// a service without backends. Each must pass untouched, counted once under its reason. Shared by the BPF
/// and the managed-engine tests.
/// </summary>
public static class PassPathFrames
{
    private static readonly IPAddress Client4 = MalformedFrames.Client4;
    private static readonly IPAddress Vip4 = MalformedFrames.Vip4;
    private static readonly IPAddress Other4 = IPAddress.Parse("198.19.0.99");
    private static readonly IPAddress Client6 = MalformedFrames.Client6;
    private static readonly IPAddress Vip6 = MalformedFrames.Vip6;
    private static readonly PacketBuilder Builder = new();

    public static readonly IReadOnlyList<(string Variant, LbReason Reason)> Cases =
    [
        ("tcp4-to-no-service", LbReason.PassNoService),
        ("tcp4-to-unconfigured-port", LbReason.PassNoService),
        ("udp6-to-no-service", LbReason.PassNoService),
        ("gre4-to-vip", LbReason.PassNoService),
        ("arp", LbReason.PassNotIp),
        ("qinq", LbReason.PassNotIp),
        ("ipv4-more-fragments", LbReason.PassFragment),
        ("ipv4-fragment-offset", LbReason.PassFragment),
        ("ipv4-options", LbReason.PassIpv4Options),
        ("ipv6-hop-by-hop", LbReason.PassIpv6Extension),
        ("ipv6-fragment-header", LbReason.PassIpv6Extension),
        ("icmp4-echo-to-vip", LbReason.PassIcmp),
        ("icmp6-echo-to-vip", LbReason.PassIcmp),
        ("tcp4-vlan-to-service-without-backends", LbReason.PassNoBackend),
        ("udp6-to-service-without-backends", LbReason.PassNoBackend),
    ];


    public static byte[] Build(string variant)
    {
        switch (variant)
        {
            case "tcp4-to-no-service":
                return Builder.Tcp(Client4, 40000, Other4, 80, TcpFlags.Syn);
            case "tcp4-to-unconfigured-port":
                return Builder.Tcp(Client4, 40000, Vip4, 81, TcpFlags.Syn);
            case "udp6-to-no-service":
                return Builder.Udp(Client6, 40000, IPAddress.Parse("fd5b:ff::99"), 80, "x"u8);
            case "gre4-to-vip":
                return Builder.Frame(Client4, Vip4, 47, new byte[8]);
            case "arp":
            {
                var arp = new byte[42];
                Builder.EthernetHeader(0x0806).CopyTo(arp, 0);
                return arp;
            }
            case "qinq":
            {
                var inner = (Builder with { VlanId = 7 }).Tcp(Client4, 40000, Vip4, 80, TcpFlags.Syn);
                // Outer tag 0x8100 carrying a second 0x8100 tag: only one tag is parsed.
                var frame = new byte[inner.Length + 4];
                inner.AsSpan(0, 16).CopyTo(frame);
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 0x8100);
                inner.AsSpan(14).CopyTo(frame.AsSpan(18));
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x8100);
                return frame;
            }
            case "ipv4-more-fragments":
                return SetFragment(Builder.Udp(Client4, 40000, Vip4, 80, new byte[64]), 0x2000);
            case "ipv4-fragment-offset":
                return SetFragment(Builder.Udp(Client4, 40000, Vip4, 80, new byte[64]), 0x0010);
            case "ipv4-options":
            {
                var tcp = Builder.Tcp(Client4, 40000, Vip4, 80, TcpFlags.Syn);
                var frame = new byte[tcp.Length + 4];
                tcp.AsSpan(0, 34).CopyTo(frame);
                frame[34] = 1; frame[35] = 1; frame[36] = 1; frame[37] = 0; // NOP, NOP, NOP, end of options
                tcp.AsSpan(34).CopyTo(frame.AsSpan(38));
                frame[14] = 0x46;
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), (ushort)(frame.Length - 14));
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(24), 0);
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(24), Checksums.Internet(frame.AsSpan(14, 24)));
                return frame;
            }
            case "ipv6-hop-by-hop":
                return WithExtension(0);
            case "ipv6-fragment-header":
                return WithExtension(44);
            case "icmp4-echo-to-vip":
            {
                var echo = new byte[16];
                echo[0] = 8;
                BinaryPrimitives.WriteUInt16BigEndian(echo.AsSpan(2), Checksums.Internet(echo));
                return Builder.Frame(Client4, Vip4, 1, echo);
            }
            case "icmp6-echo-to-vip":
            {
                var echo = new byte[16];
                echo[0] = 128;
                BinaryPrimitives.WriteUInt16BigEndian(echo.AsSpan(2), Checksums.Transport(Client6, Vip6, 58, echo));
                return Builder.Frame(Client6, Vip6, 58, echo);
            }
            case "tcp4-vlan-to-service-without-backends":
                return (Builder with { VlanId = 100 }).Tcp(Client4, 40000, Vip4, 80, TcpFlags.Syn);
            case "udp6-to-service-without-backends":
                return Builder.Udp(Client6, 40000, Vip6, 80, "x"u8);
        }
        throw new ArgumentException($"unknown variant {variant}");
    }

    private static byte[] SetFragment(byte[] frame, ushort flagsAndOffset)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 6), flagsAndOffset);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 10), Checksums.Internet(frame.AsSpan(14, 20)));
        return frame;
    }

    /// <summary>An IPv6 TCP SYN to the VIP behind one 8-byte extension header of the given type.</summary>
    private static byte[] WithExtension(byte extension)
    {
        var tcp = Builder.Tcp(Client6, 40000, Vip6, 80, TcpFlags.Syn);
        var l4 = tcp.AsSpan(14 + 40);
        var payload = new byte[8 + l4.Length];
        payload[0] = 6; // next header: TCP
        l4.CopyTo(payload.AsSpan(8));
        return Builder.Frame(Client6, Vip6, extension, payload);
    }
}
