using System.Net;
using Lb.Core.Model;

namespace Lb.Core.Tests.State;

/// <summary>Short builders for example tests.</summary>
internal static class Fixtures
{
    public static Service Svc(string name, Frontend[] frontends, Backend[] backends, ServicePolicy? policy = null) =>
        new(name, frontends.ToEquatableArray(), backends.ToEquatableArray(), policy ?? ServicePolicy.Default);

    public static Service Svc(string name, params Backend[] backends) => Svc(name, [], backends);

    public static Frontend Fe(string address, ushort port = 80, L4Protocol protocol = L4Protocol.Tcp, FrontendKind kind = FrontendKind.Static) =>
        Frontend.At(IPAddress.Parse(address), port, protocol, kind);

    public static Backend Be(string address, ushort port = 8080, ushort weight = 1, BackendState state = BackendState.Active) =>
        new(IPAddress.Parse(address), port, weight, state);

    public static ServicePolicy Ranges(params string[] cidrs) =>
        ServicePolicy.Default with { SourceRanges = cidrs.Select(IPNetwork.Parse).ToEquatableArray() };
}
