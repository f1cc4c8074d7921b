using Lb.Datapath.Abi;

namespace Lb.Datapath.Engine;

/// <summary>
/// The tables the packet path reads and writes, with the maps' semantics (docs/xdp-datapath.md, "Objects
/// and maps"), keyed and valued by the ABI structs, so that one implementation can sit on the pinned BPF
/// maps (and the managed engine then shares flows with the XDP program) and another in memory.
/// Called per packet: an implementation must not allocate, throw or block on the lookup paths.
/// </summary>
public interface IDatapathTables
{
    /// <summary>lb_config[0]; false if it cannot be read (the program then passes the frame as no service).</summary>
    bool TryGetConfig(out LbDatapathConfig config);

    /// <summary>lb_services lookup by the exact key (padding included).</summary>
    bool TryGetService(in LbServiceKey key, out LbService service);

    /// <summary>lb_backends lookup by id.</summary>
    bool TryGetBackend(uint id, out LbBackend backend);

    /// <summary>Whether lb_maglev holds an inner table at <paramref name="maglevKey"/> (LbAbi.MaglevKey).</summary>
    bool HasMaglevTable(uint maglevKey);

    /// <summary>The backend id in slot <paramref name="slot"/> of the inner table; false without a table or past its end.</summary>
    bool TryGetMaglevSlot(uint maglevKey, uint slot, out uint backendId);

    /// <summary>lb_src_ranges longest-prefix match: whether an entry covers the key's first prefixlen bits.</summary>
    bool MatchSourceRange(in LbSrcRangeKey key);

    bool TryGetFlow(in LbFlowKey key, out LbFlow flow);

    /// <summary>BPF_ANY: insert or overwrite; false when the table refuses the entry.</summary>
    bool UpdateFlow(in LbFlowKey key, in LbFlow flow);

    bool TryGetAffinity(in LbAffinityKey key, out LbAffinity affinity);

    /// <summary>BPF_ANY; false when the table refuses the entry.</summary>
    bool UpdateAffinity(in LbAffinityKey key, in LbAffinity affinity);

    bool TryGetRevNat(in LbFlowKey key, out LbRevNat revNat);

    /// <summary>BPF_NOEXIST: inserts only if the key is absent; false if it is present or the table refuses.</summary>
    bool InsertRevNat(in LbFlowKey key, in LbRevNat revNat);

    /// <summary>BPF_ANY; false when the table refuses the entry.</summary>
    bool UpdateRevNat(in LbFlowKey key, in LbRevNat revNat);

    void DeleteRevNat(in LbFlowKey key);

    /// <summary>lb_reasons[reason] += 1: every frame, once, by its final reason.</summary>
    void CountReason(LbReason reason);

    /// <summary>lb_svc_stats[serviceId]: one packet of <paramref name="frameLength"/> bytes that matched a frontend.</summary>
    void CountServicePacket(uint serviceId, uint frameLength);

    /// <summary>lb_svc_stats[serviceId].new_flows += 1.</summary>
    void CountNewFlow(uint serviceId);
}
