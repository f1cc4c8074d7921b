using Lb.Kubernetes.Client;

namespace Lb.Kubernetes.Tests.Client;

public sealed class ExponentialBackoffTests
{
    [Fact]
    public void Next_RepeatedFailures_DoublesWithinJitterUpToTheCap()
    {
        var backoff = new ExponentialBackoff(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30), new Random(7));

        var delays = Enumerable.Range(0, 10).Select(_ => backoff.Next().TotalMilliseconds).ToArray();

        double[] steps = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000];
        for (var i = 0; i < steps.Length; i++)
            Assert.InRange(delays[i], steps[i] / 2, steps[i]);
    }

    [Fact]
    public void Next_SameSeed_SameSequenceAndDifferentSeedsDiffer()
    {
        static double[] Run(int seed)
        {
            var backoff = new ExponentialBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(seed));
            return Enumerable.Range(0, 6).Select(_ => backoff.Next().TotalMilliseconds).ToArray();
        }

        Assert.Equal(Run(1), Run(1));
        Assert.NotEqual(Run(1), Run(2));
    }

    [Fact]
    public void Reset_AfterFailures_StartsAgainFromTheInitialDelay()
    {
        var backoff = new ExponentialBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(3));
        for (var i = 0; i < 5; i++)
            backoff.Next();

        backoff.Reset();

        Assert.InRange(backoff.Next().TotalMilliseconds, 500, 1000);
    }
}
