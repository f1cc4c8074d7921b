using System.Runtime.InteropServices;

namespace Lb.Native;

/// <summary>How <see cref="BpfObject.Open"/> opens an ELF object.</summary>
public sealed record BpfObjectOpenOptions
{
    /// <summary>
    /// Where maps declared with <c>LIBBPF_PIN_BY_NAME</c> are pinned (default /sys/fs/bpf). At load,
    /// libbpf reuses a compatible map already pinned there under the same name, or creates and pins one:
    /// this is how a restarted agent adopts the running maps.
    /// </summary>
    public string? PinRootPath { get; init; }

    /// <summary>Overrides the object name libbpf takes from the file name.</summary>
    public string? ObjectName { get; init; }
}

/// <summary>
/// A BPF ELF object opened by libbpf: size its maps, load, then take maps and programs by name.
/// Maps and programs taken from it hold their own descriptors and stay valid after it is disposed.
/// </summary>
public sealed unsafe class BpfObject : IDisposable
{
    private readonly SafeBpfObjectHandle _handle;
    private readonly string _path;
    // Inner map templates handed to libbpf; the kernel copies what it needs when the outer map is created.
    private readonly Dictionary<string, BpfMap> _innerTemplates = [];
    private bool _loaded;

    private BpfObject(SafeBpfObjectHandle handle, string path)
    {
        _handle = handle;
        _path = path;
    }

    public bool IsLoaded => _loaded;

    public static BpfObject Open(string path, BpfObjectOpenOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var pinRoot = options?.PinRootPath is { } root ? Marshal.StringToCoTaskMemUTF8(root) : 0;
        var objectName = options?.ObjectName is { } name ? Marshal.StringToCoTaskMemUTF8(name) : 0;
        try
        {
            var opts = new Interop.Libbpf.BpfObjectOpenOpts
            {
                Sz = (nuint)sizeof(Interop.Libbpf.BpfObjectOpenOpts),
                PinRootPath = (byte*)pinRoot,
                ObjectName = (byte*)objectName,
            };
            using var capture = LibbpfLog.Capture();
            var handle = Interop.Libbpf.ObjectOpenFile(path, &opts);
            if (handle.IsInvalid)
            {
                var errno = Marshal.GetLastPInvokeError();
                handle.Dispose();
                throw Interop.GetExceptionForBpfError(errno, "bpf_object__open_file", path, LogDetail(capture.Text));
            }
            return new BpfObject(handle, path);
        }
        finally
        {
            // libbpf copies both strings while opening.
            Marshal.FreeCoTaskMem(pinRoot);
            Marshal.FreeCoTaskMem(objectName);
        }
    }

    public IReadOnlyList<string> MapNames
    {
        get
        {
            var names = new List<string>();
            for (var map = Interop.Libbpf.ObjectNextMap(_handle, 0); map != 0; map = Interop.Libbpf.ObjectNextMap(_handle, map))
                names.Add(Utf8(Interop.Libbpf.MapName(map)));
            return names;
        }
    }

    public IReadOnlyList<string> ProgramNames
    {
        get
        {
            var names = new List<string>();
            for (var prog = Interop.Libbpf.ObjectNextProgram(_handle, 0); prog != 0; prog = Interop.Libbpf.ObjectNextProgram(_handle, prog))
                names.Add(Utf8(Interop.Libbpf.ProgramName(prog)));
            return names;
        }
    }

    /// <summary>Sets a map's max_entries; only before <see cref="Load"/>.</summary>
    public void SetMaxEntries(string mapName, uint maxEntries)
    {
        RequireNotLoaded(nameof(SetMaxEntries));
        ArgumentOutOfRangeException.ThrowIfZero(maxEntries);
        var map = FindMap(mapName);
        Interop.ThrowIfFailed(Interop.Libbpf.MapSetMaxEntries(map, maxEntries), "bpf_map__set_max_entries", mapName);
    }

    /// <summary>
    /// Sets max_entries of the inner maps of a map of maps (e.g. the Maglev table size M); only before
    /// <see cref="Load"/>. Inner maps inserted later must have this size (unless the flags include
    /// <see cref="BpfMapFlags.InnerMap"/>) and exactly the template's flags: <paramref name="flags"/>, or
    /// the definition's when null.
    /// </summary>
    public void SetInnerMapMaxEntries(string mapName, uint maxEntries, BpfMapFlags? flags = null)
    {
        RequireNotLoaded(nameof(SetInnerMapMaxEntries));
        ArgumentOutOfRangeException.ThrowIfZero(maxEntries);
        if (_innerTemplates.ContainsKey(mapName))
            throw new InvalidOperationException($"The inner map size of '{mapName}' is already set for this load.");
        var outer = FindMap(mapName);
        var inner = Interop.Libbpf.MapInnerMap(outer);
        if (inner == 0)
            throw new ArgumentException($"Map '{mapName}' in {_path} is not a map of maps with an inner map definition.", nameof(mapName));

        // bpf_map__set_max_entries on the inner definition would be the direct way, but libbpf 1.1
        // reads map->obj->loaded there and an inner definition has no obj: a NULL dereference. So build
        // the template from the definition at the new size and hand libbpf its descriptor instead
        // (bpf_map__set_inner_map_fd drops the definition and uses the template for the outer map).
        var template = BpfMap.Create((BpfMapType)Interop.Libbpf.MapType(inner), "lb_inner_tpl",
            (int)Interop.Libbpf.MapKeySize(inner), (int)Interop.Libbpf.MapValueSize(inner), maxEntries,
            new BpfMapCreateOptions { Flags = flags ?? (BpfMapFlags)Interop.Libbpf.MapMapFlags(inner) });
        try
        {
            Interop.ThrowIfFailed(Interop.Libbpf.MapSetInnerMapFd(outer, template.Handle), "bpf_map__set_inner_map_fd", mapName);
        }
        catch
        {
            template.Dispose();
            throw;
        }
        _innerTemplates.Add(mapName, template);
    }

    public uint GetMaxEntries(string mapName) => Interop.Libbpf.MapMaxEntries(FindMap(mapName));

    /// <summary>The path the map is (or will be) pinned at, or null for a map that is not pinned by name.</summary>
    public string? GetMapPinPath(string mapName)
    {
        var path = Interop.Libbpf.MapPinPath(FindMap(mapName));
        return path is null ? null : Utf8(path);
    }

    /// <summary>Whether libbpf pinned the map at load (or reused a map already pinned there).</summary>
    public bool IsMapPinned(string mapName) => Interop.Libbpf.MapIsPinned(FindMap(mapName));

    /// <summary>Creates (or, for pinned maps, reuses) the maps and loads the programs. A verifier rejection quotes libbpf's log.</summary>
    public void Load()
    {
        RequireNotLoaded(nameof(Load));
        using var capture = LibbpfLog.Capture();
        var result = Interop.Libbpf.ObjectLoad(_handle);
        if (result < 0)
            throw Interop.GetExceptionForBpfError(-result, "bpf_object__load", _path, LogDetail(capture.Text));
        _loaded = true;
        DisposeInnerTemplates();
    }

    /// <summary>A loaded map, with its own descriptor.</summary>
    public BpfMap GetMap(string name)
    {
        RequireLoaded(nameof(GetMap));
        var fd = Interop.Libbpf.MapFd(FindMap(name));
        return new BpfMap(Duplicate(fd, name));
    }

    /// <summary>A loaded program, with its own descriptor.</summary>
    public BpfProgram GetProgram(string name)
    {
        RequireLoaded(nameof(GetProgram));
        ArgumentException.ThrowIfNullOrEmpty(name);
        var prog = Interop.Libbpf.ObjectFindProgramByName(_handle, name);
        if (prog == 0)
            throw new ArgumentException($"{_path} has no program '{name}'; it has: {string.Join(", ", ProgramNames)}.", nameof(name));
        return new BpfProgram(Duplicate(Interop.Libbpf.ProgramFd(prog), name));
    }

    public void Dispose()
    {
        _handle.Dispose();
        DisposeInnerTemplates();
    }

    private void DisposeInnerTemplates()
    {
        foreach (var template in _innerTemplates.Values)
            template.Dispose();
        _innerTemplates.Clear();
    }

    private nint FindMap(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var map = Interop.Libbpf.ObjectFindMapByName(_handle, name);
        if (map == 0)
            throw new ArgumentException($"{_path} has no map '{name}'; it has: {string.Join(", ", MapNames)}.", nameof(name));
        return map;
    }

    private static SafeFileDescriptor Duplicate(int fd, string name)
    {
        Interop.ThrowIfFailed(fd, "bpf_map__fd", name);
        using var borrowed = new SafeFileDescriptor(fd, ownsHandle: false);
        return Interop.ThrowIfFailedLibcDescriptor(
            Interop.Libc.FcntlDupFd(borrowed, Interop.Libc.F_DUPFD_CLOEXEC, 0), "fcntl(F_DUPFD_CLOEXEC)", name);
    }

    private void RequireNotLoaded(string operation)
    {
        if (_loaded)
            throw new InvalidOperationException($"{operation} must come before Load ({_path} is loaded).");
    }

    private void RequireLoaded(string operation)
    {
        if (!_loaded)
            throw new InvalidOperationException($"{operation} needs the object loaded first ({_path}).");
    }

    private static string? LogDetail(string log) => log.Length == 0 ? null : "libbpf log:\n" + log.TrimEnd();

    private static string Utf8(byte* text) => Marshal.PtrToStringUTF8((nint)text) ?? "";
}
