using System.Runtime.InteropServices;

namespace Lb.Agent.Programming;

/// <summary>
/// Equality of ABI structs as the kernel sees them: every byte, padding included. (The default struct
/// equality falls back to reflection for these, and would not see padding as the hash map does.)
/// </summary>
internal sealed class Bytewise<T> : IEqualityComparer<T> where T : unmanaged
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
