namespace Lb.Core.Model;

/// <summary>L4 protocol of a frontend. Values are the IANA protocol numbers the datapath compares against.</summary>
public enum L4Protocol : byte
{
    Tcp = 6,
    Udp = 17,
}

/// <summary>How a frontend came to exist; NodePort frontends may match any local address.</summary>
public enum FrontendKind
{
    LoadBalancer,
    ExternalIP,
    NodePort,
    Static,
}

/// <summary>
/// Active backends take new flows. Terminating ones keep their flows and take new ones only when no
/// active backend is left (Kubernetes' terminating fallback). Maintenance keeps flows, takes none.
/// </summary>
public enum BackendState
{
    Active,
    Terminating,
    Maintenance,
}

public enum ForwardingMode
{
    Nat,
    DsrIpip,
    DsrL2,
}

public enum SchedulerKind
{
    Maglev,
    Random,
}

public enum TrafficPolicy
{
    Cluster,
    Local,
}

public enum DatapathMode
{
    Xdp,
    AfXdp,
}
