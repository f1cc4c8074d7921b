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

    /// <summary>
    /// Parses and runs. A command line that does not parse exits with <see cref="ExitUsage"/> (2) and the
    /// parser's errors, so scripts can tell a usage error from a failure (1).
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, TextWriter? error = null)
    {
        // Bare `lb` shows the help rather than an error.
        var parse = Create().Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
        {
            error ??= Console.Error;
            foreach (var parseError in parse.Errors)
                await error.WriteLineAsync($"lb: {parseError.Message}");
            await error.WriteLineAsync("Run `lb --help` or `lb COMMAND --help` for usage.");
            return ExitUsage;
        }
        return await parse.InvokeAsync(Invocation);
    }

    public static RootCommand Create()
    {
        var root = new RootCommand(
            "lb: a Layer-4 load balancer with an XDP fast path. `lb run` programs lb.yaml into the datapath and keeps it in step; " +
            "the datapath keeps forwarding when lb stops, and `lb down` removes it.");
        root.Add(RunCommand.Create());
        root.Add(ServiceCommand.Create());
        root.Add(StatusCommand.Create());
        root.Add(DownCommand.Create());
        root.Add(Demo.DemoCommand.Create());
        return root;
    }
}
