using Lb.Core.Maglev;
using Lb.Core.Model;

namespace Lb.Core.Tests.Maglev;

public class MaglevTableBuilderTests
{
    private static readonly MaglevBackend A = new("10.0.0.1:80", 1, 100);
    private static readonly MaglevBackend B = new("10.0.0.2:80", 1, 200);
    private static readonly MaglevBackend C = new("10.0.0.3:80", 1, 300);

    // Seed "lb" → hash seed 0x9DF7CB3C (low 32 bits of h1 of Murmur3("lb", 0) = 0x3C7B2BC99DF7CB3C).
    [Fact]
    public void DeriveHashSeed_Lb_IsLow32BitsOfH1()
    {
        Assert.Equal(0x9DF7CB3Cu, MaglevTableBuilder.DeriveHashSeed("lb"));
    }

    /// <summary>
    /// M = 7, equal weights. Permutation rows (offset + j·skip mod 7, j = 0..6):
    ///   A 10.0.0.1:80  offset 2 skip 1: 2 3 4 5 6 0 1
    ///   B 10.0.0.2:80  offset 1 skip 3: 1 4 0 3 6 2 5
    ///   C 10.0.0.3:80  offset 1 skip 1: 1 2 3 4 5 6 0
    /// Turns in identity order A, B, C; each takes the first free slot left on its row:
    ///   round 1: A→2, B→1, C: 1 taken, 2 taken → 3
    ///   round 2: A: 3 taken → 4, B: 4 taken → 0, C: 4 taken → 5
    ///   round 3: A: 5 taken → 6; table full.
    /// Slots 0..6: B B A C A C A (A 3, B 2, C 2 = ceil/floor of 7/3).
    /// </summary>
    [Fact]
    public void Build_SevenSlotsThreeEqualBackends_MatchesHandDerivation()
    {
        var builder = MaglevTableBuilder.ForAnyPrimeSize(7, "lb");
        Assert.Equal((2u, 1u), builder.OffsetAndSkip(A.Identity));
        Assert.Equal((1u, 3u), builder.OffsetAndSkip(B.Identity));
        Assert.Equal((1u, 1u), builder.OffsetAndSkip(C.Identity));
        Assert.Equal([2u, 3, 4, 5, 6, 0, 1], Row(builder, A));
        Assert.Equal([1u, 4, 0, 3, 6, 2, 5], Row(builder, B));
        Assert.Equal([1u, 2, 3, 4, 5, 6, 0], Row(builder, C));

        var table = builder.Build([C, A, B]);

        Assert.Equal([200u, 200, 100, 300, 100, 300, 100], table.BackendIds.ToArray());
        Assert.Equal([1, 1, 0, 2, 0, 2, 0], table.BackendIndices.ToArray());
        Assert.Equal([A, B, C], table.Backends.ToArray());
    }

    /// <summary>
    /// M = 13, A weight 2, B and C weight 1. Largest weight 2, so credit starts at 1; each round a
    /// backend adds its weight and claims a slot when credit ≥ 2, paying 2 back: A claims every round,
    /// B and C in rounds 1, 3, 5, …
    ///   A offset 12 skip 7: 12  6  0  7  1  8  2  9  3 10  4 11  5
    ///   B offset  9 skip 9:  9  5  1 10  6  2 11  7  3 12  8  4  0
    ///   C offset 11 skip 7: 11  5 12  6  0  7  1  8  2  9  3 10  4
    ///   round 1: A→12, B→9, C→11
    ///   round 2: A→6
    ///   round 3: A→0, B→5, C: 5 12 6 0 taken → 7
    ///   round 4: A: 7 taken → 1
    ///   round 5: A→8, B: 1 taken → 10, C: 1 8 taken → 2
    ///   round 6: A: 2 9 taken → 3
    ///   round 7: A: 10 taken → 4; table full.
    /// Slots 0..12: A A C A A B A C A B B C A (A 7, B 3, C 3; ideal 6.5, 3.25, 3.25).
    /// </summary>
    [Fact]
    public void Build_ThirteenSlotsWeightedBackends_MatchesHandDerivation()
    {
        var builder = MaglevTableBuilder.ForAnyPrimeSize(13, "lb");
        var heavyA = A with { Weight = 2 };
        Assert.Equal((12u, 7u), builder.OffsetAndSkip(A.Identity));
        Assert.Equal((9u, 9u), builder.OffsetAndSkip(B.Identity));
        Assert.Equal((11u, 7u), builder.OffsetAndSkip(C.Identity));
        Assert.Equal([12u, 6, 0, 7, 1, 8, 2, 9, 3, 10, 4, 11, 5], Row(builder, A));
        Assert.Equal([9u, 5, 1, 10, 6, 2, 11, 7, 3, 12, 8, 4, 0], Row(builder, B));
        Assert.Equal([11u, 5, 12, 6, 0, 7, 1, 8, 2, 9, 3, 10, 4], Row(builder, C));

        var table = builder.Build([B, C, heavyA]);

        Assert.Equal([100u, 100, 300, 100, 100, 200, 100, 300, 100, 200, 200, 300, 100], table.BackendIds.ToArray());
    }

    [Fact]
    public void Build_NoBackends_GivesEmptyTableThatMissesEveryLookup()
    {
        var table = TestBackends.Builder(16381).Build(ReadOnlySpan<MaglevBackend>.Empty);

        Assert.True(table.IsEmpty);
        Assert.Equal(16381u, table.TableSize);
        Assert.Equal(0, table.BackendIds.Length);
        Assert.Equal(0, table.BackendIndices.Length);
        Assert.False(table.TryGetBackendId(12345, out _));
    }

    [Fact]
    public void Build_OneBackend_OwnsEverySlot()
    {
        var table = TestBackends.Builder(16381).Build([new MaglevBackend("[2001:db8::1]:80", 3, 9)]);

        Assert.False(table.IsEmpty);
        Assert.Equal(16381, table.BackendIds.Length);
        Assert.All(table.BackendIds.ToArray(), id => Assert.Equal(9u, id));
        Assert.True(table.TryGetBackendId(uint.MaxValue, out var id));
        Assert.Equal(9u, id);
    }

    [Fact]
    public void TryGetBackendId_Hash_ReadsSlotHashModuloTableSize()
    {
        var table = TestBackends.Builder(251).Build(TestBackends.Equal(10));
        const uint hash = 251 * 1000 + 17;

        Assert.True(table.TryGetBackendId(hash, out var id));

        Assert.Equal(table.BackendIds.Span[17], id);
    }

    [Fact]
    public void Build_FromBackendRecords_UsesIdentityAndWeight()
    {
        var service = new Backend(System.Net.IPAddress.Parse("2001:db8::7"), 443, Weight: 4);

        var backend = MaglevBackend.From(service, 5);

        Assert.Equal(new MaglevBackend("[2001:db8::7]:443", 4, 5), backend);
    }

    [Theory]
    [InlineData(251u)]
    [InlineData(16381u)]
    [InlineData(65537u)]
    [InlineData(131_071u)]
    public void ValidateTableSize_PrimeInRange_ReturnsNull(uint m)
    {
        Assert.Null(MaglevTable.ValidateTableSize(m));
    }

    [Theory]
    [InlineData(16000u, "16000 is not prime, so some backends' permutations would not cover the table; use a prime such as 15991 or 16001 (e.g. 16381 or 65537)")]
    [InlineData(65536u, "65536 is not prime, so some backends' permutations would not cover the table; use a prime such as 65521 or 65537 (e.g. 16381 or 65537)")]
    [InlineData(0u, "0 is too small: it must be a prime of at least 251; use e.g. 16381 or 65537")]
    [InlineData(13u, "13 is too small: it must be a prime of at least 251; use e.g. 16381 or 65537")]
    [InlineData(250u, "250 is too small: it must be a prime of at least 251; use e.g. 16381 or 65537")]
    [InlineData(131_101u, "131101 is too large: it must be a prime of at most 131071; use e.g. 16381 or 65537")]
    public void ValidateTableSize_BadSize_ExplainsWhyAndSuggestsPrimes(uint m, string expected)
    {
        Assert.Equal(expected, MaglevTable.ValidateTableSize(m));
    }

    [Fact]
    public void Constructor_NonPrimeTableSize_ThrowsWithValidationMessage()
    {
        var error = Assert.Throws<ArgumentException>(() => new MaglevTableBuilder(new MaglevOptions(16000, "lb")));

        Assert.StartsWith("maglev.tableSize 16000 is not prime", error.Message);
    }

    [Fact]
    public void Constructor_TooSmallTableSize_ThrowsWithValidationMessage()
    {
        var error = Assert.Throws<ArgumentException>(() => new MaglevTableBuilder(new MaglevOptions(13, "lb")));

        Assert.StartsWith("maglev.tableSize 13 is too small", error.Message);
    }

    [Fact]
    public void Build_DuplicateIdentity_Throws()
    {
        var builder = TestBackends.Builder(251);

        var error = Assert.Throws<ArgumentException>(() => builder.Build([A, B, A with { Id = 999 }]));

        Assert.StartsWith("backend 10.0.0.1:80 is listed twice", error.Message);
    }

    [Fact]
    public void Build_DuplicateId_Throws()
    {
        var builder = TestBackends.Builder(251);

        var error = Assert.Throws<ArgumentException>(() => builder.Build([A, B with { Id = A.Id }]));

        Assert.StartsWith("backend id 100 is given to more than one backend", error.Message);
    }

    [Fact]
    public void Build_ZeroWeight_Throws()
    {
        var builder = TestBackends.Builder(251);

        var error = Assert.Throws<ArgumentException>(() => builder.Build([A, B with { Weight = 0 }]));

        Assert.StartsWith("backend 10.0.0.2:80 has weight 0", error.Message);
    }

    [Fact]
    public void Build_EmptyIdentity_Throws()
    {
        var builder = TestBackends.Builder(251);

        var error = Assert.Throws<ArgumentException>(() => builder.Build([A, new MaglevBackend("", 1, 5)]));

        Assert.StartsWith("a backend (id 5) has no identity", error.Message);
    }

    [Fact]
    public void Build_MoreBackendsThanSlots_Throws()
    {
        var builder = TestBackends.Builder(251);

        var error = Assert.Throws<ArgumentException>(() => builder.Build(TestBackends.Equal(252)));

        Assert.StartsWith("252 backends do not fit in maglev.tableSize 251", error.Message);
    }

    [Fact]
    public void Build_AsManyBackendsAsSlots_GivesEachExactlyOneSlot()
    {
        var table = TestBackends.Builder(251).Build(TestBackends.Equal(251));

        Assert.All(table.CountSlotsPerBackend(), count => Assert.Equal(1, count));
    }

    private static uint[] Row(MaglevTableBuilder builder, MaglevBackend backend)
    {
        var (offset, skip) = builder.OffsetAndSkip(backend.Identity);
        var row = new uint[builder.TableSize];
        for (uint j = 0; j < row.Length; j++)
            row[j] = (uint)((offset + (ulong)j * skip) % builder.TableSize);
        return row;
    }
}
