using System.Net.Sockets;
using Lb.Core.Model;

namespace Lb.Core.Config;

/// <summary>
/// The rules that span fields and services, run over the drafts once every field is read, so their
/// errors join the field errors in one list: unique names, a frontend owned by one service only,
/// unique backends, DSR ports, address families, and the Maglev table's room for the backends.
/// </summary>
internal sealed class LbConfigValidator(ConfigReader reader)
{
    public void Validate(ConfigDraft draft)
    {
        CheckServiceNames(draft.Services);
        CheckFrontendOwnership(draft.Services);
        foreach (var service in draft.Services)
        {
            CheckBackendsUnique(service);
            CheckDsrPorts(service);
            CheckFamilies(service);
            if (draft.TableSizeKnown)
                CheckTableRoom(service, draft.Datapath.Maglev.TableSize);
        }
    }

    private void CheckServiceNames(List<ServiceDraft> services)
    {
        var firstByName = new Dictionary<string, ServiceDraft>(StringComparer.Ordinal);
        foreach (var service in services)
        {
            if (service.Name is null)
                continue;
            if (firstByName.TryGetValue(service.Name, out var first))
                reader.Error(service.NameNode!, FieldPath.Child(service.Path, "name"),
                    $"duplicate service name '{service.Name}' (first used by {first.Path} at {first.NameNode!.Start})");
            else
                firstByName.Add(service.Name, service);
        }
    }

    /// <summary>The datapath finds a service by (address, port, protocol); one key cannot lead to two services.</summary>
    private void CheckFrontendOwnership(List<ServiceDraft> services)
    {
        var owners = new Dictionary<FrontendKey, (ServiceDraft Service, FrontendDraft Frontend)>();
        foreach (var service in services)
        {
            foreach (var frontend in service.Frontends)
            {
                var key = frontend.Value.Key;
                if (!owners.TryGetValue(key, out var owner))
                {
                    owners.Add(key, (service, frontend));
                    continue;
                }
                var where = $"{owner.Frontend.Path} at {owner.Frontend.Node.Start}";
                var message = ReferenceEquals(owner.Service, service)
                    ? $"frontend {key} is listed twice in service {Describe(service)} (first as {where})"
                    : $"frontend {key} of service {Describe(service)} is already a frontend of service {Describe(owner.Service)} ({where})";
                reader.Error(frontend.Node, frontend.Path, message);
            }
        }
    }

    private void CheckBackendsUnique(ServiceDraft service)
    {
        var first = new Dictionary<string, BackendDraft>(StringComparer.Ordinal);
        foreach (var backend in service.Backends)
        {
            var identity = backend.Value.Identity;
            if (first.TryGetValue(identity, out var earlier))
                reader.Error(backend.Node, backend.Path,
                    $"backend {identity} is listed twice in service {Describe(service)} (first as {earlier.Path} at {earlier.Node.Start})");
            else
                first.Add(identity, backend);
        }
    }

    /// <summary>
    /// In DSR the backend answers the client itself, from the port the client addressed, so Lb cannot
    /// translate ports: every frontend and every backend of the service must use the same one.
    /// </summary>
    private void CheckDsrPorts(ServiceDraft service)
    {
        var forwarding = service.Policy.Forwarding;
        if (!service.PolicyComplete || forwarding == ForwardingMode.Nat || service.Frontends.Count == 0)
            return;

        var mode = ConfigNames.Forwarding.NameOf(forwarding);
        var ports = service.Frontends.Select(f => f.Value.Port).Distinct().Order().ToList();
        if (ports.Count > 1)
        {
            reader.Error(service.ForwardingNode ?? service.Node, FieldPath.Child(service.Path, "forwarding"),
                $"{mode} cannot change ports, so the frontends of a DSR service must share one port " +
                $"(found {string.Join(", ", ports)}); split it into one service per port");
            return;
        }

        var frontend = service.Frontends[0];
        foreach (var backend in service.Backends)
        {
            if (backend.Value.Port != frontend.Value.Port)
                reader.Error(backend.PortNode, FieldPath.Child(backend.Path, "port"),
                    $"{backend.Value.Port} differs from the frontend port {frontend.Value.Port} ({frontend.Path} at {frontend.Node.Start}); " +
                    $"{mode} cannot change ports: set the backend port to {frontend.Value.Port} or use forwarding: nat");
        }
    }

    /// <summary>
    /// A packet can only go to a backend of its own family (the datapath keeps one Maglev table per
    /// family): a frontend family without a backend of that family would answer every client with
    /// "unreachable", and a backend family without a frontend would never get traffic. A service with
    /// no backends at all is allowed: it answers every client with ICMP port unreachable on purpose.
    /// </summary>
    private void CheckFamilies(ServiceDraft service)
    {
        if (!service.EndpointsComplete || service.Backends.Count == 0 || service.Frontends.Count == 0)
            return;

        var backendFamilies = service.Backends.Select(b => b.Value.Address.AddressFamily).ToHashSet();
        var frontendFamilies = service.Frontends.Select(f => f.Value.Family).ToHashSet();

        foreach (var frontend in service.Frontends)
        {
            var family = frontend.Value.Family;
            if (backendFamilies.Contains(family))
                continue;
            var remedy = frontend.Value.Address is null
                ? $"add an {ConfigNames.Describe(family)} backend, or give this nodePort frontend 'family: {ConfigNames.Family.NameOf(Other(family))}'"
                : $"add an {ConfigNames.Describe(family)} backend or remove this frontend";
            reader.Error(frontend.Node, frontend.Path,
                $"frontend {frontend.Value.Key} is {ConfigNames.Describe(family)} but service {Describe(service)} has no " +
                $"{ConfigNames.Describe(family)} backend (Lb does not translate between IPv4 and IPv6); {remedy}");
        }

        foreach (var backend in service.Backends)
        {
            var family = backend.Value.Address.AddressFamily;
            if (!frontendFamilies.Contains(family))
                reader.Error(backend.Node, backend.Path,
                    $"backend {backend.Value.Identity} is {ConfigNames.Describe(family)} but service {Describe(service)} has no " +
                    $"{ConfigNames.Describe(family)} frontend, so it would never get traffic");
        }
    }

    /// <summary>Maglev gives every backend at least one slot only when the table has more slots than backends.</summary>
    private void CheckTableRoom(ServiceDraft service, uint tableSize)
    {
        if (service.Policy.Scheduler != SchedulerKind.Maglev)
            return;
        foreach (var family in service.Backends.GroupBy(b => b.Value.Address.AddressFamily))
        {
            var count = family.Count();
            if (count >= tableSize)
                reader.Error(service.BackendsNode ?? service.Node, FieldPath.Child(service.Path, "backends"),
                    $"service {Describe(service)} has {count} {ConfigNames.Describe(family.Key)} backends but " +
                    $"datapath.maglev.tableSize is {tableSize}; raise it to a prime well above the backend count (100 times is Maglev's advice)");
        }
    }

    private static AddressFamily Other(AddressFamily family) =>
        family == AddressFamily.InterNetwork ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    private static string Describe(ServiceDraft service) => service.Name is null ? service.Path : $"'{service.Name}'";
}
