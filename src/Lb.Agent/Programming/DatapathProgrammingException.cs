using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.Agent.Programming;

/// <summary>
/// A map write failed while applying a snapshot. What was written before it stays written and the
/// programmer knows it; the next apply writes what is still missing. A full map says what to raise.
/// </summary>
public sealed class DatapathProgrammingException : Exception
{
    public DatapathProgrammingException(string message, StateChange? change, Exception inner)
        : base(message, inner)
    {
        Change = change;
    }

    /// <summary>The change being applied when the write failed; null for the config, cursors, or the clean-up of stale entries.</summary>
    public StateChange? Change { get; }

    /// <summary>The full map, when that was the failure.</summary>
    public string? FullMap => (InnerException as BpfMapFullException)?.MapName;

    internal static DatapathProgrammingException From(Exception error, StateChange? change, long generation)
    {
        var what = change is null ? $"generation {generation}" : $"{Describe(change)} (generation {generation})";
        var full = error as BpfMapFullException ?? (error as BpfBatchException)?.InnerException as BpfMapFullException;
        if (full is not null)
        {
            return new DatapathProgrammingException(
                $"BPF map {full.MapName} is full ({full.MaxEntries} entries) while programming {what}: {RaiseAdvice(full.MapName)}.",
                change, full);
        }
        return new DatapathProgrammingException($"Programming {what} failed: {error.Message}", change, error);
    }

    /// <summary>What sizes each map, for the message of a full one.</summary>
    internal static string RaiseAdvice(string mapName) => mapName switch
    {
        LbMapNames.Flows or LbMapNames.RevNat =>
            "raise datapath.flowTable.capacity in lb.yaml (a pinned flow table keeps its size until `lb down`)",
        LbMapNames.Services => Limit("LB_MAX_FRONTENDS", "frontends"),
        LbMapNames.Backends => Limit("LB_MAX_BACKENDS", "backends"),
        LbMapNames.SrcRanges => Limit("LB_MAX_SRC_RANGES", "sourceRanges entries"),
        LbMapNames.Affinity => Limit("LB_DEFAULT_AFFINITY", "clients with session affinity"),
        LbMapNames.Names => Limit("LB_MAX_NAMES", "services and backends"),
        _ => $"map {mapName} has no configured size; this is a bug",
    };

    private static string Limit(string define, string what) =>
        $"configure fewer {what}, or raise {define} in native/include/lb/lb_abi.h, rebuild the BPF object and restart after `lb down`";

    private static string Describe(StateChange change) => change switch
    {
        ServiceAdded c => $"service '{c.Name}' (id {c.ServiceId})",
        ServiceRemoved c => $"the removal of service '{c.Name}' (id {c.ServiceId})",
        ServicePolicyChanged c => $"the policy of service '{c.Name}' (id {c.ServiceId})",
        SourceRangesChanged c => $"the source ranges of service {c.ServiceId}",
        BackendAdded c => $"backend {c.Backend.Identity} (id {c.Backend.Id}) of service {c.Backend.ServiceId}",
        BackendChanged c => $"backend {c.To.Identity} (id {c.To.Id}) of service {c.To.ServiceId}",
        BackendRemoved c => $"the removal of backend {c.Backend.Identity} (id {c.Backend.Id})",
        FrontendAdded c => $"frontend {c.Frontend.Key} of service {c.Frontend.ServiceId}",
        FrontendChanged c => $"frontend {c.To.Key} of service {c.To.ServiceId}",
        FrontendRemoved c => $"the removal of frontend {c.Frontend.Key}",
        MaglevTableRebuilt c => $"the Maglev table of {c.Key}",
        MaglevTableRemoved c => $"the removal of the Maglev table of {c.Key}",
        OptionsChanged => "the datapath options",
        _ => change.GetType().Name,
    };
}
