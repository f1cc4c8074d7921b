using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Lb.Datapath.Tables;

/// <summary>
/// Equality of ABI structs as a BPF hash map sees them: every byte, padding included. Used per packet by
/// <see cref="InMemoryTables"/>, so it neither boxes nor allocates, and hashes 8 bytes a step (the keys are
/// 8 to 40 bytes).
/// </summary>
public sealed class Bytewise<T> : IEqualityComparer<T> where T : unmanaged
{
    // Keyed per process, as the kernel keys its hash maps, so clients cannot choose colliding tuples.
    private static readonly ulong s_seed = (ulong)Random.Shared.NextInt64();

    public static Bytewise<T> Instance { get; } = new();

    public static bool Same(in T a, in T b) =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in b)));

    public bool Equals(T a, T b) => Same(a, b);

    public int GetHashCode(T value)
    {
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value));
        var hash = s_seed;
        var i = 0;
        for (; i + 8 <= bytes.Length; i += 8)
            hash = BitOperations.RotateLeft((hash ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..])) * 0x9e3779b97f4a7c15, 31);
        for (; i < bytes.Length; i++)
            hash = (hash ^ bytes[i]) * 0x100000001b3;
        // The murmur3 finaliser: every input bit reaches the low bits the dictionary indexes by.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccd;
        hash ^= hash >> 33;
        return (int)hash;
    }
}
