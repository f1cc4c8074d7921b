using Lb.Core.Maglev;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Datapath.Tables;
using Lb.Native;

namespace Lb.Agent.Programming;

/// <summary>
/// What the programmer knows the maps hold: read from them once at start, then changed only after a map
/// write succeeded. Each write compares against it first, so writing what is already there costs
/// nothing and an interrupted apply can be finished by writing the whole target again.
/// </summary>
internal sealed class MapContents
{
    public LbDatapathConfig Config;

    public Dictionary<LbServiceKey, LbService> Services { get; } = new(Bytewise<LbServiceKey>.Instance);

    public Dictionary<uint, LbBackend> Backends { get; } = [];

    /// <summary>Occupied lb_maglev slots.</summary>
    public Dictionary<uint, MaglevTableRecord> Tables { get; } = [];

    public HashSet<LbSrcRangeKey> SourceRanges { get; } = new(Bytewise<LbSrcRangeKey>.Instance);

    public Dictionary<uint, string> ServiceNames { get; } = [];

    public Dictionary<uint, (uint ServiceId, string Identity)> BackendNames { get; } = [];

    public IdCursors? Cursors;

    /// <summary>Reads everything the programmer writes. Tables are known by slot and id only: what they were built from is not recorded in the kernel.</summary>
    public static MapContents Read(LbMaps maps)
    {
        var contents = new MapContents();
        maps.Config.TryLookup(0, out contents.Config);
        foreach (var key in maps.Services.Keys().ToList())
        {
            if (maps.Services.TryLookup(key, out var value))
                contents.Services[key] = value;
        }
        foreach (var (id, value) in maps.ReadBackends())
            contents.Backends[id] = value;
        foreach (var (slot, tableId) in maps.ReadMaglevSlots())
            contents.Tables[slot] = new MaglevTableRecord(tableId, null, null);
        foreach (var key in maps.SrcRanges.Keys())
            contents.SourceRanges.Add(key);
        foreach (var key in maps.Names.Keys().ToList())
        {
            if (!maps.Names.TryLookup(key, out var record))
                continue;
            switch (key.Kind)
            {
                case LbNameKind.Service:
                    contents.ServiceNames[key.Id] = record.GetText();
                    break;
                case LbNameKind.Backend:
                    contents.BackendNames[key.Id] = (record.ServiceId, record.GetText());
                    break;
                case LbNameKind.Cursors when key.Id == 0:
                    contents.Cursors = new IdCursors(record.ServiceId, record.BackendId);
                    break;
                default:
                    throw new InvalidDataException($"lb_names holds a record of kind {key.Kind} id {key.Id}, which this build does not write.");
            }
        }
        return contents;
    }
}

/// <summary>
/// A table in an lb_maglev slot: its kernel id, and the size, seed and backends it was built from (null
/// when read back after a restart, so the first apply builds it again).
/// </summary>
internal sealed record MaglevTableRecord(uint TableId, MaglevOptions? Options, EquatableArray<MaglevBackend>? BuiltFrom)
{
    public bool Matches(MaglevOptions options, EquatableArray<MaglevBackend> backends) =>
        Options == options && BuiltFrom is { } built && built == backends;
}
