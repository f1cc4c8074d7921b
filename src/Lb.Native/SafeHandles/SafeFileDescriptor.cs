using System.Runtime.InteropServices;

namespace Lb.Native;

/// <summary>
/// A file descriptor: a BPF map, program or link, or a namespace file. Negative values are invalid.
/// </summary>
public sealed class SafeFileDescriptor : SafeHandle
{
    internal SafeFileDescriptor(int fd, bool ownsHandle) : base(invalidHandleValue: -1, ownsHandle)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => (nint)handle < 0;

    /// <summary>The descriptor number, valid only while this handle is alive and not disposed.</summary>
    internal int Value => (int)handle;

    /// <summary>
    /// What the descriptor refers to, from its /proc/self/fd link: "anon_inode:bpf-map",
    /// "anon_inode:bpf-prog", "anon_inode:bpf_link", a path...
    /// </summary>
    internal string? DescribeTarget()
    {
        var added = false;
        try
        {
            DangerousAddRef(ref added);
            return new FileInfo($"/proc/self/fd/{(int)handle}").LinkTarget;
        }
        finally
        {
            if (added)
                DangerousRelease();
        }
    }

    // Never retried on EINTR: Linux releases the descriptor before close() can report EINTR, so a
    // retry could close a descriptor another thread has just been given.
    protected override bool ReleaseHandle() => Interop.Libc.Close((int)handle) == 0;
}

/// <summary>A libbpf <c>struct bpf_object *</c>, closed with <c>bpf_object__close</c> (which also closes its maps and programs).</summary>
public sealed class SafeBpfObjectHandle : SafeHandle
{
    public SafeBpfObjectHandle() : base(invalidHandleValue: 0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        Interop.Libbpf.ObjectClose(handle);
        return true;
    }
}

/// <summary>
/// Keeps a SafeHandle alive while its raw value sits in a native struct (an opts field), the one
/// place where the generated marshalling cannot do it.
/// </summary>
internal ref struct SafeHandleLease
{
    private readonly SafeHandle? _handle;
    private bool _added;

    public SafeHandleLease(SafeHandle handle)
    {
        _handle = handle;
        _added = false;
        handle.DangerousAddRef(ref _added);
    }

    public readonly int Fd => (int)_handle!.DangerousGetHandle();

    public void Dispose()
    {
        if (_added)
        {
            _handle!.DangerousRelease();
            _added = false;
        }
    }
}
