namespace Lb.Native;

/// <summary>enum bpf_map_type (linux/bpf.h).</summary>
public enum BpfMapType : uint
{
    Unspec = 0,
    Hash = 1,
    Array = 2,
    ProgArray = 3,
    PerfEventArray = 4,
    PercpuHash = 5,
    PercpuArray = 6,
    StackTrace = 7,
    CgroupArray = 8,
    LruHash = 9,
    LruPercpuHash = 10,
    LpmTrie = 11,
    ArrayOfMaps = 12,
    HashOfMaps = 13,
    Devmap = 14,
    Sockmap = 15,
    Cpumap = 16,
    Xskmap = 17,
    Sockhash = 18,
    CgroupStorage = 19,
    ReuseportSockarray = 20,
    PercpuCgroupStorage = 21,
    Queue = 22,
    Stack = 23,
    SkStorage = 24,
    DevmapHash = 25,
    StructOps = 26,
    Ringbuf = 27,
    InodeStorage = 28,
    TaskStorage = 29,
    BloomFilter = 30,
    UserRingbuf = 31,
}

/// <summary>BPF_F_* map creation flags (linux/bpf.h).</summary>
[Flags]
public enum BpfMapFlags : uint
{
    None = 0,
    /// <summary>Hash maps allocate entries on insert instead of up front.</summary>
    NoPrealloc = 1u << 0,
    /// <summary>LRU maps keep one LRU list per CPU.</summary>
    NoCommonLru = 1u << 1,
    NumaNode = 1u << 2,
    Rdonly = 1u << 3,
    Wronly = 1u << 4,
    ZeroSeed = 1u << 6,
    RdonlyProg = 1u << 7,
    WronlyProg = 1u << 8,
    Mmapable = 1u << 10,
    /// <summary>On an inner array: a map of maps may hold inner arrays of other sizes than its template.</summary>
    InnerMap = 1u << 12,
}

/// <summary>BPF_ANY / BPF_NOEXIST / BPF_EXIST: when an update may create or overwrite.</summary>
public enum BpfUpdateFlags : ulong
{
    /// <summary>Create or overwrite.</summary>
    Any = 0,
    /// <summary>Create only; fails with EEXIST when the key is present.</summary>
    NoExist = 1,
    /// <summary>Overwrite only; fails with ENOENT when the key is absent.</summary>
    Exist = 2,
}

/// <summary>enum bpf_prog_type (linux/bpf.h), the types Lb loads.</summary>
public enum BpfProgramType : uint
{
    Unspec = 0,
    SocketFilter = 1,
    SchedCls = 3,
    Xdp = 6,
}

/// <summary>enum xdp_action: what an XDP program returns.</summary>
public enum XdpAction : uint
{
    Aborted = 0,
    Drop = 1,
    Pass = 2,
    Tx = 3,
    Redirect = 4,
}

/// <summary>What the kernel reports about a map (bpf_obj_get_info_by_fd on a map).</summary>
public sealed record BpfMapInfo(BpfMapType Type, uint Id, string Name, uint KeySize, uint ValueSize, uint MaxEntries, BpfMapFlags Flags);

/// <summary>What the kernel reports about a program (bpf_obj_get_info_by_fd on a program).</summary>
public sealed record BpfProgramInfo(BpfProgramType Type, uint Id, string Name, string Tag);
