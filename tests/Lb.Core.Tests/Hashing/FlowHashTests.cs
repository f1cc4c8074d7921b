using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text.Json;
using FsCheck.Fluent;
using Lb.Core.Hashing;
using Lb.Core.Model;

namespace Lb.Core.Tests.Hashing;

public class FlowHashTests
{
    private sealed record Vector(
        VectorFile.Line Line,
        IPAddress Source,
        IPAddress Destination,
        ushort SourcePort,
        ushort DestinationPort,
        byte Protocol,
        bool Affinity,
        uint Seed,
        uint Expected,
        uint[] Words);

    private static readonly IReadOnlyList<Vector> Vectors = VectorFile.Read("flowhash_vectors.txt").Select(Parse).ToList();

    [Fact]
    public void Vectors_File_CoversBothFamiliesProtocolsAndAffinity()
    {
        Assert.True(Vectors.Count >= 40, $"only {Vectors.Count} flow-hash vectors");
        Assert.Contains(Vectors, v => v.Source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        Assert.Contains(Vectors, v => v.Source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
        Assert.Contains(Vectors, v => v.Protocol == 6);
        Assert.Contains(Vectors, v => v.Protocol == 17);
        Assert.Contains(Vectors, v => v.Affinity);
        Assert.Contains(Vectors, v => !v.Affinity);
    }

    [Fact]
    public void Compute_ParsedValuesOfEveryVector_MatchExpectedHash()
    {
        var mismatches = new List<string>();
        foreach (var v in Vectors)
        {
            var actual = v.Affinity
                ? FlowHash.ComputeAffinity(v.Source, v.Seed)
                : FlowHash.Compute(v.Source, v.SourcePort, v.Destination, v.DestinationPort, (L4Protocol)v.Protocol, v.Seed);
            if (actual != v.Expected)
            {
                mismatches.Add($"{v.Line}: got 0x{actual:x8}, expected 0x{v.Expected:x8}");
            }
        }

        Assert.Empty(mismatches);
    }

    [Fact]
    public void Compute_RawBytesOfEveryVector_MatchExpectedHash()
    {
        var mismatches = new List<string>();
        foreach (var v in Vectors)
        {
            var l4Header = L4Header(v.SourcePort, v.DestinationPort);
            var actual = v.Affinity
                ? FlowHash.ComputeAffinity(v.Source.GetAddressBytes(), v.Seed)
                : FlowHash.Compute(v.Source.GetAddressBytes(), v.Destination.GetAddressBytes(), l4Header, v.Protocol, v.Seed);
            if (actual != v.Expected)
            {
                mismatches.Add($"{v.Line}: got 0x{actual:x8}, expected 0x{v.Expected:x8}");
            }
        }

        Assert.Empty(mismatches);
    }

    [Fact]
    public void WriteWords_EveryVector_MatchesListedWords()
    {
        var mismatches = new List<string>();
        var words = new uint[FlowHash.WordCount];
        foreach (var v in Vectors)
        {
            if (v.Affinity)
            {
                FlowHash.WriteAffinityWords(v.Source.GetAddressBytes(), words);
            }
            else
            {
                FlowHash.WriteWords(
                    v.Source.GetAddressBytes(), v.Destination.GetAddressBytes(), L4Header(v.SourcePort, v.DestinationPort), v.Protocol, words);
            }

            for (var i = 0; i < FlowHash.WordCount; i++)
            {
                if (words[i] != v.Words[i])
                {
                    mismatches.Add($"{v.Line}: word {i} is 0x{words[i]:x8}, expected 0x{v.Words[i]:x8}");
                }
            }
        }

        Assert.Empty(mismatches);
    }

    [Fact]
    public void DeriveSeed_SeedVectors_MatchEveryLine()
    {
        var lines = VectorFile.Read("flowhash_seed_vectors.txt");
        Assert.NotEmpty(lines);
        Assert.All(lines, line =>
        {
            var space = line.Text.IndexOf(' ', StringComparison.Ordinal);
            var expected = VectorFile.Hex(line.Text[..space]);
            var seed = JsonSerializer.Deserialize<string>(line.Text[(space + 1)..])!;
            Assert.True(expected == FlowHash.DeriveSeed(seed), $"{line}: seed {line.Text[(space + 1)..]}");
        });
    }

    [Fact]
    public void DeriveSeed_DefaultSeed_IsPinned()
    {
        // A change here moves every flow of every deployment that kept the default seed.
        Assert.Equal(0xe6bc6182u, FlowHash.DeriveSeed(MaglevOptions.DefaultSeed));
    }

    [Fact]
    public void DeriveSeed_LoneSurrogate_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => FlowHash.DeriveSeed("seed\ud800"));
        Assert.Contains("surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteWords_IPv4_FillsFirstWordOfEachAddressAndZeroesTheRest()
    {
        var words = new uint[FlowHash.WordCount];
        FlowHash.WriteWords([192, 0, 2, 1], [198, 51, 100, 10], [0x9c, 0x40, 0x00, 0x50], 6, words);

        // The packet's bytes read little-endian: 192.0.2.1 is c0 00 02 01, ports 40000 -> 80 are 9c 40 00 50.
        Assert.Equal([0x010200c0u, 0, 0, 0, 0x0a6433c6u, 0, 0, 0, 0x5000409cu, 6u], words);
    }

    [Fact]
    public void WriteWords_IPv6_FillsAllFourWordsOfEachAddress()
    {
        var words = new uint[FlowHash.WordCount];
        var source = IPAddress.Parse("2001:db8::1").GetAddressBytes();
        var destination = IPAddress.Parse("2001:db8:ffff::10").GetAddressBytes();
        FlowHash.WriteWords(source, destination, [0x00, 0x35, 0xff, 0xff], 17, words);

        Assert.Equal([0xb80d0120u, 0, 0, 0x01000000u, 0xb80d0120u, 0x0000ffffu, 0, 0x10000000u, 0xffff3500u, 17u], words);
    }

    [Fact]
    public void Compute_IPv4AndItsMappedIPv6Form_HashDifferently()
    {
        var v4 = FlowHash.Compute(IPAddress.Parse("192.0.2.1"), 40000, IPAddress.Parse("198.51.100.10"), 80, L4Protocol.Tcp, 0);
        var mapped = FlowHash.Compute(
            IPAddress.Parse("::ffff:192.0.2.1"), 40000, IPAddress.Parse("::ffff:198.51.100.10"), 80, L4Protocol.Tcp, 0);
        var v4Affinity = FlowHash.ComputeAffinity(IPAddress.Parse("192.0.2.1"), 0);
        var mappedAffinity = FlowHash.ComputeAffinity(IPAddress.Parse("::ffff:192.0.2.1"), 0);

        Assert.NotEqual(v4, mapped);
        Assert.NotEqual(v4Affinity, mappedAffinity);
    }

    [Fact]
    public void ComputeAffinity_AnyClient_EqualsFullHashWithDestinationPortsAndProtocolZero()
    {
        Properties.Check(Prop.ForAll(Arb.From(Properties.Address), Arb.From(Properties.UInt32), (client, seed) =>
            FlowHash.ComputeAffinity(client, seed) == FlowHash.Compute(client, new byte[client.Length], new byte[4], 0, seed)));
    }

    [Fact]
    public void ComputeAffinity_SameClientOtherPortsDestinationAndProtocol_HashesAlike()
    {
        var flows = from client in Properties.Address
                    from destinations in Gen.Two(Properties.Bytes(client.Length))
                    from ports in Gen.Two(Properties.Bytes(4))
                    from protocols in Gen.Two(Gen.Elements<byte>(6, 17))
                    from seed in Properties.UInt32
                    select (client, destinations, ports, protocols, seed);
        Properties.Check(Prop.ForAll(Arb.From(flows), f =>
        {
            var (client, (d1, d2), (p1, p2), (proto1, proto2), seed) = f;
            var first = Affinity(client, d1, p1, proto1, seed);
            var second = Affinity(client, d2, p2, proto2, seed);
            return first == second && first == FlowHash.ComputeAffinity(client, seed);
        }));

        // What the datapath does: hash the packet's own fields through the affinity variant.
        static uint Affinity(byte[] source, byte[] destination, byte[] l4Header, byte protocol, uint seed)
        {
            var words = new uint[FlowHash.WordCount];
            FlowHash.WriteWords(source, destination, l4Header, protocol, words);
            FlowHash.WriteAffinityWords(source, words);
            return JHash.Words(words, seed);
        }
    }

    [Fact]
    public void ComputeAffinity_ParsedAndRawClient_Agree()
    {
        Properties.Check(Prop.ForAll(Arb.From(Properties.Address), Arb.From(Properties.UInt32), (client, seed) =>
            FlowHash.ComputeAffinity(new IPAddress(client), seed) == FlowHash.ComputeAffinity(client, seed)));
    }

    [Fact]
    public void Compute_EachTupleFieldChanged_ChangesTheHash()
    {
        var source = IPAddress.Parse("2001:db8::1");
        var destination = IPAddress.Parse("2001:db8::10");
        var baseline = FlowHash.Compute(source, 40000, destination, 80, L4Protocol.Tcp, 7);

        Assert.NotEqual(baseline, FlowHash.Compute(IPAddress.Parse("2001:db8::2"), 40000, destination, 80, L4Protocol.Tcp, 7));
        Assert.NotEqual(baseline, FlowHash.Compute(source, 40000, IPAddress.Parse("2001:db8::11"), 80, L4Protocol.Tcp, 7));
        Assert.NotEqual(baseline, FlowHash.Compute(source, 40001, destination, 80, L4Protocol.Tcp, 7));
        Assert.NotEqual(baseline, FlowHash.Compute(source, 40000, destination, 81, L4Protocol.Tcp, 7));
        Assert.NotEqual(baseline, FlowHash.Compute(source, 40000, destination, 80, L4Protocol.Udp, 7));
        Assert.NotEqual(baseline, FlowHash.Compute(source, 40000, destination, 80, L4Protocol.Tcp, 8));
        Assert.NotEqual(baseline, FlowHash.Compute(source, 80, destination, 40000, L4Protocol.Tcp, 7));
    }

    [Fact]
    public void Compute_L4HeaderLongerThanPorts_HashesOnlyThePorts()
    {
        byte[] source = [10, 0, 0, 1];
        byte[] destination = [10, 0, 0, 2];
        byte[] tcpHeader = [0x9c, 0x40, 0x00, 0x50, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff];

        Assert.Equal(
            FlowHash.Compute(source, destination, tcpHeader.AsSpan(0, 4), 6, 1),
            FlowHash.Compute(source, destination, tcpHeader, 6, 1));
    }

    [Theory]
    [InlineData(0, 0, 4)]
    [InlineData(5, 5, 4)]
    [InlineData(4, 16, 4)]
    [InlineData(16, 4, 4)]
    [InlineData(4, 4, 3)]
    public void Compute_BadRawLengths_Throws(int sourceLength, int destinationLength, int l4Length)
    {
        Assert.Throws<ArgumentException>(() =>
            FlowHash.Compute(new byte[sourceLength], new byte[destinationLength], new byte[l4Length], 6, 0));
    }

    [Fact]
    public void ComputeAffinity_BadRawLength_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => FlowHash.ComputeAffinity(new byte[8], 0));
        Assert.Contains("not 8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_MixedFamilies_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            FlowHash.Compute(IPAddress.Parse("192.0.2.1"), 1, IPAddress.Parse("2001:db8::1"), 2, L4Protocol.Tcp, 0));
        Assert.Contains("different address families", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_RawBytes_AllocatesNothing()
    {
        byte[] v4Source = [192, 0, 2, 1], v4Destination = [198, 51, 100, 10];
        var v6Source = IPAddress.Parse("2001:db8::1").GetAddressBytes();
        var v6Destination = IPAddress.Parse("2001:db8::10").GetAddressBytes();
        byte[] ports = [0x9c, 0x40, 0x00, 0x50];
        uint sink = 0;
        sink ^= FlowHash.Compute(v4Source, v4Destination, ports, 6, 1) ^ FlowHash.ComputeAffinity(v6Source, 1);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (uint i = 0; i < 1000; i++)
        {
            sink ^= FlowHash.Compute(v4Source, v4Destination, ports, 6, i);
            sink ^= FlowHash.Compute(v6Source, v6Destination, ports, 17, i);
            sink ^= FlowHash.ComputeAffinity(v6Source, i);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        GC.KeepAlive(sink);
    }

    private static byte[] L4Header(ushort sourcePort, ushort destinationPort)
    {
        var header = new byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(header, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), destinationPort);
        return header;
    }

    private static Vector Parse(VectorFile.Line line)
    {
        var f = line.Fields;
        if (f.Length != 10)
        {
            throw new FormatException($"{line}: expected 'family saddr daddr sport dport proto affinity seed hash words'");
        }

        var source = IPAddress.Parse(f[1]);
        var family = f[0] == "4" ? System.Net.Sockets.AddressFamily.InterNetwork : System.Net.Sockets.AddressFamily.InterNetworkV6;
        if (source.AddressFamily != family)
        {
            throw new FormatException($"{line}: {f[1]} is not IPv{f[0]}");
        }

        var words = VectorFile.Words(f[9]);
        if (words.Length != FlowHash.WordCount)
        {
            throw new FormatException($"{line}: {words.Length} words, expected {FlowHash.WordCount}");
        }

        return new Vector(
            line,
            source,
            IPAddress.Parse(f[2]),
            ushort.Parse(f[3], CultureInfo.InvariantCulture),
            ushort.Parse(f[4], CultureInfo.InvariantCulture),
            byte.Parse(f[5], CultureInfo.InvariantCulture),
            f[6] switch { "0" => false, "1" => true, _ => throw new FormatException($"{line}: affinity is 0 or 1") },
            VectorFile.Hex(f[7]),
            VectorFile.Hex(f[8]),
            words);
    }
}
