using Lb.Agent.Tests.Infrastructure;
using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.Agent.Tests;

public sealed class LbDatapathTests
{
    [Fact]
    public void Load_FreshPinRoot_PinsEveryMapAndTheProgram()
    {
        using var test = new TestDatapath();

        var pins = Directory.EnumerateFileSystemEntries(test.PinRoot).Select(Path.GetFileName).Order().ToList();

        Assert.Equal(LbDatapath.PinNames.Where(name => name != "prog_lb_xdp_new").Order(), pins);
        Assert.Equal(TestDatapath.TestFlowCapacity, test.Maps.Flows.Map.MaxEntries);
        Assert.Equal(TestDatapath.TestFlowCapacity, test.Maps.RevNat.Map.MaxEntries);
        Assert.Equal(MaglevTableFill.Mapped, test.Maps.MaglevFill);
        using var pinned = BpfProgram.OpenPinned(Path.Combine(test.PinRoot, LbDatapath.ProgramPinName));
        Assert.Equal(test.Datapath.Program.Id, pinned.Id);
    }
}
