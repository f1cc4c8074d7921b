using Lb.Testing;
using Lb.Testing.Fixtures;

namespace Lb.Bpf.Tests;

/// <summary>Checks of the fixture set itself, so that passing fixtures mean something: unique names, both families of every mode, predictions that vary.</summary>
public sealed class GoldenFixtureSetTests
{
    [Fact]
    public void All_Names_AreUnique()
    {
        var duplicates = GoldenFixtures.All.GroupBy(f => f.Name).Where(g => g.Count() > 1).Select(g => g.Key);

        Assert.Empty(duplicates);
    }

    [Theory]
    [InlineData("nat")]
    [InlineData("dsr-ipip")]
    [InlineData("dsr-l2")]
    public void All_ForwardingMode_HasFixturesForBothFamilies(string mode)
    {
        Assert.Contains(GoldenFixtures.All, f => f.Name.StartsWith($"{mode}-v4"));
        Assert.Contains(GoldenFixtures.All, f => f.Name.StartsWith($"{mode}-v6"));
    }

    /// <summary>The new flows of the nat fixtures reach more than one backend: the flow hash chose them, not a constant.</summary>
    [Theory]
    [InlineData("nat-v4-tcp")]
    [InlineData("nat-v6-tcp")]
    public void NatTcp_NewFlows_GoToMoreThanOneBackend(string name)
    {
        var destinations = GoldenFixtures.Named(name).Steps
            .Where(s => s.NewFlow)
            .Select(s => new PacketView(s.Output.Bytes()).Destination)
            .Distinct()
            .Count();

        Assert.True(destinations > 1, $"{name}: every new flow goes to one backend");
    }
}
