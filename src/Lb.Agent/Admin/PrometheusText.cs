using System.Globalization;
using System.Text;
using Lb.Agent.Inspection;

namespace Lb.Agent.Admin;

/// <summary>
/// Renders /metrics in the Prometheus text exposition format (version 0.0.4): a HELP and a TYPE line per
/// family, then its samples; label values escaped (backslash, double quote, newline); values in Go's
/// float syntax (+Inf, NaN). Every metric is listed in docs/metrics.md.
/// </summary>
public static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The inputs of one scrape.</summary>
    public sealed record Inputs(
        IReadOnlyList<ServiceView> Services,
        IReadOnlyList<ReasonCount> Reasons,
        IReadOnlyList<MapFill> Maps,
        AgentMetrics.Snapshot Agent,
        long Applies,
        long FailedApplies,
        long Generation);

    public static string Render(Inputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var w = new Writer();

        w.Family("lb_build_info", "gauge", "The version and commit of this lb; always 1.");
        w.Sample("lb_build_info", [("version", BuildInfo.Version), ("commit", BuildInfo.Commit)], 1);

        w.Family("lb_service_packets_total", "counter", "Frames that matched a frontend of the service (client to backend; NAT replies not counted), whatever their verdict.");
        foreach (var s in inputs.Services)
            w.Sample("lb_service_packets_total", ServiceLabels(s), s.Counters.Packets);
        w.Family("lb_service_bytes_total", "counter", "Bytes of the frames counted in lb_service_packets_total (whole frames as received).");
        foreach (var s in inputs.Services)
            w.Sample("lb_service_bytes_total", ServiceLabels(s), s.Counters.Bytes);
        w.Family("lb_service_new_flows_total", "counter", "Flows of the service recorded in the flow table with a backend (Maglev, affinity or random).");
        foreach (var s in inputs.Services)
            w.Sample("lb_service_new_flows_total", ServiceLabels(s), s.Counters.NewFlows);
        w.Family("lb_service_backends", "gauge", "Backends of a service in the datapath, by state.");
        foreach (var s in inputs.Services)
        {
            foreach (var state in new[] { "active", "terminating", "maintenance" })
                w.Sample("lb_service_backends", [("service", s.Name), ("state", state)], s.Backends.Count(b => b.State == state));
        }

        w.Family("lb_datapath_reason_total", "counter", "Frames the XDP program handled, by the one reason each lands in: passes to the kernel, drops and forwards.");
        foreach (var r in inputs.Reasons)
            w.Sample("lb_datapath_reason_total", [("reason", r.Reason), ("verdict", r.Verdict)], r.Count);

        var flows = inputs.Maps.FirstOrDefault(m => m.Name == Lb.Datapath.Abi.LbMapNames.Flows);
        if (flows is not null)
        {
            w.Family("lb_flow_table_entries", "gauge", "Entries in the flow table (lb_flows).");
            w.Sample("lb_flow_table_entries", [], flows.Entries);
            w.Family("lb_flow_table_capacity", "gauge", "Capacity of the flow table (datapath.flowTable.capacity).");
            w.Sample("lb_flow_table_capacity", [], flows.Capacity);
        }
        w.Family("lb_map_entries", "gauge", "Entries in use in a BPF map of the datapath.");
        foreach (var m in inputs.Maps)
            w.Sample("lb_map_entries", [("map", m.Name)], m.Entries);
        w.Family("lb_map_capacity", "gauge", "max_entries of a BPF map of the datapath.");
        foreach (var m in inputs.Maps)
            w.Sample("lb_map_capacity", [("map", m.Name)], m.Capacity);

        var agent = inputs.Agent;
        w.Family("lb_programming_duration_seconds", "histogram", "Time from the diff to the last map write of one apply of the desired state.");
        for (var i = 0; i < AgentMetrics.DurationBuckets.Length; i++)
            w.Sample("lb_programming_duration_seconds_bucket", [("le", Format(AgentMetrics.DurationBuckets[i]))], agent.Buckets[i]);
        w.Sample("lb_programming_duration_seconds_bucket", [("le", "+Inf")], agent.Count);
        w.Sample("lb_programming_duration_seconds_sum", [], agent.Sum);
        w.Sample("lb_programming_duration_seconds_count", [], agent.Count);

        w.Family("lb_programming_applies_total", "counter", "Applies of the desired state that completed.");
        w.Sample("lb_programming_applies_total", [], inputs.Applies);
        w.Family("lb_programming_failures_total", "counter", "Applies that failed part-way (a map write failed); the next apply completes them.");
        w.Sample("lb_programming_failures_total", [], inputs.FailedApplies);
        w.Family("lb_desired_state_generation", "gauge", "Generation of the desired state last programmed.");
        w.Sample("lb_desired_state_generation", [], inputs.Generation);
        w.Family("lb_config_updates_total", "counter", "Reads of the desired state's source (lb.yaml), by result: applied, unchanged, refused (invalid), failed (programming).");
        foreach (var (result, count) in agent.Updates.OrderBy(u => u.Key, StringComparer.Ordinal))
            w.Sample("lb_config_updates_total", [("result", result)], count);
        w.Family("lb_config_last_success_timestamp_seconds", "gauge", "Unix time of the last read of the source that was applied or needed nothing.");
        w.Sample("lb_config_last_success_timestamp_seconds", [], agent.LastSuccessUnixSeconds);
        return w.ToString();
    }

    private static (string, string)[] ServiceLabels(ServiceView s) =>
        [("service", s.Name), ("frontends", string.Join(' ', s.Frontends.Select(f => f.Endpoint)))];

    private static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);

    private sealed class Writer
    {
        private readonly StringBuilder _text = new();

        public void Family(string name, string type, string help)
        {
            _text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
            _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        }

        public void Sample(string name, (string Name, string Value)[] labels, double value)
        {
            _text.Append(name);
            if (labels.Length > 0)
            {
                _text.Append('{');
                for (var i = 0; i < labels.Length; i++)
                {
                    if (i > 0)
                        _text.Append(',');
                    _text.Append(labels[i].Name).Append("=\"").Append(Escape(labels[i].Value)).Append('"');
                }
                _text.Append('}');
            }
            _text.Append(' ').Append(Format(value)).Append('\n');
        }

        public override string ToString() => _text.ToString();

        private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
    }
}
