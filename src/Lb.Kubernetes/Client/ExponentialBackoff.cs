namespace Lb.Kubernetes.Client;

/// <summary>
/// Reconnect delays: doubling from <c>initial</c> up to <c>max</c>, each drawn uniformly from the upper
/// half of its step ("equal jitter"), so a fleet of Lb nodes that lost the API together does not come
/// back in step. The random source is injected so tests see a fixed sequence.
/// </summary>
public sealed class ExponentialBackoff(TimeSpan initial, TimeSpan max, Random random)
{
    private int _failures;

    public TimeSpan Next()
    {
        var step = initial.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 30));
        var capped = Math.Min(step, max.TotalMilliseconds);
        _failures++;
        return TimeSpan.FromMilliseconds(capped / 2 + random.NextDouble() * capped / 2);
    }

    /// <summary>After a success the next failure waits the initial delay again.</summary>
    public void Reset() => _failures = 0;
}
