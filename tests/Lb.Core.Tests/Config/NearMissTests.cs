using Lb.Core.Config;

namespace Lb.Core.Tests.Config;

public class NearMissTests
{
    private static readonly string[] ServiceFields =
        ["name", "frontends", "forwarding", "scheduler", "sessionAffinity", "externalTrafficPolicy", "sourceRanges", "backends"];

    [Theory]
    [InlineData("frontend", "frontends")]        // missing letter
    [InlineData("backend", "backends")]
    [InlineData("Name", "name")]                 // case only
    [InlineData("sheduler", "scheduler")]
    [InlineData("fowrarding", "forwarding")]     // swapped neighbours count as one edit
    [InlineData("externalTraficPolicy", "externalTrafficPolicy")]
    [InlineData("source_ranges", "sourceRanges")]
    [InlineData("session", "sessionAffinity")]   // a prefix
    public void Suggest_NearMiss_ReturnsTheIntendedName(string typed, string expected)
    {
        Assert.Equal(expected, NearMiss.Suggest(typed, ServiceFields));
    }

    [Theory]
    [InlineData("port")]
    [InlineData("vip")]
    [InlineData("")]
    [InlineData("healthCheck")]
    public void Suggest_NothingClose_ReturnsNull(string typed)
    {
        Assert.Null(NearMiss.Suggest(typed, ServiceFields));
    }

    [Fact]
    public void Suggest_TwoEquallyClose_ReturnsNullRatherThanGuess()
    {
        Assert.Null(NearMiss.Suggest("dsr", ["nat", "dsr-ipip", "dsr-l2"]));
        Assert.Null(NearMiss.Suggest("dsr-ip", ["dsr-ipip", "dsr-ip6"]));
    }
}
