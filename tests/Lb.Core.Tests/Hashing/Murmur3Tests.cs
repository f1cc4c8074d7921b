using System.Buffers.Binary;
using System.Text;
using Lb.Core.Hashing;

namespace Lb.Core.Tests.Hashing;

public class Murmur3Tests
{
    // Vectors from tools/murmur3.py, an independent port that reproduces SMHasher's verification value;
    // the fox digest (seed 0) is also the widely published 6c1b07bc7bbc4be347939ac4a93c437a.
    [Theory]
    [InlineData("", 0x00000000u, 0x0000000000000000ul, 0x0000000000000000ul)]
    [InlineData("", 0x00000001u, 0x4610ABE56EFF5CB5ul, 0x51622DAA78F83583ul)]
    [InlineData("hello", 0x00000000u, 0xCBD8A7B341BD9B02ul, 0x5B1E906A48AE1D19ul)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x00000000u, 0xE34BBC7BBC071B6Cul, 0x7A433CA9C49A9347ul)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x9747B28Cu, 0x738A7F3BD2633121ul, 0xF94573727EC016E5ul)]
    [InlineData("0123456789abcdef", 0x00000000u, 0x4BE06D94CF4AD1A7ul, 0x87C35B5C63A708DAul)]
    [InlineData("0123456789abcdefX", 0x0000002Au, 0x08629C8A0A2734DCul, 0x5E2DEA7DF06E0ABDul)]
    [InlineData("lb", 0x00000000u, 0x3C7B2BC99DF7CB3Cul, 0xBF831AD6A1A96CD1ul)]
    [InlineData("10.0.0.1:80", 0x00000000u, 0x6561D8B9FD8CFAEEul, 0x2AE810EDD2F8B895ul)]
    [InlineData("[2001:db8::1]:80", 0x00000000u, 0x23ED28D021FADB28ul, 0xED0EFFDD85561035ul)]
    public void Hash128_ReferenceVector_MatchesIndependentImplementation(string text, uint seed, ulong h1, ulong h2)
    {
        var hash = Murmur3.Hash128(Encoding.UTF8.GetBytes(text), seed);

        Assert.Equal(new Murmur3Hash128(h1, h2), hash);
    }

    [Fact]
    public void WriteTo_QuickBrownFox_GivesPublishedDigestBytes()
    {
        var digest = new byte[16];

        Murmur3.Hash128("The quick brown fox jumps over the lazy dog"u8, 0).WriteTo(digest);

        Assert.Equal("6c1b07bc7bbc4be347939ac4a93c437a", Convert.ToHexStringLower(digest));
    }

    /// <summary>
    /// SMHasher's VerificationTest, which exercises every tail length 0..255 and many seeds:
    /// hash keys {0}, {0,1}, …, {0..254} (key i has length i) with seed 256 - i, hash the 256
    /// concatenated digests with seed 0, and read the first 4 bytes little-endian. SMHasher lists
    /// 0x6384BA69 for MurmurHash3_x64_128.
    /// </summary>
    [Fact]
    public void Hash128_SmHasherVerificationTest_Gives6384BA69()
    {
        var key = new byte[256];
        var digests = new byte[256 * 16];
        for (var i = 0; i < 256; i++)
        {
            key[i] = (byte)i;
            Murmur3.Hash128(key.AsSpan(0, i), (uint)(256 - i)).WriteTo(digests.AsSpan(i * 16, 16));
        }

        var final = new byte[16];
        Murmur3.Hash128(digests, 0).WriteTo(final);

        Assert.Equal(0x6384BA69u, BinaryPrimitives.ReadUInt32LittleEndian(final));
    }

    [Fact]
    public void Hash128_OneByteChanged_ChangesBothHalves()
    {
        var a = Murmur3.Hash128("10.0.0.1:80"u8, 7);
        var b = Murmur3.Hash128("10.0.0.2:80"u8, 7);

        Assert.NotEqual(a.H1, b.H1);
        Assert.NotEqual(a.H2, b.H2);
    }
}
