using Lb.Core.Model;

namespace Lb.Kubernetes.Translation;

/// <summary>Something in the cluster's objects that Lb skipped, refused or changed, and why.</summary>
/// <param name="Subject">The object, as <c>service default/web</c>, <c>endpointslice default/web-x1</c> or <c>node n1</c>.</param>
public sealed record TranslationIssue(string Subject, string Message)
{
    public override string ToString() => $"{Subject}: {Message}";
}

/// <summary>
/// The translation of one <see cref="ClusterSnapshot"/>: the Lb services (sorted by name, frontends and
/// backends in canonical order), the services whose DSR annotation fell back to nat (a status flag), and
/// every issue met on the way, for the caller to log.
/// </summary>
public sealed record TranslationResult(
    EquatableArray<Service> Services,
    EquatableArray<string> NatFallbacks,
    EquatableArray<TranslationIssue> Issues);
