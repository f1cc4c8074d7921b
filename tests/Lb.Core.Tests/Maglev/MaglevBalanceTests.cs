using Lb.Core.Maglev;
using Xunit.Abstractions;

namespace Lb.Core.Tests.Maglev;

public class MaglevBalanceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(16381u, 3)]
    [InlineData(16381u, 100)]
    [InlineData(16381u, 1000)]
    [InlineData(65537u, 1000)]
    public void Build_EqualWeights_GivesEveryBackendFloorOrCeilOfMOverN(uint m, int n)
    {
        var table = TestBackends.Builder(m).Build(TestBackends.Equal(n));

        var counts = table.CountSlotsPerBackend();

        var floor = (int)(m / n);
        var ceil = floor + (m % n == 0 ? 0 : 1);
        output.WriteLine($"M={m} N={n}: slots per backend min {counts.Min()} max {counts.Max()} (floor {floor}, ceil {ceil})");
        Assert.All(counts, count => Assert.InRange(count, floor, ceil));
        Assert.Equal((int)m, counts.Sum());
    }

    [Theory]
    [InlineData(16381u, 10)]
    [InlineData(16381u, 100)]
    [InlineData(65537u, 500)]
    public void Build_CyclingWeights_KeepsEveryShareWithinTwoPercentOfItsWeightedIdeal(uint m, int n)
    {
        var backends = TestBackends.CyclingWeights(n);
        var table = TestBackends.Builder(m).Build(backends);

        var ratios = Ratios(table);

        output.WriteLine($"M={m} N={n} weights 1..5: max/ideal {ratios.Max():F4}, min/ideal {ratios.Min():F4}");
        Assert.All(ratios, ratio => Assert.InRange(ratio, 0.98, 1.02));
    }

    [Fact]
    public void Build_OneHeavyBackend_GetsItsWeightedShare()
    {
        // One backend of weight 100 among 99 of weight 1: it should hold half the table.
        var backends = TestBackends.Create(100, i => (ushort)(i == 42 ? 100 : 1));
        var table = TestBackends.Builder(65537).Build(backends);

        var ratios = Ratios(table);

        output.WriteLine($"M=65537 N=100 one weight-100 backend: max/ideal {ratios.Max():F4}, min/ideal {ratios.Min():F4}");
        Assert.All(ratios, ratio => Assert.InRange(ratio, 0.98, 1.02));
    }

    /// <summary>
    /// Properties over random backend sets (fixed seed, so the run is repeatable): the table is full,
    /// every slot names a backend of the set, the order of the input does not matter, and every
    /// backend of the largest weight holds a slot.
    /// </summary>
    [Fact]
    public void Build_RandomBackendSets_GivesFullTablesIndependentOfOrder()
    {
        var random = new Random(20160316);
        var builder = TestBackends.Builder(4093);
        for (var run = 0; run < 200; run++)
        {
            var n = random.Next(1, 300);
            var weights = Enumerable.Range(0, n).Select(_ => (ushort)random.Next(1, 10)).ToArray();
            var backends = TestBackends.Create(n, i => weights[i]);

            var table = builder.Build(backends);
            var reordered = builder.Build(TestBackends.Shuffled(backends, run));

            var ids = backends.Select(b => b.Id).ToHashSet();
            Assert.Equal(4093, table.BackendIds.Length);
            Assert.All(table.BackendIds.ToArray(), id => Assert.Contains(id, ids));
            Assert.Equal(table.BackendIds.ToArray(), reordered.BackendIds.ToArray());
            var counts = table.CountSlotsPerBackend();
            var maxWeight = weights.Max();
            for (var i = 0; i < table.Backends.Length; i++)
            {
                if (table.Backends[i].Weight == maxWeight)
                    Assert.True(counts[i] > 0, $"run {run}: {table.Backends[i]} of the largest weight holds no slot");
            }
        }
    }

    /// <summary>Each backend's slot count over its weighted ideal M·w/Σw.</summary>
    private static double[] Ratios(MaglevTable table)
    {
        var counts = table.CountSlotsPerBackend();
        double totalWeight = table.Backends.Sum(b => (int)b.Weight);
        return table.Backends.Select((b, i) => counts[i] / (table.TableSize * b.Weight / totalWeight)).ToArray();
    }
}
