using System.Net;

namespace Lb.Core.Model;

public sealed record MaglevOptions(uint TableSize, string Seed)
{
    public const uint DefaultTableSize = 16381;
    public const string DefaultSeed = "lb";

    public static MaglevOptions Default { get; } = new(DefaultTableSize, DefaultSeed);
}

public sealed record DatapathOptions(
    DatapathMode Mode,
    EquatableArray<string> Interfaces,
    IPAddress? SnatAddress,
    IPAddress? SnatAddressV6,
    MaglevOptions Maglev,
    uint FlowTableCapacity)
{
    public const uint DefaultFlowTableCapacity = 1_000_000;

    public static DatapathOptions Default { get; } =
        new(DatapathMode.Xdp, EquatableArray<string>.Empty, null, null, MaglevOptions.Default, DefaultFlowTableCapacity);
}

/// <summary>
/// Where the admin HTTP API listens (<c>address:port</c>, IPv6 in brackets). A non-loopback address
/// needs <see cref="AllowRemote"/>, so exposing it is always a decision written down.
/// </summary>
public sealed record AdminOptions(string Listen, bool AllowRemote = false)
{
    public const string DefaultListen = "127.0.0.1:9090";

    public static AdminOptions Default { get; } = new(DefaultListen);
}

/// <summary>The whole of lb.yaml after validation: options plus the services it declares.</summary>
public sealed record LbConfig(DatapathOptions Datapath, AdminOptions Admin, EquatableArray<Service> Services);
