using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Lb.ScalingBench;

/// <summary>
/// The nat and filter rules kube-proxy's iptables proxier (pkg/proxy/iptables/proxier.go) writes for
/// ClusterIP services, as iptables-restore input: KUBE-SERVICES with one jump per service port, one
/// KUBE-SVC-&lt;hash&gt; chain per service port that marks off-cluster sources for masquerade and picks an
/// endpoint with <c>-m statistic --mode random --probability 1/(n-i)</c>, one KUBE-SEP-&lt;hash&gt; chain
/// per endpoint doing the DNAT, KUBE-MARK-MASQ / KUBE-POSTROUTING for the 0x4000 masquerade mark and
/// the trailing KUBE-NODEPORTS jump. Chain names are kube-proxy's: the prefix and the first 16
/// characters of base32(sha256(...)).
/// </summary>
public static class KubeProxyIptables
{
    public const string ClusterCidr = "10.0.0.0/8";
    private const string MasqMark = "0x4000";

    public static string ServiceChain(ServicePort sp) => "KUBE-SVC-" + Hash(sp.PortNameString + sp.Protocol);

    public static string EndpointChain(ServicePort sp, IPEndPoint endpoint) =>
        "KUBE-SEP-" + Hash(sp.PortNameString + sp.Protocol + endpoint);

    /// <summary>The full sync: every table kube-proxy owns, loaded with <c>iptables-restore --noflush</c> into emptied tables.</summary>
    public static string FullRestore(IReadOnlyList<ServicePort> ports)
    {
        var text = new StringBuilder(ports.Count * 700);
        text.Append("*filter\n");
        text.Append(":KUBE-FORWARD - [0:0]\n:KUBE-SERVICES - [0:0]\n");
        text.Append("-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n");
        text.Append("-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n");
        text.Append("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n");
        text.Append($"-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark {MasqMark}/{MasqMark} -j ACCEPT\n");
        text.Append("-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
        text.Append("COMMIT\n");

        text.Append("*nat\n");
        text.Append(":KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n");
        foreach (var sp in ports)
        {
            text.Append(':').Append(ServiceChain(sp)).Append(" - [0:0]\n");
            foreach (var ep in sp.Endpoints)
                text.Append(':').Append(EndpointChain(sp, ep)).Append(" - [0:0]\n");
        }
        text.Append("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n");
        text.Append("-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n");
        text.Append("-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n");
        text.Append($"-A KUBE-POSTROUTING -m mark ! --mark {MasqMark}/{MasqMark} -j RETURN\n");
        text.Append($"-A KUBE-POSTROUTING -j MARK --xor-mark {MasqMark}\n");
        text.Append("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n");
        text.Append($"-A KUBE-MARK-MASQ -j MARK --or-mark {MasqMark}\n");
        AppendServicesChain(text, ports);
        foreach (var sp in ports)
        {
            AppendServiceChainRules(text, sp, sp.Endpoints);
            foreach (var ep in sp.Endpoints)
                AppendEndpointChainRules(text, sp, ep);
        }
        text.Append("COMMIT\n");
        return text.ToString();
    }

    /// <summary>
    /// One endpoint of <paramref name="changed"/> goes away, as kube-proxy's partial sync writes it
    /// (MinimizeIPTablesRestore, the default since 1.27): KUBE-SERVICES in full (it always is), the
    /// changed KUBE-SVC chain rewritten, the stale KUBE-SEP chain deleted, untouched chains left alone.
    /// </summary>
    public static string EndpointRemoved(IReadOnlyList<ServicePort> ports, ServicePort changed, IPEndPoint removed)
    {
        var remaining = changed.Endpoints.Where(e => !e.Equals(removed)).ToList();
        var text = new StringBuilder(ports.Count * 200);
        text.Append("*filter\n:KUBE-FORWARD - [0:0]\n:KUBE-SERVICES - [0:0]\n");
        text.Append("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n");
        text.Append($"-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark {MasqMark}/{MasqMark} -j ACCEPT\n");
        text.Append("-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
        text.Append("COMMIT\n*nat\n:KUBE-SERVICES - [0:0]\n");
        text.Append(':').Append(ServiceChain(changed)).Append(" - [0:0]\n");
        text.Append(':').Append(EndpointChain(changed, removed)).Append(" - [0:0]\n");
        AppendServicesChain(text, ports);
        AppendServiceChainRules(text, changed, remaining);
        text.Append("-X ").Append(EndpointChain(changed, removed)).Append('\n');
        text.Append("COMMIT\n");
        return text.ToString();
    }

    /// <summary>Empties kube-proxy's tables (untimed, between points): a restore without --noflush flushes every chain and deletes user chains.</summary>
    public const string Reset = "*filter\nCOMMIT\n*nat\nCOMMIT\n";

    private static void AppendServicesChain(StringBuilder text, IReadOnlyList<ServicePort> ports)
    {
        foreach (var sp in ports)
        {
            text.Append("-A KUBE-SERVICES -m comment --comment \"").Append(sp.PortNameString).Append(" cluster IP\" -m ").Append(sp.Protocol)
                .Append(" -p ").Append(sp.Protocol).Append(" -d ").Append(sp.ClusterIp).Append(" --dport ").Append(sp.Port)
                .Append(" -j ").Append(ServiceChain(sp)).Append('\n');
        }
        text.Append("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n");
    }

    private static void AppendServiceChainRules(StringBuilder text, ServicePort sp, IReadOnlyList<IPEndPoint> endpoints)
    {
        var chain = ServiceChain(sp);
        text.Append("-A ").Append(chain).Append(" -m comment --comment \"").Append(sp.PortNameString).Append(" cluster IP\" -m ").Append(sp.Protocol)
            .Append(" -p ").Append(sp.Protocol).Append(" -d ").Append(sp.ClusterIp).Append(" --dport ").Append(sp.Port)
            .Append(" ! -s ").Append(ClusterCidr).Append(" -j KUBE-MARK-MASQ\n");
        for (var i = 0; i < endpoints.Count; i++)
        {
            text.Append("-A ").Append(chain).Append(" -m comment --comment \"").Append(sp.PortNameString).Append(" -> ").Append(endpoints[i]).Append('"');
            // kube-proxy's probability: the i-th of n endpoints is taken with 1/(n-i) of what reaches it; the last always.
            if (i < endpoints.Count - 1)
                text.Append(" -m statistic --mode random --probability ").Append((1.0 / (endpoints.Count - i)).ToString("F10", CultureInfo.InvariantCulture));
            text.Append(" -j ").Append(EndpointChain(sp, endpoints[i])).Append('\n');
        }
    }

    private static void AppendEndpointChainRules(StringBuilder text, ServicePort sp, IPEndPoint ep)
    {
        var chain = EndpointChain(sp, ep);
        text.Append("-A ").Append(chain).Append(" -m comment --comment ").Append(sp.PortNameString).Append(" -s ").Append(ep.Address).Append(" -j KUBE-MARK-MASQ\n");
        text.Append("-A ").Append(chain).Append(" -m comment --comment ").Append(sp.PortNameString).Append(" -m ").Append(sp.Protocol).Append(" -p ").Append(sp.Protocol)
            .Append(" -j DNAT --to-destination ").Append(ep).Append('\n');
    }

    /// <summary>kube-proxy's portProtoHash / servicePortEndpointChainName: base32(sha256(s)), first 16 characters.</summary>
    public static string Hash(string s) => Base32(SHA256.HashData(Encoding.UTF8.GetBytes(s)))[..16];

    private static string Base32(byte[] data)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var result = new StringBuilder((data.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                result.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0)
            result.Append(alphabet[(buffer << (5 - bits)) & 31]);
        return result.ToString();
    }
}

/// <summary>
/// kube-proxy's nftables proxier (pkg/proxy/nftables/proxier.go) for ClusterIP services, as
/// <c>nft -f</c> input: table ip kube-proxy, the service-ips verdict map keyed by
/// <c>ip daddr . meta l4proto . th dport</c> whose elements goto one service-&lt;hash&gt;-&lt;ns/name/proto/port&gt;
/// chain per service port, which marks off-cluster sources for masquerade and picks an endpoint chain
/// with <c>numgen random mod n vmap</c>; each endpoint-&lt;hash&gt;-... chain does the DNAT.
/// </summary>
public static class KubeProxyNftables
{
    public const string Table = "kube-proxy";

    public static string ServiceChain(ServicePort sp) =>
        $"service-{KubeProxyIptables.Hash(sp.PortNameString + sp.Protocol)[..8]}-{sp.Namespace}/{sp.Name}/{sp.Protocol}/{sp.PortName}";

    public static string EndpointChain(ServicePort sp, IPEndPoint ep) =>
        $"endpoint-{KubeProxyIptables.Hash(sp.PortNameString + sp.Protocol + ep)[..8]}-{sp.Namespace}/{sp.Name}/{sp.Protocol}/{sp.PortName}__{ep.Address}/{ep.Port}";

    public static string Full(IReadOnlyList<ServicePort> ports)
    {
        var text = new StringBuilder(ports.Count * 900);
        text.Append($"add table ip {Table} {{ comment \"rules for kube-proxy\" ; }}\n");
        text.Append($"add chain ip {Table} mark-for-masquerade\n");
        text.Append($"add rule ip {Table} mark-for-masquerade mark set mark or 0x4000\n");
        text.Append($"add chain ip {Table} masquerading\n");
        text.Append($"add rule ip {Table} masquerading mark and 0x4000 == 0 return\n");
        text.Append($"add rule ip {Table} masquerading mark set mark xor 0x4000\n");
        text.Append($"add rule ip {Table} masquerading masquerade fully-random\n");
        text.Append($"add chain ip {Table} services\n");
        text.Append($"add chain ip {Table} nat-prerouting {{ type nat hook prerouting priority -100 ; }}\n");
        text.Append($"add rule ip {Table} nat-prerouting jump services\n");
        text.Append($"add chain ip {Table} nat-output {{ type nat hook output priority -100 ; }}\n");
        text.Append($"add rule ip {Table} nat-output jump services\n");
        text.Append($"add chain ip {Table} nat-postrouting {{ type nat hook postrouting priority 100 ; }}\n");
        text.Append($"add rule ip {Table} nat-postrouting jump masquerading\n");
        text.Append($"add map ip {Table} service-ips {{ type ipv4_addr . inet_proto . inet_service : verdict ; comment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\" ; }}\n");
        text.Append($"add rule ip {Table} services ip daddr . meta l4proto . th dport vmap @service-ips\n");
        foreach (var sp in ports)
        {
            foreach (var ep in sp.Endpoints)
                AppendEndpointChain(text, sp, ep);
            text.Append($"add chain ip {Table} {ServiceChain(sp)}\n");
            AppendServiceRules(text, sp, sp.Endpoints);
            text.Append($"add element ip {Table} service-ips {{ {sp.ClusterIp} . {sp.Protocol} . {sp.Port} : goto {ServiceChain(sp)} }}\n");
        }
        return text.ToString();
    }

    /// <summary>One endpoint of <paramref name="changed"/> goes away, as kube-proxy's transaction writes it: the service chain flushed and refilled, the stale endpoint chain deleted.</summary>
    public static string EndpointRemoved(ServicePort changed, IPEndPoint removed)
    {
        var text = new StringBuilder();
        text.Append($"flush chain ip {Table} {ServiceChain(changed)}\n");
        AppendServiceRules(text, changed, changed.Endpoints.Where(e => !e.Equals(removed)).ToList());
        text.Append($"delete chain ip {Table} {EndpointChain(changed, removed)}\n");
        return text.ToString();
    }

    public static string Reset => $"add table ip {Table}\ndelete table ip {Table}\n";

    private static void AppendEndpointChain(StringBuilder text, ServicePort sp, IPEndPoint ep)
    {
        var chain = EndpointChain(sp, ep);
        text.Append($"add chain ip {Table} {chain}\n");
        text.Append($"add rule ip {Table} {chain} ip saddr {ep.Address} jump mark-for-masquerade\n");
        text.Append($"add rule ip {Table} {chain} meta l4proto {sp.Protocol} dnat to {ep}\n");
    }

    private static void AppendServiceRules(StringBuilder text, ServicePort sp, IReadOnlyList<IPEndPoint> endpoints)
    {
        var chain = ServiceChain(sp);
        text.Append($"add rule ip {Table} {chain} ip daddr {sp.ClusterIp} {sp.Protocol} dport {sp.Port} ip saddr != {KubeProxyIptables.ClusterCidr} jump mark-for-masquerade\n");
        text.Append($"add rule ip {Table} {chain} numgen random mod {endpoints.Count} vmap {{ ");
        text.Append(string.Join(", ", endpoints.Select((ep, i) => $"{i} : goto {EndpointChain(sp, ep)}")));
        text.Append(" }\n");
    }
}
