using System.Collections.Immutable;

namespace Lb.Core.Maglev;

/// <summary>
/// A built Maglev lookup table: <see cref="TableSize"/> slots, each naming one backend. A service with
/// no schedulable backend has an empty table (<see cref="IsEmpty"/>), which the datapath answers with
/// its no-backend path instead of a lookup.
/// </summary>
public sealed class MaglevTable
{
    /// <summary>Below this, shares are too coarse to be worth balancing (about 2.5 slots per backend at 100 backends).</summary>
    public const uint MinTableSize = 251;

    /// <summary>A bound on map memory and build time (4 MB of u32 slots per service); a prime itself.</summary>
    public const uint MaxTableSize = 131_071;

    private readonly int[] _backendIndices;
    private readonly uint[] _backendIds;

    internal MaglevTable(uint tableSize, ImmutableArray<MaglevBackend> backends, int[] backendIndices, uint[] backendIds)
    {
        TableSize = tableSize;
        Backends = backends;
        _backendIndices = backendIndices;
        _backendIds = backendIds;
    }

    internal static MaglevTable Empty(uint tableSize) => new(tableSize, ImmutableArray<MaglevBackend>.Empty, [], []);

    /// <summary>M, the size the table was built for, also when it is empty.</summary>
    public uint TableSize { get; }

    /// <summary>The backends sorted by identity (ordinal); <see cref="BackendIndices"/> points into this list.</summary>
    public ImmutableArray<MaglevBackend> Backends { get; }

    /// <summary>True when there was no backend to place: no slot exists and every lookup misses.</summary>
    public bool IsEmpty => Backends.IsEmpty;

    /// <summary>The caller's backend id in each slot: <see cref="TableSize"/> entries, or none when empty.</summary>
    public ReadOnlyMemory<uint> BackendIds => _backendIds;

    /// <summary>The index into <see cref="Backends"/> in each slot: <see cref="TableSize"/> entries, or none when empty.</summary>
    public ReadOnlyMemory<int> BackendIndices => _backendIndices;

    /// <summary>The backend for a flow hash (slot <c>hash % M</c>); false only when the table is empty.</summary>
    public bool TryGetBackendId(uint flowHash, out uint backendId)
    {
        if (IsEmpty)
        {
            backendId = 0;
            return false;
        }

        backendId = _backendIds[flowHash % TableSize];
        return true;
    }

    /// <summary>How many slots each backend holds, indexed like <see cref="Backends"/>.</summary>
    public int[] CountSlotsPerBackend()
    {
        var counts = new int[Backends.Length];
        foreach (var index in _backendIndices)
            counts[index]++;
        return counts;
    }

    /// <summary>
    /// Checks a configured table size: prime (so every skip in 1..M-1 walks all M slots) and between
    /// <see cref="MinTableSize"/> and <see cref="MaxTableSize"/>. Returns the error to show, or null when valid.
    /// </summary>
    public static string? ValidateTableSize(uint m)
    {
        if (m < MinTableSize)
            return $"{m} is too small: it must be a prime of at least {MinTableSize}; use e.g. 16381 or 65537";
        if (m > MaxTableSize)
            return $"{m} is too large: it must be a prime of at most {MaxTableSize}; use e.g. 16381 or 65537";
        if (!IsPrime(m))
            return $"{m} is not prime, so some backends' permutations would not cover the table; " +
                   $"use a prime such as {PreviousPrime(m)} or {NextPrime(m)} (e.g. 16381 or 65537)";
        return null;
    }

    internal static bool IsPrime(uint n)
    {
        if (n < 2)
            return false;
        if (n % 2 == 0)
            return n == 2;
        for (uint d = 3; (ulong)d * d <= n; d += 2)
        {
            if (n % d == 0)
                return false;
        }
        return true;
    }

    private static uint PreviousPrime(uint n)
    {
        while (n > 2 && !IsPrime(--n)) { }
        return n;
    }

    private static uint NextPrime(uint n)
    {
        while (!IsPrime(++n)) { }
        return n;
    }
}
