using System.Collections.Immutable;
using System.Text;
using Lb.Core.Hashing;
using Lb.Core.Model;

namespace Lb.Core.Maglev;

/// <summary>
/// Builds Maglev lookup tables (Eisenbud et al., NSDI 2016) for one table size and seed.
/// Each backend walks its own permutation of the slots, <c>offset, offset + skip, offset + 2·skip, … (mod M)</c>,
/// and the backends take turns claiming the next free slot on their walk until every slot is owned.
/// The table depends only on the set of backends (identity, weight, id), never on the order they come
/// in or on the process, so every Lb node computes the same table.
/// </summary>
public sealed class MaglevTableBuilder
{
    /// <summary>Identities longer than this (in UTF-8 bytes) are encoded on the heap rather than the stack.</summary>
    private const int StackEncodingLimit = 256;

    public MaglevTableBuilder(MaglevOptions options)
        : this(ValidatedTableSize(options), options.Seed)
    {
    }

    private MaglevTableBuilder(uint tableSize, string seed)
    {
        ArgumentNullException.ThrowIfNull(seed);
        TableSize = tableSize;
        Seed = seed;
        HashSeed = DeriveHashSeed(seed);
    }

    /// <summary>
    /// A builder for any prime size, including ones below <see cref="MaglevTable.MinTableSize"/>, so tests
    /// can check tables small enough to derive by hand.
    /// </summary>
    internal static MaglevTableBuilder ForAnyPrimeSize(uint tableSize, string seed)
    {
        if (!MaglevTable.IsPrime(tableSize) || tableSize > MaglevTable.MaxTableSize)
            throw new ArgumentOutOfRangeException(nameof(tableSize), tableSize, "the table size must be a prime no larger than " + MaglevTable.MaxTableSize);
        return new MaglevTableBuilder(tableSize, seed);
    }

    /// <summary>M: the number of slots in every table this builder makes.</summary>
    public uint TableSize { get; }

    /// <summary>The configured seed string (<c>maglev.seed</c>).</summary>
    public string Seed { get; }

    /// <summary>The 32-bit Murmur3 seed derived from <see cref="Seed"/>; see <see cref="DeriveHashSeed"/>.</summary>
    public uint HashSeed { get; }

    /// <summary>
    /// The 32-bit seed for hashing identities: the low 32 bits of h1 of Murmur3 x64-128 over the UTF-8
    /// seed string with seed 0. Any string is a valid seed, and equal strings give equal tables on every node.
    /// </summary>
    public static uint DeriveHashSeed(string seed)
    {
        ArgumentNullException.ThrowIfNull(seed);
        return (uint)Murmur3.Hash128(Encoding.UTF8.GetBytes(seed), 0).H1;
    }

    /// <summary>
    /// Where a backend's permutation starts and how far it steps: with (h1, h2) = Murmur3 x64-128 of the
    /// UTF-8 identity under <see cref="HashSeed"/>, <c>offset = h1 mod M</c> and <c>skip = h2 mod (M-1) + 1</c>.
    /// M is prime, so every skip in 1..M-1 visits all M slots.
    /// </summary>
    internal (uint Offset, uint Skip) OffsetAndSkip(string identity)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(identity.Length);
        Span<byte> utf8 = maxBytes <= StackEncodingLimit ? stackalloc byte[StackEncodingLimit] : new byte[maxBytes];
        var length = Encoding.UTF8.GetBytes(identity, utf8);
        var hash = Murmur3.Hash128(utf8[..length], HashSeed);
        return ((uint)(hash.H1 % TableSize), (uint)(hash.H2 % (TableSize - 1)) + 1);
    }

    public MaglevTable Build(IEnumerable<MaglevBackend> backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        return Build(backends.ToArray().AsSpan());
    }

    /// <summary>
    /// Builds the table for a set of backends: each needs a non-empty unique identity, a weight above zero
    /// and a unique id. Pass only backends that should take new flows (<see cref="Service.SchedulableBackends"/>).
    /// No backend gives <see cref="MaglevTable.IsEmpty"/>; more backends than slots is refused, since some
    /// would get no slot at all.
    /// </summary>
    public MaglevTable Build(ReadOnlySpan<MaglevBackend> backends)
    {
        if (backends.IsEmpty)
            return MaglevTable.Empty(TableSize);
        if ((uint)backends.Length > TableSize)
            throw new ArgumentException(
                $"{backends.Length} backends do not fit in maglev.tableSize {TableSize}: each needs at least one slot; " +
                "raise maglev.tableSize to a prime well above the backend count (about 100 times it keeps shares even)",
                nameof(backends));

        var sorted = SortAndValidate(backends);
        var slots = Fill(sorted);

        var ids = new uint[TableSize];
        for (var slot = 0; slot < slots.Length; slot++)
            ids[slot] = sorted[slots[slot]].Id;
        return new MaglevTable(TableSize, ImmutableArray.Create(sorted), slots, ids);
    }

    private static MaglevBackend[] SortAndValidate(ReadOnlySpan<MaglevBackend> backends)
    {
        var sorted = backends.ToArray();
        foreach (var backend in sorted)
        {
            if (string.IsNullOrEmpty(backend.Identity))
                throw new ArgumentException($"a backend (id {backend.Id}) has no identity; Maglev hashes the identity to place it", nameof(backends));
            if (backend.Weight == 0)
                throw new ArgumentException(
                    $"backend {backend.Identity} has weight 0; only backends with a positive weight take slots (pass Service.SchedulableBackends())",
                    nameof(backends));
        }

        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Identity, b.Identity));

        var ids = new HashSet<uint>(sorted.Length);
        for (var i = 0; i < sorted.Length; i++)
        {
            if (i > 0 && string.Equals(sorted[i].Identity, sorted[i - 1].Identity, StringComparison.Ordinal))
                throw new ArgumentException($"backend {sorted[i].Identity} is listed twice; identities must be unique", nameof(backends));
            if (!ids.Add(sorted[i].Id))
                throw new ArgumentException($"backend id {sorted[i].Id} is given to more than one backend (one is {sorted[i].Identity}); ids must be unique", nameof(backends));
        }
        return sorted;
    }

    /// <summary>Per-backend state while filling: where its permutation is, how far it steps, and its turn credit.</summary>
    private struct Walker
    {
        public uint Next;
        public uint Skip;
        public uint Weight;
        public uint Credit;
    }

    /// <summary>
    /// The weighted fill. Every round each backend earns credit equal to its weight; a backend with at
    /// least the largest weight in credit claims one slot and pays that much back. A backend of the
    /// largest weight thus claims a slot every round and one of weight w in w/max of the rounds, so
    /// shares follow the weights; with equal weights this is exactly the paper's round robin, which
    /// gives each of N backends floor(M/N) or ceil(M/N) slots. Credit starts at half the largest weight
    /// so each backend's count of claims is its ideal rounded to nearest rather than down.
    /// </summary>
    private int[] Fill(MaglevBackend[] sorted)
    {
        var m = TableSize;
        var walkers = new Walker[sorted.Length];
        uint maxWeight = 0;
        for (var i = 0; i < sorted.Length; i++)
            maxWeight = Math.Max(maxWeight, sorted[i].Weight);

        for (var i = 0; i < sorted.Length; i++)
        {
            var (offset, skip) = OffsetAndSkip(sorted[i].Identity);
            walkers[i] = new Walker { Next = offset, Skip = skip, Weight = sorted[i].Weight, Credit = maxWeight / 2 };
        }

        var slots = new int[m];
        Array.Fill(slots, -1);
        uint filled = 0;
        while (true)
        {
            for (var i = 0; i < walkers.Length; i++)
            {
                ref var walker = ref walkers[i];
                walker.Credit += walker.Weight;
                if (walker.Credit < maxWeight)
                    continue;
                walker.Credit -= maxWeight;

                // Both terms are below M ≤ MaxTableSize, so the sum cannot overflow and one
                // subtraction replaces the modulo.
                var slot = walker.Next;
                while (slots[slot] >= 0)
                {
                    slot += walker.Skip;
                    if (slot >= m)
                        slot -= m;
                }

                slots[slot] = i;
                slot += walker.Skip;
                walker.Next = slot >= m ? slot - m : slot;

                if (++filled == m)
                    return slots;
            }
        }
    }

    private static uint ValidatedTableSize(MaglevOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var error = MaglevTable.ValidateTableSize(options.TableSize);
        if (error is not null)
            throw new ArgumentException("maglev.tableSize " + error, nameof(options));
        return options.TableSize;
    }
}
