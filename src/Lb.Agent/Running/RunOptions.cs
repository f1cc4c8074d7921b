using System.Net;
using Lb.Agent.Inspection;
using Lb.Datapath.Abi;

namespace Lb.Agent.Running;

/// <summary>What `lb run` was asked to do; the command line fills it, lb.yaml supplies the rest.</summary>
public sealed record RunOptions
{
    /// <summary>lb.yaml.</summary>
    public required string ConfigPath { get; init; }

    /// <summary>Overrides datapath.interfaces when not empty.</summary>
    public IReadOnlyList<string> Interfaces { get; init; } = [];

    /// <summary>Lb's own addresses (at most one per family); override datapath.snatAddress / snatAddressV6.</summary>
    public IReadOnlyList<IPAddress> SnatAddresses { get; init; } = [];

    /// <summary>lb_xdp.bpf.o; null: next to the executable, else build/bpf above it or the working directory.</summary>
    public string? ObjectPath { get; init; }

    public string PinRoot { get; init; } = LbAbi.PinRoot;

    public string StatusFile { get; init; } = AgentStatus.DefaultPath;

    /// <summary>How often the config file's content is hashed, whatever the file system watcher reports.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the file must be quiet after a change event before it is read.</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(300);
}
