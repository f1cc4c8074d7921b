using System.Buffers.Binary;
using System.Net;
using Lb.Datapath.Abi;

namespace Lb.Testing;

/// <summary>
/// Frames the packet path must refuse while parsing, and the service they are sent to: truncated at
/// every header boundary, bad lengths, bad IHL, zero-length UDP, a TCP data offset past the end, each
/// with the reason docs/xdp-datapath.md gives. The service (VIPs port 80, TCP and UDP, both families)
/// has no backend, so a well-formed control frame reaches the no-backend path: that proves the frames
/// are stopped by parsing and not by a missing service. Shared by the BPF and the managed-engine tests.
/// </summary>
public static class MalformedFrames
{
    public static readonly IPAddress Client4 = IPAddress.Parse("198.18.1.2");
    public static readonly IPAddress Vip4 = IPAddress.Parse("198.19.0.10");
    public static readonly IPAddress Client6 = IPAddress.Parse("fd5b:1::2");
    public static readonly IPAddress Vip6 = IPAddress.Parse("fd5b:ff::10");
    private static readonly PacketBuilder Builder = new();

    /// <summary>The lb_services entries of the service without backends: id 1, nat, backend_count 0.</summary>
    public static IEnumerable<(LbServiceKey Key, LbService Service)> ServiceWithoutBackends()
    {
        foreach (var (vip, family) in new[] { (Vip4, LbFamily.IPv4), (Vip6, LbFamily.IPv6) })
        {
            foreach (var proto in new byte[] { 6, 17 })
            {
                var key = new LbServiceKey { Addr = LbAddress.FromIPAddress(vip), Port = Be16.FromHost(80), Proto = proto, Family = family };
                yield return (key, new LbService { Id = 1, Forwarding = LbForwarding.Nat, BackendCount = 0 });
            }
        }
    }

    public static byte[] Tcp4() => Builder.Tcp(Client4, 40000, Vip4, 80, TcpFlags.Syn);
    public static byte[] Udp4() => Builder.Udp(Client4, 40000, Vip4, 80, "hello"u8);
    public static byte[] Tcp6() => Builder.Tcp(Client6, 40000, Vip6, 80, TcpFlags.Syn);
    public static byte[] Udp6() => Builder.Udp(Client6, 40000, Vip6, 80, "hello"u8);

    /// <summary>The well-formed control frames ("tcp4", "udp4", "tcp6", "udp6").</summary>
    public static readonly IReadOnlyList<string> WellFormedNames = ["tcp4", "udp4", "tcp6", "udp6"];

    public static byte[] WellFormed(string which) => which switch
    {
        "tcp4" => Tcp4(),
        "udp4" => Udp4(),
        "tcp6" => Tcp6(),
        "udp6" => Udp6(),
        _ => throw new ArgumentException($"unknown well-formed frame {which}", nameof(which)),
    };

    /// <summary>Every malformed variant, with the reason it must be counted under.</summary>
    public static IReadOnlyList<(string Variant, LbReason Reason)> Cases()
    {
        var data = new List<(string, LbReason)>();
        // A VLAN ethertype whose tag is cut off (the kernel refuses test frames under 14 bytes).
        for (var length = 14; length < 18; length++)
            Add($"vlan-cut-at-{length}", LbReason.DropMalformedEthernet);
        foreach (var family in new[] { "4", "6" })
        {
            var ipHeader = family == "4" ? 20 : 40;
            var reasonIp = family == "4" ? LbReason.DropMalformedIpv4 : LbReason.DropMalformedIpv6;
            foreach (var l4 in new[] { "tcp", "udp" })
            {
                var l4Header = l4 == "tcp" ? 20 : 8;
                var reasonL4 = l4 == "tcp" ? LbReason.DropMalformedTcp : LbReason.DropMalformedUdp;
                // Cut inside the IP header.
                for (var k = 0; k < ipHeader; k += family == "4" ? 1 : 4)
                    Add($"{l4}{family}-cut-ip-{k}", reasonIp);
                // Cut inside the L4 header with the IP length left as sent: the frame lacks what the IP header claims.
                for (var k = 0; k < l4Header; k++)
                    Add($"{l4}{family}-cut-l4-{k}-iplen-stale", reasonIp);
                // Cut inside the L4 header with the IP length agreeing: the L4 header itself is short.
                for (var k = 0; k < l4Header; k++)
                    Add($"{l4}{family}-cut-l4-{k}-iplen-fixed", reasonL4);
                Add($"{l4}{family}-iplen-beyond-frame", reasonIp);
            }
            Add($"ipv{family}-wrong-version", reasonIp);
        }
        for (var ihl = 0; ihl < 5; ihl++)
            Add($"ihl-{ihl}", LbReason.DropMalformedIpv4);
        Add("totlen-below-ihl", LbReason.DropMalformedIpv4);
        foreach (var family in new[] { "4", "6" })
        {
            Add($"udp{family}-length-0", LbReason.DropMalformedUdp);
            Add($"udp{family}-length-7", LbReason.DropMalformedUdp);
            Add($"udp{family}-length-beyond-ip", LbReason.DropMalformedUdp);
            Add($"tcp{family}-doff-4", LbReason.DropMalformedTcp);
            Add($"tcp{family}-doff-past-end", LbReason.DropMalformedTcp);
        }
        return data;

        void Add(string variant, LbReason reason) => data.Add((variant, reason));
    }

    public static byte[] Build(string variant)
    {
        if (variant.StartsWith("vlan-cut-at-"))
        {
            var tagged = (Builder with { VlanId = 7 }).Tcp(Client4, 40000, Vip4, 80, TcpFlags.Syn);
            return tagged[..int.Parse(variant["vlan-cut-at-".Length..])];
        }
        var parts = variant.Split('-');
        if (variant.StartsWith("ihl-"))
        {
            var f = Tcp4();
            f[14] = (byte)(0x40 | int.Parse(parts[1]));
            return f;
        }
        if (variant == "totlen-below-ihl")
        {
            var f = Tcp4();
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(16), 19);
            return f;
        }
        var l4Name = parts[0][..3];
        var v6 = parts[0].EndsWith('6');
        var frame = (l4Name, v6) switch
        {
            ("tcp", false) => Tcp4(),
            ("udp", false) => Udp4(),
            ("tcp", true) => Tcp6(),
            ("udp", true) => Udp6(),
            _ => v6 ? Tcp6() : Tcp4(), // "ipv4-wrong-version" / "ipv6-wrong-version"
        };
        var ipHeader = v6 ? 40 : 20;
        const int eth = 14;
        switch (parts[1])
        {
            case "cut" when parts[2] == "ip":
                return frame[..(eth + int.Parse(parts[3]))];
            case "cut" when parts[2] == "l4":
            {
                var cut = frame[..(eth + ipHeader + int.Parse(parts[3]))];
                if (parts[5] == "fixed")
                    SetIpLength(cut, v6, cut.Length - eth);
                return cut;
            }
            case "iplen" when parts[2] == "beyond":
                SetIpLength(frame, v6, frame.Length - eth + 1);
                return frame;
            case "wrong":
                frame[eth] = (byte)(v6 ? 0x40 | (frame[eth] & 0x0f) : 0x65);
                return frame;
            case "length":
            {
                var udpLength = parts[2] switch { "0" => 0, "7" => 7, _ => frame.Length - eth - ipHeader + 1 };
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(eth + ipHeader + 4), (ushort)udpLength);
                return frame;
            }
            case "doff":
            {
                var doff = parts[2] == "4" ? 4 : 15;
                frame[eth + ipHeader + 12] = (byte)(doff << 4);
                return frame;
            }
        }
        throw new ArgumentException($"unknown variant {variant}");
    }

    /// <summary>IPv4 total length or IPv6 payload length, so that the IP packet spans <paramref name="ipPacketLength"/> bytes.</summary>
    private static void SetIpLength(byte[] frame, bool v6, int ipPacketLength)
    {
        if (v6)
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 4), (ushort)(ipPacketLength - 40));
        else
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 2), (ushort)ipPacketLength);
    }
}
