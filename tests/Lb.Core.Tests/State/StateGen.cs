using System.Net;
using System.Net.Sockets;
using FsCheck;
using FsCheck.Fluent;
using Lb.Core.Model;
using Microsoft.FSharp.Core;

namespace Lb.Core.Tests.State;

/// <summary>
/// Generators for service lists as a source would hand them over: names from a small pool (so builds share
/// and lose services), IPv4, IPv6 and any-address frontends, both families of backends, all weights, states
/// and policies. Pools are small on purpose, so that random pairs of configs overlap.
/// </summary>
internal static class StateGen
{
    public static readonly string[] Names = ["api", "auth", "cache", "db", "dns", "mail", "search", "web"];

    private static readonly IPAddress[] V4Frontends = Addresses("198.51.100.1", "198.51.100.2", "198.51.100.3");
    private static readonly IPAddress[] V6Frontends = Addresses("2001:db8::1", "2001:db8::2", "2001:db8::3");
    private static readonly IPAddress[] V4Backends = Addresses("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5");
    private static readonly IPAddress[] V6Backends = Addresses("fd00::1", "fd00::2", "fd00::3", "fd00::4", "fd00::5");
    private static readonly IPNetwork[] Ranges =
        [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("0.0.0.0/0"),
         IPNetwork.Parse("fd00::/8"), IPNetwork.Parse("::/0")];

    private static readonly DatapathOptions[] OptionVariants =
    [
        DatapathOptions.Default,
        DatapathOptions.Default with { Maglev = new MaglevOptions(MaglevOptions.DefaultTableSize, "other seed") },
        DatapathOptions.Default with { Interfaces = EquatableArray.Create("eth0") },
    ];

    public static Gen<Frontend> Frontend { get; } = Gen.OneOf(
        from address in Gen.Elements(V4Frontends.Concat(V6Frontends))
        from port in Gen.Elements<ushort>(53, 80, 443)
        from protocol in Gen.Elements(L4Protocol.Tcp, L4Protocol.Udp)
        from kind in Gen.Elements(FrontendKind.LoadBalancer, FrontendKind.ExternalIP, FrontendKind.Static)
        select Model.Frontend.At(address, port, protocol, kind),
        from port in Gen.Elements<ushort>(30080, 30443)
        from protocol in Gen.Elements(L4Protocol.Tcp, L4Protocol.Udp)
        from family in Gen.Elements(AddressFamily.InterNetwork, AddressFamily.InterNetworkV6)
        select Model.Frontend.AnyAddress(port, protocol, family));

    public static Gen<Backend> Backend { get; } =
        from address in Gen.Elements(V4Backends.Concat(V6Backends))
        from port in Gen.Elements<ushort>(8080, 8443)
        from weight in Gen.Frequency((1, Gen.Constant<ushort>(0)), (6, Gen.Choose(1, 3).Select(w => (ushort)w)))
        from state in Gen.Frequency(
            (4, Gen.Constant(BackendState.Active)),
            (2, Gen.Constant(BackendState.Terminating)),
            (1, Gen.Constant(BackendState.Maintenance)))
        select new Backend(address, port, weight, state);

    public static Gen<ServicePolicy> Policy { get; } =
        from forwarding in Gen.Elements(ForwardingMode.Nat, ForwardingMode.DsrIpip, ForwardingMode.DsrL2)
        from scheduler in Gen.Elements(SchedulerKind.Maglev, SchedulerKind.Random)
        from affinity in Gen.Elements<SessionAffinity?>(null, new SessionAffinity(SessionAffinity.DefaultTimeoutSeconds), new SessionAffinity(60))
        from trafficPolicy in Gen.Elements(TrafficPolicy.Cluster, TrafficPolicy.Local)
        from ranges in Gen.SubListOf(Ranges)
        select new ServicePolicy(forwarding, scheduler, affinity, trafficPolicy, ranges.ToEquatableArray());

    public static Gen<Service> Service(string name) =>
        from frontendCount in Gen.Choose(0, 3)
        from frontends in Gen.ArrayOf(Frontend, frontendCount)
        from backendCount in Gen.Choose(0, 6)
        from backends in Gen.ArrayOf(Backend, backendCount)
        from policy in Policy
        select new Service(
            name,
            frontends.DistinctBy(f => f.Key).ToEquatableArray(),
            backends.DistinctBy(b => b.Identity).ToEquatableArray(),
            policy);

    /// <summary>Services with distinct names, no frontend key in two services, listed in a random order.</summary>
    public static Gen<IReadOnlyList<Service>> Services { get; } =
        from names in Gen.SubListOf(Names)
        from services in Gen.CollectToArray(names, Service)
        from order in Gen.Shuffle(services)
        select WithoutSharedFrontends(order);

    public static Gen<DatapathOptions> Options { get; } = Gen.Frequency(
        (4, Gen.Constant(DatapathOptions.Default)),
        (1, Gen.Elements(OptionVariants)));

    public static Gen<LbConfig> Config { get; } =
        from options in Options
        from services in Services
        select new LbConfig(options, AdminOptions.Default, services.ToEquatableArray());

    /// <summary>Two configs in a row, as a source would produce them.</summary>
    public static Arbitrary<(LbConfig First, LbConfig Second)> ConfigPairs { get; } =
        Arb.From(from first in Config from second in Config select (first, second));

    public static Arbitrary<(LbConfig First, LbConfig Second, LbConfig Third)> ConfigTriples { get; } =
        Arb.From(from first in Config from second in Config from third in Config select (first, second, third));

    /// <summary>
    /// A config and the same config with one change confined to one service: it is added, removed or
    /// rewritten, or one of its backends is added, removed or re-weighted / re-stated.
    /// </summary>
    public static Arbitrary<(LbConfig Before, LbConfig After, string Changed)> ConfigsWithOneChange { get; } =
        Arb.From(
            from config in Config
            from change in OneServiceChange(config.Services)
            select (config, config with { Services = change.Services.ToEquatableArray() }, change.Name));

    private static Gen<(IReadOnlyList<Service> Services, string Name)> OneServiceChange(IReadOnlyList<Service> services)
    {
        var present = services.Select(s => s.Name).ToHashSet();
        var absent = Names.Where(n => !present.Contains(n)).ToArray();
        var options = new List<Gen<(IReadOnlyList<Service>, string)>>();
        if (absent.Length > 0)
        {
            options.Add(
                from name in Gen.Elements(absent)
                from service in Service(name)
                select ((IReadOnlyList<Service>)[.. services, KeepOwnFrontends(service, services)], name));
        }

        if (services.Count > 0)
        {
            options.Add(Gen.Elements<Service>(services).Select(s => (Without(services, s.Name), s.Name)));
            options.Add(
                from target in Gen.Elements<Service>(services)
                from replacement in Service(target.Name)
                select (Replace(services, KeepOwnFrontends(replacement, services.Where(s => s.Name != target.Name))), target.Name));
            options.Add(
                from target in Gen.Elements<Service>(services)
                from backend in Backend
                where !target.Backends.Any(b => b.Identity == backend.Identity)
                select (Replace(services, target with { Backends = target.Backends.Append(backend).ToEquatableArray() }), target.Name));
        }

        var withBackends = services.Where(s => s.Backends.Count > 0).ToArray();
        if (withBackends.Length > 0)
        {
            options.Add(
                from target in Gen.Elements(withBackends)
                from index in Gen.Choose(0, target.Backends.Count - 1)
                select (Replace(services, target with { Backends = target.Backends.Where((_, i) => i != index).ToEquatableArray() }), target.Name));
            options.Add(
                from target in Gen.Elements(withBackends)
                from index in Gen.Choose(0, target.Backends.Count - 1)
                from weight in Gen.Choose(0, 3)
                from state in Gen.Elements(BackendState.Active, BackendState.Terminating, BackendState.Maintenance)
                let backends = target.Backends.Select((b, i) => i == index ? b with { Weight = (ushort)weight, State = state } : b)
                select (Replace(services, target with { Backends = backends.ToEquatableArray() }), target.Name));
        }

        return options.Count > 0 ? Gen.OneOf(options) : Gen.Constant((services, "(none)"));
    }

    /// <summary>Runs a property over a fixed seed: every run checks the same cases, and a failure replays.</summary>
    public static void Check<T>(Arbitrary<T> arbitrary, Action<T> property, int cases = 250, ulong seed = 0x5EED_1B)
    {
        var config = FsCheck.Config.QuickThrowOnFailure
            .WithMaxTest(cases)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed), FSharpOption<int>.None)));
        FsCheck.Check.One(config, Prop.ForAll(arbitrary, property));
    }

    private static IReadOnlyList<Service> WithoutSharedFrontends(IEnumerable<Service> services)
    {
        var kept = new List<Service>();
        foreach (var service in services)
            kept.Add(KeepOwnFrontends(service, kept));
        return kept;
    }

    /// <summary>Drops the frontends of <paramref name="service"/> that <paramref name="others"/> already hold.</summary>
    private static Service KeepOwnFrontends(Service service, IEnumerable<Service> others)
    {
        var taken = others.SelectMany(s => s.Frontends).Select(f => f.Key).ToHashSet();
        return service with { Frontends = service.Frontends.Where(f => !taken.Contains(f.Key)).ToEquatableArray() };
    }

    private static IReadOnlyList<Service> Without(IReadOnlyList<Service> services, string name) =>
        services.Where(s => s.Name != name).ToList();

    private static IReadOnlyList<Service> Replace(IReadOnlyList<Service> services, Service replacement) =>
        services.Select(s => s.Name == replacement.Name ? replacement : s).ToList();

    private static IPAddress[] Addresses(params string[] addresses) => addresses.Select(IPAddress.Parse).ToArray();
}
