using System.CommandLine;
using System.Text;
using Lb.Agent.Inspection;
using Lb.Native;

namespace Lb.Agent.Cli;

/// <summary>`lb status`: the datapath, its interfaces, how full its maps are, its counters, and the agent's last update.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var pinRoot = CommonOptions.PinRoot();
        var statusFile = CommonOptions.StatusFile();
        var output = CommonOptions.Output();
        var interfaces = CommonOptions.Interfaces("Also report XDP on this interface (repeat for several); the interfaces of `lb run` are always reported.");
        var command = new Command("status",
            "Datapath mode, XDP mode per interface (native/generic), Maglev table size, flow-table and map fill, drop/pass/forward counters, " +
            "per-service counters, and where the desired state comes from with its last update. Reads the pinned maps and the status file of `lb run`.")
        {
            pinRoot, statusFile, output, interfaces,
        };
        command.SetAction(parse =>
        {
            var root = parse.GetValue(pinRoot)!;
            AgentStatus? agent;
            try
            {
                agent = AgentStatus.TryRead(parse.GetValue(statusFile)!);
            }
            catch (InvalidDataException e)
            {
                Console.Error.WriteLine($"lb status: {e.Message}");
                agent = null;
            }
            if (agent is not null && Path.GetFullPath(agent.PinRoot).TrimEnd('/') != Path.GetFullPath(root).TrimEnd('/'))
                agent = null;
            StatusReport report;
            try
            {
                using var maps = LbMaps.OpenPinned(root);
                var names = (agent?.Interfaces ?? []).Concat(parse.GetValue(interfaces) ?? []);
                report = StatusReport.Collect(maps, root, new AgentView(agent?.IsRunning() ?? false, agent), names);
            }
            catch (FileNotFoundException e)
            {
                Console.Error.WriteLine($"lb status: {e.Message}");
                return LbCommandLine.ExitNotRunning;
            }
            Console.Write(parse.GetValue(output) == OutputFormat.Json ? report.ToJson() + "\n" : Render(report));
            return LbCommandLine.ExitOk;
        });
        return command;
    }

    private static string Render(StatusReport r)
    {
        var text = new StringBuilder();
        var agent = r.Agent.Status;
        text.Append($"Agent:        {(r.Agent.Running ? $"running (pid {agent!.Pid}, lb {agent.Version})" : agent is null ? "no status file" : $"not running (last pid {agent.Pid})")}\n");
        if (agent is not null)
        {
            text.Append($"Source:       {agent.Source} {agent.ConfigPath}\n");
            text.Append($"Last update:  {agent.LastUpdate:u} {agent.LastResult}, generation {agent.Generation}, {agent.Services} services" +
                        (agent.LastApplied is { } applied ? $", last applied {applied:u}" : "") + "\n");
            foreach (var error in agent.LastErrors)
                text.Append($"              {error}\n");
            if (agent.AdminListen is not null)
                text.Append($"Admin:        http://{agent.AdminListen}\n");
        }
        text.Append($"Datapath:     {r.Datapath.Mode}, program id {r.Datapath.PinnedProgramId}, pinned at {r.Datapath.PinRoot}\n");
        text.Append($"Maglev:       table size {r.Datapath.MaglevTableSize}\n");
        text.Append($"SNAT:         {r.Datapath.SnatV4 ?? "-"} / {r.Datapath.SnatV6 ?? "-"}, ports {r.Datapath.NatPorts}\n");
        text.Append("\nInterfaces:\n");
        var interfaces = new TextTable("  NAME", "XDP", "PROGRAM", "LB");
        foreach (var i in r.Interfaces)
            interfaces.Add("  " + i.Name, i.Error is null ? i.XdpMode : $"unknown ({i.Error})", i.ProgramId.ToString(), i.LbProgram ? "yes" : "no");
        text.Append(interfaces);
        text.Append("\nMaps:\n");
        var maps = new TextTable("  MAP", "ENTRIES", "CAPACITY", "FILL");
        foreach (var m in r.Maps)
            maps.Add("  " + m.Name, m.Entries.ToString(), m.Capacity.ToString(), m.Capacity == 0 ? "-" : $"{100.0 * m.Entries / m.Capacity:F1}%");
        text.Append(maps);
        text.Append("\nCounters (non-zero):\n");
        var reasons = new TextTable("  REASON", "VERDICT", "FRAMES");
        foreach (var reason in r.Reasons.Where(x => x.Count > 0))
            reasons.Add("  " + reason.Reason, reason.Verdict, reason.Count.ToString());
        text.Append(reasons);
        text.Append("\nServices:\n");
        var services = new TextTable("  ID", "SERVICE", "PACKETS", "BYTES", "NEW FLOWS");
        foreach (var s in r.Services)
            services.Add("  " + s.Id, s.Name, s.Packets.ToString(), s.Bytes.ToString(), s.NewFlows.ToString());
        text.Append(services);
        return text.ToString();
    }
}
