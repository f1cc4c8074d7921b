using System.Net;
using Lb.Core.Model;

namespace Lb.Core.State;

/// <summary>One item of a <see cref="StateDiff"/>; each names the map entries it touches by id or key.</summary>
public abstract record StateChange;

/// <summary>The datapath options differ. What that takes (a config write, a reattach) is the programmer's call.</summary>
public sealed record OptionsChanged(DatapathOptions From, DatapathOptions To) : StateChange;

/// <summary>A service id comes into use. Its backends, tables, source ranges and frontends are items of their own.</summary>
public sealed record ServiceAdded(uint ServiceId, string Name, ServicePolicy Policy) : StateChange;

/// <summary>A service id goes out of use, after its frontends, tables, source ranges and backends have gone.</summary>
public sealed record ServiceRemoved(uint ServiceId, string Name) : StateChange;

/// <summary>
/// A service's policy differs (forwarding, scheduler, affinity, traffic policy or source ranges). The
/// policy is written into every lb_services entry of the service, so its frontends are rewritten.
/// </summary>
public sealed record ServicePolicyChanged(uint ServiceId, string Name, ServicePolicy From, ServicePolicy To) : StateChange;

/// <summary>CIDRs to add to and drop from a service's entries in lb_src_ranges.</summary>
public sealed record SourceRangesChanged(uint ServiceId, EquatableArray<IPNetwork> Added, EquatableArray<IPNetwork> Removed) : StateChange;

public sealed record BackendAdded(BackendEntry Backend) : StateChange;

public sealed record BackendRemoved(BackendEntry Backend) : StateChange;

/// <summary>Same id, owner and identity; the weight or the state differs.</summary>
public sealed record BackendChanged(BackendEntry From, BackendEntry To) : StateChange;

public sealed record FrontendAdded(FrontendEntry Frontend) : StateChange;

public sealed record FrontendRemoved(FrontendEntry Frontend) : StateChange;

/// <summary>
/// Same frontend key; it now points at another service (<see cref="Retargeted"/>: the frontend moved
/// between services in one change), or only its kind differs.
/// </summary>
public sealed record FrontendChanged(FrontendEntry From, FrontendEntry To) : StateChange
{
    public bool Retargeted => From.ServiceId != To.ServiceId;
}

/// <summary>
/// Build the table from these backends (identity order) and swap it in. Listed when the set (identities,
/// weights, ids) differs, when the table is new, or for every table when the Maglev options changed. The
/// schedulable count in the service's lb_services entries of that family changes with it.
/// </summary>
public sealed record MaglevTableRebuilt(MaglevKey Key, EquatableArray<BackendEntry> Backends) : StateChange;

/// <summary>The (service, family) no longer has schedulable backends, or the service is gone.</summary>
public sealed record MaglevTableRemoved(MaglevKey Key) : StateChange;
