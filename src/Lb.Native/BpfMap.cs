using System.Runtime.InteropServices;
using System.Text;

namespace Lb.Native;

/// <summary>Options for <see cref="BpfMap.Create"/> beyond type, sizes and entries.</summary>
public sealed record BpfMapCreateOptions
{
    public BpfMapFlags Flags { get; init; }

    /// <summary>For ARRAY_OF_MAPS / HASH_OF_MAPS: a map with the inner maps' type, sizes and (unless <see cref="BpfMapFlags.InnerMap"/>) entries.</summary>
    public BpfMap? InnerMapTemplate { get; init; }
}

/// <summary>
/// A BPF map reached through its own descriptor, so it outlives the object or path it came from.
/// Keys and values are raw bytes here; <see cref="BpfMap{TKey,TValue}"/> is the typed view.
/// </summary>
public sealed unsafe class BpfMap : IDisposable
{
    private static readonly Lazy<int> s_possibleCpus = new(() =>
        Interop.ThrowIfFailed(Interop.Libbpf.NumPossibleCpus(), "libbpf_num_possible_cpus"));

    private readonly SafeFileDescriptor _fd;

    internal BpfMap(SafeFileDescriptor fd)
    {
        _fd = fd;
        Info = QueryInfo(fd);
    }

    /// <summary>CPUs a per-CPU map holds a value for (possible, not online, CPUs).</summary>
    public static int PossibleCpus => s_possibleCpus.Value;

    public BpfMapInfo Info { get; }
    public string Name => Info.Name;
    public BpfMapType Type => Info.Type;
    public uint Id => Info.Id;
    public int KeySize => (int)Info.KeySize;
    public int ValueSize => (int)Info.ValueSize;
    public uint MaxEntries => Info.MaxEntries;

    public bool IsPerCpu => Type is BpfMapType.PercpuArray or BpfMapType.PercpuHash or BpfMapType.LruPercpuHash or BpfMapType.PercpuCgroupStorage;

    /// <summary>The bytes a lookup fills: per-CPU maps hold one value per possible CPU, each padded to 8 bytes.</summary>
    public int ValueBufferSize => IsPerCpu ? PerCpuStride(ValueSize) * PossibleCpus : ValueSize;

    /// <summary>The descriptor, for callers that pass it on (a program's map reference, an inner map update).</summary>
    public SafeFileDescriptor Handle => _fd;

    public static BpfMap Create(BpfMapType type, string name, int keySize, int valueSize, uint maxEntries, BpfMapCreateOptions? options = null)
    {
        ValidateObjectName(name, nameof(name));
        ArgumentOutOfRangeException.ThrowIfNegative(keySize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(valueSize);
        ArgumentOutOfRangeException.ThrowIfZero(maxEntries);

        var opts = new Interop.Libbpf.BpfMapCreateOpts
        {
            Sz = (nuint)sizeof(Interop.Libbpf.BpfMapCreateOpts),
            MapFlags = (uint)(options?.Flags ?? BpfMapFlags.None),
        };
        var inner = options?.InnerMapTemplate;
        if (inner is not null && type is not (BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps))
            throw new ArgumentException($"An inner map template applies to ARRAY_OF_MAPS and HASH_OF_MAPS, not {type}.", nameof(options));
        if (inner is null && type is BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps)
            throw new ArgumentException($"A {type} map needs an inner map template.", nameof(options));

        using var lease = inner is null ? default : new SafeHandleLease(inner.Handle);
        if (inner is not null)
            opts.InnerMapFd = (uint)lease.Fd;
        var fd = Interop.Libbpf.MapCreate((uint)type, name, (uint)keySize, (uint)valueSize, maxEntries, &opts);
        return new BpfMap(Interop.ThrowIfFailedDescriptor(fd, "bpf_map_create", name));
    }

    /// <summary>Opens a map pinned on bpffs (bpf_obj_get).</summary>
    public static BpfMap OpenPinned(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fd = Interop.ThrowIfFailedDescriptor(Interop.Libbpf.ObjGet(path), "bpf_obj_get", path);
        if (fd.DescribeTarget() is var target && target != "anon_inode:bpf-map")
        {
            fd.Dispose();
            throw new ArgumentException($"{path} is pinned but is not a BPF map ({target}).", nameof(path));
        }
        return new BpfMap(fd);
    }

    /// <summary>Opens a map by its kernel id, e.g. an inner map found through its map of maps.</summary>
    public static BpfMap OpenById(uint id) =>
        new(Interop.ThrowIfFailedDescriptor(Interop.Libbpf.MapGetFdById(id), "bpf_map_get_fd_by_id", $"id {id}"));

    /// <summary>Pins the map at <paramref name="path"/> on bpffs; the directory must exist.</summary>
    public void Pin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Interop.ThrowIfFailed(Interop.Libbpf.ObjPin(_fd, path), "bpf_obj_pin", path);
    }

    public bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key);
        if (value.Length != ValueBufferSize)
            throw new ArgumentException($"Map '{Name}' fills {ValueBufferSize} value bytes per lookup; the buffer has {value.Length}.", nameof(value));
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var result = Interop.Libbpf.MapLookupElem(_fd, k, v);
            if (result == -Interop.ENOENT)
                return false;
            Interop.ThrowIfFailed(result, "bpf_map_lookup_elem", Name);
            return true;
        }
    }

    public void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, BpfUpdateFlags flags = BpfUpdateFlags.Any)
    {
        CheckKey(key);
        if (value.Length != ValueBufferSize)
            throw new ArgumentException($"Map '{Name}' takes {ValueBufferSize} value bytes per update; the value has {value.Length}.", nameof(value));
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var result = Interop.Libbpf.MapUpdateElem(_fd, k, v, (ulong)flags);
            if (result < 0)
                throw Interop.GetExceptionForMapUpdate(-result, Name, Type, MaxEntries);
        }
    }

    /// <summary>Deletes the key; false when it was not there.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        fixed (byte* k = key)
        {
            var result = Interop.Libbpf.MapDeleteElem(_fd, k);
            if (result == -Interop.ENOENT)
                return false;
            Interop.ThrowIfFailed(result, "bpf_map_delete_elem", Name);
            return true;
        }
    }

    /// <summary>
    /// The key after <paramref name="key"/> (the first key when <paramref name="key"/> is empty);
    /// false at the end. A key deleted meanwhile restarts a hash map's walk from its first key.
    /// </summary>
    public bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if (!key.IsEmpty)
            CheckKey(key);
        if (nextKey.Length != KeySize)
            throw new ArgumentException($"Map '{Name}' has {KeySize}-byte keys; the buffer has {nextKey.Length}.", nameof(nextKey));
        fixed (byte* k = key)
        fixed (byte* n = nextKey)
        {
            var result = Interop.Libbpf.MapGetNextKey(_fd, key.IsEmpty ? null : k, n);
            if (result == -Interop.ENOENT)
                return false;
            Interop.ThrowIfFailed(result, "bpf_map_get_next_key", Name);
            return true;
        }
    }

    /// <summary>
    /// Points slot <paramref name="index"/> of an ARRAY_OF_MAPS at <paramref name="inner"/>. The kernel
    /// swaps the pointer atomically: a program sees the old inner map or the new one, never a mix.
    /// </summary>
    public void SetInnerMap(uint index, BpfMap inner, BpfUpdateFlags flags = BpfUpdateFlags.Any)
    {
        ArgumentNullException.ThrowIfNull(inner);
        RequireMapOfMaps();
        using var lease = new SafeHandleLease(inner.Handle);
        var fd = (uint)lease.Fd;
        Update(AsBytes(ref index), AsBytes(ref fd), flags);
    }

    /// <summary>
    /// Points each slot <paramref name="indices"/>[i] of an ARRAY_OF_MAPS at <paramref name="inners"/>[i] in
    /// one BPF_MAP_UPDATE_BATCH. Each slot swaps atomically as with <see cref="SetInnerMap"/>; the batch as a
    /// whole does not. The kernel waits for running programs once per update of a map of maps (an RCU grace
    /// period, milliseconds), so one batch instead of one update per slot is what makes thousands of table
    /// swaps affordable. Returns the number written; a failure part-way is a <see cref="BpfBatchException"/>
    /// saying how many slots were written before it.
    /// </summary>
    public int SetInnerMaps(ReadOnlySpan<uint> indices, ReadOnlySpan<BpfMap> inners)
    {
        RequireMapOfMaps();
        if (indices.Length != inners.Length)
            throw new ArgumentException($"{indices.Length} slots but {inners.Length} inner maps.", nameof(inners));
        if (indices.IsEmpty)
            return 0;
        var handles = new SafeFileDescriptor[inners.Length];
        var descriptors = new uint[inners.Length];
        var added = 0;
        try
        {
            for (var i = 0; i < inners.Length; i++)
            {
                ArgumentNullException.ThrowIfNull(inners[i], nameof(inners));
                var ok = false;
                inners[i].Handle.DangerousAddRef(ref ok);
                handles[added++] = inners[i].Handle;
                descriptors[i] = (uint)inners[i].Handle.Value;
            }
            return UpdateBatch(MemoryMarshal.AsBytes(indices), MemoryMarshal.AsBytes(descriptors.AsSpan()), indices.Length);
        }
        finally
        {
            for (var i = 0; i < added; i++)
                handles[i].DangerousRelease();
        }
    }

    /// <summary>
    /// Writes <paramref name="count"/> keys and values (packed, <see cref="KeySize"/> and <see cref="ValueSize"/>
    /// bytes each) with one BPF_MAP_UPDATE_BATCH. Returns the number written; a failure part-way is a
    /// <see cref="BpfBatchException"/> whose inner exception is the element's typed error.
    /// </summary>
    public int UpdateBatch(ReadOnlySpan<byte> keys, ReadOnlySpan<byte> values, int count, BpfUpdateFlags flags = BpfUpdateFlags.Any)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (IsPerCpu)
            throw new InvalidOperationException($"Map '{Name}' is a per-CPU map; batch updates here take one value per key.");
        if (keys.Length != count * KeySize)
            throw new ArgumentException($"{count} keys of map '{Name}' take {count * KeySize} bytes; the span has {keys.Length}.", nameof(keys));
        if (values.Length != count * ValueSize)
            throw new ArgumentException($"{count} values of map '{Name}' take {count * ValueSize} bytes; the span has {values.Length}.", nameof(values));
        if (count == 0)
            return 0;
        fixed (byte* k = keys)
        fixed (byte* v = values)
        {
            var opts = new Interop.Libbpf.BpfMapBatchOpts { Sz = (nuint)sizeof(Interop.Libbpf.BpfMapBatchOpts), ElemFlags = (ulong)flags };
            var processed = (uint)count;
            var result = Interop.Libbpf.MapUpdateBatch(_fd, k, v, &processed, &opts);
            if (result < 0)
            {
                var cause = Interop.GetExceptionForMapUpdate(-result, Name, Type, MaxEntries, "bpf_map_update_batch");
                throw new BpfBatchException(cause, (int)Math.Min(processed, (uint)count), count);
            }
            return count;
        }
    }

    /// <summary>
    /// Writes <paramref name="values"/>[i] to index i of a BPF_F_MMAPABLE ARRAY through a shared mapping of
    /// its memory: one copy instead of a syscall per element (a 16381-slot Maglev table takes tens of
    /// microseconds this way, against milliseconds for a batch update). Only for a map no program reads
    /// yet, or whose readers tolerate a value changing under them: the writes are plain stores.
    /// </summary>
    public void WriteMapped<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        if (Type != BpfMapType.Array || !Info.Flags.HasFlag(BpfMapFlags.Mmapable))
            throw new InvalidOperationException($"Map '{Name}' is a {Type} map with flags {Info.Flags}; only an ARRAY created with {BpfMapFlags.Mmapable} can be written through a mapping.");
        if (sizeof(T) != ValueSize)
            throw new ArgumentException($"Map '{Name}' has {ValueSize}-byte values; {typeof(T).Name} is {sizeof(T)} bytes.", nameof(values));
        if ((uint)values.Length > MaxEntries)
            throw new ArgumentException($"Map '{Name}' has {MaxEntries} entries; {values.Length} values do not fit.", nameof(values));

        // An array map lays its elements out round_up(value_size, 8) bytes apart (kernel/bpf/arraymap.c),
        // and the mapping covers max_entries of them from the first, rounded up to whole pages.
        var stride = PerCpuStride(ValueSize);
        var page = (nuint)Environment.SystemPageSize;
        var length = ((nuint)MaxEntries * (nuint)stride + page - 1) / page * page;
        var address = Interop.Libc.Mmap(null, length, Interop.Libc.PROT_READ | Interop.Libc.PROT_WRITE, Interop.Libc.MAP_SHARED, _fd, 0);
        if (address == (void*)-1)
            throw Interop.GetExceptionForLastErrno("mmap", Name);
        try
        {
            var memory = new Span<byte>(address, checked((int)length));
            if (stride == sizeof(T))
            {
                MemoryMarshal.AsBytes(values).CopyTo(memory);
            }
            else
            {
                for (var i = 0; i < values.Length; i++)
                    MemoryMarshal.Write(memory.Slice(i * stride, sizeof(T)), in values[i]);
            }
        }
        finally
        {
            // munmap fails only for an invalid range, which this one cannot be.
            Interop.Libc.Munmap(address, length);
        }
    }

    /// <summary>The id of the inner map in slot <paramref name="index"/> (user space reads ids, programs read maps).</summary>
    public bool TryGetInnerMapId(uint index, out uint innerMapId)
    {
        RequireMapOfMaps();
        innerMapId = 0;
        return TryLookup(AsBytes(ref index), AsBytes(ref innerMapId));
    }

    /// <summary>A typed view; the sizes of <typeparamref name="TKey"/> and <typeparamref name="TValue"/> must match the map's.</summary>
    public BpfMap<TKey, TValue> As<TKey, TValue>() where TKey : unmanaged where TValue : unmanaged => new(this);

    public void Dispose() => _fd.Dispose();

    public override string ToString() => $"{Type} map '{Name}' (id {Id}, key {KeySize} B, value {ValueSize} B, {MaxEntries} entries)";

    internal static int PerCpuStride(int valueSize) => (valueSize + 7) & ~7;

    internal static void ValidateObjectName(string name, string parameter)
    {
        ArgumentNullException.ThrowIfNull(name, parameter);
        // The kernel keeps BPF_OBJ_NAME_LEN - 1 characters and refuses anything but [A-Za-z0-9_.].
        if (name.Length >= Interop.Libbpf.BPF_OBJ_NAME_LEN)
            throw new ArgumentException($"BPF object name '{name}' is longer than {Interop.Libbpf.BPF_OBJ_NAME_LEN - 1} characters.", parameter);
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.'))
                throw new ArgumentException($"BPF object name '{name}' may hold only letters, digits, '_' and '.'.", parameter);
        }
    }

    internal static Span<byte> AsBytes<T>(ref T value) where T : unmanaged =>
        MemoryMarshal.AsBytes(new Span<T>(ref value));

    private void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize)
            throw new ArgumentException($"Map '{Name}' has {KeySize}-byte keys; the key has {key.Length}.", nameof(key));
    }

    private void RequireMapOfMaps()
    {
        if (Type != BpfMapType.ArrayOfMaps)
            throw new InvalidOperationException($"Map '{Name}' is a {Type} map, not an ARRAY_OF_MAPS.");
    }

    private static BpfMapInfo QueryInfo(SafeFileDescriptor fd)
    {
        var info = default(Interop.Libbpf.BpfMapInfo);
        var length = (uint)sizeof(Interop.Libbpf.BpfMapInfo);
        Interop.ThrowIfFailed(Interop.Libbpf.ObjGetInfoByFd(fd, &info, &length), "bpf_obj_get_info_by_fd");
        return new BpfMapInfo((BpfMapType)info.Type, info.Id, CString(info.Name), info.KeySize, info.ValueSize, info.MaxEntries, (BpfMapFlags)info.MapFlags);
    }

    internal static string CString(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
