namespace Lb.Native;

/// <summary>A native call failed with an errno. The message names the call and what it acted on.</summary>
public class NativeErrorException : Exception
{
    public NativeErrorException(int errno, string operation, string? target, string message)
        : base(message)
    {
        Errno = errno;
        Operation = operation;
        Target = target;
    }

    /// <summary>The positive errno value (ENOENT = 2, ...).</summary>
    public int Errno { get; }

    /// <summary>The native function that failed, e.g. <c>bpf_map_update_elem</c>.</summary>
    public string Operation { get; }

    /// <summary>What it acted on: a map name, a path, an interface; null when there is nothing to name.</summary>
    public string? Target { get; }

    /// <summary>The symbolic name, e.g. "ENOENT".</summary>
    public string ErrnoName => Interop.ErrnoName(Errno);
}

/// <summary>A libbpf or bpf() call failed.</summary>
public class BpfException : NativeErrorException
{
    public BpfException(int errno, string operation, string? target, string message)
        : base(errno, operation, target, message)
    {
    }
}

/// <summary>An update found no free entry in a map that grows (hash, LPM trie): the map needs more entries.</summary>
public sealed class BpfMapFullException : BpfException
{
    public BpfMapFullException(int errno, string operation, string mapName, uint maxEntries, string message)
        : base(errno, operation, mapName, message)
    {
        MapName = mapName;
        MaxEntries = maxEntries;
    }

    public string MapName { get; }

    public uint MaxEntries { get; }
}
