using System.Net;
using System.Net.Sockets;
using Lb.Core.Hashing;
using Lb.Core.Maglev;
using Lb.Core.Model;

namespace Lb.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Which backend lb_xdp picks for a new flow, computed independently of the datapath from the service
/// and the options alone: the Maglev table of the schedulable backends of the flow's family, indexed by
/// the 5-tuple hash, or by the client-address hash when the service has ClientIP affinity.
/// </summary>
public sealed class MaglevPrediction
{
    private readonly Service _service;
    private readonly uint _seed;
    private readonly Dictionary<AddressFamily, (MaglevTable Table, IReadOnlyList<Backend> Backends)> _tables = [];

    public MaglevPrediction(DatapathOptions options, Service service)
    {
        _service = service;
        _seed = FlowHash.DeriveSeed(options.Maglev.Seed);
        var builder = new MaglevTableBuilder(options.Maglev);
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            // Ids only name backends in the table; the table itself depends on the identities and weights.
            var backends = service.SchedulableBackends(family);
            if (backends.Count > 0)
                _tables[family] = (builder.Build(backends.Select((b, i) => MaglevBackend.From(b, (uint)i + 1))), backends);
        }
    }

    public IPAddress Pick(IPAddress client, ushort clientPort, IPAddress vip, ushort vipPort, L4Protocol protocol)
    {
        var (table, backends) = _tables[client.AddressFamily];
        var hash = _service.Policy.Affinity is null
            ? FlowHash.Compute(client, clientPort, vip, vipPort, protocol, _seed)
            : FlowHash.ComputeAffinity(client, _seed);
        var id = table.BackendIds.Span[(int)(hash % table.TableSize)];
        return backends[(int)id - 1].Address;
    }
}
