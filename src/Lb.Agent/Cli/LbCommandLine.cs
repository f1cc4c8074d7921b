using System.CommandLine;

namespace Lb.Agent.Cli;

/// <summary>
/// The `lb` command line (docs/cli.md). Every command is a small class with a <c>Create()</c> returning
/// its <see cref="Command"/>; this is where they are put together.
/// </summary>
public static class LbCommandLine
{
    /// <summary>Exit codes shared by every command (docs/cli.md).</summary>
    public const int ExitOk = 0, ExitFailed = 1, ExitUsage = 2, ExitNotRunning = 3;

    /// <summary>
    /// SIGINT / SIGTERM cancel the running command's token; `lb run` then closes its descriptors and the
    /// admin server, which takes well under this.
    /// </summary>
    public static InvocationConfiguration Invocation { get; } = new() { ProcessTerminationTimeout = TimeSpan.FromSeconds(15) };

    public static RootCommand Create()
    {
        var root = new RootCommand(
            "lb: a Layer-4 load balancer with an XDP fast path. `lb run` programs lb.yaml into the datapath and keeps it in step; " +
            "the datapath keeps forwarding when lb stops, and `lb down` removes it.");
        root.Add(RunCommand.Create());
        root.Add(ServiceCommand.Create());
        root.Add(StatusCommand.Create());
        root.Add(DownCommand.Create());
        // lb demo: root.Add(Demo.DemoCommand.Create());  <- the demo command is added here (written in src/Lb.Agent/Demo/DemoCommand.cs)
        return root;
    }
}
