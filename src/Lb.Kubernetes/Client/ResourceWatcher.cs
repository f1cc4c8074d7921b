using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Lb.Kubernetes.Api;
using Microsoft.Extensions.Logging;

namespace Lb.Kubernetes.Client;

/// <summary>
/// Keeps one resource (Services, EndpointSlices or Nodes) current: list, then watch from the list's
/// resourceVersion (bookmarks on), renew the watch when the server ends it, list again on 410 Gone,
/// and reconnect with capped, jittered backoff when the API cannot be reached. Its store is replaced
/// only by a complete list and changed only by watch events: an unreachable API leaves it as it was.
/// </summary>
internal sealed class ResourceWatcher<T> where T : class, IKubeObject
{

    private readonly KubernetesApiClient _api;
    private readonly string _path;
    private readonly string _resource;
    private readonly JsonTypeInfo<T> _typeInfo;
    private readonly KubernetesWatchOptions _options;
    private readonly TimeProvider _time;
    private readonly ExponentialBackoff _backoff;
    private readonly ILogger _logger;
    private readonly Action _changed;
    private readonly object _gate = new();
    private Dictionary<string, T> _store = new(StringComparer.Ordinal);
    private volatile WatchPhase _phase = WatchPhase.Starting;

    public ResourceWatcher(
        KubernetesApiClient api, string path, string resource, JsonTypeInfo<T> typeInfo, KubernetesWatchOptions options,
        TimeProvider time, Random random, ILogger logger, Action changed)
    {
        _api = api;
        _path = path;
        _resource = resource;
        _typeInfo = typeInfo;
        _options = options;
        _time = time;
        _backoff = new ExponentialBackoff(options.InitialBackoff, options.MaxBackoff, random);
        _logger = logger;
        _changed = changed;
    }

    public string Resource => _resource;

    public WatchPhase Phase => _phase;

    /// <summary>True once a first complete list has been stored.</summary>
    public bool Synced { get; private set; }

    /// <summary>How many lists have completed (the first one, and one per 410 or reconnect without a version).</summary>
    public int ListCount { get; private set; }

    public ImmutableArray<T> Items()
    {
        lock (_gate)
            return [.. _store.Values];
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // The version to go on from: the list's, then each event's. It survives a dropped connection,
        // so the next watch resumes where the last event left off; null means list again.
        string? version = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (version is null)
                {
                    if (_phase != WatchPhase.Unreachable)
                        _phase = WatchPhase.Listing; // Still unreachable until a list succeeds: one warning per outage.
                    version = await ListAsync(cancellationToken).ConfigureAwait(false);
                }

                var progress = new WatchProgress(version);
                try
                {
                    await WatchAsync(progress, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    version = progress.Version;
                }
                if (progress.Events == 0 && version is not null)
                {
                    // A watch that ended at once with nothing in it: wait as for a failure, or a
                    // server that keeps closing would be polled in a tight loop.
                    await Task.Delay(_backoff.Next(), _time, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (ResourceExpiredException) when (!cancellationToken.IsCancellationRequested)
            {
                Log.Expired(_logger, _resource, version ?? "(list)");
                // A list that is itself 410 again and again must not become a tight loop.
                if (version is null)
                    await Task.Delay(_backoff.Next(), _time, cancellationToken).ConfigureAwait(false);
                version = null;
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return; // Stopping: whatever the aborted request threw is not an outage.
            }
            catch (Exception e)
            {
                // Every failure is treated as an outage: a watcher that died on an unexpected
                // exception would leave the tables silently stale, which is worse than retrying.
                var delay = _backoff.Next();
                if (_phase != WatchPhase.Unreachable)
                    Log.Unreachable(_logger, _resource, _api.Server, delay, e);
                else
                    Log.StillUnreachable(_logger, _resource, delay, e);
                _phase = WatchPhase.Unreachable;
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private sealed class WatchProgress(string version)
    {
        public string? Version { get; set; } = version;

        public int Events { get; set; }
    }

    private async Task<string> ListAsync(CancellationToken cancellationToken)
    {
        var list = await _api.ListAsync(_path, _options.PageSize, cancellationToken).ConfigureAwait(false);
        var store = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var element in list.Items)
        {
            if (Read(element) is { } item)
                store[Key(item)] = item;
        }
        lock (_gate)
            _store = store;
        Synced = true;
        ListCount++;
        _phase = WatchPhase.Listing;
        _backoff.Reset();
        Log.Listed(_logger, _resource, store.Count, list.ResourceVersion);
        _changed();
        return list.ResourceVersion;
    }

    /// <summary>Applies one watch, keeping <paramref name="progress"/> current event by event (a null version: list again).</summary>
    private async Task WatchAsync(WatchProgress progress, CancellationToken cancellationToken)
    {
        var timeout = (int)Math.Max(1, _options.WatchTimeout.TotalSeconds);
        await foreach (var watchEvent in _api.WatchAsync(_path, progress.Version!, timeout, () => Opened(progress.Version!), cancellationToken).ConfigureAwait(false))
        {
            progress.Events++;
            _backoff.Reset();
            if (watchEvent.Object is not { } element)
            {
                Log.Malformed(_logger, _resource, $"a {watchEvent.Type} event without an object");
                continue;
            }
            switch (watchEvent.Type)
            {
                case "ADDED" or "MODIFIED":
                    if (Read(element) is { } item)
                    {
                        lock (_gate)
                            _store[Key(item)] = item;
                        progress.Version = item.Metadata?.ResourceVersion ?? progress.Version;
                        _changed();
                    }
                    break;
                case "DELETED":
                    if (ReadMetadata(element) is { } deleted)
                    {
                        lock (_gate)
                            _store.Remove(Key(deleted));
                        progress.Version = deleted.Metadata?.ResourceVersion ?? progress.Version;
                        _changed();
                    }
                    break;
                case "BOOKMARK":
                    progress.Version = ReadMetadata(element)?.Metadata?.ResourceVersion ?? progress.Version;
                    break;
                case "ERROR":
                    var status = element.Deserialize(KubeJsonContext.Default.KubeStatus);
                    if (status?.Code == 410)
                    {
                        Log.Expired(_logger, _resource, progress.Version!);
                        progress.Version = null;
                        return;
                    }
                    Log.WatchError(_logger, _resource, status?.Code ?? 0, status?.Reason, status?.Message);
                    throw new KubernetesApiException((System.Net.HttpStatusCode)(status?.Code ?? 500), status, $"watch {_path}: {status?.Message}");
                default:
                    Log.Malformed(_logger, _resource, $"unknown event type '{watchEvent.Type}'");
                    break;
            }
        }
    }

    /// <summary>Logs the move to watching once per state change, not at every renewal of the watch.</summary>
    private void Opened(string version)
    {
        if (_phase != WatchPhase.Watching)
            Log.Watching(_logger, _resource, version);
        _phase = WatchPhase.Watching;
    }

    private T? Read(JsonElement element)
    {
        var item = KubeObjectReader.TryRead(element, _typeInfo, out var error);
        if (item is null)
            Log.Malformed(_logger, _resource, error!);
        else if (string.IsNullOrEmpty(item.Metadata?.Name))
        {
            Log.Malformed(_logger, _resource, $"{KubeObjectReader.Describe(element)}: no metadata.name");
            return null;
        }
        return item;
    }

    private MetadataOnly? ReadMetadata(JsonElement element)
    {
        var item = KubeObjectReader.TryRead(element, KubeJsonContext.Default.MetadataOnly, out var error);
        if (item is null)
            Log.Malformed(_logger, _resource, error!);
        return item;
    }

    private static string Key(IKubeObject item) => $"{item.Metadata?.Namespace}/{item.Metadata?.Name}";
}
