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

public sealed record AdminOptions(string Listen)
{
    public const string DefaultListen = "127.0.0.1:9090";

    public static AdminOptions Default { get; } = new(DefaultListen);
}

/// <summary>The whole of lb.yaml after validation: options plus the services it declares.</summary>
public sealed record LbConfig(DatapathOptions Datapath, AdminOptions Admin, EquatableArray<Service> Services);
