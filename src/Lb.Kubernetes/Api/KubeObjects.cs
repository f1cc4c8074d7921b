using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lb.Kubernetes.Api;

// The subset of the Kubernetes API objects Lb reads, named as the API names them (core/v1 Service and
// Node, discovery.k8s.io/v1 EndpointSlice, meta/v1 lists, watch events and Status). Fields Lb does not
// read are left out and ignored when present. Optional fields are nullable because the API omits them.

public sealed class ObjectMeta
{
    public string? Name { get; init; }
    public string? Namespace { get; init; }
    public string? Uid { get; init; }
    public string? ResourceVersion { get; init; }
    public Dictionary<string, string>? Labels { get; init; }
    public Dictionary<string, string>? Annotations { get; init; }
}

public sealed class ListMeta
{
    public string? ResourceVersion { get; init; }
    [JsonPropertyName("continue")]
    public string? Continue { get; init; }
}

/// <summary>Anything with metadata: what the watcher needs to key and version an object.</summary>
public interface IKubeObject
{
    ObjectMeta? Metadata { get; }
}

public sealed class KubeService : IKubeObject
{
    public ObjectMeta? Metadata { get; init; }
    public ServiceSpec? Spec { get; init; }
    public ServiceStatus? Status { get; init; }
}

public sealed class ServiceSpec
{
    public string? Type { get; init; }
    [JsonPropertyName("clusterIP")]
    public string? ClusterIP { get; init; }
    [JsonPropertyName("externalIPs")]
    public List<string>? ExternalIPs { get; init; }
    public List<ServicePort>? Ports { get; init; }
    public Dictionary<string, string>? Selector { get; init; }
    public string? SessionAffinity { get; init; }
    public SessionAffinityConfig? SessionAffinityConfig { get; init; }
    public string? ExternalTrafficPolicy { get; init; }
    public int? HealthCheckNodePort { get; init; }
    public List<string>? LoadBalancerSourceRanges { get; init; }
    public bool? AllocateLoadBalancerNodePorts { get; init; }
    [JsonPropertyName("ipFamilies")]
    public List<string>? IPFamilies { get; init; }
}

public sealed class ServicePort
{
    public string? Name { get; init; }
    public string? Protocol { get; init; }
    public int? Port { get; init; }
    /// <summary>A number or a port name (IntOrString); Lb takes the resolved port from the EndpointSlices.</summary>
    public JsonElement? TargetPort { get; init; }
    public int? NodePort { get; init; }
}

public sealed class SessionAffinityConfig
{
    [JsonPropertyName("clientIP")]
    public ClientIPConfig? ClientIP { get; init; }
}

public sealed class ClientIPConfig
{
    public int? TimeoutSeconds { get; init; }
}

public sealed class ServiceStatus
{
    public LoadBalancerStatus? LoadBalancer { get; init; }
}

public sealed class LoadBalancerStatus
{
    public List<LoadBalancerIngress>? Ingress { get; init; }
}

public sealed class LoadBalancerIngress
{
    [JsonPropertyName("ip")]
    public string? IP { get; init; }
    public string? Hostname { get; init; }
    [JsonPropertyName("ipMode")]
    public string? IPMode { get; init; }
}

public sealed class EndpointSlice : IKubeObject
{
    public ObjectMeta? Metadata { get; init; }
    public string? AddressType { get; init; }
    public List<Endpoint>? Endpoints { get; init; }
    public List<EndpointPort>? Ports { get; init; }
}

public sealed class Endpoint
{
    public List<string>? Addresses { get; init; }
    public EndpointConditions? Conditions { get; init; }
    public string? NodeName { get; init; }
}

public sealed class EndpointConditions
{
    public bool? Ready { get; init; }
    public bool? Serving { get; init; }
    public bool? Terminating { get; init; }
}

public sealed class EndpointPort
{
    public string? Name { get; init; }
    public string? Protocol { get; init; }
    public int? Port { get; init; }
}

public sealed class KubeNode : IKubeObject
{
    public ObjectMeta? Metadata { get; init; }
    public NodeStatus? Status { get; init; }
}

public sealed class NodeStatus
{
    public List<NodeAddress>? Addresses { get; init; }
    public List<NodeCondition>? Conditions { get; init; }
}

public sealed class NodeAddress
{
    public string? Type { get; init; }
    public string? Address { get; init; }
}

public sealed class NodeCondition
{
    public string? Type { get; init; }
    public string? Status { get; init; }
}

/// <summary>A list response; items stay raw so one malformed item is skipped without losing the rest.</summary>
public sealed class KubeList
{
    public ListMeta? Metadata { get; init; }
    public List<JsonElement>? Items { get; init; }
}

/// <summary>One line of a watch stream: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR, and its object.</summary>
public sealed class WatchEvent
{
    public string? Type { get; init; }
    public JsonElement? Object { get; init; }
}

/// <summary>meta/v1 Status: the body of an API error, and the object of a watch ERROR event.</summary>
public sealed class KubeStatus
{
    public string? Status { get; init; }
    public string? Message { get; init; }
    public string? Reason { get; init; }
    public int? Code { get; init; }
}

/// <summary>Just the metadata of an object, for BOOKMARK events and for keying a malformed object.</summary>
public sealed class MetadataOnly : IKubeObject
{
    public ObjectMeta? Metadata { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(KubeService))]
[JsonSerializable(typeof(EndpointSlice))]
[JsonSerializable(typeof(KubeNode))]
[JsonSerializable(typeof(KubeList))]
[JsonSerializable(typeof(WatchEvent))]
[JsonSerializable(typeof(KubeStatus))]
[JsonSerializable(typeof(MetadataOnly))]
public sealed partial class KubeJsonContext : JsonSerializerContext;
