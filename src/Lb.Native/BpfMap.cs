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
