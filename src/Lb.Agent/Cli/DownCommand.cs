using System.CommandLine;
using Lb.Agent.Inspection;
using Lb.Agent.Programming;
using Lb.Native;
using Microsoft.Extensions.Logging;

namespace Lb.Agent.Cli;

/// <summary>`lb down`: detach Lb's XDP program and remove Lb's pins (and nothing else).</summary>
public static class DownCommand
{
    public static Command Create()
    {
        var interfaces = CommonOptions.Interfaces("Detach Lb's program from this interface (repeat for several). Default: the interfaces `lb run` recorded in the status file.");
        var pinRoot = CommonOptions.PinRoot();
        var statusFile = CommonOptions.StatusFile();
        var command = new Command("down",
            "Detach Lb's XDP program from the interfaces and remove the maps and program Lb pinned, and the managed neighbour entries " +
            "Lb created for its backends. Other XDP programs, other pins and other neighbour entries are left alone. Established connections through Lb end with the flow table. Stop `lb run` first.")
        {
            interfaces, pinRoot, statusFile,
        };
        command.SetAction(parse =>
        {
            var root = parse.GetValue(pinRoot)!;
            var statusPath = parse.GetValue(statusFile)!;
            AgentStatus? status;
            try
            {
                status = AgentStatus.TryRead(statusPath);
            }
            catch (InvalidDataException e)
            {
                Console.Error.WriteLine($"lb down: {e.Message}");
                status = null;
            }
            if (status is not null && status.IsRunning() && status.Pid != Environment.ProcessId && SamePinRoot(status.PinRoot, root))
            {
                Console.Error.WriteLine($"lb down: `lb run` (pid {status.Pid}) is still running on {root}; stop it first (SIGTERM), then run `lb down` again.");
                return LbCommandLine.ExitFailed;
            }
            var given = parse.GetValue(interfaces) ?? [];
            IReadOnlyList<string> targets = given.Length > 0 ? given
                : status is not null && SamePinRoot(status.PinRoot, root) ? status.Interfaces : [];

            using var loggerFactory = RunCommand.CreateLoggerFactory(LogLevel.Warning, LogFormat.Text);
            LbDatapathDownResult result;
            try
            {
                result = LbDatapath.Down(targets, root, loggerFactory.CreateLogger("Lb.Agent.Down"));
            }
            catch (Exception e) when (e is NativeErrorException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"lb down: {e.Message}");
                return LbCommandLine.ExitFailed;
            }
            IReadOnlyCollection<NextHop> neighbours;
            try
            {
                var keeper = new IpNeighbourKeeper(null, IpNeighbourKeeper.RecordPathFor(statusPath), loggerFactory.CreateLogger<IpNeighbourKeeper>());
                neighbours = keeper.Created;
                keeper.RemoveAll();
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"lb down: {e.Message}");
                return LbCommandLine.ExitFailed;
            }
            if (status is not null && SamePinRoot(status.PinRoot, root))
                File.Delete(statusPath);
            Console.WriteLine($"detached from: {(result.DetachedInterfaces.Count == 0 ? "none" : string.Join(", ", result.DetachedInterfaces))}");
            Console.WriteLine($"removed pins: {(result.RemovedPins.Count == 0 ? "none" : string.Join(", ", result.RemovedPins))}");
            Console.WriteLine($"removed neighbour entries: {(neighbours.Count == 0 ? "none" : string.Join(", ", neighbours))}");
            if (given.Length == 0 && targets.Count == 0)
                Console.WriteLine("no interfaces given and no status file: nothing detached (pass --interface IF)");
            return LbCommandLine.ExitOk;
        });
        return command;
    }

    private static bool SamePinRoot(string a, string b) => Path.GetFullPath(a).TrimEnd('/') == Path.GetFullPath(b).TrimEnd('/');
}
