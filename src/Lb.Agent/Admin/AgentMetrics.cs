namespace Lb.Agent.Admin;

/// <summary>
/// The agent's own figures that the maps do not hold: how long programming takes and how reloads end.
/// Written by the run loop, read by /metrics; a lock keeps a scrape consistent (bucket counts and sum
/// from the same moment).
/// </summary>
public sealed class AgentMetrics
{
    /// <summary>Upper bounds of the programming-duration buckets, in seconds: a no-op apply to a full rebuild of thousands of tables.</summary>
    public static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Lock _lock = new();
    private readonly long[] _bucketCounts = new long[DurationBuckets.Length];
    private long _durationCount;
    private double _durationSum;
    private readonly Dictionary<string, long> _reloads = new(StringComparer.Ordinal)
    {
        ["applied"] = 0, ["unchanged"] = 0, ["refused"] = 0, ["failed"] = 0,
    };
    private double _lastSuccessUnixSeconds;

    public void RecordProgramming(TimeSpan duration)
    {
        var seconds = duration.TotalSeconds;
        lock (_lock)
        {
            for (var i = 0; i < DurationBuckets.Length; i++)
            {
                if (seconds <= DurationBuckets[i])
                    _bucketCounts[i]++;
            }
            _durationCount++;
            _durationSum += seconds;
        }
    }

    /// <summary>One read of the desired state: <c>applied</c>, <c>unchanged</c>, <c>refused</c> or <c>failed</c>.</summary>
    public void RecordUpdate(string result, DateTimeOffset at)
    {
        lock (_lock)
        {
            _reloads[result] = _reloads.GetValueOrDefault(result) + 1;
            if (result is "applied" or "unchanged")
                _lastSuccessUnixSeconds = at.ToUnixTimeMilliseconds() / 1000.0;
        }
    }

    public Snapshot Read()
    {
        lock (_lock)
            return new Snapshot((long[])_bucketCounts.Clone(), _durationCount, _durationSum, new Dictionary<string, long>(_reloads), _lastSuccessUnixSeconds);
    }

    /// <summary>Cumulative bucket counts (Prometheus' <c>le</c> semantics), count and sum.</summary>
    public sealed record Snapshot(long[] Buckets, long Count, double Sum, IReadOnlyDictionary<string, long> Updates, double LastSuccessUnixSeconds);
}
