using System.Runtime.InteropServices;
using Lb.Core.Maglev;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Datapath.Engine;

namespace Lb.Datapath.Tables;

/// <summary>
/// The datapath's tables in memory, with the semantics of the BPF maps behind them (docs/xdp-datapath.md,
/// "Objects and maps"): byte-wise keys, BPF_NOEXIST inserts, per-table capacities, a missing Maglev table
/// or a slot past its end as "no backend", longest-prefix matching over the source-range key's bytes, and
/// counters indexed like the per-CPU arrays. One difference: a full flow, affinity or reverse-NAT table
/// refuses a new key (as a HASH map does) where the kernel's LRU maps would evict the idlest entry.
/// For tests and benchmarks of the managed engine; single-threaded, like one CPU's view.
/// </summary>
public sealed class InMemoryTables : IDatapathTables
{
    private readonly Dictionary<LbServiceKey, LbService> _services = new(Bytewise<LbServiceKey>.Instance);
    private readonly Dictionary<uint, LbBackend> _backends = [];
    private readonly Dictionary<uint, uint[]> _maglev = [];
    private readonly List<LbSrcRangeKey> _sourceRanges = [];
    private readonly Dictionary<LbFlowKey, LbFlow> _flows;
    private readonly Dictionary<LbAffinityKey, LbAffinity> _affinity;
    private readonly Dictionary<LbFlowKey, LbRevNat> _revNat;
    private readonly ulong[] _reasons = new ulong[LbLimits.ReasonMax];
    private readonly LbServiceStats[] _serviceStats = new LbServiceStats[LbLimits.MaxServices];
    private LbDatapathConfig _config;
    private bool _hasConfig;

    /// <param name="flowCapacity">max_entries of lb_flows.</param>
    /// <param name="affinityCapacity">max_entries of lb_affinity.</param>
    /// <param name="revNatCapacity">max_entries of lb_rev_nat; the loader sizes it as lb_flows (the default).</param>
    public InMemoryTables(int flowCapacity = (int)LbLimits.DefaultFlows, int affinityCapacity = (int)LbLimits.DefaultAffinity, int? revNatCapacity = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(flowCapacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(affinityCapacity);
        FlowCapacity = flowCapacity;
        AffinityCapacity = affinityCapacity;
        RevNatCapacity = revNatCapacity ?? flowCapacity;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(RevNatCapacity, nameof(revNatCapacity));
        // Sized up front (bounded by a modest initial size) so inserts on the packet path do not grow the tables.
        _flows = new Dictionary<LbFlowKey, LbFlow>(Math.Min(flowCapacity, 1 << 16), Bytewise<LbFlowKey>.Instance);
        _revNat = new Dictionary<LbFlowKey, LbRevNat>(Math.Min(RevNatCapacity, 1 << 16), Bytewise<LbFlowKey>.Instance);
        _affinity = new Dictionary<LbAffinityKey, LbAffinity>(Math.Min(affinityCapacity, 1 << 16), Bytewise<LbAffinityKey>.Instance);
    }

    /// <summary>max_entries of lb_flows.</summary>
    public int FlowCapacity { get; }

    /// <summary>max_entries of lb_rev_nat.</summary>
    public int RevNatCapacity { get; }

    /// <summary>max_entries of lb_affinity.</summary>
    public int AffinityCapacity { get; }

    // ---- What the static tables hold (for comparing with the maps the programmer wrote) ----

    public IReadOnlyDictionary<LbServiceKey, LbService> Services => _services;

    public IReadOnlyDictionary<uint, LbBackend> Backends => _backends;

    public IReadOnlyCollection<uint> MaglevKeys => _maglev.Keys;

    /// <summary>The inner table at lb_maglev[<paramref name="maglevKey"/>]; empty when there is none.</summary>
    public ReadOnlySpan<uint> MaglevTable(uint maglevKey) => _maglev.TryGetValue(maglevKey, out var table) ? table : [];

    public IReadOnlyList<LbSrcRangeKey> SourceRanges => _sourceRanges;

    public int FlowCount => _flows.Count;

    public int RevNatCount => _revNat.Count;

    public int AffinityCount => _affinity.Count;

    // ---- Writes of the control plane ----

    public void SetConfig(in LbDatapathConfig config)
    {
        _config = config;
        _hasConfig = true;
    }

    public void SetService(in LbServiceKey key, in LbService service) => _services[key] = service;

    public bool RemoveService(in LbServiceKey key) => _services.Remove(key);

    public void SetBackend(uint id, in LbBackend backend) => _backends[id] = backend;

    public bool RemoveBackend(uint id) => _backends.Remove(id);

    /// <summary>Puts an inner table (a copy of <paramref name="backendIds"/>) at lb_maglev[<paramref name="maglevKey"/>].</summary>
    public void SetMaglevTable(uint maglevKey, ReadOnlySpan<uint> backendIds) => _maglev[maglevKey] = backendIds.ToArray();

    public bool RemoveMaglevTable(uint maglevKey) => _maglev.Remove(maglevKey);

    public void AddSourceRange(in LbSrcRangeKey key)
    {
        if (key.Prefixlen > SourceRangeKeyBits)
            throw new ArgumentOutOfRangeException(nameof(key), key.Prefixlen, $"an lb_src_ranges prefix is at most {SourceRangeKeyBits} bits");
        foreach (var existing in _sourceRanges)
        {
            if (Bytewise<LbSrcRangeKey>.Same(existing, key))
                return;
        }
        _sourceRanges.Add(key);
    }

    /// <summary>
    /// Writes the static tables (config, services, backends, Maglev tables, source ranges) with exactly the
    /// entries the programmer writes for <paramref name="state"/>, encoded by <see cref="MapEncoding"/>, and
    /// removes the rest. Flows, affinity, reverse NAT and counters stay, as in the maps across an apply.
    /// </summary>
    public void Apply(DesiredState state, in LbDatapathConfig config)
    {
        ArgumentNullException.ThrowIfNull(state);
        SetConfig(config);
        _services.Clear();
        _backends.Clear();
        _maglev.Clear();
        _sourceRanges.Clear();
        foreach (var backend in state.BackendsById.Values)
            SetBackend(backend.Id, MapEncoding.Backend(backend));
        var builder = new MaglevTableBuilder(state.Options.Maglev);
        foreach (var (key, set) in state.SchedulableSets)
        {
            var members = new MaglevBackend[set.Count];
            for (var i = 0; i < set.Count; i++)
                members[i] = new MaglevBackend(set[i].Identity, set[i].Backend.Weight, set[i].Id);
            SetMaglevTable(MapEncoding.MaglevSlot(key), builder.Build(members).BackendIds.Span);
        }
        foreach (var service in state.ServicesById.Values)
        {
            foreach (var frontend in service.Service.Frontends)
            {
                var family = frontend.Key.Family;
                SetService(MapEncoding.ServiceKey(frontend.Key), MapEncoding.Service(service, family, state.SchedulableBackends(service.Id, family).Count));
            }
        }
        foreach (var range in MapEncoding.SourceRanges(state))
            AddSourceRange(range);
    }

    // ---- Counters ----

    public ulong ReasonCount(LbReason reason) => (uint)reason < LbLimits.ReasonMax ? _reasons[(uint)reason] : 0;

    public LbServiceStats ServiceStats(uint serviceId) => serviceId < LbLimits.MaxServices ? _serviceStats[serviceId] : default;

    public void CountReason(LbReason reason)
    {
        if ((uint)reason < LbLimits.ReasonMax)
            _reasons[(uint)reason]++;
    }

    public void CountServicePacket(uint serviceId, uint frameLength)
    {
        if (serviceId >= LbLimits.MaxServices)
            return;
        ref var stats = ref _serviceStats[serviceId];
        stats.Packets++;
        stats.Bytes += frameLength;
    }

    public void CountNewFlow(uint serviceId)
    {
        if (serviceId < LbLimits.MaxServices)
            _serviceStats[serviceId].NewFlows++;
    }

    // ---- The packet path's reads and writes ----

    public bool TryGetConfig(out LbDatapathConfig config)
    {
        config = _config;
        return _hasConfig;
    }

    public bool TryGetService(in LbServiceKey key, out LbService service) => _services.TryGetValue(key, out service);

    public bool TryGetBackend(uint id, out LbBackend backend) => _backends.TryGetValue(id, out backend);

    public bool HasMaglevTable(uint maglevKey) => _maglev.ContainsKey(maglevKey);

    public bool TryGetMaglevSlot(uint maglevKey, uint slot, out uint backendId)
    {
        if (_maglev.TryGetValue(maglevKey, out var table) && slot < (uint)table.Length)
        {
            backendId = table[slot];
            return true;
        }
        backendId = 0;
        return false;
    }

    /// <summary>Bits of an lb_src_range_key after prefixlen: service id, family, address.</summary>
    private const uint SourceRangeKeyBits = 8 * (4 + 4 + LbAddress.Size);

    /// <summary>LPM: an entry matches when its prefixlen is at most the key's and its first prefixlen bits (in memory order, most significant bit first) equal the key's.</summary>
    public bool MatchSourceRange(in LbSrcRangeKey key)
    {
        var keyBytes = MemoryMarshal.AsBytes(new ReadOnlySpan<LbSrcRangeKey>(in key))[4..];
        foreach (var entry in _sourceRanges)
        {
            if (entry.Prefixlen > key.Prefixlen)
                continue;
            var entryBytes = MemoryMarshal.AsBytes(new ReadOnlySpan<LbSrcRangeKey>(in entry))[4..];
            if (PrefixEqual(entryBytes, keyBytes, entry.Prefixlen))
                return true;
        }
        return false;
    }

    private static bool PrefixEqual(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, uint bits)
    {
        var whole = (int)(bits / 8);
        if (!a[..whole].SequenceEqual(b[..whole]))
            return false;
        var rest = (int)(bits % 8);
        if (rest == 0)
            return true;
        var mask = (byte)(0xff << (8 - rest));
        return (a[whole] & mask) == (b[whole] & mask);
    }

    public bool TryGetFlow(in LbFlowKey key, out LbFlow flow) => _flows.TryGetValue(key, out flow);

    public bool UpdateFlow(in LbFlowKey key, in LbFlow flow) => Update(_flows, key, flow, FlowCapacity);

    public bool TryGetAffinity(in LbAffinityKey key, out LbAffinity affinity) => _affinity.TryGetValue(key, out affinity);

    public bool UpdateAffinity(in LbAffinityKey key, in LbAffinity affinity) => Update(_affinity, key, affinity, AffinityCapacity);

    public bool TryGetRevNat(in LbFlowKey key, out LbRevNat revNat) => _revNat.TryGetValue(key, out revNat);

    public bool InsertRevNat(in LbFlowKey key, in LbRevNat revNat) =>
        _revNat.Count < RevNatCapacity && _revNat.TryAdd(key, revNat);

    public bool UpdateRevNat(in LbFlowKey key, in LbRevNat revNat) => Update(_revNat, key, revNat, RevNatCapacity);

    public void DeleteRevNat(in LbFlowKey key) => _revNat.Remove(key);

    /// <summary>BPF_ANY into a table of <paramref name="capacity"/> entries: an existing key is overwritten; a new one needs room.</summary>
    private static bool Update<TKey, TValue>(Dictionary<TKey, TValue> table, in TKey key, in TValue value, int capacity) where TKey : notnull
    {
        if (table.Count >= capacity && !table.ContainsKey(key))
            return false;
        table[key] = value;
        return true;
    }
}
