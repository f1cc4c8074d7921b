using Lb.Core.Model;

namespace Lb.Kubernetes.Translation;

/// <summary>Something in the cluster's objects that Lb skipped, refused or changed, and why.</summary>
/// <param name="Subject">The object, as <c>service default/web</c>, <c>endpointslice default/web-x1</c> or <c>node n1</c>.</param>
public sealed record TranslationIssue(string Subject, string Message)
{
    public override string ToString() => $"{Subject}: {Message}";
}

/// <summary>
/// What a healthCheckNodePort server on this node should answer for one externalTrafficPolicy Local
/// service: 200 with <see cref="LocalEndpoints"/> when it is above 0, else 503 (kube-proxy counts ready,
/// non-terminating endpoints on this node, so a node with only terminating pods fails the check).
/// </summary>
public sealed record HealthCheck(string Namespace, string Name, ushort Port, int LocalEndpoints)
{
    public override string ToString() => $"{Namespace}/{Name} on :{Port}: {LocalEndpoints} local endpoints";
}

/// <summary>
/// The translation of one <see cref="ClusterSnapshot"/>: the Lb services (sorted by name, frontends and
/// backends in canonical order), the services whose DSR annotation fell back to nat (a status flag), the
/// health checks this node should serve (sorted by port), and every issue met on the way, for the caller
/// to log.
/// </summary>
public sealed record TranslationResult(
    EquatableArray<Service> Services,
    EquatableArray<string> NatFallbacks,
    EquatableArray<HealthCheck> HealthChecks,
    EquatableArray<TranslationIssue> Issues);
