using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Lb.Core.Model;

namespace Lb.Agent.Running;

/// <summary>
/// Lb's own source address per family for NAT and the dsr-ipip outer header: `--snat-address`, else
/// datapath.snatAddress / snatAddressV6, else the first address of the first interface that has one of
/// that family (IPv6: global scope only, a link-local address cannot be routed to a backend).
/// </summary>
internal sealed record SnatAddresses(IPAddress? V4, string? V4Source, IPAddress? V6, string? V6Source)
{
    public static SnatAddresses Resolve(IReadOnlyList<IPAddress> given, DatapathOptions config, IReadOnlyList<string> interfaces)
    {
        var givenV4 = given.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        var givenV6 = given.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6);
        var (v4, v4Source) = givenV4 is not null ? (givenV4, "--snat-address")
            : config.SnatAddress is not null ? (config.SnatAddress, "datapath.snatAddress")
            : FromInterfaces(interfaces, AddressFamily.InterNetwork);
        var (v6, v6Source) = givenV6 is not null ? (givenV6, "--snat-address")
            : config.SnatAddressV6 is not null ? (config.SnatAddressV6, "datapath.snatAddressV6")
            : FromInterfaces(interfaces, AddressFamily.InterNetworkV6);
        return new SnatAddresses(v4, v4Source, v6, v6Source);
    }

    /// <summary>
    /// The datapath options with these addresses filled in where the file names none. A reload goes through
    /// here too, so an address later written into lb.yaml wins over the interface's, and `--snat-address`
    /// over both.
    /// </summary>
    public DatapathOptions ApplyTo(DatapathOptions options, IReadOnlyList<IPAddress> given)
    {
        var v4 = given.Any(a => a.AddressFamily == AddressFamily.InterNetwork) ? V4 : options.SnatAddress ?? V4;
        var v6 = given.Any(a => a.AddressFamily == AddressFamily.InterNetworkV6) ? V6 : options.SnatAddressV6 ?? V6;
        return options with { SnatAddress = v4, SnatAddressV6 = v6 };
    }

    private static (IPAddress?, string?) FromInterfaces(IReadOnlyList<string> interfaces, AddressFamily family)
    {
        // getifaddrs in this process's network namespace (nsenter puts the whole process there).
        var all = NetworkInterface.GetAllNetworkInterfaces();
        foreach (var name in interfaces)
        {
            var nic = all.FirstOrDefault(n => n.Name == name);
            if (nic is null)
                continue;
            var address = nic.GetIPProperties().UnicastAddresses
                .Select(u => u.Address)
                .FirstOrDefault(a => a.AddressFamily == family && !a.IsIPv6LinkLocal && !IPAddress.IsLoopback(a));
            if (address is not null)
                return (address, $"interface {name}");
        }
        return (null, null);
    }
}
