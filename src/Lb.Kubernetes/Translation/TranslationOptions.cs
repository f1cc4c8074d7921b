namespace Lb.Kubernetes.Translation;

/// <summary>Where NodePort frontends listen.</summary>
public enum NodePortFrontends
{
    /// <summary>On this node's InternalIP and ExternalIP addresses, from its Node object (needs <see cref="TranslationOptions.NodeName"/>).</summary>
    NodeAddresses,

    /// <summary>On any local address of the node (the datapath's any-address NodePort match).</summary>
    AnyAddress,

    /// <summary>Not at all: an edge Lb that is not a cluster node exposes only LoadBalancer and external IPs.</summary>
    None,
}

/// <summary>What Lb forwards to.</summary>
public enum BackendTarget
{
    /// <summary>Pod addresses and ports from the EndpointSlices (Lb can route to pods).</summary>
    Pods,

    /// <summary>
    /// Each Ready node's InternalIP with the service port's NodePort: an edge Lb that cannot route to pods
    /// hands traffic to the cluster's own NodePort handling.
    /// </summary>
    NodePorts,
}

/// <param name="NodeName">The node Lb runs on: its addresses carry NodePorts, and with
/// externalTrafficPolicy Local only endpoints on it count. Null for an edge Lb outside the cluster.</param>
public sealed record TranslationOptions(
    string? NodeName = null,
    NodePortFrontends NodePorts = NodePortFrontends.NodeAddresses,
    BackendTarget Backends = BackendTarget.Pods)
{
    public static TranslationOptions Default { get; } = new();
}
