using System.Net;
using Lb.Core.Model;
using Lb.Testing;

namespace Lb.XdpBench;

/// <summary>
/// The frames the benchmark sends (IPv4 TCP, as a client behind the ingress interface sends them) and
/// the checks of what lb_xdp must make of them. Checks recompute every checksum from scratch
/// (<see cref="PacketView"/>), so a fast but wrong path fails the run instead of being measured.
/// </summary>
public static class BenchFrames
{
    /// <summary>Linux's SYN options: MSS 1460, SACK permitted, timestamps, NOP, window scale 7.</summary>
    private static readonly byte[] SynOptions =
        [0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0, 0, 0x10, 0, 0, 0, 0, 0, 0x01, 0x03, 0x03, 0x07];

    private static readonly byte[] Payload = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();

    /// <summary>New-flow clients: 100.64.0.0/10, 50,000 source ports per address.</summary>
    private const int PortsPerClient = 50_000;
    private const ushort FirstClientPort = 10_000;

    private static readonly PacketBuilder FromClientSide = new() { SrcMac = BenchNetwork.ClientMac, DstMac = BenchNetwork.IngressMac };

    public static byte[] Syn(IPAddress client, ushort port) =>
        FromClientSide.Tcp(client, port, BenchServices.Vip, BenchServices.Port, TcpFlags.Syn, options: SynOptions);

    /// <summary>A data segment of an established connection: ACK|PSH with 64 bytes.</summary>
    public static byte[] Data(IPAddress client, ushort port) =>
        FromClientSide.Tcp(client, port, BenchServices.Vip, BenchServices.Port, TcpFlags.Ack | TcpFlags.Psh, Payload, seq: 1001, ack: 5001);

    /// <summary>Traffic for the node itself (SSH to the balancer's address): no service matches.</summary>
    public static byte[] NonService() =>
        FromClientSide.Tcp(BenchNetwork.Client, 40_022, BenchNetwork.BalancerAddress, 22, TcpFlags.Ack | TcpFlags.Psh, Payload, seq: 1001, ack: 5001);

    /// <summary>The backend's answer to a NAT flow: backend:80 to the balancer's SNAT address and port.</summary>
    public static byte[] NatReply(IPAddress backend, ushort natPort) =>
        new PacketBuilder { SrcMac = Mac.Parse("02:00:00:00:0a:ff"), DstMac = BenchNetwork.IngressMac }
            .Tcp(backend, BenchServices.Port, BenchNetwork.BalancerAddress, natPort, TcpFlags.Ack | TcpFlags.Psh, Payload, seq: 5001, ack: 1065);

    /// <summary>The SYN of the <paramref name="index"/>th new flow of the whole run: no two share a 5-tuple.</summary>
    public static byte[] NewFlowSyn(long index)
    {
        var client = (uint)(100 << 24 | 64 << 16) + (uint)(index / PortsPerClient);
        var address = new IPAddress([(byte)(client >> 24), (byte)(client >> 16), (byte)(client >> 8), (byte)client]);
        return Syn(address, (ushort)(FirstClientPort + index % PortsPerClient));
    }

    /// <summary>What a forwarded client frame must look like in each mode, or why it does not.</summary>
    public static string? CheckForwarded(ForwardingMode mode, BenchNetwork network, byte[] input, byte[] output)
    {
        var sent = new PacketView(input);
        var got = new PacketView(output);
        if (!got.ChecksumsValid(out var why))
            return why;
        if (got.SrcMac != BenchNetwork.IngressMac)
            return $"source MAC {got.SrcMac}, expected the ingress interface's {BenchNetwork.IngressMac}";
        switch (mode)
        {
            case ForwardingMode.Nat:
                if (!network.Backends.Contains(got.Destination) || got.DestinationPort != BenchServices.Port)
                    return $"{got}: not DNATed to a backend";
                if (!got.Source.Equals(BenchNetwork.BalancerAddress))
                    return $"{got}: not SNATed to {BenchNetwork.BalancerAddress}";
                if (got.Ttl != sent.Ttl - 1)
                    return $"{got}: TTL not decremented";
                break;
            case ForwardingMode.DsrIpip:
                if (got.Protocol != 4 || !network.Backends.Contains(got.Destination) || !got.Source.Equals(BenchNetwork.BalancerAddress))
                    return $"{got}: not an IPIP packet from {BenchNetwork.BalancerAddress} to a backend";
                var inner = got.Inner();
                if (!inner.Source.Equals(sent.Source) || !inner.Destination.Equals(sent.Destination) || inner.SourcePort != sent.SourcePort)
                    return $"inner packet {inner} is not the client's {sent}";
                if (!inner.ChecksumsValid(out var innerWhy))
                    return "inner packet: " + innerWhy;
                break;
            case ForwardingMode.DsrL2:
                if (!network.Backends.Any(b => network.NeighbourMac(b) == got.DstMac))
                    return $"destination MAC {got.DstMac} is no backend's";
                if (!input.AsSpan(12).SequenceEqual(output.AsSpan(12)))
                    return "dsr-l2 changed more than the MAC addresses";
                return null;
        }
        return got.DstMac == network.NeighbourMac(got.Destination) ? null : $"destination MAC {got.DstMac} is not {got.Destination}'s";
    }

    /// <summary>A NAT reply must leave as VIP:80 to the client's own address and port, toward the client's MAC.</summary>
    public static string? CheckReply(ushort clientPort, byte[] output)
    {
        var got = new PacketView(output);
        if (!got.ChecksumsValid(out var why))
            return why;
        if (!got.Source.Equals(BenchServices.Vip) || got.SourcePort != BenchServices.Port)
            return $"{got}: source is not the VIP";
        if (!got.Destination.Equals(BenchNetwork.Client) || got.DestinationPort != clientPort)
            return $"{got}: destination is not the client";
        return got.DstMac == BenchNetwork.ClientMac ? null : $"destination MAC {got.DstMac} is not the client's";
    }

    public static string? CheckUntouched(byte[] input, byte[] output) =>
        input.AsSpan().SequenceEqual(output) ? null : "a passed frame was changed";

    public static string? CheckLength(byte[] input, byte[] output, int growth) =>
        output.Length == input.Length + growth ? null : $"output is {output.Length} bytes, expected {input.Length + growth}";
}
