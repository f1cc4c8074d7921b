using Lb.Testing.Kernel;

namespace Lb.Agent.Tests.Cli;

/// <summary>The command line as a user meets it: help, usage errors, exit codes, and errors that say where.</summary>
public sealed class CommandLineTests
{
    [Fact]
    public async Task Help_Root_ListsEveryCommand()
    {
        var (code, stdout, _) = await AgentProcess.RunToEnd("--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "run", "service", "status", "down" })
            Assert.Matches($@"(?m)^\s+{command}\s+\S", stdout);
    }

    [Fact]
    public async Task Run_WithoutConfig_ExitsTwoNamingTheOption()
    {
        var (code, _, stderr) = await AgentProcess.RunToEnd("run");
        Assert.Equal(2, code);
        Assert.Contains("--config", stderr);
    }

    [Fact]
    public async Task Run_InvalidConfigAtStart_ExitsTwoWithFileLineAndReasonAndLoadsNothing()
    {
        using var files = new AgentFiles();
        files.WriteConfig("""
            datapath:
              interfaces: [lo]
            services:
              - name: web
                frontends:
                  - { address: 198.51.100.10, port: 80, protocol: sctp }
                backends:
                  - { address: 203.0.113.11, port: 8080 }
            """);
        var (code, stdout, stderr) = await AgentProcess.RunToEnd("run", "--config", files.ConfigPath, "--pin-root", files.PinRoot,
            "--status-file", files.StatusFile, "--object", BpfObjects.LbXdp);
        Assert.Equal(2, code);
        Assert.Contains($"{files.ConfigPath}:6:", stdout + stderr);
        Assert.Contains("[3001]", stdout + stderr);
        Assert.False(Directory.Exists(files.PinRoot));
        Assert.False(File.Exists(files.StatusFile));
    }

    [Fact]
    public async Task ServiceListAndStatus_NothingPinned_ExitThreeAndSaySo()
    {
        var root = $"/sys/fs/bpf/lb-test-{Guid.NewGuid():N}";
        var list = await AgentProcess.RunToEnd("service", "list", "--pin-root", root);
        Assert.Equal(3, list.ExitCode);
        Assert.Contains($"No Lb datapath is pinned at {root}", list.Stderr);
        var status = await AgentProcess.RunToEnd("status", "--pin-root", root, "--status-file", "/nonexistent/status.json");
        Assert.Equal(3, status.ExitCode);
    }

    [Fact]
    public async Task Status_BadOutputFormat_ExitsTwo()
    {
        var (code, _, stderr) = await AgentProcess.RunToEnd("status", "--output", "yaml");
        Assert.Equal(2, code);
        Assert.Contains("yaml", stderr);
    }
}
