using System.Net;
using System.Net.Sockets;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Kubernetes.Api;

namespace Lb.Kubernetes.Translation;

/// <summary>
/// Turns the cluster's Services, EndpointSlices and Nodes into Lb services, with kube-proxy's semantics
/// for the external frontends (LoadBalancer ingress IPs, external IPs, NodePorts). A pure function: the
/// same snapshot and options give the same result, and every problem comes back as an issue instead of
/// an exception, so one malformed object never takes the others down.
/// </summary>
/// <remarks>
/// One Lb service per Service port, named <c>namespace/name/port-name</c> (the port number when the
/// port has no name): kube-proxy keeps affinity and the endpoint set per service port, and each port
/// has its own target ports. With loadBalancerSourceRanges the LoadBalancer frontends get a service of
/// their own, <c>namespace/name/port-name/loadBalancer</c>, that carries the ranges, so NodePorts and
/// external IPs stay open to everyone as kube-proxy leaves them.
/// </remarks>
public static class ServiceTranslator
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";
    public const string ForwardingAnnotation = "lb.io/forwarding";
    public const string SchedulerAnnotation = "lb.io/scheduler";
    public const string LoadBalancerSuffix = "loadBalancer";

    private static readonly (string Name, ForwardingMode Mode)[] ForwardingNames =
        [("nat", ForwardingMode.Nat), ("dsr-ipip", ForwardingMode.DsrIpip), ("dsr-l2", ForwardingMode.DsrL2)];

    private static readonly (string Name, SchedulerKind Kind)[] SchedulerNames =
        [("maglev", SchedulerKind.Maglev), ("random", SchedulerKind.Random)];

    public static TranslationResult Translate(ClusterSnapshot snapshot, TranslationOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var context = new Context(options);
        context.IndexNodes(snapshot.Nodes);
        context.IndexSlices(snapshot.EndpointSlices);

        var services = new List<Service>();
        foreach (var service in snapshot.Services.OrderBy(NamespacedName, StringComparer.Ordinal))
            services.AddRange(context.TranslateService(service));

        var result = context.ClaimFrontends(services.OrderBy(s => s.Name, StringComparer.Ordinal));
        return new TranslationResult(
            result.ToEquatableArray(),
            context.NatFallbacks.Order(StringComparer.Ordinal).ToEquatableArray(),
            context.HealthChecks.OrderBy(h => h.Port).ToEquatableArray(),
            context.Issues.Distinct().ToEquatableArray()); // A bad node address is met once per service that uses it.
    }

    private static string NamespacedName(IKubeObject item) =>
        $"{item.Metadata?.Namespace}/{item.Metadata?.Name}";

    private sealed class Context(TranslationOptions options)
    {
        private readonly Dictionary<string, KubeNode> _nodes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<EndpointSlice>> _slicesByService = new(StringComparer.Ordinal);

        public List<TranslationIssue> Issues { get; } = [];

        public List<string> NatFallbacks { get; } = [];

        public List<HealthCheck> HealthChecks { get; } = [];

        private void Issue(string subject, string message) => Issues.Add(new TranslationIssue(subject, message));

        public void IndexNodes(IEnumerable<KubeNode> nodes)
        {
            foreach (var node in nodes.OrderBy(n => n.Metadata?.Name, StringComparer.Ordinal))
            {
                var name = node.Metadata?.Name;
                if (string.IsNullOrEmpty(name))
                {
                    Issue("node", "skipped: it has no metadata.name");
                    continue;
                }
                _nodes[name] = node;
            }

            if (options.NodePorts == NodePortFrontends.NodeAddresses)
            {
                if (options.NodeName is null)
                    Issue("options", "NodePorts listen on this node's addresses, but no node name is set; NodePorts are not exposed");
                else if (!_nodes.ContainsKey(options.NodeName))
                    Issue($"node {options.NodeName}", "this node is not in the cluster's node list; NodePorts are not exposed");
            }
        }

        public void IndexSlices(IEnumerable<EndpointSlice> slices)
        {
            foreach (var slice in slices.OrderBy(NamespacedName, StringComparer.Ordinal))
            {
                var subject = $"endpointslice {NamespacedName(slice)}";
                if (string.IsNullOrEmpty(slice.Metadata?.Name) || string.IsNullOrEmpty(slice.Metadata.Namespace))
                {
                    Issue(subject, "skipped: it has no metadata.name or metadata.namespace");
                    continue;
                }
                if (slice.Metadata.Labels?.GetValueOrDefault(ServiceNameLabel) is not { Length: > 0 } serviceName)
                    continue; // Not owned by a service: nothing selects it.
                switch (slice.AddressType)
                {
                    case "IPv4" or "IPv6":
                        break;
                    case "FQDN":
                        continue; // kube-proxy ignores FQDN slices too; Lb balances to addresses only.
                    default:
                        Issue(subject, $"skipped: unknown addressType '{slice.AddressType}' (IPv4, IPv6 or FQDN)");
                        continue;
                }
                var key = $"{slice.Metadata.Namespace}/{serviceName}";
                if (!_slicesByService.TryGetValue(key, out var list))
                    _slicesByService[key] = list = [];
                list.Add(slice);
            }
        }

        public IEnumerable<Service> TranslateService(KubeService service)
        {
            var ns = service.Metadata?.Namespace;
            var name = service.Metadata?.Name;
            var subject = $"service {ns}/{name}";
            if (string.IsNullOrEmpty(ns) || string.IsNullOrEmpty(name))
            {
                Issue(subject, "skipped: it has no metadata.name or metadata.namespace");
                return [];
            }
            if (service.Spec is not { } spec)
            {
                Issue(subject, "skipped: it has no spec");
                return [];
            }

            var type = spec.Type ?? "ClusterIP";
            if (type == "ExternalName" || spec.ClusterIP == "None")
                return []; // No proxying at all: DNS only (ExternalName) or straight to pods (headless).
            if (type is not ("ClusterIP" or "NodePort" or "LoadBalancer"))
            {
                Issue(subject, $"skipped: unknown type '{type}'");
                return [];
            }

            var families = Families(spec, subject);
            var policy = Policy(service, spec, subject);
            var sourceRanges = SourceRanges(spec, subject);
            var ingress = type == "LoadBalancer" ? IngressAddresses(service, subject) : [];
            var externalIPs = Addresses(spec.ExternalIPs, subject, "spec.externalIPs");
            var exposesNodePorts = type is "NodePort" or "LoadBalancer";
            var nodeAddresses = exposesNodePorts ? NodePortAddresses(families) : [];
            var slices = _slicesByService.GetValueOrDefault($"{ns}/{name}") ?? [];

            if (policy.ExternalTrafficPolicy == TrafficPolicy.Local && options.NodeName is null
                && options.Backends == BackendTarget.Pods && (spec.Ports?.Count ?? 0) > 0)
                Issue(subject, "externalTrafficPolicy Local needs this node's name, which is not set; no endpoint counts as local");

            if (policy.ExternalTrafficPolicy == TrafficPolicy.Local && type == "LoadBalancer" && options.NodeName is not null
                && spec.HealthCheckNodePort is > 0 and <= 65535)
                HealthChecks.Add(new HealthCheck(ns, name, (ushort)spec.HealthCheckNodePort.Value, LocalReadyEndpoints(slices)));

            var result = new List<Service>();
            var portNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var port in spec.Ports ?? [])
            {
                var protocol = Protocol(port.Protocol, subject, port);
                if (protocol is null)
                    continue;
                if (port.Port is not (>= 1 and <= 65535) || port.NodePort is < 0 or > 65535)
                {
                    Issue(subject, $"port {Describe(port)} skipped: port {port.Port} / nodePort {port.NodePort} out of range");
                    continue;
                }
                var portName = port.Name ?? "";
                var baseName = $"{ns}/{name}/{(portName.Length > 0 ? portName : port.Port.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
                if (!portNames.Add(baseName))
                {
                    Issue(subject, $"port {Describe(port)} skipped: another port has the same name");
                    continue;
                }

                var servicePort = (ushort)port.Port.Value;
                var nodePort = port.NodePort is > 0 ? (ushort)port.NodePort.Value : (ushort)0;
                var loadBalancerFrontends = ingress.Select(a => Frontend.At(a, servicePort, protocol.Value, FrontendKind.LoadBalancer)).ToList();
                var otherFrontends = externalIPs.Select(a => Frontend.At(a, servicePort, protocol.Value, FrontendKind.ExternalIP)).ToList();
                if (exposesNodePorts && nodePort != 0)
                {
                    otherFrontends.AddRange(options.NodePorts == NodePortFrontends.AnyAddress
                        ? families.Select(f => Frontend.AnyAddress(nodePort, protocol.Value, f))
                        : nodeAddresses.Select(a => Frontend.At(a, nodePort, protocol.Value, FrontendKind.NodePort)));
                }
                else if (type == "NodePort")
                {
                    Issue(subject, $"port {Describe(port)} has no nodePort yet; only its other frontends are exposed");
                }

                var backends = options.Backends == BackendTarget.Pods
                    ? PodBackends(slices, portName, protocol.Value, policy.ExternalTrafficPolicy)
                    : NodeBackends(slices, port, portName, protocol.Value, nodePort, policy.ExternalTrafficPolicy, subject);

                var portPolicy = policy;
                if (portPolicy.Forwarding != ForwardingMode.Nat)
                {
                    var frontendPorts = loadBalancerFrontends.Concat(otherFrontends).Select(f => f.Port).ToHashSet();
                    var mismatch = backends.FirstOrDefault(b => frontendPorts.Any(p => p != b.Port));
                    if (mismatch is not null)
                    {
                        Issue(subject, $"port {Describe(port)}: {ForwardingNames.First(f => f.Mode == portPolicy.Forwarding).Name} cannot change ports " +
                            $"(frontend port {string.Join(",", frontendPorts.Order())}, backend {mismatch.Identity}); forwarding with nat instead");
                        portPolicy = portPolicy with { Forwarding = ForwardingMode.Nat };
                        NatFallbacks.Add(baseName);
                    }
                }

                if (sourceRanges.Count > 0)
                {
                    // kube-proxy filters only the load balancer's IPs by source; NodePorts and external
                    // IPs stay open. One Lb policy covers a whole Lb service, so the filtered frontends
                    // become a service of their own (same backends, hence the same Maglev table).
                    Add(result, baseName, otherFrontends, backends, portPolicy);
                    Add(result, $"{baseName}/{LoadBalancerSuffix}", loadBalancerFrontends, backends,
                        portPolicy with { SourceRanges = sourceRanges.ToEquatableArray() });
                }
                else
                {
                    Add(result, baseName, loadBalancerFrontends.Concat(otherFrontends), backends, portPolicy);
                }
            }
            return result;
        }

        private static void Add(List<Service> into, string name, IEnumerable<Frontend> frontends, List<Backend> backends, ServicePolicy policy)
        {
            var unique = new Dictionary<FrontendKey, Frontend>();
            foreach (var frontend in frontends)
                unique.TryAdd(frontend.Key, frontend); // A LoadBalancer IP listed as an external IP too is one frontend.
            if (unique.Count == 0)
                return; // Nothing reachable from outside the cluster: Lb has nothing to do for it.
            into.Add(new Service(
                name,
                unique.Values.OrderBy(f => f.Key, Canonical.FrontendKeys).ToEquatableArray(),
                backends.OrderBy(b => b.Identity, StringComparer.Ordinal).ToEquatableArray(),
                policy));
        }

        private List<Backend> PodBackends(
            List<EndpointSlice> slices, string portName, L4Protocol protocol, TrafficPolicy trafficPolicy)
        {
            var byIdentity = new Dictionary<string, Backend>(StringComparer.Ordinal);
            foreach (var slice in slices)
            {
                // The EndpointSlice controller has already resolved targetPort (a number, or a name
                // looked up in each pod's containers) into the slice's ports, matched by the service
                // port's name; kube-proxy reads the port from there, and so does Lb.
                var slicePort = slice.Ports?.FirstOrDefault(p =>
                    (p.Name ?? "") == portName && (p.Protocol ?? "TCP") == ProtocolName(protocol));
                if (slicePort is null)
                    continue;
                if (slicePort.Port is not (>= 1 and <= 65535))
                {
                    Issue($"endpointslice {NamespacedName(slice)}", $"port '{portName}' skipped: port {slicePort.Port?.ToString() ?? "(none)"} out of range");
                    continue;
                }
                var family = slice.AddressType == "IPv6" ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
                foreach (var endpoint in slice.Endpoints ?? [])
                {
                    var state = State(endpoint.Conditions);
                    if (state is null)
                        continue;
                    if (trafficPolicy == TrafficPolicy.Local && (options.NodeName is null || endpoint.NodeName != options.NodeName))
                        continue;
                    var text = endpoint.Addresses?.FirstOrDefault();
                    if (text is null || !TryParseAddress(text, out var address) || address.AddressFamily != family)
                    {
                        Issue($"endpointslice {NamespacedName(slice)}", $"endpoint '{text}' skipped: not an {slice.AddressType} address");
                        continue;
                    }
                    Merge(byIdentity, new Backend(address, (ushort)slicePort.Port.Value, 1, state.Value));
                }
            }
            return byIdentity.Values.ToList();
        }

        private List<Backend> NodeBackends(
            List<EndpointSlice> slices, ServicePort port, string portName, L4Protocol protocol, ushort nodePort,
            TrafficPolicy trafficPolicy, string subject)
        {
            if (nodePort == 0)
            {
                Issue(subject, $"port {Describe(port)} has no nodePort, so an edge Lb cannot reach it through the nodes; it has no backends");
                return [];
            }

            HashSet<string>? hosting = null;
            if (trafficPolicy == TrafficPolicy.Local)
            {
                // A cloud load balancer learns this from healthCheckNodePort: only nodes with a ready
                // local endpoint answer 200. The EndpointSlices say the same thing directly.
                hosting = new HashSet<string>(StringComparer.Ordinal);
                foreach (var slice in slices)
                {
                    if (slice.Ports?.Any(p => (p.Name ?? "") == portName && (p.Protocol ?? "TCP") == ProtocolName(protocol)) != true)
                        continue;
                    foreach (var endpoint in slice.Endpoints ?? [])
                    {
                        if (State(endpoint.Conditions) == BackendState.Active && endpoint.NodeName is { } node)
                            hosting.Add(node);
                    }
                }
            }

            var byIdentity = new Dictionary<string, Backend>(StringComparer.Ordinal);
            foreach (var (nodeName, node) in _nodes)
            {
                if (!IsReady(node) || (hosting is not null && !hosting.Contains(nodeName)))
                    continue;
                foreach (var address in NodeAddressesOf(node, "InternalIP"))
                    Merge(byIdentity, new Backend(address, nodePort));
            }
            return byIdentity.Values.ToList();
        }

        /// <summary>Ready endpoints on this node, each address counted once whatever its ports and slices.</summary>
        private int LocalReadyEndpoints(List<EndpointSlice> slices) =>
            slices.SelectMany(s => s.Endpoints ?? [])
                .Where(e => e.NodeName == options.NodeName && State(e.Conditions) == BackendState.Active && e.Addresses is { Count: > 0 })
                .Select(e => e.Addresses![0])
                .Distinct(StringComparer.Ordinal)
                .Count();

        /// <summary>The same address:port in two slices (a slice being replaced) is one backend, in its better state.</summary>
        private static void Merge(Dictionary<string, Backend> byIdentity, Backend backend)
        {
            if (!byIdentity.TryGetValue(backend.Identity, out var existing) || backend.State < existing.State)
                byIdentity[backend.Identity] = backend;
        }

        /// <summary>
        /// kube-proxy's reading of the conditions (KEP-1669): ready (nil means ready) takes new flows;
        /// serving and terminating serves only when nothing is ready; anything else is not a backend.
        /// </summary>
        private static BackendState? State(EndpointConditions? conditions)
        {
            var ready = conditions?.Ready ?? true;
            var serving = conditions?.Serving ?? true;
            var terminating = conditions?.Terminating ?? false;
            if (ready)
                return BackendState.Active;
            if (serving && terminating)
                return BackendState.Terminating;
            return null;
        }

        private static bool IsReady(KubeNode node) =>
            node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

        private IEnumerable<IPAddress> NodeAddressesOf(KubeNode node, params string[] types)
        {
            foreach (var entry in node.Status?.Addresses ?? [])
            {
                if (!types.Contains(entry.Type) || entry.Address is null)
                    continue;
                if (TryParseAddress(entry.Address, out var address))
                    yield return address;
                else
                    Issue($"node {node.Metadata?.Name}", $"address '{entry.Address}' skipped: not an IP address");
            }
        }

        private List<IPAddress> NodePortAddresses(List<AddressFamily> families)
        {
            if (options.NodePorts != NodePortFrontends.NodeAddresses || options.NodeName is null
                || !_nodes.TryGetValue(options.NodeName, out var node))
                return [];
            return NodeAddressesOf(node, "InternalIP", "ExternalIP")
                .Where(a => families.Contains(a.AddressFamily))
                .Distinct()
                .ToList();
        }

        private List<AddressFamily> Families(ServiceSpec spec, string subject)
        {
            var families = new List<AddressFamily>();
            foreach (var family in spec.IPFamilies ?? [])
            {
                switch (family)
                {
                    case "IPv4": families.Add(AddressFamily.InterNetwork); break;
                    case "IPv6": families.Add(AddressFamily.InterNetworkV6); break;
                    default: Issue(subject, $"ipFamilies entry '{family}' ignored (IPv4 or IPv6)"); break;
                }
            }
            if (families.Count == 0)
                families.Add(spec.ClusterIP is { } ip && TryParseAddress(ip, out var clusterIP) ? clusterIP.AddressFamily : AddressFamily.InterNetwork);
            return families;
        }

        private ServicePolicy Policy(KubeService service, ServiceSpec spec, string subject)
        {
            var annotations = service.Metadata?.Annotations;
            var forwarding = ForwardingMode.Nat;
            if (annotations?.GetValueOrDefault(ForwardingAnnotation) is { } forwardingText)
            {
                var match = ForwardingNames.FirstOrDefault(f => f.Name == forwardingText);
                if (match.Name is null)
                    Issue(subject, $"annotation {ForwardingAnnotation}: '{forwardingText}' is not one of nat, dsr-ipip, dsr-l2; using nat");
                else
                    forwarding = match.Mode;
            }

            var scheduler = SchedulerKind.Maglev;
            if (annotations?.GetValueOrDefault(SchedulerAnnotation) is { } schedulerText)
            {
                var match = SchedulerNames.FirstOrDefault(s => s.Name == schedulerText);
                if (match.Name is null)
                    Issue(subject, $"annotation {SchedulerAnnotation}: '{schedulerText}' is not one of maglev, random; using maglev");
                else
                    scheduler = match.Kind;
            }

            SessionAffinity? affinity = null;
            switch (spec.SessionAffinity)
            {
                case null or "None":
                    break;
                case "ClientIP":
                    var timeout = spec.SessionAffinityConfig?.ClientIP?.TimeoutSeconds;
                    if (timeout is null)
                        affinity = new SessionAffinity(SessionAffinity.DefaultTimeoutSeconds);
                    else if (timeout is > 0 and <= (int)SessionAffinity.MaxTimeoutSeconds)
                        affinity = new SessionAffinity((uint)timeout.Value);
                    else
                    {
                        Issue(subject, $"sessionAffinityConfig.clientIP.timeoutSeconds {timeout} is outside 1-86400; using {SessionAffinity.DefaultTimeoutSeconds}");
                        affinity = new SessionAffinity(SessionAffinity.DefaultTimeoutSeconds);
                    }
                    break;
                default:
                    Issue(subject, $"sessionAffinity '{spec.SessionAffinity}' is not None or ClientIP; using None");
                    break;
            }

            var trafficPolicy = TrafficPolicy.Cluster;
            switch (spec.ExternalTrafficPolicy)
            {
                case null or "Cluster":
                    break;
                case "Local":
                    trafficPolicy = TrafficPolicy.Local;
                    break;
                default:
                    Issue(subject, $"externalTrafficPolicy '{spec.ExternalTrafficPolicy}' is not Cluster or Local; using Cluster");
                    break;
            }

            return new ServicePolicy(forwarding, scheduler, affinity, trafficPolicy, EquatableArray<IPNetwork>.Empty);
        }

        private List<IPNetwork> SourceRanges(ServiceSpec spec, string subject)
        {
            var ranges = new List<IPNetwork>();
            foreach (var text in spec.LoadBalancerSourceRanges ?? [])
            {
                if (TryParseRange(text.Trim(), out var range))
                    ranges.Add(range);
                else
                    Issue(subject, $"loadBalancerSourceRanges entry '{text}' skipped: not a CIDR");
            }
            return ranges.Distinct().Order(Canonical.Networks).ToList();
        }

        private List<IPAddress> IngressAddresses(KubeService service, string subject)
        {
            var addresses = new List<IPAddress>();
            foreach (var ingress in service.Status?.LoadBalancer?.Ingress ?? [])
            {
                if (ingress.IP is null)
                    continue; // A hostname-only ingress (an AWS ELB, say): nothing to match packets against.
                // Only VIP-mode IPs (or no ipMode at all) are delivered with the IP as destination;
                // with Proxy, the load balancer rewrites to node or pod, so kube-proxy leaves the IP alone.
                if (ingress.IPMode is not (null or "VIP"))
                {
                    if (ingress.IPMode != "Proxy")
                        Issue(subject, $"ingress {ingress.IP} skipped: unknown ipMode '{ingress.IPMode}'");
                    continue;
                }
                if (TryParseAddress(ingress.IP, out var address))
                    addresses.Add(address);
                else
                    Issue(subject, $"ingress '{ingress.IP}' skipped: not an IP address");
            }
            return addresses.Distinct().ToList();
        }

        private List<IPAddress> Addresses(List<string>? texts, string subject, string field)
        {
            var addresses = new List<IPAddress>();
            foreach (var text in texts ?? [])
            {
                if (TryParseAddress(text, out var address))
                    addresses.Add(address);
                else
                    Issue(subject, $"{field} entry '{text}' skipped: not an IP address");
            }
            return addresses.Distinct().ToList();
        }

        private L4Protocol? Protocol(string? text, string subject, ServicePort port)
        {
            switch (text ?? "TCP")
            {
                case "TCP": return L4Protocol.Tcp;
                case "UDP": return L4Protocol.Udp;
                case "SCTP":
                    Issue(subject, $"port {Describe(port)} skipped: Lb balances TCP and UDP, not SCTP");
                    return null;
                default:
                    Issue(subject, $"port {Describe(port)} skipped: unknown protocol '{text}'");
                    return null;
            }
        }

        /// <summary>
        /// Gives each frontend to the first service (in name order) that asks for it; a later service
        /// loses that frontend with an issue, so one bad Service cannot make the whole snapshot unusable.
        /// </summary>
        public List<Service> ClaimFrontends(IEnumerable<Service> services)
        {
            var owners = new Dictionary<FrontendKey, string>();
            var result = new List<Service>();
            foreach (var service in services)
            {
                var kept = new List<Frontend>();
                foreach (var frontend in service.Frontends)
                {
                    if (owners.TryGetValue(frontend.Key, out var owner))
                    {
                        Issue($"service {ServiceOf(service.Name)}", $"frontend {frontend.Key} skipped: it already belongs to {owner}");
                        continue;
                    }
                    owners.Add(frontend.Key, service.Name);
                    kept.Add(frontend);
                }
                if (kept.Count == service.Frontends.Count)
                    result.Add(service);
                else if (kept.Count > 0)
                    result.Add(service with { Frontends = kept.ToEquatableArray() });
            }
            return result;
        }

        private static string ServiceOf(string lbName)
        {
            var parts = lbName.Split('/');
            return $"{parts[0]}/{parts[1]}";
        }

        private static string Describe(ServicePort port) =>
            string.IsNullOrEmpty(port.Name) ? $"{port.Port}/{port.Protocol ?? "TCP"}" : $"'{port.Name}'";

        private static string ProtocolName(L4Protocol protocol) => protocol == L4Protocol.Udp ? "UDP" : "TCP";
    }

    /// <summary>Strict parse: the four-part dotted IPv4 form or IPv6, no zone; other spellings are refused.</summary>
    internal static bool TryParseAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Length == 0 || text.Contains('%') || !IPAddress.TryParse(text, out var parsed))
            return false;
        if (parsed.AddressFamily == AddressFamily.InterNetwork && (text.Split('.').Length != 4 || text.Any(c => !(char.IsAsciiDigit(c) || c == '.'))))
            return false;
        address = parsed.IsIPv4MappedToIPv6 ? parsed.MapToIPv4() : parsed;
        return true;
    }

    /// <summary>A CIDR; host bits are cleared as kube-proxy's sloppy parser does (API validation allows them).</summary>
    internal static bool TryParseRange(string text, out IPNetwork range)
    {
        range = default;
        var slash = text.IndexOf('/');
        if (slash < 0 || !TryParseAddress(text[..slash], out var address)
            || !int.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix))
            return false;
        var bytes = address.GetAddressBytes();
        if (prefix > bytes.Length * 8)
            return false;
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        range = new IPNetwork(new IPAddress(bytes), prefix);
        return true;
    }
}
