using Lb.Core.Maglev;
using Xunit.Abstractions;

namespace Lb.Core.Tests.Maglev;

public class MaglevDisruptionTests(ITestOutputHelper output)
{
    /// <summary>
    /// Removing a backend must hand its slots to the others and move few of theirs: at most 2% of the
    /// surviving backends' slots change owner. Adding it back must give the original table exactly.
    /// Up to ten backends spread over the sorted order are removed one at a time.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(100)]
    [InlineData(1000)]
    public void Build_OneBackendRemovedThenRestored_MovesFewOtherSlotsAndRestoresTable(int n)
    {
        const uint m = 16381;
        var builder = TestBackends.Builder(m);
        var backends = TestBackends.Equal(n);
        var original = builder.Build(backends).BackendIds.ToArray();

        var worst = 0.0;
        var sum = 0.0;
        var removals = Math.Min(n, 10);
        for (var k = 0; k < removals; k++)
        {
            var removed = backends[k * n / removals];
            var without = backends.Where(b => b != removed).ToArray();

            var reduced = builder.Build(without).BackendIds.ToArray();

            var othersSlots = 0;
            var othersMoved = 0;
            for (var slot = 0; slot < m; slot++)
            {
                Assert.NotEqual(removed.Id, reduced[slot]);
                if (original[slot] == removed.Id)
                    continue;
                othersSlots++;
                if (reduced[slot] != original[slot])
                    othersMoved++;
            }

            var fraction = (double)othersMoved / othersSlots;
            worst = Math.Max(worst, fraction);
            sum += fraction;
            Assert.True(fraction <= 0.02, $"removing {removed.Identity} moved {fraction:P2} of the other backends' slots");

            var restored = builder.Build(TestBackends.Shuffled([.. without, removed], k)).BackendIds.ToArray();
            Assert.Equal(original, restored);
        }

        output.WriteLine($"M={m} N={n}: removing one backend ({removals} tried) moved other backends' slots: mean {sum / removals:P2}, worst {worst:P2}");
    }
}
