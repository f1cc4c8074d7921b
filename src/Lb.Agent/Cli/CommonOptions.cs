using System.CommandLine;
using Lb.Agent.Inspection;
using Lb.Datapath.Abi;

namespace Lb.Agent.Cli;

/// <summary>Options several commands share; each command gets its own instances (a symbol has one parent).</summary>
internal static class CommonOptions
{
    public static Option<string> PinRoot() => new("--pin-root")
    {
        Description = "Directory on bpffs where Lb pins its maps and program.",
        DefaultValueFactory = _ => LbAbi.PinRoot,
        HelpName = "DIR",
    };

    public static Option<string> StatusFile() => new("--status-file")
    {
        Description = "Where `lb run` writes its status (source, last update, interfaces) for `lb status` and `lb down`.",
        DefaultValueFactory = _ => AgentStatus.DefaultPath,
        HelpName = "FILE",
    };

    public static Option<string[]> Interfaces(string description) => new("--interface", "-i")
    {
        Description = description,
        AllowMultipleArgumentsPerToken = false,
        HelpName = "IF",
    };

    public static Option<OutputFormat> Output() => new("--output", "-o")
    {
        Description = "text (a table) or json.",
        DefaultValueFactory = _ => OutputFormat.Text,
        HelpName = "FORMAT",
    };
}

public enum OutputFormat
{
    Text,
    Json,
}
