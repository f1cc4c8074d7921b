using System.Collections.Immutable;
using Lb.Kubernetes.Api;

namespace Lb.Kubernetes.Translation;

/// <summary>
/// Everything the translation reads: the Services, EndpointSlices and Nodes of the cluster as the API
/// last returned them. The watcher hands out a new snapshot after each burst of changes.
/// </summary>
public sealed record ClusterSnapshot(
    ImmutableArray<KubeService> Services,
    ImmutableArray<EndpointSlice> EndpointSlices,
    ImmutableArray<KubeNode> Nodes)
{
    public static ClusterSnapshot Empty { get; } = new([], [], []);
}
