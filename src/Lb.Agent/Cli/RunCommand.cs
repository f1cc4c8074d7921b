using System.CommandLine;
using System.Net;
using Lb.Agent.Running;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Lb.Agent.Cli;

/// <summary>`lb run --config lb.yaml`: the agent.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c")
        {
            Description = "lb.yaml: the datapath options, the admin listener and the services (docs/lb-yaml.md). Reloaded when it changes.",
            Required = true,
            HelpName = "FILE",
        };
        var interfaces = CommonOptions.Interfaces("Attach to this interface (repeat for several); overrides datapath.interfaces.");
        var snat = new Option<IPAddress[]>("--snat-address")
        {
            Description = "Lb's own address for NAT and dsr-ipip, one per family; overrides datapath.snatAddress(V6). " +
                          "Default: the file's, else the first address of the interfaces.",
            HelpName = "ADDRESS",
            CustomParser = result => result.Tokens.Select(t =>
            {
                if (IPAddress.TryParse(t.Value, out var address))
                    return address;
                result.AddError($"--snat-address: '{t.Value}' is not an IPv4 or IPv6 address");
                return IPAddress.None;
            }).ToArray(),
        };
        var objectPath = new Option<FileInfo?>("--object")
        {
            Description = "The compiled XDP program, lb_xdp.bpf.o. Default: $LB_XDP_OBJECT, else next to lb, else build/bpf above lb or the working directory.",
            HelpName = "PATH",
        };
        var pinRoot = CommonOptions.PinRoot();
        var statusFile = CommonOptions.StatusFile();
        var logLevel = new Option<LogLevel>("--log-level")
        {
            Description = "Trace, Debug, Information, Warning, Error or Critical.",
            DefaultValueFactory = _ => LogLevel.Information,
            HelpName = "LEVEL",
        };
        var logFormat = new Option<LogFormat>("--log-format")
        {
            Description = "text (one line per event, with its event id) or json (one JSON object per line).",
            DefaultValueFactory = _ => LogFormat.Text,
            HelpName = "FORMAT",
        };
        var poll = new Option<double>("--poll-interval")
        {
            Description = "Seconds between checks of the config file's content (besides file system events).",
            DefaultValueFactory = _ => 2.0,
            HelpName = "SECONDS",
        };
        poll.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() <= 0)
                result.AddError("--poll-interval must be positive");
        });

        var command = new Command("run",
            "Load (or adopt) the XDP datapath, program lb.yaml into it, attach it to the interfaces, serve the admin API, and apply every valid " +
            "change of the file. An invalid file is refused with its line and reason; the running tables stay. On SIGINT/SIGTERM lb exits " +
            "and leaves the datapath attached and pinned; the next `lb run` adopts it without dropping a connection.")
        {
            config, interfaces, snat, objectPath, pinRoot, statusFile, logLevel, logFormat, poll,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var loggerFactory = CreateLoggerFactory(parse.GetValue(logLevel), parse.GetValue(logFormat));
            var options = new RunOptions
            {
                ConfigPath = parse.GetValue(config)!.FullName,
                Interfaces = parse.GetValue(interfaces) ?? [],
                SnatAddresses = parse.GetValue(snat) ?? [],
                ObjectPath = parse.GetValue(objectPath)?.FullName,
                PinRoot = parse.GetValue(pinRoot)!,
                StatusFile = parse.GetValue(statusFile)!,
                PollInterval = TimeSpan.FromSeconds(parse.GetValue(poll)),
            };
            var snatErrors = options.SnatAddresses.GroupBy(a => a.AddressFamily).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            if (snatErrors.Count > 0)
            {
                await Console.Error.WriteLineAsync($"lb run: --snat-address given more than once for {string.Join(", ", snatErrors)}; give one per family");
                return LbCommandLine.ExitUsage;
            }
            return await new AgentRunner(options, loggerFactory).RunAsync(cancellationToken);
        });
        return command;
    }

    internal static ILoggerFactory CreateLoggerFactory(LogLevel level, LogFormat format) =>
        LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(level);
            if (format == LogFormat.Json)
            {
                builder.AddJsonConsole(o =>
                {
                    o.UseUtcTimestamp = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                });
            }
            else
            {
                builder.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.UseUtcTimestamp = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                    o.ColorBehavior = LoggerColorBehavior.Disabled;
                });
            }
        });
}

public enum LogFormat
{
    Text,
    Json,
}
