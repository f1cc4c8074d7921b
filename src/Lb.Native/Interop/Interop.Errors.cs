using System.Runtime.InteropServices;
using System.Text;
using Lb.Native;

internal static partial class Interop
{
    // errno values this code distinguishes (asm-generic/errno-base.h, errno.h).
    internal const int ENOENT = 2;
    internal const int E2BIG = 7;
    internal const int EEXIST = 17;
    internal const int EINVAL = 22;
    internal const int EBUSY = 16;
    internal const int ENOSPC = 28;

    /// <summary>libbpf 1.x returns <c>-errno</c> from a failed call; a non-negative result passes through.</summary>
    internal static int ThrowIfFailed(int result, string operation, string? target = null)
    {
        if (result < 0)
            throw GetExceptionForBpfError(-result, operation, target);
        return result;
    }

    /// <summary>A descriptor returned by libbpf, or <c>-errno</c>; wrapped before anything else can happen to it.</summary>
    internal static SafeFileDescriptor ThrowIfFailedDescriptor(int result, string operation, string? target = null, string? detail = null)
    {
        if (result < 0)
            throw GetExceptionForBpfError(-result, operation, target, detail);
        return new SafeFileDescriptor(result, ownsHandle: true);
    }

    /// <summary>A descriptor returned by libc, or -1 with errno set.</summary>
    internal static SafeFileDescriptor ThrowIfFailedLibcDescriptor(int result, string operation, string? target = null)
    {
        if (result < 0)
            throw GetExceptionForLastErrno(operation, target);
        return new SafeFileDescriptor(result, ownsHandle: true);
    }

    /// <summary>A libc call that returned -1: errno comes from the generated SetLastError capture.</summary>
    internal static NativeErrorException GetExceptionForLastErrno(string operation, string? target = null)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new NativeErrorException(errno, operation, target, FormatMessage(errno, operation, target, detail: null));
    }

    internal static BpfException GetExceptionForBpfError(int errno, string operation, string? target, string? detail = null) =>
        new(errno, operation, target, FormatMessage(errno, operation, target, detail));

    /// <summary>
    /// bpf_map_update_elem's errors: E2BIG from a map that grows (hash, LRU, LPM) or ENOSPC from an LPM
    /// trie means it is full; E2BIG from an array means the index is past max_entries.
    /// </summary>
    internal static BpfException GetExceptionForMapUpdate(int errno, string mapName, BpfMapType type, uint maxEntries,
        string operation = "bpf_map_update_elem")
    {
        var indexed = type is BpfMapType.Array or BpfMapType.PercpuArray or BpfMapType.ArrayOfMaps or BpfMapType.ProgArray
            or BpfMapType.PerfEventArray or BpfMapType.CgroupArray or BpfMapType.Devmap or BpfMapType.Cpumap or BpfMapType.Xskmap;
        if ((errno == E2BIG && !indexed) || errno == ENOSPC)
        {
            return new BpfMapFullException(errno, operation, mapName, maxEntries,
                $"BPF map '{mapName}' is full: all {maxEntries} entries are in use ({operation}: {ErrnoName(errno)}).");
        }
        if (errno == E2BIG)
            return GetExceptionForBpfError(errno, operation, mapName, $"the index is not below max_entries {maxEntries}");
        return GetExceptionForBpfError(errno, operation, mapName);
    }

    internal static string FormatMessage(int errno, string operation, string? target, string? detail)
    {
        var builder = new StringBuilder(operation);
        if (target is not null)
            builder.Append('(').Append(target).Append(')');
        builder.Append(" failed: ").Append(Describe(errno)).Append(" (").Append(ErrnoName(errno)).Append(')');
        if (detail is not null)
            builder.Append(": ").Append(detail);
        return builder.ToString();
    }

    /// <summary>libbpf_strerror knows libbpf's own codes (4000 and up) as well as the system's.</summary>
    internal static unsafe string Describe(int errno)
    {
        const int size = 256;
        byte* buffer = stackalloc byte[size];
        if (Libbpf.Strerror(errno, buffer, size) < 0)
            return Marshal.GetPInvokeErrorMessage(errno);
        return Marshal.PtrToStringUTF8((nint)buffer) ?? $"error {errno}";
    }

    internal static string ErrnoName(int errno) => errno switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        7 => "E2BIG",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        24 => "EMFILE",
        28 => "ENOSPC",
        34 => "ERANGE",
        38 => "ENOSYS",
        40 => "ELOOP",
        95 => "EOPNOTSUPP",
        524 => "ENOTSUPP",
        _ => $"errno {errno}",
    };
}
