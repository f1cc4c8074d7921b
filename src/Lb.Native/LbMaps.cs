using Lb.Datapath.Abi;

namespace Lb.Native;

/// <summary>How <see cref="LbMaps.CreateMaglevTable"/> fills a new inner table.</summary>
public enum MaglevTableFill
{
    /// <summary>
    /// The inner maps are <see cref="BpfMapFlags.Mmapable"/>: a table is one copy into a shared mapping
    /// (tens of microseconds for M = 16381).
    /// </summary>
    Mapped,

    /// <summary>
    /// The outer map's template lacks <see cref="BpfMapFlags.Mmapable"/> (a map pinned by another loader):
    /// a table is one BPF_MAP_UPDATE_BATCH (milliseconds for M = 16381).
    /// </summary>
    Batch,
}

/// <summary>
/// Every map of Lb's datapath, typed with the ABI mirror and reached by the ABI's names (STYLE rule 3):
/// the maps of the XDP object, and <c>lb_names</c>, the user-space record of the names behind the ids.
/// Made once from a loaded object or from the pinned directory of a running datapath; disposing it
/// closes its descriptors and leaves the maps (and their pins) alone.
/// </summary>
public sealed class LbMaps : IDisposable
{
    /// <summary>
    /// Flags of every inner Maglev table Lb creates, and of the template its loader gives lb_maglev.
    /// <see cref="BpfMapFlags.InnerMap"/> (as native/bpf/lb_maps.h declares) lets tables of any size sit in
    /// a pinned outer map; <see cref="BpfMapFlags.Mmapable"/> lets a table be filled by one copy. The kernel
    /// compares an inner map's flags with the template's exactly.
    /// </summary>
    public const BpfMapFlags MaglevInnerFlags = BpfMapFlags.InnerMap | BpfMapFlags.Mmapable;

    private const string MaglevInnerName = "lb_maglev_inner";

    /// <summary>The name of the one-slot table that stands in an emptied slot (see <see cref="RemoveMaglevTables"/>).</summary>
    private const string MaglevNoneName = "lb_maglev_none";

    /// <summary>
    /// The outer lb_maglev slot used to find out which inner flags the outer map accepts. Slot 0 is the
    /// IPv4 table of service id 0, and 0 is never a service id, so no packet ever looks there.
    /// </summary>
    private const uint ProbeSlot = 0;

    private readonly List<IDisposable> _owned;
    private readonly Lock _fillLock = new();
    private readonly HashSet<uint> _noneTableIds = [];
    private MaglevTableFill? _fill;
    private BpfMap? _noneTable;

    private LbMaps(Func<string, BpfMap> open, BpfMap names)
    {
        _owned = [names];
        try
        {
            Config = Typed<uint, LbDatapathConfig>(open, LbMapNames.Config, BpfMapType.Array);
            Services = Typed<LbServiceKey, LbService>(open, LbMapNames.Services, BpfMapType.Hash);
            Backends = Typed<uint, LbBackend>(open, LbMapNames.Backends, BpfMapType.Array);
            Maglev = Raw(open, LbMapNames.Maglev, BpfMapType.ArrayOfMaps);
            Flows = Typed<LbFlowKey, LbFlow>(open, LbMapNames.Flows, BpfMapType.LruHash);
            Affinity = Typed<LbAffinityKey, LbAffinity>(open, LbMapNames.Affinity, BpfMapType.LruHash);
            RevNat = Typed<LbFlowKey, LbRevNat>(open, LbMapNames.RevNat, BpfMapType.LruHash);
            SrcRanges = Typed<LbSrcRangeKey, uint>(open, LbMapNames.SrcRanges, BpfMapType.LpmTrie);
            SvcStats = Typed<uint, LbServiceStats>(open, LbMapNames.SvcStats, BpfMapType.PercpuArray);
            Reasons = Typed<uint, ulong>(open, LbMapNames.Reasons, BpfMapType.PercpuArray);
            Names = Typed<LbNameKey, LbName>(_ => names, LbMapNames.Names, BpfMapType.Hash);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The map names Lb pins under its pin root: every map of the object and lb_names.</summary>
    public static IReadOnlyList<string> PinnedMapNames { get; } =
    [
        LbMapNames.Config, LbMapNames.Services, LbMapNames.Backends, LbMapNames.Maglev, LbMapNames.Flows,
        LbMapNames.Affinity, LbMapNames.RevNat, LbMapNames.SrcRanges, LbMapNames.SvcStats, LbMapNames.Reasons,
        LbMapNames.Names,
    ];

    public BpfMap<uint, LbDatapathConfig> Config { get; } = null!;
    public BpfMap<LbServiceKey, LbService> Services { get; } = null!;
    public BpfMap<uint, LbBackend> Backends { get; } = null!;

    /// <summary>ARRAY_OF_MAPS keyed by <see cref="LbAbi.MaglevKey"/>; updates take an inner map, lookups give its id.</summary>
    public BpfMap Maglev { get; } = null!;

    public BpfMap<LbFlowKey, LbFlow> Flows { get; } = null!;
    public BpfMap<LbAffinityKey, LbAffinity> Affinity { get; } = null!;
    public BpfMap<LbFlowKey, LbRevNat> RevNat { get; } = null!;

    /// <summary>LPM trie; the value 1 means "allowed".</summary>
    public BpfMap<LbSrcRangeKey, uint> SrcRanges { get; } = null!;

    /// <summary>Per-CPU, keyed by service id.</summary>
    public BpfMap<uint, LbServiceStats> SvcStats { get; } = null!;

    /// <summary>Per-CPU, keyed by <see cref="LbReason"/>.</summary>
    public BpfMap<uint, ulong> Reasons { get; } = null!;

    /// <summary>User space only: service names and backend identities by id, and the id cursors.</summary>
    public BpfMap<LbNameKey, LbName> Names { get; } = null!;

    /// <summary>
    /// The maps of a loaded lb_xdp object, and lb_names from <paramref name="pinRoot"/> (created and pinned
    /// there when it is not yet).
    /// </summary>
    public static LbMaps FromObject(BpfObject loaded, string pinRoot)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentException.ThrowIfNullOrEmpty(pinRoot);
        if (!loaded.IsLoaded)
            throw new InvalidOperationException("The BPF object must be loaded before its maps are taken.");
        var names = OpenOrCreateNames(pinRoot);
        return new LbMaps(loaded.GetMap, names);
    }

    /// <summary>The maps of a running datapath, from their pins (e.g. for <c>lb status</c>).</summary>
    public static LbMaps OpenPinned(string pinRoot = LbAbi.PinRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(pinRoot);
        var missing = PinnedMapNames.Where(name => !File.Exists(Path.Combine(pinRoot, name))).ToList();
        if (missing.Count > 0)
        {
            throw new FileNotFoundException(missing.Count == PinnedMapNames.Count
                ? $"No Lb datapath is pinned at {pinRoot} (start one with `lb run`)."
                : $"The Lb datapath pinned at {pinRoot} is incomplete: {string.Join(", ", missing)} missing. `lb down` removes what is left.");
        }
        var names = BpfMap.OpenPinned(Path.Combine(pinRoot, LbMapNames.Names));
        try
        {
            return new LbMaps(name => BpfMap.OpenPinned(Path.Combine(pinRoot, name)), names);
        }
        catch
        {
            names.Dispose();
            throw;
        }
    }

    /// <summary>How new Maglev tables are filled; found out once, on first use (see <see cref="MaglevTableFill"/>).</summary>
    public MaglevTableFill MaglevFill
    {
        get
        {
            lock (_fillLock)
                return _fill ??= ProbeMaglevFill();
        }
    }

    /// <summary>
    /// A new inner Maglev table of <paramref name="backendIds"/>.Length slots holding those ids, not yet
    /// visible to any packet. Swap it in with <see cref="SetMaglevTables"/>; the caller disposes it after
    /// (the outer map keeps the table alive).
    /// </summary>
    public BpfMap CreateMaglevTable(ReadOnlySpan<uint> backendIds)
    {
        if (backendIds.IsEmpty)
            throw new ArgumentException("A Maglev table has at least one slot; a service without backends has no table.", nameof(backendIds));
        var fill = MaglevFill;
        var table = BpfMap.Create(BpfMapType.Array, MaglevInnerName, sizeof(uint), sizeof(uint), (uint)backendIds.Length,
            new BpfMapCreateOptions { Flags = fill == MaglevTableFill.Mapped ? MaglevInnerFlags : BpfMapFlags.InnerMap });
        try
        {
            if (fill == MaglevTableFill.Mapped)
            {
                table.WriteMapped(backendIds);
            }
            else
            {
                var slots = new uint[backendIds.Length];
                for (var i = 0; i < slots.Length; i++)
                    slots[i] = (uint)i;
                table.As<uint, uint>().UpdateBatch(slots, backendIds);
            }
            return table;
        }
        catch
        {
            table.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Swaps tables into lb_maglev slots (<see cref="LbAbi.MaglevKey"/>) in one batch: each slot switches
    /// atomically from its old table to the new one. Returns the number swapped; a failure part-way is a
    /// <see cref="BpfBatchException"/> saying how many slots, from the first, were swapped before it.
    /// </summary>
    public int SetMaglevTables(ReadOnlySpan<uint> keys, ReadOnlySpan<BpfMap> tables) => Maglev.SetInnerMaps(keys, tables);

    /// <summary>
    /// Takes the tables out of lb_maglev slots, in one batch. A delete from a map of maps waits for an RCU
    /// grace period each (about 15 ms here), and arrays have no batch delete; so an emptied slot gets a
    /// shared one-slot table holding backend id 0 instead, in one batch update and one wait. A program
    /// reading it finds what an empty slot gives: no backend (id 0 is never a backend, and every other
    /// slot index misses). Readers here (<see cref="ReadMaglevSlots"/>, <see cref="TryGetMaglevTableId"/>)
    /// report such a slot as empty. The removed tables are freed by the kernel once no program holds them.
    /// Returns the number emptied; a failure part-way is a <see cref="BpfBatchException"/>.
    /// </summary>
    public int RemoveMaglevTables(ReadOnlySpan<uint> keys)
    {
        if (keys.IsEmpty)
            return 0;
        var none = NoneTable();
        var tables = new BpfMap[keys.Length];
        Array.Fill(tables, none);
        return Maglev.SetInnerMaps(keys, tables);
    }

    /// <summary>The kernel id of the table in an lb_maglev slot; false for an empty slot.</summary>
    public bool TryGetMaglevTableId(uint key, out uint tableId)
    {
        if (Maglev.TryGetInnerMapId(key, out tableId) && !IsNoneTable(tableId))
            return true;
        tableId = 0;
        return false;
    }

    /// <summary>Every lb_maglev slot holding a table, and the table's id, in slot order.</summary>
    /// <summary>
    /// The backends in use. lb_backends is an array (an inlined lookup in the program), so every id
    /// exists; a free id is an all-zero entry, told apart by its zero family.
    /// </summary>
    public List<(uint Id, LbBackend Backend)> ReadBackends()
    {
        var live = new List<(uint, LbBackend)>();
        foreach (var id in Backends.Keys().ToList())
        {
            if (Backends.TryLookup(id, out var backend) && backend.Family != default)
                live.Add((id, backend));
        }
        return live;
    }

    public List<(uint Key, uint TableId)> ReadMaglevSlots()
    {
        var slots = new List<(uint, uint)>();
        // An array's keys are all its indices, so walk them directly; an empty slot is a missed lookup.
        for (var key = 0u; key < Maglev.MaxEntries; key++)
        {
            if (TryGetMaglevTableId(key, out var id))
                slots.Add((key, id));
        }
        return slots;
    }

    /// <summary>The backend ids in the table of an lb_maglev slot, or null when the slot is empty.</summary>
    public uint[]? ReadMaglevTable(uint key)
    {
        if (!TryGetMaglevTableId(key, out var id))
            return null;
        using var table = BpfMap.OpenById(id);
        var typed = table.As<uint, uint>();
        var ids = new uint[table.MaxEntries];
        for (var slot = 0u; slot < ids.Length; slot++)
        {
            if (!typed.TryLookup(slot, out ids[slot]))
                throw new InvalidOperationException($"Maglev table {id} (lb_maglev slot {key}) has no slot {slot} of {ids.Length}.");
        }
        return ids;
    }

    public void Dispose()
    {
        _noneTable?.Dispose();
        foreach (var map in Enumerable.Reverse(_owned))
            map.Dispose();
        _owned.Clear();
    }

    private BpfMap NoneTable()
    {
        lock (_fillLock)
        {
            if (_noneTable is not null)
                return _noneTable;
        }
        var fill = MaglevFill;
        var none = BpfMap.Create(BpfMapType.Array, MaglevNoneName, sizeof(uint), sizeof(uint), 1,
            new BpfMapCreateOptions { Flags = fill == MaglevTableFill.Mapped ? MaglevInnerFlags : BpfMapFlags.InnerMap });
        lock (_fillLock)
        {
            if (_noneTable is null)
            {
                _noneTable = none;
                _noneTableIds.Add(none.Id);
                return none;
            }
        }
        none.Dispose();
        return _noneTable;
    }

    /// <summary>Whether a table id is a stand-in for an empty slot, this process's or one an earlier agent left.</summary>
    private bool IsNoneTable(uint tableId)
    {
        lock (_fillLock)
        {
            if (_noneTableIds.Contains(tableId))
                return true;
        }
        string name;
        try
        {
            using var table = BpfMap.OpenById(tableId);
            name = table.Name;
        }
        catch (BpfException e) when (e.Errno == Interop.ENOENT)
        {
            // Replaced and freed between the slot lookup and now: it was a table, and is gone.
            return false;
        }
        if (name != MaglevNoneName)
            return false;
        lock (_fillLock)
            _noneTableIds.Add(tableId);
        return true;
    }

    private MaglevTableFill ProbeMaglevFill()
    {
        // There is no way to read an outer map's inner template back, and the kernel refuses an inner map
        // whose flags differ from it (EINVAL). So try one: a one-slot mmapable table in a slot no packet
        // reads. With BPF_F_INNER_MAP in the template the size does not matter.
        using var probe = BpfMap.Create(BpfMapType.Array, MaglevInnerName, sizeof(uint), sizeof(uint), 1,
            new BpfMapCreateOptions { Flags = MaglevInnerFlags });
        try
        {
            Maglev.SetInnerMap(ProbeSlot, probe);
        }
        catch (BpfException e) when (e.Errno == Interop.EINVAL)
        {
            return MaglevTableFill.Batch;
        }
        // The one plain delete: a slot emptied for good, once per agent start.
        Maglev.Delete(BitConverter.GetBytes(ProbeSlot));
        return MaglevTableFill.Mapped;
    }

    private static BpfMap OpenOrCreateNames(string pinRoot)
    {
        var path = Path.Combine(pinRoot, LbMapNames.Names);
        if (File.Exists(path))
            return BpfMap.OpenPinned(path);
        // Allocated per entry (no prealloc): sized for every id, but a few hundred bytes per service in use.
        var names = BpfMap<LbNameKey, LbName>.Create(BpfMapType.Hash, LbMapNames.Names, LbLimits.MaxNames,
            new BpfMapCreateOptions { Flags = BpfMapFlags.NoPrealloc }).Map;
        try
        {
            names.Pin(path);
            return names;
        }
        catch
        {
            names.Dispose();
            throw;
        }
    }

    private BpfMap<TKey, TValue> Typed<TKey, TValue>(Func<string, BpfMap> open, string name, BpfMapType type)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        var map = Raw(open, name, type);
        return map.As<TKey, TValue>();
    }

    private BpfMap Raw(Func<string, BpfMap> open, string name, BpfMapType type)
    {
        var map = open(name);
        if (!_owned.Contains(map))
            _owned.Add(map);
        if (map.Type != type)
            throw new InvalidOperationException($"Map '{name}' is a {map.Type} map; Lb's ABI declares it {type}. Is it another program's map?");
        return map;
    }
}
