using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Native;

/// <summary>Where an XDP program runs: in the driver (native) or after the kernel built an skb (generic).</summary>
public enum XdpMode
{
    None = 0,
    Native = 1,
    Generic = 2,
    Offloaded = 3,
    /// <summary>Programs in more than one mode at once.</summary>
    Multiple = 4,
}

/// <summary>What is attached to one interface (bpf_xdp_query); ids are 0 where nothing is attached.</summary>
public readonly record struct XdpQueryResult(XdpMode Mode, uint ProgramId, uint NativeProgramId, uint GenericProgramId, uint OffloadedProgramId)
{
    public bool IsAttached => Mode != XdpMode.None;
}

/// <summary>
/// An XDP program attached to an interface over netlink (bpf_xdp_attach), not through a BPF link: it
/// stays attached when this process exits, so the datapath outlives an agent restart. Disposing this
/// object only closes its descriptor; <see cref="Detach"/> removes the program.
/// </summary>
public sealed unsafe partial class XdpAttachment : IDisposable
{
    private SafeFileDescriptor _program;

    private XdpAttachment(int ifindex, XdpMode mode, SafeFileDescriptor program, uint programId)
    {
        Ifindex = ifindex;
        Mode = mode;
        _program = program;
        ProgramId = programId;
    }

    public int Ifindex { get; }
    public XdpMode Mode { get; }
    /// <summary>The program this attachment put (or found) on the interface.</summary>
    public uint ProgramId { get; private set; }

    /// <summary>
    /// Attaches <paramref name="program"/> to <paramref name="ifindex"/> in <paramref name="mode"/>. In
    /// native mode a driver without XDP support falls back to generic mode with a warning, unless
    /// <paramref name="allowGenericFallback"/> is false. An interface that already has an XDP program is
    /// an error: <see cref="Adopt"/> it and <see cref="Replace"/> the program instead.
    /// </summary>
    public static XdpAttachment Attach(int ifindex, BpfProgram program, XdpMode mode = XdpMode.Native,
        bool allowGenericFallback = true, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifindex);
        if (mode is not (XdpMode.Native or XdpMode.Generic))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Attach in Native or Generic mode.");
        logger ??= NullLogger.Instance;

        var result = AttachOnce(ifindex, program, mode);
        if (result < 0 && mode == XdpMode.Native && allowGenericFallback && !IsAlreadyAttached(-result))
        {
            var reason = Interop.FormatMessage(-result, "bpf_xdp_attach", Interfaces.NameOf(ifindex), detail: null);
            LogGenericFallback(logger, Interfaces.NameOf(ifindex), ifindex, reason);
            mode = XdpMode.Generic;
            result = AttachOnce(ifindex, program, mode);
        }
        if (result < 0)
        {
            var errno = -result;
            var detail = IsAlreadyAttached(errno)
                ? $"interface already has an XDP program ({Query(ifindex)}); adopt and replace it instead"
                : null;
            throw Interop.GetExceptionForBpfError(errno, "bpf_xdp_attach", $"{Interfaces.NameOf(ifindex)} ({mode})", detail);
        }
        LogAttached(logger, program.Name, program.Id, Interfaces.NameOf(ifindex), ifindex, mode);
        return new XdpAttachment(ifindex, mode, Duplicate(program), program.Id);
    }

    /// <summary>Takes over the program already attached to <paramref name="ifindex"/> (after an agent restart); null when there is none.</summary>
    public static XdpAttachment? Adopt(int ifindex)
    {
        var query = Query(ifindex);
        if (!query.IsAttached)
            return null;
        if (query.Mode is not (XdpMode.Native or XdpMode.Generic))
            throw new InvalidOperationException($"Interface {Interfaces.NameOf(ifindex)} has XDP in {query.Mode} mode; only native or generic programs can be adopted.");
        var fd = Interop.ThrowIfFailedDescriptor(Interop.Libbpf.ProgGetFdById(query.ProgramId), "bpf_prog_get_fd_by_id", $"id {query.ProgramId}");
        return new XdpAttachment(ifindex, query.Mode, fd, query.ProgramId);
    }

    /// <summary>
    /// Swaps in <paramref name="replacement"/> atomically (XDP_FLAGS_REPLACE): no frame runs without a
    /// program, and the kernel refuses with EEXIST when someone else changed the program meanwhile.
    /// </summary>
    public void Replace(BpfProgram replacement, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        var previousId = ProgramId;
        using (var expected = new SafeHandleLease(_program))
        {
            var opts = new Interop.Libbpf.BpfXdpAttachOpts { Sz = (nuint)sizeof(Interop.Libbpf.BpfXdpAttachOpts), OldProgFd = expected.Fd };
            var result = Interop.Libbpf.XdpAttach(Ifindex, replacement.Handle, ModeFlag(Mode) | Interop.Libbpf.XDP_FLAGS_REPLACE, &opts);
            Interop.ThrowIfFailed(result, "bpf_xdp_attach(XDP_FLAGS_REPLACE)", $"{Interfaces.NameOf(Ifindex)} ({Mode})");
        }
        var old = _program;
        _program = Duplicate(replacement);
        ProgramId = replacement.Id;
        old.Dispose();
        LogReplaced(logger ?? NullLogger.Instance, Interfaces.NameOf(Ifindex), Ifindex, previousId, replacement.Id);
    }

    /// <summary>Removes this attachment's program from the interface, only if it is still the one attached.</summary>
    public void Detach(ILogger? logger = null)
    {
        using (var expected = new SafeHandleLease(_program))
        {
            var opts = new Interop.Libbpf.BpfXdpAttachOpts { Sz = (nuint)sizeof(Interop.Libbpf.BpfXdpAttachOpts), OldProgFd = expected.Fd };
            var result = Interop.Libbpf.XdpDetach(Ifindex, ModeFlag(Mode) | Interop.Libbpf.XDP_FLAGS_REPLACE, &opts);
            Interop.ThrowIfFailed(result, "bpf_xdp_detach", $"{Interfaces.NameOf(Ifindex)} ({Mode})");
        }
        LogDetached(logger ?? NullLogger.Instance, Interfaces.NameOf(Ifindex), Ifindex, ProgramId);
    }

    /// <summary>The XDP programs on <paramref name="ifindex"/>, in the calling thread's network namespace.</summary>
    public static XdpQueryResult Query(int ifindex)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifindex);
        var opts = new Interop.Libbpf.BpfXdpQueryOpts { Sz = (nuint)sizeof(Interop.Libbpf.BpfXdpQueryOpts) };
        Interop.ThrowIfFailed(Interop.Libbpf.XdpQuery(ifindex, 0, &opts), "bpf_xdp_query", $"ifindex {ifindex}");
        var mode = opts.AttachMode switch
        {
            Interop.Libbpf.XDP_ATTACHED_NONE => XdpMode.None,
            Interop.Libbpf.XDP_ATTACHED_DRV => XdpMode.Native,
            Interop.Libbpf.XDP_ATTACHED_SKB => XdpMode.Generic,
            Interop.Libbpf.XDP_ATTACHED_HW => XdpMode.Offloaded,
            Interop.Libbpf.XDP_ATTACHED_MULTI => XdpMode.Multiple,
            var other => throw new InvalidOperationException($"bpf_xdp_query reported an unknown attach mode {other}."),
        };
        return new XdpQueryResult(mode, opts.ProgId, opts.DrvProgId, opts.SkbProgId, opts.HwProgId);
    }

    public void Dispose() => _program.Dispose();

    private static int AttachOnce(int ifindex, BpfProgram program, XdpMode mode) =>
        Interop.Libbpf.XdpAttach(ifindex, program.Handle, ModeFlag(mode) | Interop.Libbpf.XDP_FLAGS_UPDATE_IF_NOEXIST, null);

    // EBUSY: a program is attached and UPDATE_IF_NOEXIST forbids replacing it; EEXIST: one runs in the other mode.
    private static bool IsAlreadyAttached(int errno) => errno is Interop.EBUSY or Interop.EEXIST;

    private static uint ModeFlag(XdpMode mode) => mode switch
    {
        XdpMode.Native => Interop.Libbpf.XDP_FLAGS_DRV_MODE,
        XdpMode.Generic => Interop.Libbpf.XDP_FLAGS_SKB_MODE,
        XdpMode.Offloaded => Interop.Libbpf.XDP_FLAGS_HW_MODE,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Not a single attach mode."),
    };

    private static SafeFileDescriptor Duplicate(BpfProgram program) =>
        Interop.ThrowIfFailedLibcDescriptor(
            Interop.Libc.FcntlDupFd(program.Handle, Interop.Libc.F_DUPFD_CLOEXEC, 0), "fcntl(F_DUPFD_CLOEXEC)", program.Name);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning,
        Message = "Native XDP is not available on {Interface} (ifindex {Ifindex}): {Reason}; attaching in generic mode, which is slower")]
    private static partial void LogGenericFallback(ILogger logger, string @interface, int ifindex, string reason);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information,
        Message = "Attached XDP program {Program} (id {ProgramId}) to {Interface} (ifindex {Ifindex}) in {Mode} mode")]
    private static partial void LogAttached(ILogger logger, string program, uint programId, string @interface, int ifindex, XdpMode mode);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information,
        Message = "Replaced XDP program id {OldProgramId} with id {NewProgramId} on {Interface} (ifindex {Ifindex})")]
    private static partial void LogReplaced(ILogger logger, string @interface, int ifindex, uint oldProgramId, uint newProgramId);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information,
        Message = "Detached XDP program id {ProgramId} from {Interface} (ifindex {Ifindex})")]
    private static partial void LogDetached(ILogger logger, string @interface, int ifindex, uint programId);
}
