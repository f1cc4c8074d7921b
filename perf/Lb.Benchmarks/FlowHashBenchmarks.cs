using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Lb.Core.Hashing;

namespace Lb.Benchmarks;

/// <summary>
/// Cost per packet of the flow hash the managed engine computes for a Maglev lookup, reading the
/// addresses and ports straight out of Ethernet frames as it will on AF_XDP frames.
/// </summary>
[MemoryDiagnoser]
public class FlowHashBenchmarks
{
    // Distinct flows, so the numbers are not those of one tuple hot in every cache and predictor.
    private const int Packets = 256;
    private const int EthernetLength = 14;
    private const int IPv4Length = 20;
    private const int IPv6Length = 40;
    private const int TcpLength = 20;

    private readonly uint seed = FlowHash.DeriveSeed("lb");
    private byte[][] ipv4Frames = [];
    private byte[][] ipv6Frames = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20240601);
        ipv4Frames = new byte[Packets][];
        ipv6Frames = new byte[Packets][];
        for (var i = 0; i < Packets; i++)
        {
            ipv4Frames[i] = Frame(random, 0x0800, IPv4Length);
            ipv6Frames[i] = Frame(random, 0x86dd, IPv6Length);
        }
    }

    [Benchmark(OperationsPerInvoke = Packets)]
    public uint IPv4FiveTuple()
    {
        uint sink = 0;
        foreach (var frame in ipv4Frames)
        {
            var ip = frame.AsSpan(EthernetLength, IPv4Length);
            sink ^= FlowHash.Compute(ip.Slice(12, 4), ip.Slice(16, 4), frame.AsSpan(EthernetLength + IPv4Length), ip[9], seed);
        }

        return sink;
    }

    [Benchmark(OperationsPerInvoke = Packets)]
    public uint IPv6FiveTuple()
    {
        uint sink = 0;
        foreach (var frame in ipv6Frames)
        {
            var ip = frame.AsSpan(EthernetLength, IPv6Length);
            sink ^= FlowHash.Compute(ip.Slice(8, 16), ip.Slice(24, 16), frame.AsSpan(EthernetLength + IPv6Length), ip[6], seed);
        }

        return sink;
    }

    [Benchmark(OperationsPerInvoke = Packets)]
    public uint IPv4Affinity()
    {
        uint sink = 0;
        foreach (var frame in ipv4Frames)
        {
            sink ^= FlowHash.ComputeAffinity(frame.AsSpan(EthernetLength + 12, 4), seed);
        }

        return sink;
    }

    [Benchmark(OperationsPerInvoke = Packets)]
    public uint IPv6Affinity()
    {
        uint sink = 0;
        foreach (var frame in ipv6Frames)
        {
            sink ^= FlowHash.ComputeAffinity(frame.AsSpan(EthernetLength + 8, 16), seed);
        }

        return sink;
    }

    /// <summary>An Ethernet + IP + TCP frame with random addresses and ports; only the hashed fields matter.</summary>
    private static byte[] Frame(Random random, ushort etherType, int ipLength)
    {
        var frame = new byte[EthernetLength + ipLength + TcpLength];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), etherType);
        var ip = frame.AsSpan(EthernetLength, ipLength);
        if (etherType == 0x0800)
        {
            ip[0] = 0x45;
            ip[9] = 6;
            random.NextBytes(ip.Slice(12, 8));
        }
        else
        {
            ip[0] = 0x60;
            ip[6] = 6;
            random.NextBytes(ip.Slice(8, 32));
        }

        random.NextBytes(frame.AsSpan(EthernetLength + ipLength, 4));
        return frame;
    }
}
