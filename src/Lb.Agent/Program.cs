using System.CommandLine;
using Lb.Agent.Cli;

namespace Lb.Agent;

/// <summary>The `lb` executable: the command line is <see cref="LbCommandLine"/>; docs/cli.md describes it.</summary>
public static class Program
{
    public static Task<int> Main(string[] args) => LbCommandLine.InvokeAsync(args);
}
