using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.Agent.Tests.Infrastructure;

/// <summary>Everything the programmer writes, read back from the kernel by key walks, for exact assertions.</summary>
internal sealed record MapDump(
    LbDatapathConfig Config,
    IReadOnlyDictionary<LbServiceKey, LbService> Services,
    IReadOnlyDictionary<uint, LbBackend> Backends,
    IReadOnlyDictionary<uint, uint> MaglevTableIds,
    IReadOnlyList<LbSrcRangeKey> SourceRanges,
    IReadOnlyDictionary<LbNameKey, LbName> Names)
{
    public static MapDump Read(LbMaps maps)
    {
        maps.Config.TryLookup(0, out var config);
        var services = new Dictionary<LbServiceKey, LbService>(new BytesComparer<LbServiceKey>());
        foreach (var key in maps.Services.Keys().ToList())
        {
            Assert.True(maps.Services.TryLookup(key, out var value));
            services.Add(key, value);
        }
        var backends = new Dictionary<uint, LbBackend>();
        // lb_backends is an array: the backends are the entries that are not all zero (family 0).
        foreach (var id in maps.Backends.Keys().ToList())
        {
            Assert.True(maps.Backends.TryLookup(id, out var value));
            if (value.Family != default)
                backends.Add(id, value);
        }
        var tables = maps.ReadMaglevSlots().ToDictionary(s => s.Key, s => s.TableId);
        var ranges = maps.SrcRanges.Keys().ToList();
        var names = new Dictionary<LbNameKey, LbName>(new BytesComparer<LbNameKey>());
        foreach (var key in maps.Names.Keys().ToList())
        {
            Assert.True(maps.Names.TryLookup(key, out var value));
            names.Add(key, value);
        }
        return new MapDump(config, services, backends, tables, ranges, names);
    }

    public string? ServiceName(uint id) =>
        Names.TryGetValue(new LbNameKey(LbNameKind.Service, id), out var record) ? record.GetText() : null;
}

/// <summary>Key equality as the kernel's hash maps see it: every byte.</summary>
internal sealed class BytesComparer<T> : IEqualityComparer<T> where T : unmanaged
{
    public bool Equals(T a, T b) => Bytes(a).SequenceEqual(Bytes(b));

    public int GetHashCode(T value)
    {
        var hash = new HashCode();
        hash.AddBytes(Bytes(value));
        return hash.ToHashCode();
    }

    public static byte[] Bytes(T value) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<T>(ref value)).ToArray();
}
