using Lb.Core.Maglev;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Lb.Core.Model;

namespace Lb.Core.Config;

/// <summary>A parsed frontend and where it was written (one nodePort entry may yield two, one per family).</summary>
internal sealed record FrontendDraft(Frontend Value, ConfigNode Node, string Path);

/// <summary>A parsed backend and where it was written; the port node is kept for the DSR port rule.</summary>
internal sealed record BackendDraft(Backend Value, ConfigNode Node, string Path, ConfigNode PortNode);

/// <summary>
/// A service as read from the file, before the rules that span fields. Parts that failed to parse
/// are missing (and already reported); the checks that need them are skipped.
/// </summary>
internal sealed class ServiceDraft(ConfigNode node, string path)
{
    public ConfigNode Node { get; } = node;
    public string Path { get; } = path;
    public string? Name { get; set; }
    public ConfigNode? NameNode { get; set; }
    public List<FrontendDraft> Frontends { get; } = [];
    public List<BackendDraft> Backends { get; } = [];

    /// <summary>False when a frontend or backend failed to parse: a family check would then report noise.</summary>
    public bool EndpointsComplete { get; set; } = true;

    public ServicePolicy Policy { get; set; } = ServicePolicy.Default;

    /// <summary>False when a policy field failed; the DSR checks need a trustworthy forwarding mode.</summary>
    public bool PolicyComplete { get; set; } = true;

    public ConfigNode? ForwardingNode { get; set; }

    public ConfigNode? BackendsNode { get; set; }

    public Service ToService() => new(Name!, Frontends.Select(f => f.Value).ToEquatableArray(),
        Backends.Select(b => b.Value).ToEquatableArray(), Policy);
}

internal sealed class ConfigDraft
{
    public DatapathOptions Datapath { get; set; } = DatapathOptions.Default;
    public AdminOptions Admin { get; set; } = AdminOptions.Default;
    public List<ServiceDraft> Services { get; } = [];

    /// <summary>False when tableSize failed to parse: the Maglev room check must not test against the default.</summary>
    public bool TableSizeKnown { get; set; } = true;
}

/// <summary>
/// Reads the node tree into drafts: field names, types, ranges and the rules of a single field.
/// Rules across fields and services are <see cref="LbConfigValidator"/>'s.
/// </summary>
internal sealed partial class LbConfigParser(ConfigReader reader)
{
    public const uint MinFlowTableCapacity = 1024;
    public const uint MaxFlowTableCapacity = 64 * 1024 * 1024;
    public const int MaxServiceNameLength = 253;

    /// <summary>Linux's IFNAMSIZ is 16 including the terminating NUL.</summary>
    public const int MaxInterfaceNameLength = 15;

    private const string WeightHint = "to drain a backend, set state: maintenance";

    public ConfigDraft Parse(ConfigNode root)
    {
        var draft = new ConfigDraft();
        if (!reader.TryMapping(root, "", out var mapping))
            return draft;

        var fields = reader.Fields(mapping, "", "datapath", "admin", "services");
        if (fields.Optional("datapath") is { } datapath)
            draft.Datapath = ParseDatapath(datapath, fields.PathOf("datapath"), draft);
        if (fields.Optional("admin") is { } admin)
            draft.Admin = ParseAdmin(admin, fields.PathOf("admin"));

        // Required even when empty: a blank or truncated file must not read as "no services" and empty the tables.
        if (fields.Required("services", "write 'services: []' for none") is { } services &&
            reader.TrySequence(services, "services", out var list))
        {
            for (var i = 0; i < list.Items.Count; i++)
            {
                var service = ParseService(list.Items[i], FieldPath.Item("services", i));
                if (service is not null)
                    draft.Services.Add(service);
            }
        }
        return draft;
    }

    private DatapathOptions ParseDatapath(ConfigNode node, string path, ConfigDraft draft)
    {
        var options = DatapathOptions.Default;
        if (!reader.TryMapping(node, path, out var mapping))
            return options;

        var fields = reader.Fields(mapping, path, "mode", "interfaces", "snatAddress", "snatAddressV6", "maglev", "flowTable");
        if (fields.Optional("mode") is { } mode &&
            reader.TryEnum(mode, fields.PathOf("mode"), ConfigNames.Mode, "datapath mode", out var parsedMode))
            options = options with { Mode = parsedMode };

        if (fields.Optional("interfaces") is { } interfaces)
            options = options with { Interfaces = ParseInterfaces(interfaces, fields.PathOf("interfaces")) };

        if (fields.Optional("snatAddress") is { } snat4 &&
            TrySnatAddress(snat4, fields.PathOf("snatAddress"), AddressFamily.InterNetwork, "snatAddressV6", out var v4))
            options = options with { SnatAddress = v4 };
        if (fields.Optional("snatAddressV6") is { } snat6 &&
            TrySnatAddress(snat6, fields.PathOf("snatAddressV6"), AddressFamily.InterNetworkV6, "snatAddress", out var v6))
            options = options with { SnatAddressV6 = v6 };

        if (fields.Optional("maglev") is { } maglev)
            options = options with { Maglev = ParseMaglev(maglev, fields.PathOf("maglev"), draft) };

        if (fields.Optional("flowTable") is { } flowTable && reader.TryMapping(flowTable, fields.PathOf("flowTable"), out var flowMapping))
        {
            var flowFields = reader.Fields(flowMapping, fields.PathOf("flowTable"), "capacity");
            if (flowFields.Optional("capacity") is { } capacity &&
                reader.TryInteger(capacity, flowFields.PathOf("capacity"), MinFlowTableCapacity, MaxFlowTableCapacity, out var value))
                options = options with { FlowTableCapacity = (uint)value };
        }
        return options;
    }

    private EquatableArray<string> ParseInterfaces(ConfigNode node, string path)
    {
        var names = new List<string>();
        if (!reader.TrySequence(node, path, out var list))
            return names.ToEquatableArray();

        var seen = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
        for (var i = 0; i < list.Items.Count; i++)
        {
            var item = list.Items[i];
            var itemPath = FieldPath.Item(path, i);
            if (!reader.TryString(item, itemPath, out var name))
                continue;
            var problem = InterfaceNameProblem(name);
            if (problem is not null)
            {
                reader.Error(item, itemPath, problem);
                continue;
            }
            if (seen.TryGetValue(name, out var first))
            {
                reader.Error(item, itemPath, $"interface '{name}' is listed twice (first at {first.Start})");
                continue;
            }
            seen.Add(name, item);
            names.Add(name);
        }
        return names.ToEquatableArray();
    }

    /// <summary>The kernel's own rule (dev_valid_name): 1-15 bytes, not "." or "..", no '/', ':' or white space.</summary>
    private static string? InterfaceNameProblem(string name)
    {
        if (name.Length == 0)
            return "an interface name must not be empty";
        if (name is "." or ".." || name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c) || char.IsControl(c)))
            return $"'{name}' is not a valid interface name (no '/', ':' or white space)";
        if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxInterfaceNameLength)
            return $"'{name}' is longer than {MaxInterfaceNameLength} bytes, the kernel's limit for an interface name";
        return null;
    }

    private bool TrySnatAddress(ConfigNode node, string path, AddressFamily family, string otherField, out IPAddress address)
    {
        if (!reader.TryHostAddress(node, path, out address))
            return false;
        if (address.AddressFamily == family)
            return true;
        reader.Error(node, path,
            $"{address} is {ConfigNames.Describe(address.AddressFamily)}; this field takes an {ConfigNames.Describe(family)} address (use {otherField})");
        return false;
    }

    private MaglevOptions ParseMaglev(ConfigNode node, string path, ConfigDraft draft)
    {
        var options = MaglevOptions.Default;
        if (!reader.TryMapping(node, path, out var mapping))
            return options;

        var fields = reader.Fields(mapping, path, "tableSize", "seed");
        if (fields.Optional("tableSize") is { } sizeNode)
        {
            if (!reader.TryInteger(sizeNode, fields.PathOf("tableSize"), 0, uint.MaxValue, out var size))
            {
                draft.TableSizeKnown = false;
            }
            else if (MaglevTable.ValidateTableSize((uint)size) is { } error)
            {
                draft.TableSizeKnown = false;
                reader.Error(sizeNode, fields.PathOf("tableSize"), error);
            }
            else
            {
                options = options with { TableSize = (uint)size };
            }
        }

        if (fields.Optional("seed") is { } seedNode && reader.TryString(seedNode, fields.PathOf("seed"), out var seed))
        {
            if (seed.Length == 0)
                reader.Error(seedNode, fields.PathOf("seed"), "the seed must not be empty");
            else
                options = options with { Seed = seed };
        }
        return options;
    }

    private AdminOptions ParseAdmin(ConfigNode node, string path)
    {
        var options = AdminOptions.Default;
        if (!reader.TryMapping(node, path, out var mapping))
            return options;

        var fields = reader.Fields(mapping, path, "listen", "allowRemote");
        var allowRemote = false;
        if (fields.Optional("allowRemote") is { } allowNode && reader.TryBoolean(allowNode, fields.PathOf("allowRemote"), out allowRemote))
            options = options with { AllowRemote = allowRemote };

        if (fields.Optional("listen") is { } listenNode && reader.TryString(listenNode, fields.PathOf("listen"), out var listen))
        {
            var error = AddressSyntax.ParseEndpoint(listen, out var address, out var port);
            if (error is null && !IPAddress.IsLoopback(address) && !allowRemote)
                error = $"{Endpoints.Format(address, port)} is not a loopback address; serving the admin API " +
                        "(/metrics, /status) to other hosts needs 'allowRemote: true'";
            if (error is null)
                options = options with { Listen = Endpoints.Format(address, port) };
            else
                reader.Error(listenNode, fields.PathOf("listen"), error);
        }
        return options;
    }

    private ServiceDraft? ParseService(ConfigNode node, string path)
    {
        if (!reader.TryMapping(node, path, out var mapping))
            return null;

        var draft = new ServiceDraft(node, path);
        var fields = reader.Fields(mapping, path,
            "name", "frontends", "forwarding", "scheduler", "sessionAffinity", "externalTrafficPolicy", "sourceRanges", "backends");

        if (fields.Required("name") is { } nameNode && reader.TryString(nameNode, fields.PathOf("name"), out var name))
        {
            var problem = ServiceNameProblem(name);
            if (problem is null)
            {
                draft.Name = name;
                draft.NameNode = nameNode;
            }
            else
            {
                reader.Error(nameNode, fields.PathOf("name"), problem);
            }
        }

        if (fields.Required("frontends") is { } frontends && reader.TrySequence(frontends, fields.PathOf("frontends"), out var frontendList))
        {
            if (frontendList.Items.Count == 0)
                reader.Error(frontends, fields.PathOf("frontends"), "a service needs at least one frontend");
            for (var i = 0; i < frontendList.Items.Count; i++)
            {
                if (!ParseFrontend(frontendList.Items[i], FieldPath.Item(fields.PathOf("frontends"), i), draft.Frontends))
                    draft.EndpointsComplete = false;
            }
        }
        else
        {
            draft.EndpointsComplete = false;
        }

        if (fields.Optional("backends") is { } backends)
        {
            draft.BackendsNode = backends;
            if (reader.TrySequence(backends, fields.PathOf("backends"), out var backendList))
            {
                for (var i = 0; i < backendList.Items.Count; i++)
                {
                    var backend = ParseBackend(backendList.Items[i], FieldPath.Item(fields.PathOf("backends"), i));
                    if (backend is null)
                        draft.EndpointsComplete = false;
                    else
                        draft.Backends.Add(backend);
                }
            }
            else
            {
                draft.EndpointsComplete = false;
            }
        }

        ParsePolicy(fields, draft);
        return draft;
    }

    private static string? ServiceNameProblem(string name)
    {
        if (name.Length == 0)
            return "a service name must not be empty";
        if (name.Length > MaxServiceNameLength)
            return $"a service name is at most {MaxServiceNameLength} characters";
        if (!ServiceNamePattern().IsMatch(name))
            return $"'{name}' is not a valid service name (letters, digits, '-', '_', '.' and '/', " +
                   "starting and ending with a letter or digit)";
        return null;
    }

    /// <summary>Names appear in metrics labels, logs and the CLI, and may be Kubernetes' namespace/name.</summary>
    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$")]
    private static partial Regex ServiceNamePattern();

    private bool ParseFrontend(ConfigNode node, string path, List<FrontendDraft> into)
    {
        if (!reader.TryMapping(node, path, out var mapping))
            return false;

        var ok = true;
        var fields = reader.Fields(mapping, path, "address", "port", "protocol", "kind", "family");

        // An unreadable kind is reported once; the address and family rules that depend on it wait for a valid one.
        var kind = FrontendKind.Static;
        var kindKnown = fields.Optional("kind") is not { } kindNode ||
                        reader.TryEnum(kindNode, fields.PathOf("kind"), ConfigNames.Kind, "frontend kind", out kind);
        ok &= kindKnown;

        var protocol = L4Protocol.Tcp;
        if (fields.Optional("protocol") is { } protocolNode)
            ok &= reader.TryEnum(protocolNode, fields.PathOf("protocol"), ConfigNames.Protocol, "protocol", out protocol);

        ushort port = 0;
        var portNode = fields.Required("port");
        ok &= portNode is not null && reader.TryPort(portNode, fields.PathOf("port"), out port);

        IPAddress? address = null;
        var addressNode = fields.Optional("address");
        if (addressNode is not null)
        {
            ok &= reader.TryHostAddress(addressNode, fields.PathOf("address"), out var parsed);
            address = parsed;
        }
        else if (kindKnown && kind != FrontendKind.NodePort)
        {
            fields.Required("address", "only a nodePort frontend may leave it out, to match every local address");
            ok = false;
        }

        AddressFamily? family = null;
        if (fields.Optional("family") is { } familyNode)
        {
            if (!kindKnown)
            {
                ok = false;
            }
            else if (addressNode is not null || kind != FrontendKind.NodePort)
            {
                reader.Error(familyNode, fields.PathOf("family"),
                    "family applies only to a nodePort frontend without an address (an address has its own family)");
                ok = false;
            }
            else if (reader.TryEnum(familyNode, fields.PathOf("family"), ConfigNames.Family, "address family", out var parsedFamily))
            {
                family = parsedFamily;
            }
            else
            {
                ok = false;
            }
        }

        if (!ok)
            return false;

        if (address is not null)
        {
            into.Add(new FrontendDraft(Frontend.At(address, port, protocol, kind), node, path));
        }
        else
        {
            // A nodePort without an address listens on every local address; without a family, on both.
            foreach (var f in family is { } only ? [only] : new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
                into.Add(new FrontendDraft(Frontend.AnyAddress(port, protocol, f), node, path));
        }
        return true;
    }

    private BackendDraft? ParseBackend(ConfigNode node, string path)
    {
        if (!reader.TryMapping(node, path, out var mapping))
            return null;

        var fields = reader.Fields(mapping, path, "address", "port", "weight", "state");
        var ok = true;

        var address = IPAddress.None;
        var addressNode = fields.Required("address");
        ok &= addressNode is not null && reader.TryHostAddress(addressNode, fields.PathOf("address"), out address);

        ushort port = 0;
        var portNode = fields.Required("port");
        ok &= portNode is not null && reader.TryPort(portNode, fields.PathOf("port"), out port);

        ulong weight = 1;
        if (fields.Optional("weight") is { } weightNode)
            ok &= reader.TryInteger(weightNode, fields.PathOf("weight"), 1, ushort.MaxValue, out weight, WeightHint);

        var state = BackendState.Active;
        if (fields.Optional("state") is { } stateNode)
            ok &= reader.TryEnum(stateNode, fields.PathOf("state"), ConfigNames.State, "backend state", out state);

        return ok ? new BackendDraft(new Backend(address, port, (ushort)weight, state), node, path, portNode!) : null;
    }

    private void ParsePolicy(FieldSet fields, ServiceDraft draft)
    {
        var policy = ServicePolicy.Default;
        var ok = true;

        if (fields.Optional("forwarding") is { } forwardingNode)
        {
            draft.ForwardingNode = forwardingNode;
            if (reader.TryEnum(forwardingNode, fields.PathOf("forwarding"), ConfigNames.Forwarding, "forwarding mode", out var forwarding))
                policy = policy with { Forwarding = forwarding };
            else
                ok = false;
        }

        if (fields.Optional("scheduler") is { } schedulerNode)
        {
            if (reader.TryEnum(schedulerNode, fields.PathOf("scheduler"), ConfigNames.Scheduler, "scheduler", out var scheduler))
                policy = policy with { Scheduler = scheduler };
            else
                ok = false;
        }

        if (fields.Optional("sessionAffinity") is { } affinityNode)
        {
            if (TryAffinity(affinityNode, fields.PathOf("sessionAffinity"), out var affinity))
                policy = policy with { Affinity = affinity };
            else
                ok = false;
        }

        if (fields.Optional("externalTrafficPolicy") is { } trafficNode)
        {
            if (reader.TryEnum(trafficNode, fields.PathOf("externalTrafficPolicy"), ConfigNames.TrafficPolicy,
                    "externalTrafficPolicy", out var traffic))
                policy = policy with { ExternalTrafficPolicy = traffic };
            else
                ok = false;
        }

        if (fields.Optional("sourceRanges") is { } rangesNode)
            policy = policy with { SourceRanges = ParseSourceRanges(rangesNode, fields.PathOf("sourceRanges")) };

        draft.Policy = policy;
        draft.PolicyComplete = ok;
    }

    /// <summary><c>{ clientIP: { timeoutSeconds: N } }</c>; <c>{}</c> means none, <c>clientIP: {}</c> the default timeout.</summary>
    private bool TryAffinity(ConfigNode node, string path, out SessionAffinity? affinity)
    {
        affinity = null;
        if (!reader.TryMapping(node, path, out var mapping))
            return false;

        var fields = reader.Fields(mapping, path, "clientIP");
        if (!fields.IsPresent("clientIP"))
            return true;

        // "clientIP:" with no value asks for affinity with the default timeout, like "clientIP: {}".
        var timeout = (ulong)SessionAffinity.DefaultTimeoutSeconds;
        if (fields.Optional("clientIP") is { } clientIp)
        {
            if (!reader.TryMapping(clientIp, fields.PathOf("clientIP"), out var clientMapping))
                return false;
            var clientFields = reader.Fields(clientMapping, fields.PathOf("clientIP"), "timeoutSeconds");
            if (clientFields.Optional("timeoutSeconds") is { } timeoutNode &&
                !reader.TryInteger(timeoutNode, clientFields.PathOf("timeoutSeconds"), 1, SessionAffinity.MaxTimeoutSeconds, out timeout))
                return false;
        }

        affinity = new SessionAffinity((uint)timeout);
        return true;
    }

    private EquatableArray<IPNetwork> ParseSourceRanges(ConfigNode node, string path)
    {
        var ranges = new List<IPNetwork>();
        if (!reader.TrySequence(node, path, out var list))
            return ranges.ToEquatableArray();

        var seen = new Dictionary<IPNetwork, ConfigNode>();
        for (var i = 0; i < list.Items.Count; i++)
        {
            var item = list.Items[i];
            var itemPath = FieldPath.Item(path, i);
            if (!reader.TryNetwork(item, itemPath, out var network))
                continue;
            if (seen.TryGetValue(network, out var first))
            {
                reader.Error(item, itemPath, $"{network} is listed twice (first at {first.Start})");
                continue;
            }
            seen.Add(network, item);
            ranges.Add(network);
        }
        return ranges.ToEquatableArray();
    }
}
