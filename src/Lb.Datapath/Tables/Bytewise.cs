using System.Runtime.InteropServices;

namespace Lb.Datapath.Tables;

/// <summary>
/// Equality of ABI structs as a BPF hash map sees them: every byte, padding included. Used per packet by
/// <see cref="InMemoryTables"/>, so it neither boxes nor allocates.
/// </summary>
public sealed class Bytewise<T> : IEqualityComparer<T> where T : unmanaged
{
    public static Bytewise<T> Instance { get; } = new();

    public static bool Same(in T a, in T b) =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in b)));

    public bool Equals(T a, T b) => Same(a, b);

    public int GetHashCode(T value)
    {
        var hash = new HashCode();
        hash.AddBytes(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));
        return hash.ToHashCode();
    }
}
