using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Lb.Core.Hashing;

/// <summary>The two 64-bit words of a MurmurHash3 x64 128-bit result, as the reference writes them to out[0] and out[1].</summary>
public readonly record struct Murmur3Hash128(ulong H1, ulong H2)
{
    /// <summary>The 16 bytes the reference produces on a little-endian machine (what <c>mmh3.hash_bytes</c> returns).</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, H1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], H2);
    }

    public override string ToString() => $"{H1:x16}:{H2:x16}";
}

/// <summary>
/// MurmurHash3 x64 128-bit, after Austin Appleby's public-domain MurmurHash3.cpp (SMHasher).
/// Blocks and tail are read little-endian whatever the host, so every node gets the same words;
/// Maglev relies on that to build identical tables everywhere.
/// </summary>
public static class Murmur3
{
    private const ulong C1 = 0x87c37b91114253d5;
    private const ulong C2 = 0x4cf5ad432745937f;

    public static Murmur3Hash128 Hash128(ReadOnlySpan<byte> data, uint seed)
    {
        ulong h1 = seed;
        ulong h2 = seed;

        var blocks = data;
        while (blocks.Length >= 16)
        {
            var k1 = BinaryPrimitives.ReadUInt64LittleEndian(blocks);
            var k2 = BinaryPrimitives.ReadUInt64LittleEndian(blocks[8..]);
            blocks = blocks[16..];

            h1 ^= MixK1(k1);
            h1 = BitOperations.RotateLeft(h1, 27);
            h1 += h2;
            h1 = h1 * 5 + 0x52dce729;

            h2 ^= MixK2(k2);
            h2 = BitOperations.RotateLeft(h2, 31);
            h2 += h1;
            h2 = h2 * 5 + 0x38495ab5;
        }

        // The tail holds 0..15 bytes: bytes 8.. feed k2 and bytes 0..7 feed k1, each only when present,
        // exactly as the reference's fall-through switch does.
        var tail = blocks;
        if (tail.Length > 8)
            h2 ^= MixK2(ReadPartialLittleEndian(tail[8..]));
        if (tail.Length > 0)
            h1 ^= MixK1(ReadPartialLittleEndian(tail[..Math.Min(tail.Length, 8)]));

        h1 ^= (ulong)data.Length;
        h2 ^= (ulong)data.Length;
        h1 += h2;
        h2 += h1;
        h1 = FMix64(h1);
        h2 = FMix64(h2);
        h1 += h2;
        h2 += h1;
        return new Murmur3Hash128(h1, h2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MixK1(ulong k1) => BitOperations.RotateLeft(k1 * C1, 31) * C2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MixK2(ulong k2) => BitOperations.RotateLeft(k2 * C2, 33) * C1;

    /// <summary>Up to 8 bytes as a little-endian integer, the missing high bytes zero.</summary>
    private static ulong ReadPartialLittleEndian(ReadOnlySpan<byte> bytes)
    {
        ulong value = 0;
        for (var i = bytes.Length - 1; i >= 0; i--)
            value = (value << 8) | bytes[i];
        return value;
    }

    private static ulong FMix64(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccd;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53;
        k ^= k >> 33;
        return k;
    }
}
