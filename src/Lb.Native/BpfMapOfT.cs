using System.Runtime.InteropServices;

namespace Lb.Native;

/// <summary>
/// A map whose key and value are fixed-layout structs (the ABI mirror in Lb.Datapath.Abi). The
/// sizes are checked against the kernel's once, when the view is made. Disposing the view closes the map.
/// </summary>
public sealed unsafe class BpfMap<TKey, TValue> : IDisposable
    where TKey : unmanaged
    where TValue : unmanaged
{
    internal BpfMap(BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.KeySize != sizeof(TKey))
            throw new ArgumentException($"Map '{map.Name}' has {map.KeySize}-byte keys; {typeof(TKey).Name} is {sizeof(TKey)} bytes.", nameof(map));
        // A map of maps reports value_size 4: updates take an inner map fd, lookups return its id.
        if (map.ValueSize != sizeof(TValue))
            throw new ArgumentException($"Map '{map.Name}' has {map.ValueSize}-byte values; {typeof(TValue).Name} is {sizeof(TValue)} bytes.", nameof(map));
        Map = map;
    }

    public BpfMap Map { get; }

    public string Name => Map.Name;

    public static BpfMap<TKey, TValue> Create(BpfMapType type, string name, uint maxEntries, BpfMapCreateOptions? options = null) =>
        new(BpfMap.Create(type, name, sizeof(TKey), sizeof(TValue), maxEntries, options));

    public static BpfMap<TKey, TValue> OpenPinned(string path)
    {
        var map = BpfMap.OpenPinned(path);
        try
        {
            return new BpfMap<TKey, TValue>(map);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    public bool TryLookup(in TKey key, out TValue value)
    {
        RequireSingleValue();
        var k = key;
        value = default;
        return Map.TryLookup(BpfMap.AsBytes(ref k), BpfMap.AsBytes(ref value));
    }

    public void Update(in TKey key, in TValue value, BpfUpdateFlags flags = BpfUpdateFlags.Any)
    {
        RequireSingleValue();
        var k = key;
        var v = value;
        Map.Update(BpfMap.AsBytes(ref k), BpfMap.AsBytes(ref v), flags);
    }

    /// <summary>
    /// Writes keys[i] → values[i] with one BPF_MAP_UPDATE_BATCH; returns the number written. A failure
    /// part-way is a <see cref="BpfBatchException"/> saying how many were written before it.
    /// </summary>
    public int UpdateBatch(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values, BpfUpdateFlags flags = BpfUpdateFlags.Any)
    {
        RequireSingleValue();
        if (keys.Length != values.Length)
            throw new ArgumentException($"{keys.Length} keys but {values.Length} values.", nameof(values));
        return Map.UpdateBatch(MemoryMarshal.AsBytes(keys), MemoryMarshal.AsBytes(values), keys.Length, flags);
    }

    /// <summary>Deletes the key; false when it was not there.</summary>
    public bool Delete(in TKey key)
    {
        var k = key;
        return Map.Delete(BpfMap.AsBytes(ref k));
    }

    /// <summary>Walks the keys with bpf_map_get_next_key. A hash map changed meanwhile may repeat or skip keys.</summary>
    public IEnumerable<TKey> Keys()
    {
        var hasKey = false;
        var key = default(TKey);
        while (TryGetNextKey(hasKey, key, out var next))
        {
            yield return next;
            key = next;
            hasKey = true;
        }
    }

    /// <summary>A per-CPU map's values for one key, one per possible CPU; false when the key is absent.</summary>
    public bool TryLookupPerCpu(in TKey key, Span<TValue> values)
    {
        RequirePerCpu();
        var cpus = BpfMap.PossibleCpus;
        if (values.Length != cpus)
            throw new ArgumentException($"Map '{Name}' holds a value for each of {cpus} possible CPUs; the span has {values.Length}.", nameof(values));
        var stride = BpfMap.PerCpuStride(sizeof(TValue));
        var buffer = new byte[stride * cpus];
        var k = key;
        if (!Map.TryLookup(BpfMap.AsBytes(ref k), buffer))
            return false;
        for (var cpu = 0; cpu < cpus; cpu++)
            values[cpu] = MemoryMarshal.Read<TValue>(buffer.AsSpan(cpu * stride, sizeof(TValue)));
        return true;
    }

    /// <summary>A per-CPU map's values for one key (one per possible CPU), or null when the key is absent.</summary>
    public TValue[]? LookupPerCpu(in TKey key)
    {
        var values = new TValue[BpfMap.PossibleCpus];
        return TryLookupPerCpu(key, values) ? values : null;
    }

    /// <summary>Writes one value per possible CPU.</summary>
    public void UpdatePerCpu(in TKey key, ReadOnlySpan<TValue> values, BpfUpdateFlags flags = BpfUpdateFlags.Any)
    {
        RequirePerCpu();
        var cpus = BpfMap.PossibleCpus;
        if (values.Length != cpus)
            throw new ArgumentException($"Map '{Name}' takes a value for each of {cpus} possible CPUs; the span has {values.Length}.", nameof(values));
        var stride = BpfMap.PerCpuStride(sizeof(TValue));
        var buffer = new byte[stride * cpus];
        for (var cpu = 0; cpu < cpus; cpu++)
        {
            var v = values[cpu];
            MemoryMarshal.Write(buffer.AsSpan(cpu * stride, sizeof(TValue)), in v);
        }
        var k = key;
        Map.Update(BpfMap.AsBytes(ref k), buffer, flags);
    }

    public void Dispose() => Map.Dispose();

    public override string ToString() => Map.ToString();

    private bool TryGetNextKey(bool hasKey, TKey key, out TKey next)
    {
        next = default;
        return Map.TryGetNextKey(hasKey ? BpfMap.AsBytes(ref key) : default, BpfMap.AsBytes(ref next));
    }

    private void RequireSingleValue()
    {
        if (Map.IsPerCpu)
            throw new InvalidOperationException($"Map '{Name}' is a per-CPU map: use {nameof(TryLookupPerCpu)} / {nameof(UpdatePerCpu)}.");
    }

    private void RequirePerCpu()
    {
        if (!Map.IsPerCpu)
            throw new InvalidOperationException($"Map '{Name}' is a {Map.Type} map, not a per-CPU map.");
    }
}
