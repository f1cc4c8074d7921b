namespace Lb.Kubernetes.Tests.Client;

/// <summary>Small API objects in the JSON the API server returns, for the protocol tests.</summary>
internal static class Objects
{
    public const string Services = "/api/v1/services";
    public const string Slices = "/apis/discovery.k8s.io/v1/endpointslices";
    public const string Nodes = "/api/v1/nodes";

    public static string Service(string name, string ingressIp, int port = 80) => $$$$"""
        {"metadata":{"name":"{{{{name}}}}","namespace":"default","uid":"u-{{{{name}}}}"},
         "spec":{"type":"LoadBalancer","clusterIP":"10.96.0.10","ports":[{"name":"http","protocol":"TCP","port":{{{{port}}}},"targetPort":8080}],
                 "allocateLoadBalancerNodePorts":false,"externalTrafficPolicy":"Cluster","sessionAffinity":"None","ipFamilies":["IPv4"]},
         "status":{"loadBalancer":{"ingress":[{"ip":"{{{{ingressIp}}}}","ipMode":"VIP"}]}}}
        """;

    public static string Slice(string name, string service, params string[] addresses) => $$$$"""
        {"metadata":{"name":"{{{{name}}}}","namespace":"default","labels":{"kubernetes.io/service-name":"{{{{service}}}}"}},
         "addressType":"IPv4",
         "endpoints":[{{{{string.Join(",", addresses.Select(Endpoint))}}}}],
         "ports":[{"name":"http","protocol":"TCP","port":8080}]}
        """;

    private static string Endpoint(string address) => $$$$"""
        {"addresses":["{{{{address}}}}"],"conditions":{"ready":true,"serving":true,"terminating":false},"nodeName":"node-a"}
        """;

    public static string Node(string name, string address) => $$$$"""
        {"metadata":{"name":"{{{{name}}}}","labels":{"kubernetes.io/hostname":"{{{{name}}}}"}},
         "status":{"addresses":[{"type":"InternalIP","address":"{{{{address}}}}"}],"conditions":[{"type":"Ready","status":"True"}]}}
        """;
}
