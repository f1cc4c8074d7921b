using System.Net;

namespace Lb.ScalingBench;

/// <summary>One service port as kube-proxy sees it: "namespace/name:port" with its cluster IP and endpoints.</summary>
public sealed record ServicePort(string Namespace, string Name, string PortName, IPAddress ClusterIp, ushort Port, string Protocol, IReadOnlyList<IPEndPoint> Endpoints)
{
    /// <summary>kube-proxy's ServicePortName string, which its chain names hash.</summary>
    public string PortNameString => $"{Namespace}/{Name}:{PortName}";
}

/// <summary>
/// The service set every contender gets for one point: <c>count - 1</c> filler services (TCP port 80,
/// two endpoints each in 10.0.0.0/8 that no packet reaches, VIPs 198.20.0.0/16) and then the measured
/// service "bench" (VIP 198.19.0.10, TCP and UDP port 80, the topology's backends) last, which is the
/// worst place for iptables' linear KUBE-SERVICES chain.
/// </summary>
public static class ServiceSet
{
    public const ushort Port = 80;
    public static readonly IPAddress MeasuredVip = IPAddress.Parse("198.19.0.10");
    public const string Namespace = "bench";
    public const string MeasuredName = "measured";

    public const int MaxServices = 65_000;

    public static IReadOnlyList<ServicePort> Build(int count, IReadOnlyList<IPAddress> measuredBackends)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxServices);
        var ports = new List<ServicePort>(count + 1);
        for (var i = 1; i < count; i++)
            ports.Add(Filler(i));
        ports.AddRange(Measured(measuredBackends));
        return ports;
    }

    public static ServicePort Filler(int i) => new(
        Namespace, $"filler-{i:D5}", "http", new IPAddress([198, 20, (byte)(i >> 8), (byte)i]), Port, "tcp",
        [new IPEndPoint(new IPAddress([10, (byte)(i >> 8), (byte)i, 1]), Port), new IPEndPoint(new IPAddress([10, (byte)(i >> 8), (byte)i, 2]), Port)]);

    /// <summary>The measured service's two ports (TCP and UDP 80), kube-proxy's two service ports of one service.</summary>
    public static IEnumerable<ServicePort> Measured(IReadOnlyList<IPAddress> backends)
    {
        var endpoints = backends.Select(a => new IPEndPoint(a, Port)).ToList();
        yield return new ServicePort(Namespace, MeasuredName, "http", MeasuredVip, Port, "tcp", endpoints);
        yield return new ServicePort(Namespace, MeasuredName, "echo", MeasuredVip, Port, "udp", endpoints);
    }
}
