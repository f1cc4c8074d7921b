using Lb.Kubernetes.Api;
using Lb.Kubernetes.Translation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Kubernetes.Client;

/// <summary>
/// Watches Services, EndpointSlices and Nodes and hands out a <see cref="ClusterSnapshot"/> after each
/// burst of changes (coalesced over <see cref="KubernetesWatchOptions.CoalesceWindow"/>). The first
/// snapshot waits until all three have been listed, so a half-known cluster never empties the tables;
/// while the API is unreachable no snapshot is produced and the last one stays in force.
/// </summary>
public sealed class KubernetesWatcher
{
    public const string ServicesPath = "/api/v1/services";
    public const string EndpointSlicesPath = "/apis/discovery.k8s.io/v1/endpointslices";
    public const string NodesPath = "/api/v1/nodes";

    private readonly KubernetesWatchOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly ResourceWatcher<KubeService> _services;
    private readonly ResourceWatcher<EndpointSlice> _slices;
    private readonly ResourceWatcher<KubeNode> _nodes;

    /// <param name="random">Jitter for the reconnect delays; seed it in tests.</param>
    public KubernetesWatcher(
        KubernetesApiClient api, KubernetesWatchOptions? options = null, TimeProvider? time = null, Random? random = null,
        ILogger<KubernetesWatcher>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(api);
        _options = options ?? new KubernetesWatchOptions();
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        random ??= new Random();
        _services = new(api, ServicesPath, "services", KubeJsonContext.Default.KubeService, _options, _time, random, _logger, Changed);
        _slices = new(api, EndpointSlicesPath, "endpointslices", KubeJsonContext.Default.EndpointSlice, _options, _time, random, _logger, Changed);
        _nodes = new(api, NodesPath, "nodes", KubeJsonContext.Default.KubeNode, _options, _time, random, _logger, Changed);
    }

    /// <summary>Lists per resource so far; a relist after 410 shows here (for status and tests).</summary>
    public (int Services, int EndpointSlices, int Nodes) ListCounts => (_services.ListCount, _slices.ListCount, _nodes.ListCount);

    /// <summary>Each resource's loop as it stands now (services, endpointslices, nodes).</summary>
    public IReadOnlyList<ResourceStatus> Status =>
    [
        new(_services.Resource, _services.Phase, _services.Synced, _services.ListCount),
        new(_slices.Resource, _slices.Phase, _slices.Synced, _slices.ListCount),
        new(_nodes.Resource, _nodes.Phase, _nodes.Synced, _nodes.ListCount),
    ];

    private void Changed() => _signal.Release();

    /// <summary>Runs until cancelled, calling <paramref name="onSnapshot"/> once per coalesced burst of changes (never concurrently).</summary>
    public async Task RunAsync(Func<ClusterSnapshot, CancellationToken, Task> onSnapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onSnapshot);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watches = new[] { _services.RunAsync(stop.Token), _slices.RunAsync(stop.Token), _nodes.RunAsync(stop.Token) };
        try
        {
            while (true)
            {
                await _signal.WaitAsync(stop.Token).ConfigureAwait(false);
                if (!(_services.Synced && _slices.Synced && _nodes.Synced))
                    continue;
                await Task.Delay(_options.CoalesceWindow, _time, stop.Token).ConfigureAwait(false);
                while (_signal.CurrentCount > 0)
                    await _signal.WaitAsync(stop.Token).ConfigureAwait(false);
                var snapshot = new ClusterSnapshot(_services.Items(), _slices.Items(), _nodes.Items());
                Log.Snapshot(_logger, snapshot.Services.Length, snapshot.EndpointSlices.Length, snapshot.Nodes.Length);
                await onSnapshot(snapshot, stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(watches).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>
    /// Translates each snapshot and hands the result on, logging every translation issue and nat fallback
    /// once per snapshot in which it appears first.
    /// </summary>
    public Task RunAsync(TranslationOptions translation, Func<TranslationResult, CancellationToken, Task> onResult, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(translation);
        ArgumentNullException.ThrowIfNull(onResult);
        var reported = new HashSet<string>(StringComparer.Ordinal);
        return RunAsync(async (snapshot, ct) =>
        {
            var result = ServiceTranslator.Translate(snapshot, translation);
            var current = new HashSet<string>(StringComparer.Ordinal);
            foreach (var issue in result.Issues)
            {
                var text = issue.ToString();
                current.Add(text);
                if (!reported.Contains(text))
                    Log.TranslationIssue(_logger, text);
            }
            foreach (var name in result.NatFallbacks)
            {
                current.Add("nat:" + name);
                if (!reported.Contains("nat:" + name))
                    Log.NatFallback(_logger, name);
            }
            reported = current;
            await onResult(result, ct).ConfigureAwait(false);
        }, cancellationToken);
    }
}
