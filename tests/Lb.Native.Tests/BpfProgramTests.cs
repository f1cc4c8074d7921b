using Lb.Native.Tests.Infrastructure;
using static Lb.Native.BpfInstruction;
using static Lb.Native.BpfRegister;

namespace Lb.Native.Tests;

public sealed class BpfProgramTests
{
    private static byte[] Frame(int length)
    {
        var frame = new byte[length];
        for (var i = 0; i < frame.Length; i++)
            frame[i] = (byte)(i * 7 + 3);
        return frame;
    }

    [Fact]
    public void TestRun_RawPassProgram_ReturnsPassAndTheUnchangedFrame()
    {
        using var program = RawPrograms.Return(XdpAction.Pass);
        var input = Frame(64);
        var output = new byte[256];

        var result = program.TestRun(input, output);

        Assert.Equal(XdpAction.Pass, result.Action);
        Assert.Equal(64, result.OutputLength);
        Assert.Equal(input, output[..result.OutputLength]);
    }

    [Fact]
    public void TestRun_Repeat_RunsTheProgramThatManyTimes()
    {
        using var counters = BpfMap<uint, ulong>.Create(BpfMapType.Array, "lbt_counters", 1);
        using var program = RawPrograms.Count(counters.Map, XdpAction.Drop);

        var result = program.TestRun(Frame(60), default, repeat: 5);

        Assert.Equal(XdpAction.Drop, result.Action);
        Assert.True(counters.TryLookup(0, out var count));
        Assert.Equal(5ul, count);
    }

    [Fact]
    public void TestRun_OutputSmallerThanFrame_ThrowsNamingBothSizes()
    {
        using var program = RawPrograms.Return(XdpAction.Pass);

        var error = Assert.Throws<BpfException>(() => program.TestRun(Frame(100), new byte[10]));

        Assert.Equal("ENOSPC", error.ErrnoName);
        Assert.Contains("holds 10 bytes", error.Message);
        Assert.Contains("has 100", error.Message);
    }

    [Fact]
    public void TestRun_ContextWithWrongDataEnd_ThrowsArgumentException()
    {
        using var program = RawPrograms.Return(XdpAction.Pass);

        Assert.Throws<ArgumentException>(() => program.TestRun(Frame(64), default, new XdpMd { DataEnd = 63 }));
    }

    [Fact]
    public void Load_VerifierRejects_ExceptionQuotesTheVerifierLog()
    {
        // r0 = r2 reads a register the program never wrote.
        var error = Assert.Throws<BpfException>(() =>
            BpfProgram.Load(BpfProgramType.Xdp, "lbt_bad", [Mov64(R0, R2), Exit()]));

        Assert.Equal("bpf_prog_load", error.Operation);
        Assert.Contains("verifier log", error.Message);
        Assert.Contains("R2 !read_ok", error.Message);
    }

    [Fact]
    public void Info_ReportsTypeNameAndId()
    {
        using var program = RawPrograms.Return(XdpAction.Drop, "lbt_info_prog");
        using var byId = BpfProgram.OpenById(program.Id);

        Assert.Equal(BpfProgramType.Xdp, program.Type);
        Assert.Equal("lbt_info_prog", program.Name);
        Assert.Equal(16, program.Info.Tag.Length);
        Assert.Equal(program.Info, byId.Info);
    }

    [Fact]
    public void Pin_ThenOpenPinned_IsTheSameProgram()
    {
        using var pins = new PinDirectory();
        var path = pins.Combine("lbt_prog");
        uint id;
        using (var program = RawPrograms.Return(XdpAction.Tx))
        {
            program.Pin(path);
            id = program.Id;
        }

        using var reopened = BpfProgram.OpenPinned(path);

        Assert.Equal(id, reopened.Id);
        Assert.Equal(XdpAction.Tx, reopened.TestRun(Frame(64), default).Action);
    }

    [Fact]
    public void OpenPinned_PathOfAMap_ThrowsArgumentException()
    {
        using var pins = new PinDirectory();
        var path = pins.Combine("lbt_a_map");
        using var map = BpfMap.Create(BpfMapType.Array, "lbt_a_map", 4, 4, 1);
        map.Pin(path);

        Assert.Throws<ArgumentException>(() => BpfProgram.OpenPinned(path));
    }
}
