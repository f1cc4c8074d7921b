using Lb.Testing.Kernel;
using Lb.Native;

namespace Lb.Agent.Tests;

public sealed class LbMapsTests
{
    [Fact]
    public void RemoveMaglevTables_FilledSlots_ReadAsEmptyHereAndAfterReopening()
    {
        using var test = new TestDatapath(maglevTableSize: 251);
        var ids = Enumerable.Range(0, 251).Select(i => (uint)(i % 7 + 1)).ToArray();
        using (var first = test.Maps.CreateMaglevTable(ids))
        using (var second = test.Maps.CreateMaglevTable(ids))
            test.Maps.SetMaglevTables([10, 11], [first, second]);

        var removed = test.Maps.RemoveMaglevTables([10]);

        Assert.Equal(1, removed);
        Assert.False(test.Maps.TryGetMaglevTableId(10, out _));
        Assert.Null(test.Maps.ReadMaglevTable(10));
        Assert.Equal([11u], test.Maps.ReadMaglevSlots().Select(s => s.Key));
        using var reopened = LbMaps.OpenPinned(test.PinRoot);
        Assert.Equal([11u], reopened.ReadMaglevSlots().Select(s => s.Key));
        Assert.Equal(ids, reopened.ReadMaglevTable(11));
        // What the program finds in the emptied slot: a one-slot table whose only backend id is 0 (none).
        Assert.True(test.Maps.Maglev.TryGetInnerMapId(10, out var standIn));
        using var none = BpfMap.OpenById(standIn);
        Assert.Equal(1u, none.MaxEntries);
        Assert.True(none.As<uint, uint>().TryLookup(0, out var backendId));
        Assert.Equal(0u, backendId);
    }

    [Fact]
    public void CreateMaglevTable_EmptiedSlot_TakesANewTable()
    {
        using var test = new TestDatapath(maglevTableSize: 251);
        var ids = Enumerable.Range(0, 251).Select(i => (uint)(i + 1)).ToArray();
        using (var table = test.Maps.CreateMaglevTable(ids))
            test.Maps.SetMaglevTables([4], [table]);
        test.Maps.RemoveMaglevTables([4]);

        using (var again = test.Maps.CreateMaglevTable(ids.Reverse().ToArray()))
            test.Maps.SetMaglevTables([4], [again]);

        Assert.Equal(ids.Reverse(), test.Maps.ReadMaglevTable(4));
    }
}
