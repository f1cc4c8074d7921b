using System.Buffers.Binary;
using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using Lb.Core.Maglev;

namespace Lb.Core.Tests.Maglev;

public class MaglevDeterminismTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Build_ShuffledInput_GivesSameTable(int shuffleSeed)
    {
        var builder = TestBackends.Builder(16381);
        var backends = TestBackends.CyclingWeights(100);

        var table = builder.Build(backends);
        var shuffled = builder.Build(TestBackends.Shuffled(backends, shuffleSeed));

        Assert.Equal(table.BackendIds.ToArray(), shuffled.BackendIds.ToArray());
        Assert.Equal(table.BackendIndices.ToArray(), shuffled.BackendIndices.ToArray());
    }

    [Fact]
    public void Build_SameOptionsInTwoBuilders_GivesSameTable()
    {
        var backends = TestBackends.CyclingWeights(50);

        var first = TestBackends.Builder(16381, "edge-a").Build(backends);
        var second = TestBackends.Builder(16381, "edge-a").Build(backends);

        Assert.Equal(first.BackendIds.ToArray(), second.BackendIds.ToArray());
    }

    [Fact]
    public void Build_DifferentSeed_GivesDifferentTable()
    {
        var backends = TestBackends.Equal(50);

        var first = TestBackends.Builder(16381, "edge-a").Build(backends).BackendIds.ToArray();
        var second = TestBackends.Builder(16381, "edge-b").Build(backends).BackendIds.ToArray();

        var differing = first.Zip(second).Count(pair => pair.First != pair.Second);
        Assert.True(differing > 16381 / 2, $"only {differing} slots differ between seeds");
    }

    /// <summary>
    /// A second process (tests/Lb.MaglevProbe) builds the table from the same backends given in another
    /// order and prints its SHA-256; a hash seeded per process (string.GetHashCode) would differ here.
    /// </summary>
    [Fact]
    public async Task Build_InAnotherProcess_GivesSameTable()
    {
        var backends = TestBackends.CyclingWeights(200);
        var table = TestBackends.Builder(16381, "probe seed").Build(backends);
        var probe = ProbePath();
        Assert.True(File.Exists(probe), $"the probe is not built at {probe}");

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(probe);
        start.ArgumentList.Add("16381");
        start.ArgumentList.Add("probe seed");
        foreach (var b in TestBackends.Shuffled(backends, 99))
            start.ArgumentList.Add($"{b.Identity},{b.Weight},{b.Id}");
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 0, $"the probe failed ({process.ExitCode}): {await stderr}");
        Assert.Equal(Sha256OfIds(table.BackendIds.Span), (await stdout).Trim());
    }

    private static string Sha256OfIds(ReadOnlySpan<uint> ids)
    {
        var bytes = new byte[ids.Length * 4];
        for (var slot = 0; slot < ids.Length; slot++)
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(slot * 4), ids[slot]);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    private static string ProbePath() =>
        typeof(MaglevDeterminismTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "MaglevProbePath").Value!;
}
