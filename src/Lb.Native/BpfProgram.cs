using System.Runtime.InteropServices;

namespace Lb.Native;

/// <summary>struct xdp_md: the context an XDP program sees, and the one BPF_PROG_TEST_RUN takes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct XdpMd
{
    public uint Data;
    public uint DataEnd;
    public uint DataMeta;
    /// <summary>The device the frame seems to arrive on; it must exist in the calling thread's network namespace.</summary>
    public uint IngressIfindex;
    public uint RxQueueIndex;
    public uint EgressIfindex;
}

/// <summary>BPF_F_TEST_* flags of BPF_PROG_TEST_RUN.</summary>
[Flags]
public enum BpfTestRunFlags : uint
{
    None = 0,
    RunOnCpu = 1u << 0,
    /// <summary>XDP frames really leave by XDP_TX / XDP_REDIRECT and enter the stack on XDP_PASS (a traffic generator).</summary>
    XdpLiveFrames = 1u << 1,
}

/// <summary>One BPF_PROG_TEST_RUN: the program's return value, the bytes it left in the output buffer, and the mean time per run.</summary>
public readonly record struct XdpTestRunResult(uint ReturnValue, int OutputLength, uint DurationNs)
{
    public XdpAction Action => (XdpAction)ReturnValue;
}

/// <summary>A loaded BPF program, held by its own descriptor.</summary>
public sealed unsafe class BpfProgram : IDisposable
{
    private const int VerifierLogSize = 256 * 1024;

    private readonly SafeFileDescriptor _fd;

    internal BpfProgram(SafeFileDescriptor fd)
    {
        _fd = fd;
        Info = QueryInfo(fd);
    }

    public BpfProgramInfo Info { get; }
    public string Name => Info.Name;
    public uint Id => Info.Id;
    public BpfProgramType Type => Info.Type;

    public SafeFileDescriptor Handle => _fd;

    /// <summary>Loads a program from raw instructions (no object file); a verifier rejection quotes the verifier's log.</summary>
    public static BpfProgram Load(BpfProgramType type, string name, ReadOnlySpan<BpfInstruction> instructions, string license = "GPL")
    {
        BpfMap.ValidateObjectName(name, nameof(name));
        ArgumentException.ThrowIfNullOrEmpty(license);
        if (instructions.IsEmpty)
            throw new ArgumentException("A program needs at least one instruction.", nameof(instructions));

        var log = new byte[VerifierLogSize];
        fixed (BpfInstruction* insns = instructions)
        fixed (byte* logBuffer = log)
        {
            // log_level 0 with a buffer: libbpf loads without a log and, on failure, loads again with log_level 1 into the buffer.
            var opts = new Interop.Libbpf.BpfProgLoadOpts
            {
                Sz = (nuint)sizeof(Interop.Libbpf.BpfProgLoadOpts),
                LogBuf = logBuffer,
                LogSize = VerifierLogSize,
            };
            var fd = Interop.Libbpf.ProgLoad((uint)type, name, license, insns, (nuint)instructions.Length, &opts);
            if (fd < 0)
            {
                var verifierLog = BpfMap.CString(log).TrimEnd();
                throw Interop.GetExceptionForBpfError(-fd, "bpf_prog_load", name,
                    verifierLog.Length == 0 ? null : "verifier log:\n" + verifierLog);
            }
            return new BpfProgram(new SafeFileDescriptor(fd, ownsHandle: true));
        }
    }

    /// <summary>Loads an assembled program, holding its maps open while the kernel resolves them.</summary>
    public static BpfProgram Load(BpfProgramType type, string name, BpfAssembler code, string license = "GPL")
    {
        ArgumentNullException.ThrowIfNull(code);
        var held = new List<SafeFileDescriptor>();
        try
        {
            var instructions = code.Resolve(map =>
            {
                var added = false;
                map.Handle.DangerousAddRef(ref added);
                held.Add(map.Handle);
                return (int)map.Handle.DangerousGetHandle();
            });
            return Load(type, name, instructions, license);
        }
        finally
        {
            foreach (var handle in held)
                handle.DangerousRelease();
        }
    }

    public static BpfProgram OpenPinned(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fd = Interop.ThrowIfFailedDescriptor(Interop.Libbpf.ObjGet(path), "bpf_obj_get", path);
        if (fd.DescribeTarget() is var target && target != "anon_inode:bpf-prog")
        {
            fd.Dispose();
            throw new ArgumentException($"{path} is pinned but is not a BPF program ({target}).", nameof(path));
        }
        return new BpfProgram(fd);
    }

    public static BpfProgram OpenById(uint id) =>
        new(Interop.ThrowIfFailedDescriptor(Interop.Libbpf.ProgGetFdById(id), "bpf_prog_get_fd_by_id", $"id {id}"));

    /// <summary>Pins the program at <paramref name="path"/> on bpffs; the directory must exist.</summary>
    public void Pin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Interop.ThrowIfFailed(Interop.Libbpf.ObjPin(_fd, path), "bpf_obj_pin", path);
    }

    /// <summary>
    /// Runs an XDP program on <paramref name="packet"/> with BPF_PROG_TEST_RUN. <paramref name="output"/>
    /// receives the frame as the program left it. With a <paramref name="context"/>, data_end defaults
    /// to the packet length (the kernel requires exactly that) and the ingress device must exist in the
    /// calling thread's network namespace, where helpers such as bpf_fib_lookup also run.
    /// </summary>
    public XdpTestRunResult TestRun(ReadOnlySpan<byte> packet, Span<byte> output, XdpMd? context = null, int repeat = 1)
    {
        if (packet.IsEmpty)
            throw new ArgumentException("The test packet is empty.", nameof(packet));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeat);
        var contextIn = PrepareContext(context, packet.Length);
        var contextOut = default(XdpMd);

        fixed (byte* data = packet)
        fixed (byte* dataOut = output)
        {
            var opts = new Interop.Libbpf.BpfTestRunOpts
            {
                Sz = (nuint)sizeof(Interop.Libbpf.BpfTestRunOpts),
                DataIn = data,
                DataSizeIn = (uint)packet.Length,
                DataOut = output.IsEmpty ? null : dataOut,
                DataSizeOut = (uint)output.Length,
                Repeat = repeat,
            };
            if (context is not null)
            {
                opts.CtxIn = &contextIn;
                opts.CtxSizeIn = (uint)sizeof(XdpMd);
                opts.CtxOut = &contextOut;
                opts.CtxSizeOut = (uint)sizeof(XdpMd);
            }
            var result = Interop.Libbpf.ProgTestRunOpts(_fd, &opts);
            if (result == -Interop.ENOSPC && !output.IsEmpty)
            {
                throw Interop.GetExceptionForBpfError(Interop.ENOSPC, "bpf_prog_test_run_opts", Name,
                    $"the output buffer holds {output.Length} bytes and the program's frame has {opts.DataSizeOut}");
            }
            Interop.ThrowIfFailed(result, "bpf_prog_test_run_opts", Name);
            return new XdpTestRunResult(opts.Retval, output.IsEmpty ? 0 : (int)opts.DataSizeOut, opts.Duration);
        }
    }

    /// <summary>
    /// Runs an XDP program <paramref name="repeat"/> times over <paramref name="frame"/> with
    /// BPF_F_TEST_XDP_LIVE_FRAMES: XDP_TX and XDP_REDIRECT really transmit and XDP_PASS enters the
    /// stack of the ingress device. Returns the mean nanoseconds per frame.
    /// </summary>
    public uint TestRunLiveFrames(ReadOnlySpan<byte> frame, XdpMd? context, int repeat, uint batchSize = 0)
    {
        if (frame.IsEmpty)
            throw new ArgumentException("The frame is empty.", nameof(frame));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeat);
        var contextIn = PrepareContext(context, frame.Length);

        fixed (byte* data = frame)
        {
            var opts = new Interop.Libbpf.BpfTestRunOpts
            {
                Sz = (nuint)sizeof(Interop.Libbpf.BpfTestRunOpts),
                DataIn = data,
                DataSizeIn = (uint)frame.Length,
                Repeat = repeat,
                Flags = (uint)BpfTestRunFlags.XdpLiveFrames,
                BatchSize = batchSize,
            };
            if (context is not null)
            {
                opts.CtxIn = &contextIn;
                opts.CtxSizeIn = (uint)sizeof(XdpMd);
            }
            Interop.ThrowIfFailed(Interop.Libbpf.ProgTestRunOpts(_fd, &opts), "bpf_prog_test_run_opts", Name);
            return opts.Duration;
        }
    }

    public void Dispose() => _fd.Dispose();

    public override string ToString() => $"{Type} program '{Name}' (id {Id})";

    private static XdpMd PrepareContext(XdpMd? context, int length)
    {
        if (context is not { } value)
            return default;
        if (value.Data != 0 || value.DataMeta != 0)
            throw new ArgumentException("A test-run context starts the frame at 0 (data and data_meta must be 0).", nameof(context));
        if (value.DataEnd == 0)
            value.DataEnd = (uint)length;
        else if (value.DataEnd != (uint)length)
            throw new ArgumentException($"The context's data_end ({value.DataEnd}) must equal the packet length ({length}).", nameof(context));
        return value;
    }

    private static BpfProgramInfo QueryInfo(SafeFileDescriptor fd)
    {
        var info = default(Interop.Libbpf.BpfProgInfo);
        var length = (uint)sizeof(Interop.Libbpf.BpfProgInfo);
        Interop.ThrowIfFailed(Interop.Libbpf.ObjGetInfoByFd(fd, &info, &length), "bpf_obj_get_info_by_fd");
        return new BpfProgramInfo((BpfProgramType)info.Type, info.Id, BpfMap.CString(info.Name), Convert.ToHexStringLower(info.Tag));
    }
}
