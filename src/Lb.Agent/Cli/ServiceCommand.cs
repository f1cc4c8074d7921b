using System.CommandLine;
using System.Text.Json;
using Lb.Agent.Inspection;
using Lb.Native;

namespace Lb.Agent.Cli;

/// <summary>`lb service list`: the services as the pinned maps hold them, one row per frontend.</summary>
public static class ServiceCommand
{
    /// <summary>One row of `lb service list --output json`.</summary>
    /// <param name="Type">The frontend's kind (LoadBalancer, ExternalIP, NodePort, Static) as `lb run` last programmed it, or "unknown" without its status file.</param>
    /// <param name="Forwarding">nat, dsr-ipip or dsr-l2, from the datapath.</param>
    public sealed record ServiceRow(uint Id, string Service, string Frontend, string Address, ushort Port, string Protocol, string Type,
        string Forwarding, IReadOnlyList<string> Flags, uint SchedulableBackends, IReadOnlyList<BackendView> Backends);

    public static Command Create()
    {
        var list = new Command("list",
            "One row per frontend: service id, address:port/protocol, frontend type, forwarding and the service's backends with their state, " +
            "read from the pinned maps (works while `lb run` runs and after it stopped).");
        var pinRoot = CommonOptions.PinRoot();
        var output = CommonOptions.Output();
        var statusFile = CommonOptions.StatusFile();
        list.Add(pinRoot);
        list.Add(output);
        list.Add(statusFile);
        list.SetAction(parse =>
        {
            IReadOnlyList<ServiceView> services;
            try
            {
                using var maps = LbMaps.OpenPinned(parse.GetValue(pinRoot)!);
                services = DatapathInspector.Services(maps);
            }
            catch (FileNotFoundException e)
            {
                Console.Error.WriteLine($"lb service list: {e.Message}");
                return LbCommandLine.ExitNotRunning;
            }
            var rows = Rows(services, AgentStatus.TryRead(parse.GetValue(statusFile)!)?.FrontendKinds);
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                Console.WriteLine(JsonSerializer.Serialize(rows, AgentStatus.Json));
                return LbCommandLine.ExitOk;
            }
            var table = new TextTable("ID", "SERVICE", "FRONTEND", "TYPE", "FORWARDING", "BACKENDS");
            foreach (var row in rows)
            {
                var backends = row.Backends.Count == 0 ? "(none)" : string.Join('\n', row.Backends.Select(b => $"{b.Id} => {b.Endpoint}/{row.Protocol} ({b.State})"));
                var forwarding = row.Flags.Count == 0 ? row.Forwarding : $"{row.Forwarding} ({string.Join(", ", row.Flags)})";
                table.Add(row.Id.ToString(), row.Service, row.Frontend, row.Type, forwarding, backends);
            }
            Console.Write(table.ToString());
            return LbCommandLine.ExitOk;
        });

        var service = new Command("service", "Inspect the services in the datapath.");
        service.Add(list);
        return service;
    }

    public static IReadOnlyList<ServiceRow> Rows(IReadOnlyList<ServiceView> services, IReadOnlyDictionary<string, string>? kinds = null) =>
        services.SelectMany(s => s.Frontends.Select(f => new ServiceRow(s.Id, s.Name, f.Endpoint, f.Address, f.Port, f.Protocol,
            kinds?.GetValueOrDefault(f.Endpoint) ?? "unknown", f.Forwarding, f.Flags, f.SchedulableBackends, s.Backends.Where(b => b.Address.Contains(':') == (f.Family == "ipv6")).ToList()))).ToList();
}
