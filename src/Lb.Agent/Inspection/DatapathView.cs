using System.Net;
using Lb.Core.Model;
using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.Agent.Inspection;

/// <summary>One frontend as the datapath holds it (an lb_services entry).</summary>
public sealed record FrontendView(string Address, ushort Port, string Protocol, string Family, string Forwarding, IReadOnlyList<string> Flags,
    uint AffinityTimeoutSeconds, uint SchedulableBackends)
{
    /// <summary><c>198.51.100.10:80/tcp</c>, <c>[2001:db8::10]:80/tcp</c>.</summary>
    public string Endpoint => $"{(Address.Contains(':') ? $"[{Address}]" : Address)}:{Port}/{Protocol}";
}

/// <summary>One backend as the datapath holds it (an lb_backends entry, named by lb_names).</summary>
public sealed record BackendView(uint Id, string Address, ushort Port, string State)
{
    public string Endpoint => $"{(Address.Contains(':') ? $"[{Address}]" : Address)}:{Port}";
}

/// <summary>Counters of one service, summed over CPUs (lb_svc_stats).</summary>
public sealed record ServiceCounters(ulong Packets, ulong Bytes, ulong NewFlows);

/// <summary>A service as the pinned maps hold it: its frontends, its backends and its counters.</summary>
public sealed record ServiceView(uint Id, string Name, IReadOnlyList<FrontendView> Frontends, IReadOnlyList<BackendView> Backends,
    ServiceCounters Counters, IReadOnlyList<string> MaglevTables);

/// <summary>How full one map is.</summary>
public sealed record MapFill(string Name, long Entries, uint Capacity);

/// <summary>
/// Reads what the pinned maps hold, for <c>lb service list</c>, <c>lb status</c> and the admin API alike:
/// the same reading whether the agent runs or not, because the maps, not the agent, are the truth.
/// </summary>
public static class DatapathInspector
{
    /// <summary>Every service in lb_services, by id, with its frontends, backends and counters.</summary>
    public static IReadOnlyList<ServiceView> Services(LbMaps maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        var names = new Dictionary<uint, string>();
        var backendNames = new Dictionary<uint, string>();
        foreach (var key in maps.Names.Keys().ToList())
        {
            if (!maps.Names.TryLookup(key, out var record))
                continue;
            if (key.Kind == LbNameKind.Service)
                names[key.Id] = record.GetText();
            else if (key.Kind == LbNameKind.Backend)
                backendNames[key.Id] = record.GetText();
        }

        var frontends = new Dictionary<uint, List<FrontendView>>();
        foreach (var key in maps.Services.Keys().ToList())
        {
            if (!maps.Services.TryLookup(key, out var entry))
                continue;
            if (!frontends.TryGetValue(entry.Id, out var list))
                frontends[entry.Id] = list = [];
            list.Add(Frontend(key, entry));
        }

        var backends = new Dictionary<uint, List<BackendView>>();
        foreach (var id in maps.Backends.Keys().ToList())
        {
            // lb_backends is an array: every id has an entry, and a free one is all zeros (family 0).
            if (!maps.Backends.TryLookup(id, out var backend) || backend.Family == default)
                continue;
            if (!backends.TryGetValue(backend.ServiceId, out var list))
                backends[backend.ServiceId] = list = [];
            list.Add(new BackendView(id, backend.Addr.ToIPAddress(backend.Family).ToString(), backend.Port.ToHost(),
                backend.State.ToString().ToLowerInvariant()));
        }

        var tables = maps.ReadMaglevSlots().Select(s => s.Key).ToHashSet();
        var ids = frontends.Keys.Concat(names.Keys).Distinct().Order();
        var services = new List<ServiceView>();
        foreach (var id in ids)
        {
            var serviceFrontends = frontends.GetValueOrDefault(id) ?? [];
            serviceFrontends.Sort((a, b) => string.CompareOrdinal(a.Endpoint, b.Endpoint));
            var serviceBackends = backends.GetValueOrDefault(id) ?? [];
            serviceBackends.Sort((a, b) => a.Id.CompareTo(b.Id));
            var families = new List<string>();
            if (tables.Contains(LbAbi.MaglevKey(id, LbFamily.IPv4)))
                families.Add("ipv4");
            if (tables.Contains(LbAbi.MaglevKey(id, LbFamily.IPv6)))
                families.Add("ipv6");
            services.Add(new ServiceView(id, names.GetValueOrDefault(id) ?? $"(unnamed {id})", serviceFrontends, serviceBackends,
                Counters(maps, id), families));
        }
        return services;
    }

    /// <summary>lb_reasons summed over CPUs, for every reason this build knows (zeros included, so a rate has a start).</summary>
    public static IReadOnlyList<(LbReason Reason, ulong Count)> Reasons(LbMaps maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        var result = new List<(LbReason, ulong)>();
        foreach (var reason in Enum.GetValues<LbReason>())
        {
            if (reason == LbReason.ReasonUnused0)
                continue;
            var perCpu = maps.Reasons.LookupPerCpu((uint)reason);
            ulong sum = 0;
            if (perCpu is not null)
            {
                foreach (var value in perCpu)
                    sum += value;
            }
            result.Add((reason, sum));
        }
        return result;
    }

    /// <summary>Entries in use and capacity of the maps that fill up. Hash maps are counted by a key walk (one syscall per entry).</summary>
    public static IReadOnlyList<MapFill> Fill(LbMaps maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        return
        [
            new(LbMapNames.Flows, maps.Flows.Keys().LongCount(), maps.Flows.Map.MaxEntries),
            new(LbMapNames.RevNat, maps.RevNat.Keys().LongCount(), maps.RevNat.Map.MaxEntries),
            new(LbMapNames.Affinity, maps.Affinity.Keys().LongCount(), maps.Affinity.Map.MaxEntries),
            new(LbMapNames.Services, maps.Services.Keys().LongCount(), maps.Services.Map.MaxEntries),
            new(LbMapNames.Backends, maps.Backends.Keys().LongCount(), maps.Backends.Map.MaxEntries),
            new(LbMapNames.SrcRanges, maps.SrcRanges.Keys().LongCount(), maps.SrcRanges.Map.MaxEntries),
            new(LbMapNames.Maglev, maps.ReadMaglevSlots().Count, maps.Maglev.MaxEntries),
            new(LbMapNames.Names, maps.Names.Keys().LongCount(), maps.Names.Map.MaxEntries),
        ];
    }

    /// <summary>The reason's name as metrics and status show it: <c>drop_source_range</c>.</summary>
    public static string ReasonName(LbReason reason)
    {
        var text = reason.ToString();
        var builder = new System.Text.StringBuilder(text.Length + 8);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            // The enum's names are PascalCase words without capitalised acronyms (PassIpv4Options).
            if (char.IsUpper(c) && i > 0)
                builder.Append('_');
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }

    /// <summary>Whether a reason is a pass to the kernel, a drop, or a forward (LB_REASON_FIRST_DROP / _FWD).</summary>
    public static string Verdict(LbReason reason) =>
        (uint)reason >= LbLimits.ReasonFirstFwd ? "forward" : (uint)reason >= LbLimits.ReasonFirstDrop ? "drop" : "pass";

    private static ServiceCounters Counters(LbMaps maps, uint serviceId)
    {
        var perCpu = maps.SvcStats.LookupPerCpu(serviceId);
        ulong packets = 0, bytes = 0, flows = 0;
        if (perCpu is not null)
        {
            foreach (var value in perCpu)
            {
                packets += value.Packets;
                bytes += value.Bytes;
                flows += value.NewFlows;
            }
        }
        return new ServiceCounters(packets, bytes, flows);
    }

    private static FrontendView Frontend(LbServiceKey key, LbService entry)
    {
        var address = key.Addr.ToIPAddress(key.Family);
        var protocol = key.Proto switch
        {
            (byte)L4Protocol.Tcp => "tcp",
            (byte)L4Protocol.Udp => "udp",
            var other => $"proto-{other}",
        };
        var forwarding = entry.Forwarding switch
        {
            LbForwarding.Nat => "nat",
            LbForwarding.DsrIpip => "dsr-ipip",
            LbForwarding.DsrL2 => "dsr-l2",
            var other => $"forwarding-{(byte)other}",
        };
        var flags = new List<string>();
        if (entry.Flags.HasFlag(LbServiceFlags.Affinity))
            flags.Add("affinity");
        if (entry.Flags.HasFlag(LbServiceFlags.SrcRanges))
            flags.Add("source-ranges");
        if (entry.Flags.HasFlag(LbServiceFlags.SchedRandom))
            flags.Add("random");
        if (entry.Flags.HasFlag(LbServiceFlags.KeepClient))
            flags.Add("keep-client");
        return new FrontendView(address.ToString(), key.Port.ToHost(), protocol, key.Family == LbFamily.IPv6 ? "ipv6" : "ipv4",
            forwarding, flags, entry.AffinityTimeoutS, entry.BackendCount);
    }
}
