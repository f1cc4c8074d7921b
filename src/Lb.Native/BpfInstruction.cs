using System.Runtime.InteropServices;

namespace Lb.Native;

/// <summary>BPF registers: R0 return value, R1-R5 arguments, R6-R9 callee-saved, R10 read-only frame pointer.</summary>
public enum BpfRegister : byte
{
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10,
}

/// <summary>enum bpf_func_id (linux/bpf.h): the helpers the raw programs here call.</summary>
public enum BpfHelper
{
    MapLookupElem = 1,
    MapUpdateElem = 2,
    MapDeleteElem = 3,
    KtimeGetNs = 5,
    GetSmpProcessorId = 8,
}

/// <summary>
/// struct bpf_insn: one eBPF instruction, for loading small programs without an object file (tests,
/// probes). The factories cover the handful of opcodes those programs use.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct BpfInstruction : IEquatable<BpfInstruction>
{
    // Instruction classes, sizes, modes and operations (linux/bpf_common.h, linux/bpf.h).
    private const byte BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03, BPF_JMP = 0x05, BPF_ALU64 = 0x07;
    private const byte BPF_W = 0x00, BPF_DW = 0x18;
    private const byte BPF_IMM = 0x00, BPF_MEM = 0x60, BPF_ATOMIC = 0xc0;
    private const byte BPF_K = 0x00, BPF_X = 0x08;
    private const byte BPF_ADD = 0x00, BPF_MOV = 0xb0;
    private const byte BPF_JEQ = 0x10, BPF_CALL = 0x80, BPF_EXIT = 0x90;
    internal const byte BPF_PSEUDO_MAP_FD = 1;

    public readonly byte Code;
    /// <summary>dst_reg in the low nibble, src_reg in the high one (the C bitfields on a little-endian machine).</summary>
    public readonly byte Registers;
    public readonly short Off;
    public readonly int Imm;

    public BpfInstruction(byte code, BpfRegister destination, BpfRegister source, short off, int imm)
    {
        Code = code;
        Registers = (byte)(((byte)source << 4) | ((byte)destination & 0x0f));
        Off = off;
        Imm = imm;
    }

    public BpfRegister Destination => (BpfRegister)(Registers & 0x0f);
    public BpfRegister Source => (BpfRegister)(Registers >> 4);

    /// <summary>dst = imm (64-bit, sign-extended).</summary>
    public static BpfInstruction Mov64(BpfRegister dst, int imm) => new(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);

    /// <summary>dst = src.</summary>
    public static BpfInstruction Mov64(BpfRegister dst, BpfRegister src) => new(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);

    /// <summary>dst += imm.</summary>
    public static BpfInstruction Add64(BpfRegister dst, int imm) => new(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm);

    /// <summary>*(u32 *)(dst + off) = imm.</summary>
    public static BpfInstruction StoreImm32(BpfRegister dst, short off, int imm) => new(BPF_ST | BPF_MEM | BPF_W, dst, 0, off, imm);

    /// <summary>dst = *(u32 *)(src + off).</summary>
    public static BpfInstruction Load32(BpfRegister dst, BpfRegister src, short off) => new(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);

    /// <summary>lock *(u64 *)(dst + off) += src.</summary>
    public static BpfInstruction AtomicAdd64(BpfRegister dst, short off, BpfRegister src) => new(BPF_STX | BPF_ATOMIC | BPF_DW, dst, src, off, BPF_ADD);

    /// <summary>if dst == imm, skip <paramref name="off"/> instructions.</summary>
    public static BpfInstruction JumpIfEqual(BpfRegister dst, int imm, short off) => new(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm);

    public static BpfInstruction Call(BpfHelper helper) => new(BPF_JMP | BPF_CALL, 0, 0, 0, (int)helper);

    public static BpfInstruction Exit() => new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

    /// <summary>The two halves of dst = map (ld_imm64 with BPF_PSEUDO_MAP_FD); the verifier turns the fd into the map.</summary>
    internal static (BpfInstruction First, BpfInstruction Second) LoadMapFd(BpfRegister dst, int fd) =>
        (new(BPF_LD | BPF_DW | BPF_IMM, dst, (BpfRegister)BPF_PSEUDO_MAP_FD, 0, fd), new(0, 0, 0, 0, 0));

    public bool Equals(BpfInstruction other) => Code == other.Code && Registers == other.Registers && Off == other.Off && Imm == other.Imm;
    public override bool Equals(object? obj) => obj is BpfInstruction other && Equals(other);
    public override int GetHashCode() => HashCode.Combine(Code, Registers, Off, Imm);

    public override string ToString() => $"code=0x{Code:x2} dst=r{(int)Destination} src=r{(int)Source} off={Off} imm={Imm}";
}

/// <summary>
/// A raw program under construction. Map references are kept as maps, not descriptor numbers, so
/// <see cref="BpfProgram.Load(BpfProgramType, string, BpfAssembler, string)"/> can hold them open while the kernel resolves them.
/// </summary>
public sealed class BpfAssembler
{
    private readonly List<BpfInstruction> _instructions = [];
    private readonly List<(int Index, BpfMap Map)> _mapReferences = [];

    public int Count => _instructions.Count;

    public BpfAssembler Emit(params ReadOnlySpan<BpfInstruction> instructions)
    {
        foreach (var instruction in instructions)
            _instructions.Add(instruction);
        return this;
    }

    /// <summary>dst = the map (a two-instruction ld_imm64).</summary>
    public BpfAssembler LoadMap(BpfRegister dst, BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        _mapReferences.Add((_instructions.Count, map));
        var (first, second) = BpfInstruction.LoadMapFd(dst, -1);
        _instructions.Add(first);
        _instructions.Add(second);
        return this;
    }

    internal IReadOnlyList<(int Index, BpfMap Map)> MapReferences => _mapReferences;

    /// <summary>The instructions with each map reference's descriptor filled in.</summary>
    internal BpfInstruction[] Resolve(Func<BpfMap, int> fdOf)
    {
        var resolved = _instructions.ToArray();
        foreach (var (index, map) in _mapReferences)
            resolved[index] = BpfInstruction.LoadMapFd(resolved[index].Destination, fdOf(map)).First;
        return resolved;
    }
}
