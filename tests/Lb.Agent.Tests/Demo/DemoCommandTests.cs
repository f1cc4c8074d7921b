using Lb.Testing.Kernel;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lb.Agent.Demo;
using Lb.Agent.Tests.Infrastructure;

namespace Lb.Agent.Tests.Demo;

/// <summary>
/// `lb demo` end to end, as a child process: the full run, a run stopped by SIGTERM in the middle of its
/// traffic, and a run killed by SIGKILL whose leftovers the next run removes. After each, nothing of the
/// demo may be left: no namespace (every veth was made inside one and goes with it), no pin root, no owner record, no BPF program, no process.
/// </summary>
[Collection(DemoCollection.Name)]
public sealed partial class DemoCommandTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Demo_FullRun_ExitsZeroEveryBackendAnsweredAndRemovalMovedNoOtherConnection()
    {
        using var demo = new DemoProcess("--output", "json", "--bpf-object", BpfObjects.LbXdp);
        var exit = await demo.WaitForExit(RunTimeout);

        Assert.True(exit == 0, $"exit {exit}\nstderr:\n{demo.Stderr}\nstdout:\n{demo.Stdout}");
        using var json = JsonDocument.Parse(demo.Stdout);
        var root = json.RootElement;
        Assert.True(root.GetProperty("succeeded").GetBoolean());
        Assert.Empty(root.GetProperty("problemList").EnumerateArray());
        var backends = root.GetProperty("backends").EnumerateArray().Select(b => b.GetString()!).ToList();
        Assert.Equal(["backend-0", "backend-1", "backend-2"], backends);

        var http = root.GetProperty("traffic").GetProperty("http");
        var udp = root.GetProperty("traffic").GetProperty("udp");
        Assert.Equal((1000, 1000, 0), (http.GetProperty("sent").GetInt32(), http.GetProperty("answered").GetInt32(), http.GetProperty("failed").GetInt32()));
        Assert.Equal((1000, 1000, 0), (udp.GetProperty("sent").GetInt32(), udp.GetProperty("answered").GetInt32(), udp.GetProperty("failed").GetInt32()));
        foreach (var backend in backends)
        {
            foreach (var tally in new[] { http, udp })
            {
                var counts = tally.GetProperty("byBackend").GetProperty(backend);
                Assert.True(counts.GetProperty("v4").GetInt32() > 0 && counts.GetProperty("v6").GetInt32() > 0, $"{backend}: {counts}");
            }
        }

        var web = root.GetProperty("counters").GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == DemoRun.WebService);
        Assert.Equal(http.GetProperty("flows").GetInt32(), web.GetProperty("newFlows").GetInt32());

        var removal = root.GetProperty("removal");
        var removed = removal.GetProperty("removed").GetString();
        var connections = removal.GetProperty("connections").EnumerateArray()
            .Select(c => (Before: c.GetProperty("before").GetString()!, After: c.GetProperty("after").GetString()!)).ToList();
        Assert.Equal(30, connections.Count);
        var others = connections.Where(c => c.Before != removed).ToList();
        Assert.NotEmpty(others);
        Assert.All(others, c => Assert.Equal(c.Before, c.After));
        Assert.Equal(others.Count, removal.GetProperty("keptOnRemaining").GetInt32());
        var fresh = removal.GetProperty("newConnections");
        Assert.Equal(0, fresh.GetProperty("failed").GetInt32());
        Assert.False(fresh.GetProperty("byBackend").TryGetProperty(removed!, out _), $"a new connection went to {removed}");

        await AssertNothingLeft(root.GetProperty("id").GetString()!, root.GetProperty("programId").GetUInt32(), demo.Pid);
    }

    [Fact]
    public async Task Demo_SigtermDuringTraffic_ExitsWith143AndRemovesEverything()
    {
        using var demo = new DemoProcess("--output", "json", "--requests", "50000", "--bpf-object", BpfObjects.LbXdp);
        var (id, programId) = await StartedTraffic(demo);
        await Task.Delay(500);

        demo.Signal("TERM");
        var exit = await demo.WaitForExit(RunTimeout);

        Assert.True(exit == DemoCommand.ExitSigterm, $"exit {exit}\nstderr:\n{demo.Stderr}");
        Assert.Contains("SIGTERM: stopping", demo.Stderr);
        Assert.DoesNotContain("result:", demo.Stderr);
        Assert.Equal("", demo.Stdout);
        await AssertNothingLeft(id, programId, demo.Pid);
    }

    [Fact]
    public async Task Demo_AfterADemoKilledBySigkill_NextDemoRemovesItsLeftovers()
    {
        string id;
        uint programId;
        int pid;
        using (var killed = new DemoProcess("--output", "json", "--requests", "50000", "--bpf-object", BpfObjects.LbXdp))
        {
            (id, programId) = await StartedTraffic(killed);
            killed.Signal("KILL");
            Assert.Equal(137, await killed.WaitForExit(RunTimeout));
            pid = killed.Pid;
        }
        var left = DemoLease.ResourcesOf(id);
        Assert.Contains($"namespace {DemoLease.NamespacePrefixOf(id)}lb", left);
        Assert.Contains($"pin root {DemoLease.PinRootOf(id)}", left);
        Assert.Contains($"record {DemoLease.RecordPathOf(id)}", left);
        Assert.True(ProgramLoaded(programId), "the killed demo's program should still be loaded (pinned and attached)");

        using var next = new DemoProcess("--output", "json", "--requests", "60", "--datagrams", "60", "--connections", "6", "--bpf-object", BpfObjects.LbXdp);
        var exit = await next.WaitForExit(RunTimeout);

        Assert.True(exit == 0, $"exit {exit}\nstderr:\n{next.Stderr}");
        Assert.Contains($"removed what a dead demo {id} left behind", next.Stderr);
        await AssertNothingLeft(id, programId, pid);
        using var json = JsonDocument.Parse(next.Stdout);
        await AssertNothingLeft(json.RootElement.GetProperty("id").GetString()!, json.RootElement.GetProperty("programId").GetUInt32(), next.Pid);
    }

    /// <summary>Waits for the traffic step and reads the demo's id and program id from what it printed before.</summary>
    private static async Task<(string Id, uint ProgramId)> StartedTraffic(DemoProcess demo)
    {
        await demo.WaitForNarration("step 3: traffic", RunTimeout);
        var id = DemoIdLine().Match(demo.Stderr);
        var program = ProgramIdLine().Match(demo.Stderr);
        Assert.True(id.Success && program.Success, demo.Stderr);
        Assert.NotEmpty(DemoLease.ResourcesOf(id.Groups[1].Value));
        return (id.Groups[1].Value, uint.Parse(program.Groups[1].Value));
    }

    private static async Task AssertNothingLeft(string id, uint programId, int pid)
    {
        Assert.Empty(DemoLease.ResourcesOf(id));
        Assert.False(Directory.Exists($"/proc/{pid}") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("lb.dll"), $"process {pid} is still running");
        // The kernel frees a program once its last reference (fd, pin, attachment) is gone, after an RCU grace period.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (ProgramLoaded(programId) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.False(ProgramLoaded(programId), $"BPF program {programId} is still loaded");
    }

    private static bool ProgramLoaded(uint programId) => Shell.TryRun("bpftool", "prog", "show", "id", programId.ToString()).ExitCode == 0;

    [GeneratedRegex(@"demo ([0-9a-f]{6}): namespaces")]
    private static partial Regex DemoIdLine();

    [GeneratedRegex(@"\(program id (\d+)\)")]
    private static partial Regex ProgramIdLine();
}
