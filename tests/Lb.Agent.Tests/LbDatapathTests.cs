using Lb.Testing.Kernel;
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

    [Fact]
    public void Load_Again_ReusesThePinnedMapsAndRepinsTheNewProgram()
    {
        using var test = new TestDatapath();

        using var again = test.LoadAgain();

        Assert.Equal(test.Maps.Services.Map.Id, again.Maps.Services.Map.Id);
        Assert.Equal(test.Maps.Flows.Map.Id, again.Maps.Flows.Map.Id);
        Assert.Equal(test.Maps.Maglev.Id, again.Maps.Maglev.Id);
        Assert.Equal(test.Maps.Names.Map.Id, again.Maps.Names.Map.Id);
        Assert.NotEqual(test.Datapath.Program.Id, again.Program.Id);
        using var pinned = BpfProgram.OpenPinned(Path.Combine(test.PinRoot, LbDatapath.ProgramPinName));
        Assert.Equal(again.Program.Id, pinned.Id);
    }

    [Fact]
    public void Load_PinnedFlowTableOfAnotherSize_RefusesNamingTheOption()
    {
        using var test = new TestDatapath();

        var error = Assert.Throws<InvalidOperationException>(() => test.LoadAgain(test.Options with { FlowTableCapacity = 2 * TestDatapath.TestFlowCapacity }));

        Assert.Contains("datapath.flowTable.capacity is 8192", error.Message);
        Assert.Contains("set flowTable.capacity back to 4096", error.Message);
    }

    [Fact]
    public void OpenPinned_RunningDatapath_ReachesTheSameMaps()
    {
        using var test = new TestDatapath();

        using var maps = LbMaps.OpenPinned(test.PinRoot);

        Assert.Equal(test.Maps.Config.Map.Id, maps.Config.Map.Id);
        Assert.Equal(test.Maps.Reasons.Map.Id, maps.Reasons.Map.Id);
        Assert.Equal(test.Maps.Names.Map.Id, maps.Names.Map.Id);
    }

    [Fact]
    public void OpenPinned_NothingPinned_SaysSo()
    {
        using var pins = new PinRoot();

        var error = Assert.Throws<FileNotFoundException>(() => LbMaps.OpenPinned(pins.Path));

        Assert.Contains($"No Lb datapath is pinned at {pins.Path}", error.Message);
    }

    [Fact]
    public void AttachReplaceDown_InNamespace_AdoptsReplacesAndRemovesOnlyLbsParts()
    {
        using var ns = new TestNamespace();
        using var test = new TestDatapath();
        using var foreign = BpfProgram.Load(BpfProgramType.Xdp, "not_lb",
            [BpfInstruction.Mov64(BpfRegister.R0, (int)XdpAction.Pass), BpfInstruction.Exit()]);
        using var otherMap = BpfMap.Create(BpfMapType.Array, "not_lb", 4, 4, 1);
        otherMap.Pin(Path.Combine(test.PinRoot, "not_lbs"));

        var first = ns.Run(() => Single(test.Datapath.Attach([TestNamespace.Veth0])));
        ns.Run(() => { XdpAttachment.Attach(Interfaces.IndexOf(TestNamespace.Veth1), foreign).Dispose(); return 0; });
        using var upgrade = test.LoadAgain();
        var replaced = ns.Run(() => Single(upgrade.Attach([TestNamespace.Veth0])));
        var refused = Assert.Throws<InvalidOperationException>(() => ns.Run(() => upgrade.Attach([TestNamespace.Veth1])));
        var down = ns.Run(() => LbDatapath.Down([TestNamespace.Veth0, TestNamespace.Veth1], test.PinRoot));
        var (veth0After, veth1After) = ns.Run(() =>
            (XdpAttachment.Query(Interfaces.IndexOf(TestNamespace.Veth0)), XdpAttachment.Query(Interfaces.IndexOf(TestNamespace.Veth1))));

        Assert.Equal((test.Datapath.Program.Id, XdpMode.Native), (first.ProgramId, first.Mode));
        Assert.Equal((upgrade.Program.Id, XdpMode.Native), (replaced.ProgramId, replaced.Mode));
        Assert.Contains("runs XDP program 'not_lb'", refused.InnerException!.Message);
        Assert.Equal([TestNamespace.Veth0], down.DetachedInterfaces);
        Assert.False(veth0After.IsAttached);
        Assert.Equal(foreign.Id, veth1After.ProgramId);
        Assert.Equal(LbDatapath.PinNames.Where(name => name != "prog_lb_xdp_new").Order(), down.RemovedPins.Order());
        Assert.False(down.RemovedPinRoot);
        Assert.Equal(["not_lbs"], Directory.EnumerateFileSystemEntries(test.PinRoot).Select(Path.GetFileName));
    }

    [Fact]
    public void Down_NothingElsePinned_RemovesThePinRoot()
    {
        using var test = new TestDatapath();

        var down = LbDatapath.Down([], test.PinRoot);

        Assert.True(down.RemovedPinRoot);
        Assert.False(Directory.Exists(test.PinRoot));
        Assert.Empty(down.DetachedInterfaces);
    }

    private static (uint ProgramId, XdpMode Mode) Single(IReadOnlyList<XdpAttachment> attachments)
    {
        var attachment = Assert.Single(attachments);
        using (attachment)
            return (attachment.ProgramId, attachment.Mode);
    }
}
