using static Lb.Native.BpfInstruction;
using static Lb.Native.BpfRegister;

namespace Lb.Native.Tests.Infrastructure;

/// <summary>Tiny XDP programs built from raw instructions, so map and program plumbing is tested without an object file.</summary>
internal static class RawPrograms
{
    /// <summary>r0 = action; exit.</summary>
    public static BpfProgram Return(XdpAction action, string name = "lbt_return") =>
        BpfProgram.Load(BpfProgramType.Xdp, name, [Mov64(R0, (int)action), Exit()]);

    /// <summary>Adds 1 to the u64 at key 0 of <paramref name="counters"/> (an ARRAY of u32 → u64), then returns <paramref name="action"/>.</summary>
    public static BpfProgram Count(BpfMap counters, XdpAction action = XdpAction.Pass) =>
        BpfProgram.Load(BpfProgramType.Xdp, "lbt_count", new BpfAssembler()
            .Emit(StoreImm32(R10, -4, 0))
            .LoadMap(R1, counters)
            .Emit(
                Mov64(R2, R10),
                Add64(R2, -4),
                Call(BpfHelper.MapLookupElem),
                JumpIfEqual(R0, 0, 2),
                Mov64(R1, 1),
                AtomicAdd64(R0, 0, R1),
                Mov64(R0, (int)action),
                Exit()));

    /// <summary>
    /// Returns the u32 at key 0 of the inner map in slot 0 of <paramref name="outer"/> (an ARRAY_OF_MAPS
    /// of u32 arrays), or XDP_ABORTED when a lookup misses: the datapath's read through a Maglev table.
    /// </summary>
    public static BpfProgram ReadThrough(BpfMap outer) =>
        BpfProgram.Load(BpfProgramType.Xdp, "lbt_read_thru", new BpfAssembler()
            .Emit(StoreImm32(R10, -4, 0))
            .LoadMap(R1, outer)
            .Emit(
                Mov64(R2, R10),
                Add64(R2, -4),
                Call(BpfHelper.MapLookupElem),
                JumpIfEqual(R0, 0, 7),
                Mov64(R1, R0),
                Mov64(R2, R10),
                Add64(R2, -4),
                Call(BpfHelper.MapLookupElem),
                JumpIfEqual(R0, 0, 2),
                Load32(R0, R0, 0),
                Exit(),
                Mov64(R0, (int)XdpAction.Aborted),
                Exit()));
}
