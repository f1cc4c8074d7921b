namespace Lb.Kubernetes.Client;

/// <summary>How the watcher talks to the API. The defaults suit a cluster of any size.</summary>
public sealed record KubernetesWatchOptions
{
    /// <summary>Items per list page (limit=).</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>Asked of the server as timeoutSeconds; the watch is then renewed from the last resourceVersion.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Changes that arrive within this window after the first one become one snapshot.</summary>
    public TimeSpan CoalesceWindow { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>Where one resource's list-and-watch loop stands, for status output.</summary>
public enum WatchPhase
{
    Starting,
    Listing,
    Watching,

    /// <summary>The last attempt failed; the store keeps the last known state while the loop retries.</summary>
    Unreachable,
}

/// <summary>One resource's loop: its phase, whether it has ever listed completely, and how many lists it took.</summary>
public sealed record ResourceStatus(string Resource, WatchPhase Phase, bool Synced, int Lists);
