using System.Threading.Channels;
using Lb.Kubernetes.Client;
using Lb.Kubernetes.Translation;

namespace Lb.Kubernetes.Tests.Client;

/// <summary>A <see cref="KubernetesWatcher"/> running against a <see cref="TestApiServer"/>, recording every snapshot.</summary>
internal sealed class WatcherHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<ClusterSnapshot> _snapshots = Channel.CreateUnbounded<ClusterSnapshot>();
    private readonly List<ClusterSnapshot> _all = [];
    private readonly Task _run;

    public WatcherHarness(KubernetesConnection connection, KubernetesWatchOptions? options = null, Microsoft.Extensions.Logging.ILogger<KubernetesWatcher>? logger = null)
    {
        Api = new KubernetesApiClient(connection);
        Watcher = new KubernetesWatcher(
            Api,
            options ?? new KubernetesWatchOptions
            {
                PageSize = 2,
                CoalesceWindow = TimeSpan.FromMilliseconds(50),
                InitialBackoff = TimeSpan.FromMilliseconds(20),
                MaxBackoff = TimeSpan.FromMilliseconds(200),
                WatchTimeout = TimeSpan.FromSeconds(60),
            },
            TimeProvider.System,
            new Random(42),
            logger);
        _run = Watcher.RunAsync((snapshot, _) =>
        {
            lock (_all)
                _all.Add(snapshot);
            _snapshots.Writer.TryWrite(snapshot);
            return Task.CompletedTask;
        }, _stop.Token);
    }

    public KubernetesApiClient Api { get; }

    public KubernetesWatcher Watcher { get; }

    public int Count
    {
        get { lock (_all) return _all.Count; }
    }

    public ClusterSnapshot? Latest
    {
        get { lock (_all) return _all.Count == 0 ? null : _all[^1]; }
    }

    /// <summary>Waits for a snapshot that satisfies <paramref name="condition"/>; fails after 15 s.</summary>
    public async Task<ClusterSnapshot> WaitForAsync(Func<ClusterSnapshot, bool> condition, string what)
    {
        if (Latest is { } latest && condition(latest))
            return latest;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            while (true)
            {
                var snapshot = await _snapshots.Reader.ReadAsync(timeout.Token);
                if (condition(snapshot))
                    return snapshot;
            }
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"no snapshot with {what} within 15 s; the last had " +
                $"{Latest?.Services.Length} services, {Latest?.EndpointSlices.Length} slices, {Latest?.Nodes.Length} nodes");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        Api.Dispose();
        _stop.Dispose();
    }
}
