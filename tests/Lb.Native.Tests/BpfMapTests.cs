using System.Net;
using Lb.Datapath.Abi;
using Lb.Native.Tests.Infrastructure;

namespace Lb.Native.Tests;

public sealed class BpfMapTests
{
    [Fact]
    public void Hash_UpdateLookupDelete_RoundTrips()
    {
        using var map = BpfMap<uint, ulong>.Create(BpfMapType.Hash, "lbt_hash", 16);

        map.Update(7, 700);
        Assert.True(map.TryLookup(7, out var value));
        Assert.Equal(700ul, value);
        Assert.False(map.TryLookup(8, out _));

        Assert.True(map.Delete(7));
        Assert.False(map.Delete(7));
        Assert.False(map.TryLookup(7, out _));
    }

    [Fact]
    public void Hash_UpdateFlags_NoExistAndExistAreEnforcedByTheKernel()
    {
        using var map = BpfMap<uint, ulong>.Create(BpfMapType.Hash, "lbt_flags", 16);
        map.Update(1, 10, BpfUpdateFlags.NoExist);

        var exists = Assert.Throws<BpfException>(() => map.Update(1, 11, BpfUpdateFlags.NoExist));
        var missing = Assert.Throws<BpfException>(() => map.Update(2, 20, BpfUpdateFlags.Exist));
        map.Update(1, 12, BpfUpdateFlags.Exist);

        Assert.Equal("EEXIST", exists.ErrnoName);
        Assert.Equal("ENOENT", missing.ErrnoName);
        Assert.Equal("lbt_flags", exists.Target);
        Assert.True(map.TryLookup(1, out var value));
        Assert.Equal(12ul, value);
    }

    [Fact]
    public void Hash_Keys_VisitsEveryKeyOnce()
    {
        using var map = BpfMap<uint, ulong>.Create(BpfMapType.Hash, "lbt_keys", 256);
        var expected = Enumerable.Range(1, 100).Select(i => (uint)(i * 37)).ToList();
        foreach (var key in expected)
            map.Update(key, key);

        var keys = map.Keys().ToList();

        Assert.Equal(expected.Order(), keys.Order());
    }

    [Fact]
    public void Hash_Full_ThrowsMapFullNamingTheMap()
    {
        using var map = BpfMap<uint, ulong>.Create(BpfMapType.Hash, "lbt_small", 4);
        for (uint key = 0; key < 4; key++)
            map.Update(key, key);

        var error = Assert.Throws<BpfMapFullException>(() => map.Update(99, 99));

        Assert.Equal("lbt_small", error.MapName);
        Assert.Equal(4u, error.MaxEntries);
        Assert.Contains("'lbt_small' is full", error.Message);
        Assert.Equal("E2BIG", error.ErrnoName);
    }

    [Fact]
    public void Array_IndexPastMaxEntries_IsNotReportedAsFull()
    {
        using var map = BpfMap<uint, ulong>.Create(BpfMapType.Array, "lbt_array", 4);

        var error = Assert.Throws<BpfException>(() => map.Update(4, 1));

        Assert.IsNotType<BpfMapFullException>(error);
        Assert.Contains("max_entries 4", error.Message);
    }

    [Fact]
    public void LruHash_MoreKeysThanEntries_EvictsInsteadOfFailing()
    {
        using var map = BpfMap<uint, ulong>.Create(BpfMapType.LruHash, "lbt_lru", 64);

        for (uint key = 0; key < 1000; key++)
            map.Update(key, key);

        var keys = map.Keys().ToList();
        Assert.InRange(keys.Count, 1, 64);
        Assert.True(map.TryLookup(999, out var last));
        Assert.Equal(999ul, last);
    }

    [Fact]
    public void PercpuArray_UpdatePerCpu_LookupReturnsEachCpusValue()
    {
        // A 4-byte value: the kernel pads each CPU's copy to 8 bytes.
        using var map = BpfMap<uint, uint>.Create(BpfMapType.PercpuArray, "lbt_percpu", 4);
        var cpus = BpfMap.PossibleCpus;
        var written = Enumerable.Range(0, cpus).Select(cpu => (uint)(cpu * 10 + 1)).ToArray();

        map.UpdatePerCpu(2, written);
        var read = map.LookupPerCpu(2);

        Assert.True(cpus >= 1);
        Assert.Equal(written, read);
        Assert.Equal(new uint[cpus], map.LookupPerCpu(3));
        Assert.Throws<InvalidOperationException>(() => map.TryLookup(2, out _));
    }

    [Fact]
    public void PercpuArray_AbiStatsStruct_RoundTripsPerCpu()
    {
        using var map = BpfMap<uint, LbServiceStats>.Create(BpfMapType.PercpuArray, LbMapNames.SvcStats, 8);
        var written = Enumerable.Range(0, BpfMap.PossibleCpus)
            .Select(cpu => new LbServiceStats { Packets = (ulong)cpu + 1, Bytes = 1500ul * (ulong)(cpu + 1), NewFlows = 1 })
            .ToArray();

        map.UpdatePerCpu(5, written);

        Assert.Equal(written, map.LookupPerCpu(5));
    }

    [Fact]
    public void ArrayOfMaps_SwapInnerMap_ProgramReadsThroughTheNewMap()
    {
        using var template = BpfMap.Create(BpfMapType.Array, "lbt_inner_tpl", sizeof(uint), sizeof(uint), 4);
        using var outer = BpfMap.Create(BpfMapType.ArrayOfMaps, "lbt_outer", sizeof(uint), sizeof(uint), 8,
            new BpfMapCreateOptions { InnerMapTemplate = template });
        using var passTable = BpfMap<uint, uint>.Create(BpfMapType.Array, "lbt_inner_a", 4);
        using var dropTable = BpfMap<uint, uint>.Create(BpfMapType.Array, "lbt_inner_b", 4);
        passTable.Update(0, (uint)XdpAction.Pass);
        dropTable.Update(0, (uint)XdpAction.Drop);
        using var program = RawPrograms.ReadThrough(outer);
        var packet = new byte[64];

        Assert.False(outer.TryGetInnerMapId(0, out _));
        Assert.Equal(XdpAction.Aborted, program.TestRun(packet, default).Action);

        outer.SetInnerMap(0, passTable.Map);
        Assert.True(outer.TryGetInnerMapId(0, out var firstId));
        Assert.Equal(passTable.Map.Id, firstId);
        Assert.Equal(XdpAction.Pass, program.TestRun(packet, default).Action);

        outer.SetInnerMap(0, dropTable.Map);
        Assert.True(outer.TryGetInnerMapId(0, out var secondId));
        Assert.Equal(dropTable.Map.Id, secondId);
        Assert.Equal(XdpAction.Drop, program.TestRun(packet, default).Action);

        // User space reads through by id.
        using var current = BpfMap.OpenById(secondId).As<uint, uint>();
        Assert.True(current.TryLookup(0, out var action));
        Assert.Equal((uint)XdpAction.Drop, action);
    }

    [Fact]
    public void ArrayOfMaps_InnerMapOfAnotherShape_IsRefused()
    {
        using var template = BpfMap.Create(BpfMapType.Array, "lbt_inner_tpl", sizeof(uint), sizeof(uint), 4);
        using var outer = BpfMap.Create(BpfMapType.ArrayOfMaps, "lbt_outer", sizeof(uint), sizeof(uint), 2,
            new BpfMapCreateOptions { InnerMapTemplate = template });
        using var wrongValue = BpfMap.Create(BpfMapType.Array, "lbt_wrong", sizeof(uint), sizeof(ulong), 4);

        var error = Assert.Throws<BpfException>(() => outer.SetInnerMap(0, wrongValue));

        Assert.Equal("EINVAL", error.ErrnoName);
    }

    [Fact]
    public void LpmTrie_SourceRangeKeys_MatchLongestPrefix()
    {
        using var map = BpfMap<LbSrcRangeKey, uint>.Create(BpfMapType.LpmTrie, LbMapNames.SrcRanges, 16,
            new BpfMapCreateOptions { Flags = BpfMapFlags.NoPrealloc });
        map.Update(RangeKey(1, "10.0.0.0", 8), 1);
        map.Update(RangeKey(1, "10.1.0.0", 16), 2);

        Assert.True(map.TryLookup(RangeKey(1, "10.1.2.3", 32), out var narrow));
        Assert.True(map.TryLookup(RangeKey(1, "10.9.9.9", 32), out var wide));
        Assert.False(map.TryLookup(RangeKey(1, "11.0.0.1", 32), out _));
        Assert.False(map.TryLookup(RangeKey(2, "10.1.2.3", 32), out _));
        Assert.Equal(2u, narrow);
        Assert.Equal(1u, wide);
        Assert.Equal(2, map.Keys().Count());
    }

    [Fact]
    public void LpmTrie_Full_ThrowsMapFull()
    {
        using var map = BpfMap<LbSrcRangeKey, uint>.Create(BpfMapType.LpmTrie, "lbt_lpm_small", 2,
            new BpfMapCreateOptions { Flags = BpfMapFlags.NoPrealloc });
        map.Update(RangeKey(1, "10.0.0.0", 8), 1);
        map.Update(RangeKey(1, "11.0.0.0", 8), 1);

        var error = Assert.Throws<BpfMapFullException>(() => map.Update(RangeKey(1, "12.0.0.0", 8), 1));

        Assert.Equal("lbt_lpm_small", error.MapName);
        Assert.Equal("ENOSPC", error.ErrnoName);
    }

    [Fact]
    public void Pin_ThenOpenPinned_ReachesTheSameMap()
    {
        using var pins = new PinDirectory();
        var path = pins.Combine("lbt_pinned");
        using (var map = BpfMap<uint, ulong>.Create(BpfMapType.Hash, "lbt_pinned", 8))
        {
            map.Update(3, 33);
            map.Map.Pin(path);
        }

        using var reopened = BpfMap<uint, ulong>.OpenPinned(path);

        Assert.True(File.Exists(path));
        Assert.Equal("lbt_pinned", reopened.Name);
        Assert.True(reopened.TryLookup(3, out var value));
        Assert.Equal(33ul, value);
    }

    [Fact]
    public void OpenPinned_WrongKeySize_ThrowsNamingTheSizes()
    {
        using var pins = new PinDirectory();
        var path = pins.Combine("lbt_sized");
        using (var map = BpfMap.Create(BpfMapType.Hash, "lbt_sized", 4, 8, 8))
            map.Pin(path);

        var error = Assert.Throws<ArgumentException>(() => BpfMap<ulong, ulong>.OpenPinned(path));

        Assert.Contains("4-byte keys", error.Message);
    }

    [Fact]
    public void OpenPinned_MissingPath_ThrowsEnoentWithThePath()
    {
        using var pins = new PinDirectory();
        var path = pins.Combine("nothing-here");

        var error = Assert.Throws<BpfException>(() => BpfMap.OpenPinned(path));

        Assert.Equal(2, error.Errno);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Info_ReportsWhatTheKernelCreated()
    {
        using var map = BpfMap.Create(BpfMapType.Hash, "lbt_info", 12, 24, 100, new BpfMapCreateOptions { Flags = BpfMapFlags.NoPrealloc });
        using var byId = BpfMap.OpenById(map.Id);

        Assert.Equal(new BpfMapInfo(BpfMapType.Hash, map.Id, "lbt_info", 12, 24, 100, BpfMapFlags.NoPrealloc), map.Info);
        Assert.True(map.Id > 0);
        Assert.Equal(map.Info, byId.Info);
    }

    [Theory]
    [InlineData("this_name_is_too_long")]
    [InlineData("bad-name")]
    public void Create_InvalidName_ThrowsArgumentException(string name)
    {
        Assert.Throws<ArgumentException>(() => BpfMap.Create(BpfMapType.Hash, name, 4, 4, 4));
    }

    [Fact]
    public void TypedView_ValueSizeMismatch_ThrowsArgumentException()
    {
        using var map = BpfMap.Create(BpfMapType.Hash, "lbt_mismatch", 4, 8, 4);

        var error = Assert.Throws<ArgumentException>(() => map.As<uint, uint>());

        Assert.Contains("8-byte values", error.Message);
    }

    private static LbSrcRangeKey RangeKey(uint serviceId, string address, uint prefixLength) => new()
    {
        Prefixlen = LbSrcRangeKey.PrefixBitsBeforeAddress + prefixLength,
        ServiceId = serviceId,
        Family = (uint)LbFamily.IPv4,
        Addr = LbAddress.FromIPAddress(IPAddress.Parse(address)),
    };
}
