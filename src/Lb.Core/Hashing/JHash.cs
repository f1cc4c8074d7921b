using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Lb.Core.Hashing;

/// <summary>
/// Bob Jenkins' lookup3 exactly as Linux's <c>include/linux/jhash.h</c> has it, so a hash computed
/// here equals the one the XDP program computes with <c>native/include/lb/jhash.h</c>.
/// Checked against <c>native/testdata/jhash_vectors.txt</c>, which an independent implementation writes.
/// </summary>
public static class JHash
{
    /// <summary>lookup3's arbitrary starting value (Linux <c>JHASH_INITVAL</c>).</summary>
    public const uint InitialValue = 0xdeadbeef;

    /// <summary>
    /// Linux <c>jhash2</c> (lookup3 <c>hashword</c>): hashes 32-bit words. Any length is accepted here;
    /// the C twin <c>lb_jhash2</c> stops at 15 words (<c>LB_JHASH2_MAX_WORDS</c>), so hashes that
    /// the XDP program must reproduce stay within that.
    /// </summary>
    public static uint Words(ReadOnlySpan<uint> key, uint initval)
    {
        uint a, b, c;
        a = b = c = InitialValue + ((uint)key.Length << 2) + initval;

        while (key.Length > 3)
        {
            a += key[0];
            b += key[1];
            c += key[2];
            Mix(ref a, ref b, ref c);
            key = key[3..];
        }

        switch (key.Length)
        {
            case 3:
                c += key[2];
                goto case 2;
            case 2:
                b += key[1];
                goto case 1;
            case 1:
                a += key[0];
                Final(ref a, ref b, ref c);
                break;
        }

        return c;
    }

    /// <summary>
    /// Linux <c>jhash_3words</c>: the same value as <see cref="Words"/> over the key [a, b, c].
    /// </summary>
    public static uint Words3(uint a, uint b, uint c, uint initval)
    {
        var start = InitialValue + (3u << 2) + initval;
        a += start;
        b += start;
        c += start;
        Final(ref a, ref b, ref c);
        return c;
    }

    /// <summary>
    /// Linux <c>jhash</c> (lookup3 <c>hashlittle</c>): hashes bytes, read as little-endian words in
    /// blocks of 12, the tail zero-padded. Used off the packet path (seed derivation).
    /// </summary>
    public static uint Bytes(ReadOnlySpan<byte> key, uint initval)
    {
        uint a, b, c;
        a = b = c = InitialValue + (uint)key.Length + initval;

        while (key.Length > 12)
        {
            a += BinaryPrimitives.ReadUInt32LittleEndian(key);
            b += BinaryPrimitives.ReadUInt32LittleEndian(key[4..]);
            c += BinaryPrimitives.ReadUInt32LittleEndian(key[8..]);
            Mix(ref a, ref b, ref c);
            key = key[12..];
        }

        // Only the empty key gets here with no tail; lookup3 and Linux return it without the final mix.
        if (key.IsEmpty)
        {
            return c;
        }

        Span<byte> tail = stackalloc byte[12];
        tail.Clear();
        key.CopyTo(tail);
        a += BinaryPrimitives.ReadUInt32LittleEndian(tail);
        b += BinaryPrimitives.ReadUInt32LittleEndian(tail[4..]);
        c += BinaryPrimitives.ReadUInt32LittleEndian(tail[8..]);
        Final(ref a, ref b, ref c);
        return c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Mix(ref uint a, ref uint b, ref uint c)
    {
        a -= c; a ^= BitOperations.RotateLeft(c, 4); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 6); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 8); b += a;
        a -= c; a ^= BitOperations.RotateLeft(c, 16); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 19); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 4); b += a;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Final(ref uint a, ref uint b, ref uint c)
    {
        c ^= b; c -= BitOperations.RotateLeft(b, 14);
        a ^= c; a -= BitOperations.RotateLeft(c, 11);
        b ^= a; b -= BitOperations.RotateLeft(a, 25);
        c ^= b; c -= BitOperations.RotateLeft(b, 16);
        a ^= c; a -= BitOperations.RotateLeft(c, 4);
        b ^= a; b -= BitOperations.RotateLeft(a, 14);
        c ^= b; c -= BitOperations.RotateLeft(b, 24);
    }
}
