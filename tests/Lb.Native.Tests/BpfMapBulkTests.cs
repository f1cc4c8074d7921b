namespace Lb.Native.Tests;

/// <summary>Writing many elements in one call: BPF_MAP_UPDATE_BATCH, batched inner-map swaps, and writes through an mmap of an array.</summary>
public sealed class BpfMapBulkTests
{
    [Fact]
    public void UpdateBatch_Hash_WritesEveryPair()
    {
        using var map = BpfMap<uint, ulong>.Create(BpfMapType.Hash, "lbt_batch", 64);

        var written = map.UpdateBatch([1, 2, 3], [10, 20, 30]);

        Assert.Equal(3, written);
        Assert.Equal([1u, 2u, 3u], map.Keys().Order());
        Assert.True(map.TryLookup(2, out var value));
        Assert.Equal(20ul, value);
    }

    [Fact]
    public void UpdateBatch_HashFillsUp_SaysHowManyWereWrittenAndThatTheMapIsFull()
    {
        using var map = BpfMap<uint, ulong>.Create(BpfMapType.Hash, "lbt_batch_full", 2, new BpfMapCreateOptions { Flags = BpfMapFlags.NoPrealloc });

        var error = Assert.Throws<BpfBatchException>(() => map.UpdateBatch([1, 2, 3, 4], [10, 20, 30, 40]));

        Assert.Equal((2, 4), (error.Processed, error.Count));
        var full = Assert.IsType<BpfMapFullException>(error.InnerException);
        Assert.Equal(("lbt_batch_full", 2u), (full.MapName, full.MaxEntries));
        Assert.Equal([1u, 2u], map.Keys().Order());
        Assert.Contains("after 2 of 4 elements", error.Message);
    }

    [Fact]
    public void WriteMapped_MmapableArrayOfU32_EachIndexReadsItsValue()
    {
        // 4-byte values sit 8 bytes apart in an array map's memory; the write must follow that stride.
        using var map = BpfMap.Create(BpfMapType.Array, "lbt_mapped32", 4, 4, 1000, new BpfMapCreateOptions { Flags = BpfMapFlags.Mmapable });
        var values = Enumerable.Range(0, 1000).Select(i => (uint)(i * 7 + 3)).ToArray();

        map.WriteMapped<uint>(values);

        var typed = map.As<uint, uint>();
        for (var i = 0u; i < values.Length; i++)
        {
            Assert.True(typed.TryLookup(i, out var value));
            Assert.Equal(values[i], value);
        }
    }

    [Fact]
    public void WriteMapped_MmapableArrayOfU64_EachIndexReadsItsValue()
    {
        using var map = BpfMap.Create(BpfMapType.Array, "lbt_mapped64", 4, 8, 600, new BpfMapCreateOptions { Flags = BpfMapFlags.Mmapable });
        var values = Enumerable.Range(0, 600).Select(i => ulong.MaxValue - (ulong)i).ToArray();

        map.WriteMapped<ulong>(values);

        var typed = map.As<uint, ulong>();
        Assert.True(typed.TryLookup(0, out var first));
        Assert.True(typed.TryLookup(599, out var last));
        Assert.Equal((values[0], values[599]), (first, last));
    }

    [Fact]
    public void WriteMapped_ArrayWithoutMmapable_IsRefused()
    {
        using var map = BpfMap.Create(BpfMapType.Array, "lbt_plain", 4, 4, 16);

        var error = Assert.Throws<InvalidOperationException>(() => map.WriteMapped<uint>([1, 2, 3]));

        Assert.Contains("Mmapable", error.Message);
    }

    [Fact]
    public void SetInnerMaps_Batch_PutsEachTableInItsSlot()
    {
        using var template = BpfMap.Create(BpfMapType.Array, "lbt_tpl", 4, 4, 8, new BpfMapCreateOptions { Flags = BpfMapFlags.InnerMap });
        using var outer = BpfMap.Create(BpfMapType.ArrayOfMaps, "lbt_outer", 4, 4, 16, new BpfMapCreateOptions { InnerMapTemplate = template });
        using var a = BpfMap.Create(BpfMapType.Array, "lbt_a", 4, 4, 8, new BpfMapCreateOptions { Flags = BpfMapFlags.InnerMap });
        using var b = BpfMap.Create(BpfMapType.Array, "lbt_b", 4, 4, 3, new BpfMapCreateOptions { Flags = BpfMapFlags.InnerMap });

        var written = outer.SetInnerMaps([3, 9, 4], [a, b, a]);

        Assert.Equal(3, written);
        Assert.True(outer.TryGetInnerMapId(3, out var at3));
        Assert.True(outer.TryGetInnerMapId(9, out var at9));
        Assert.True(outer.TryGetInnerMapId(4, out var at4));
        Assert.Equal((a.Id, b.Id, a.Id), (at3, at9, at4));
        Assert.False(outer.TryGetInnerMapId(5, out _));
    }

    [Fact]
    public void SetInnerMaps_FlagsUnlikeTheTemplate_FailsNamingHowManyWereSwapped()
    {
        using var template = BpfMap.Create(BpfMapType.Array, "lbt_tpl", 4, 4, 8, new BpfMapCreateOptions { Flags = BpfMapFlags.InnerMap });
        using var outer = BpfMap.Create(BpfMapType.ArrayOfMaps, "lbt_outer", 4, 4, 16, new BpfMapCreateOptions { InnerMapTemplate = template });
        using var good = BpfMap.Create(BpfMapType.Array, "lbt_good", 4, 4, 8, new BpfMapCreateOptions { Flags = BpfMapFlags.InnerMap });
        using var other = BpfMap.Create(BpfMapType.Array, "lbt_other", 4, 4, 8, new BpfMapCreateOptions { Flags = BpfMapFlags.InnerMap | BpfMapFlags.Mmapable });

        var error = Assert.Throws<BpfBatchException>(() => outer.SetInnerMaps([1, 2], [good, other]));

        Assert.Equal(1, error.Processed);
        Assert.Equal("EINVAL", error.ErrnoName);
        Assert.True(outer.TryGetInnerMapId(1, out _));
        Assert.False(outer.TryGetInnerMapId(2, out _));
    }
}
