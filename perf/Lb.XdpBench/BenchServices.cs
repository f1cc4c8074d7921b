using System.Net;
using Lb.Core.Model;
using Lb.Core.State;

namespace Lb.XdpBench;

/// <summary>
/// The configurations the benchmark programs, as Lb.Core services: the measured service "bench" (VIP
/// 198.19.0.10:80/tcp, its backends behind the ingress interface, on port 80 so that every forwarding
/// mode accepts it) and, for larger counts, filler services that no packet reaches (VIPs 198.20.0.0/16,
/// two backends each in 10.0.0.0/8), so the tables hold as many entries as a real configuration would.
/// </summary>
public static class BenchServices
{
    public const string BenchName = "bench";
    public const ushort Port = 80;
    public static readonly IPAddress Vip = IPAddress.Parse("198.19.0.10");

    public static DatapathOptions Options(uint maglevSize, uint flowCapacity) =>
        DatapathOptions.Default with
        {
            Interfaces = new EquatableArray<string>([BenchNetwork.Ingress]),
            SnatAddress = BenchNetwork.BalancerAddress,
            Maglev = new MaglevOptions(maglevSize, MaglevOptions.DefaultSeed),
            FlowTableCapacity = flowCapacity,
        };

    /// <summary><paramref name="count"/> services in all: "bench" with <paramref name="forwarding"/>, and count - 1 fillers.</summary>
    public static IReadOnlyList<Service> Build(int count, ForwardingMode forwarding, IReadOnlyList<IPAddress> benchBackends)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 65_000);
        var services = new List<Service>(count) { Bench(forwarding, benchBackends) };
        for (var i = 1; i < count; i++)
        {
            var vip = new IPAddress([198, 20, (byte)(i >> 8), (byte)i]);
            services.Add(new Service(
                $"filler-{i:D5}",
                new EquatableArray<Frontend>([Frontend.At(vip, Port, L4Protocol.Tcp)]),
                new EquatableArray<Backend>([
                    new Backend(new IPAddress([10, (byte)(i >> 8), (byte)i, 1]), Port),
                    new Backend(new IPAddress([10, (byte)(i >> 8), (byte)i, 2]), Port),
                ]),
                ServicePolicy.Default));
        }
        return services;
    }

    private static Service Bench(ForwardingMode forwarding, IReadOnlyList<IPAddress> backends) =>
        new(
            BenchName,
            new EquatableArray<Frontend>([Frontend.At(Vip, Port, L4Protocol.Tcp)]),
            new EquatableArray<Backend>(backends.Select(a => new Backend(a, Port)).ToArray()),
            ServicePolicy.Default with { Forwarding = forwarding });
}
