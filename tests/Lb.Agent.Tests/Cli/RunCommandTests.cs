using System.Text.Json;
using Lb.Agent.Demo;
using Lb.Agent.Programming;
using Lb.Native;

namespace Lb.Agent.Tests.Cli;

/// <summary>
/// `lb run` end to end, as a child process in the balancer namespace of a real topology, with traffic
/// from the client namespace through the XDP program to backend namespaces.
/// </summary>
public sealed class RunCommandTests
{
    [Fact]
    public async Task Run_ValidChange_AppliedWithoutDisturbingOtherServicesConnections()
    {
        await using var scenario = AgentScenario.Create();
        scenario.Files.WriteConfig(scenario.Config(apiBackends: [0]));
        await using var agent = AgentProcess.StartRun(scenario.Topology.BalancerNs, scenario.Files);
        try
        {
            await agent.WaitForEvent(3007);
            var web = await scenario.Connect(AgentScenario.Web, 6);
            Assert.Equal(2, web.Select(c => c.Backend).Distinct().Count());
            // IPv6 through the same service, with the SNAT address taken from l0's IPv6 address.
            web.AddRange(await scenario.Connect(AgentScenario.WebV6, 2));
            Assert.Contains(agent.Lines, l => l.Contains("[3002]") && l.Contains($"{Topology.BalancerV6} (from interface l0)"));
            var (apiSocket, apiBackend) = await LbClient.ConnectAndAsk(scenario.Topology.ClientNs, AgentScenario.Api, TimeSpan.FromSeconds(10));
            apiSocket.Dispose();
            Assert.Equal("backend-0:81", apiBackend);

            // api moves to backend 1 only; web is untouched.
            scenario.Files.WriteConfig(scenario.Config(apiBackends: [1]));
            await agent.WaitForEvent(3004, occurrence: 2);

            var (moved, movedBackend) = await LbClient.ConnectAndAsk(scenario.Topology.ClientNs, AgentScenario.Api, TimeSpan.FromSeconds(10));
            moved.Dispose();
            Assert.Equal("backend-1:81", movedBackend);
            await AgentScenario.AssertStillServed(web, "by a change to another service");

            // A comment changes the text, not the services: read, found equal, nothing written.
            scenario.Files.WriteConfig("# reviewed\n" + scenario.Config(apiBackends: [1]));
            await agent.WaitForEvent(3012);
            Assert.Equal(2, agent.Count(3004));

            var (code, stdout, stderr) = await AgentProcess.RunToEnd("service", "list", "--pin-root", scenario.Files.PinRoot, "--status-file", scenario.Files.StatusFile, "--output", "json");
            Assert.True(code == 0, stderr);
            using var rows = JsonDocument.Parse(stdout);
            var api = rows.RootElement.EnumerateArray().Single(r => r.GetProperty("service").GetString() == "api");
            Assert.Equal($"{Topology.VipV4}:81/tcp", api.GetProperty("frontend").GetString());
            Assert.Equal("Static", api.GetProperty("type").GetString());
            Assert.Equal("nat", api.GetProperty("forwarding").GetString());
            var backend = Assert.Single(api.GetProperty("backends").EnumerateArray());
            Assert.Equal($"{scenario.Topology.Backends[1].AddressV4}:81", backend.GetProperty("address").GetString() + ":" + backend.GetProperty("port").GetInt32());
            Assert.Equal("active", backend.GetProperty("state").GetString());
            foreach (var (socket, _) in web)
                socket.Dispose();
        }
        finally
        {
            await agent.StopAsync();
        }
    }

    [Fact]
    public async Task Run_InvalidChange_RefusedWithFileAndLineAndTablesUnchanged()
    {
        await using var scenario = AgentScenario.Create();
        scenario.Files.WriteConfig(scenario.Config());
        await using var agent = AgentProcess.StartRun(scenario.Topology.BalancerNs, scenario.Files);
        try
        {
            await agent.WaitForEvent(3007);
            var web = await scenario.Connect(AgentScenario.Web, 4);
            var before = await AgentProcess.RunToEnd("service", "list", "--pin-root", scenario.Files.PinRoot, "--output", "json");

            // Line 19 of the generated file is api's first backend; give it a port out of range.
            var lines = scenario.Config().Split('\n');
            var line = Array.FindIndex(lines, l => l.Contains($"port: {AgentScenario.ApiPort} }}")) + 1;
            lines[line - 1] = lines[line - 1].Replace($"port: {AgentScenario.ApiPort} }}", "port: 70000 }");
            scenario.Files.WriteConfig(string.Join('\n', lines));

            var refused = await agent.WaitForEvent(3001);
            Assert.Contains($"{scenario.Files.ConfigPath}:{line}:", refused);
            Assert.Contains("70000", refused);
            await agent.WaitForEvent(3011);

            var after = await AgentProcess.RunToEnd("service", "list", "--pin-root", scenario.Files.PinRoot, "--output", "json");
            Assert.Equal(0, after.ExitCode);
            Assert.Equal(before.Stdout, after.Stdout);
            await AgentScenario.AssertStillServed(web, "after an invalid file");
            var (status, _, body) = await AdminClient.Get(scenario.Topology.BalancerNs, "/status");
            Assert.Equal(200, status);
            using var json = JsonDocument.Parse(body);
            var agentStatus = json.RootElement.GetProperty("agent").GetProperty("status");
            Assert.Equal("refused", agentStatus.GetProperty("lastResult").GetString());
            Assert.Contains($":{line}:", agentStatus.GetProperty("lastErrors")[0].GetString());
            Assert.True(json.RootElement.GetProperty("agent").GetProperty("running").GetBoolean());
            var interfaces = json.RootElement.GetProperty("interfaces").EnumerateArray().ToList();
            Assert.Equal(scenario.Topology.BalancerInterfaces, interfaces.Select(i => i.GetProperty("name").GetString()));
            Assert.All(interfaces, i =>
            {
                Assert.True(i.GetProperty("lbProgram").GetBoolean());
                Assert.Contains(i.GetProperty("xdpMode").GetString(), new[] { "native", "generic" });
            });
            foreach (var (socket, _) in web)
                socket.Dispose();
        }
        finally
        {
            await agent.StopAsync();
        }
    }

    [Fact]
    public async Task Metrics_WithTraffic_ParsesAsPrometheusTextAndCountersMove()
    {
        await using var scenario = AgentScenario.Create();
        scenario.Files.WriteConfig(scenario.Config());
        await using var agent = AgentProcess.StartRun(scenario.Topology.BalancerNs, scenario.Files);
        try
        {
            await agent.WaitForEvent(3007);
            var ns = scenario.Topology.BalancerNs;
            var first = await AdminClient.Get(ns, "/metrics");
            Assert.Equal(200, first.Status);
            Assert.StartsWith("text/plain; version=0.0.4", first.ContentType);
            var before = PrometheusTextParser.Parse(first.Body);

            var connections = await scenario.Connect(AgentScenario.Web, 5);
            foreach (var (socket, _) in connections)
                socket.Dispose();

            var after = PrometheusTextParser.Parse((await AdminClient.Get(ns, "/metrics")).Body);
            double Web(IReadOnlyDictionary<string, PrometheusFamily> f, string family) =>
                f[family].Samples.Single(s => s.Label("service") == "web").Value;
            Assert.Equal(5, Web(after, "lb_service_new_flows_total") - Web(before, "lb_service_new_flows_total"));
            Assert.True(Web(after, "lb_service_packets_total") - Web(before, "lb_service_packets_total") >= 5 * 4, "packets did not move");
            Assert.True(Web(after, "lb_service_bytes_total") > Web(before, "lb_service_bytes_total"));
            Assert.Equal($"{Topology.VipV4}:80/tcp [{Topology.VipV6}]:80/tcp", after["lb_service_packets_total"].Samples.Single(s => s.Label("service") == "web").Label("frontends"));
            double Reason(IReadOnlyDictionary<string, PrometheusFamily> f, string reason) =>
                f["lb_datapath_reason_total"].Samples.Single(s => s.Label("reason") == reason).Value;
            Assert.True(Reason(after, "fwd_redirect") + Reason(after, "fwd_tx") > Reason(before, "fwd_redirect") + Reason(before, "fwd_tx"));
            Assert.True(Assert.Single(after["lb_flow_table_entries"].Samples).Value >= 5);
            Assert.Equal(4096, Assert.Single(after["lb_flow_table_capacity"].Samples).Value);
            Assert.True(after["lb_programming_duration_seconds"].Samples.Single(s => s.Name.EndsWith("_count")).Value >= 1);

            var health = await AdminClient.Get(ns, "/healthz");
            Assert.Equal(200, health.Status);

            // Someone takes the program off an interface: no longer healthy, and /healthz says where.
            Topology.Ip(ns, "link", "set", "dev", "b1", "xdp", "off");
            var unhealthy = await AdminClient.Get(ns, "/healthz");
            Assert.Equal(503, unhealthy.Status);
            Assert.Contains("b1", unhealthy.Body);

            // A second agent on the same datapath would undo the first one's writes: refused before it loads anything.
            await using var second = AgentProcess.StartRun(ns, scenario.Files);
            Assert.Equal(1, await second.WaitForExitAsync());
            Assert.Contains(second.Lines, l => l.Contains("[3008]") && l.Contains($"pid {agent.Pid}"));
        }
        finally
        {
            await agent.StopAsync();
        }
    }

    [Fact]
    public async Task Run_StopStartAndProgramReplacement_LongLivedConnectionsKeepWorking()
    {
        await using var scenario = AgentScenario.Create();
        scenario.Files.WriteConfig(scenario.Config());
        var ns = scenario.Topology.BalancerNs;
        var first = AgentProcess.StartRun(ns, scenario.Files);
        List<(System.Net.Sockets.Socket Socket, string Backend)> web = [];
        try
        {
            await first.WaitForEvent(3007);
            web = await scenario.Connect(AgentScenario.Web, 8);
            var programBefore = ProgramOn(ns, "l0");

            await first.StopCleanly();
            Assert.Contains(first.Lines, l => l.Contains("[3021]"));
            // Stopped: the datapath keeps forwarding on its own.
            Assert.Equal(programBefore, ProgramOn(ns, "l0"));
            await AgentScenario.AssertStillServed(web, "while no agent ran");

            // Restarted: adopts the maps, loads the object again and replaces the attached program atomically.
            await using var second = AgentProcess.StartRun(ns, scenario.Files);
            try
            {
                await second.WaitForEvent(3007);
                Assert.Contains(second.Lines, l => l.Contains("[3003]"));
                // Only the difference: everything is in place, so the writes are the three Maglev tables (web v4
                // and v6, api) swapped for equal ones, since what a table was built from is not in the kernel.
                var programmed = second.Lines.Single(l => l.Contains("[3004]"));
                var writes = int.Parse(System.Text.RegularExpressions.Regex.Match(programmed, @"(\d+) map writes").Groups[1].Value);
                Assert.True(writes <= 3, programmed);
                Assert.Contains(second.Lines, l => l.Contains("[1202]"));
                var programAfter = ProgramOn(ns, "l0");
                Assert.NotEqual(programBefore, programAfter);
                await AgentScenario.AssertStillServed(web, "across a restart and a program replacement");
                var fresh = await scenario.Connect(AgentScenario.Web, 2);
                await AgentScenario.AssertStillServed(fresh, "right after they were opened");
                foreach (var (socket, _) in fresh)
                    socket.Dispose();
            }
            finally
            {
                await second.StopCleanly();
            }
            await AgentScenario.AssertStillServed(web, "after the second stop");
        }
        finally
        {
            foreach (var (socket, _) in web)
                socket.Dispose();
            await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task Down_AfterRun_InterfacesAsBeforeAndPinsAndNeighbourEntriesRemoved()
    {
        await using var scenario = AgentScenario.Create();
        scenario.Files.WriteConfig(scenario.Config());
        var ns = scenario.Topology.BalancerNs;
        var linksBefore = Links(ns);
        await using (var agent = AgentProcess.StartRun(ns, scenario.Files))
        {
            await agent.WaitForEvent(3007);
            Assert.All(scenario.Topology.BalancerInterfaces, i => Assert.NotEqual(0u, ProgramOn(ns, i)));
            await agent.StopCleanly();
        }
        // lb run asked for a managed entry per backend next hop, and they outlive it, as the program does.
        var backendHops = scenario.Topology.Backends.SelectMany(b => new[] { $"{b.AddressV4} dev {b.BalancerInterface}", $"{b.AddressV6} dev {b.BalancerInterface}" }).Order().ToList();
        Assert.Equal(backendHops, ManagedNeighbours(ns));

        var status = await AgentProcess.RunToEnd("status", "--pin-root", scenario.Files.PinRoot, "--status-file", scenario.Files.StatusFile, "--output", "json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        using (var json = JsonDocument.Parse(status.Stdout))
            Assert.False(json.RootElement.GetProperty("agent").GetProperty("running").GetBoolean());

        // lb down runs where the interfaces are, and finds them in the status file.
        var down = Shell.TryRun("nsenter", $"--net=/run/netns/{ns}", "dotnet", AgentProcess.LbDll, "down",
            "--pin-root", scenario.Files.PinRoot, "--status-file", scenario.Files.StatusFile);
        Assert.True(down.ExitCode == 0, down.Stderr + down.Stdout);

        Assert.All(scenario.Topology.BalancerInterfaces, i => Assert.Equal(0u, ProgramOn(ns, i)));
        Assert.Equal(linksBefore, Links(ns));
        Assert.False(Directory.Exists(scenario.Files.PinRoot));
        Assert.False(File.Exists(scenario.Files.StatusFile));
        Assert.Empty(ManagedNeighbours(ns));
        Assert.False(File.Exists(IpNeighbourKeeper.RecordPathFor(scenario.Files.StatusFile)));
        var list = await AgentProcess.RunToEnd("service", "list", "--pin-root", scenario.Files.PinRoot);
        Assert.Equal(3, list.ExitCode);
    }

    /// <summary>The managed neighbour entries of a namespace, as sorted "ADDRESS dev DEVICE".</summary>
    private static List<string> ManagedNeighbours(string ns)
    {
        using var json = JsonDocument.Parse(Topology.Ip(ns, "-j", "neigh", "show"));
        return json.RootElement.EnumerateArray().Where(n => n.TryGetProperty("managed", out _))
            .Select(n => $"{n.GetProperty("dst").GetString()} dev {n.GetProperty("dev").GetString()}").Order().ToList();
    }

    /// <summary>The XDP program id on an interface of a namespace (0: none).</summary>
    private static uint ProgramOn(string ns, string @interface) =>
        InNamespace.Run(ns, () => XdpAttachment.Query(Interfaces.IndexOf(@interface)).ProgramId);

    /// <summary>`ip -j link show` without the counters that traffic moves, as comparable text.</summary>
    private static string Links(string ns)
    {
        using var json = JsonDocument.Parse(Topology.Ip(ns, "-j", "link", "show"));
        return string.Join('\n', json.RootElement.EnumerateArray().Select(link =>
            string.Join(' ', link.EnumerateObject().Where(p => p.Name is not "stats" and not "stats64").Select(p => $"{p.Name}={p.Value}"))));
    }
}
