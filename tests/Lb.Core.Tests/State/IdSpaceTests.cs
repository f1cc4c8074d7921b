using System.Text.RegularExpressions;
using Lb.Core.State;

namespace Lb.Core.Tests.State;

public class IdSpaceTests
{
    [Theory]
    [InlineData("LB_MAX_SERVICES")]
    [InlineData("LB_MAX_BACKENDS")]
    public void AbiLimit_MatchesTheDefineInTheAbiHeader(string define)
    {
        var space = new[] { IdSpace.Services, IdSpace.Backends }.Single(s => s.AbiLimitName == define);
        var header = File.ReadAllText(FindAbiHeader());

        var match = Regex.Match(header, $@"^#define\s+{define}\s+(\d+)\b", RegexOptions.Multiline);

        Assert.True(match.Success, $"{define} is not defined in lb_abi.h");
        Assert.Equal(uint.Parse(match.Groups[1].Value), space.AbiLimit);
        Assert.Equal(space.AbiLimit - 1, space.MaxId);
    }

    [Fact]
    public void Contains_ZeroAndTheAbiLimit_AreOutsideTheSpace()
    {
        Assert.False(IdSpace.Services.Contains(0));
        Assert.True(IdSpace.Services.Contains(1));
        Assert.True(IdSpace.Services.Contains(65535));
        Assert.False(IdSpace.Services.Contains(65536));
    }

    private static string FindAbiHeader()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "native", "include", "lb", "lb_abi.h");
            if (File.Exists(candidate))
                return candidate;
        }

        throw new FileNotFoundException("native/include/lb/lb_abi.h not found above " + AppContext.BaseDirectory);
    }
}
