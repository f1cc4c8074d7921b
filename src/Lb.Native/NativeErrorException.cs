namespace Lb.Native;

/// <summary>A native call failed with an errno. The message names the call and what it acted on.</summary>
public class NativeErrorException : Exception
{
    public NativeErrorException(int errno, string operation, string? target, string message, Exception? innerException = null)
        : base(message, innerException)
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
    public BpfException(int errno, string operation, string? target, string message, Exception? innerException = null)
        : base(errno, operation, target, message, innerException)
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

/// <summary>
/// A batch update stopped part-way: the first <see cref="Processed"/> elements were written, the rest
/// were not. <see cref="Exception.InnerException"/> is the typed error of the element that failed.
/// </summary>
public sealed class BpfBatchException : BpfException
{
    public BpfBatchException(BpfException cause, int processed, int count)
        : base(cause.Errno, cause.Operation, cause.Target, $"{cause.Message} (after {processed} of {count} elements)", cause)
    {
        Processed = processed;
        Count = count;
    }

    /// <summary>Elements written before the failure, from the start of the batch.</summary>
    public int Processed { get; }

    /// <summary>Elements the batch held.</summary>
    public int Count { get; }
}
