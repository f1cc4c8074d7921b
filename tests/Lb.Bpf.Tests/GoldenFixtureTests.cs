using System.Net.Sockets;
using Lb.Agent.Programming;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Native;
using Lb.Testing;
using Lb.Testing.Fixtures;
using Lb.Testing.Kernel;

namespace Lb.Bpf.Tests;

/// <summary>
/// Runs every golden fixture through the real lb_xdp with BPF_PROG_TEST_RUN: a fresh datapath per
/// fixture (loaded by LbDatapath under its own pin root), its services written by the real Programmer,
/// each step's frame run inside <see cref="FixtureNamespace"/>. Each step must give the fixture's
/// verdict, exactly its output bytes (whose checksums must also verify from scratch), one count under
/// its reason and no other, and exactly the documented lb_svc_stats movement.
/// </summary>
public sealed class GoldenFixtureTests : IClassFixture<FixtureNamespace>
{
    private readonly FixtureNamespace _network;

    public GoldenFixtureTests(FixtureNamespace network) => _network = network;

    [Theory]
    [MemberData(nameof(GoldenFixtures.NameRows), MemberType = typeof(GoldenFixtures))]
    public void TestRun_GoldenFixture_GivesTheVerdictOutputBytesAndCounters(string name)
    {
        var fixture = GoldenFixtures.Named(name);
        using var datapath = new TestDatapath(fixture.Options.Maglev.TableSize);
        var programmer = new Programmer(datapath.Maps, new ProgrammerOptions { FlowTimeout = fixture.FlowTimeout });
        var state = DesiredState.Build(fixture.Options, fixture.Services);
        programmer.Apply(state);

        for (var i = 0; i < fixture.Steps.Count; i++)
        {
            var step = fixture.Steps[i];
            var where = $"{fixture.Name} step {i + 1} ({step.Description})";
            if (step.ProgramBefore is { } services)
            {
                state = DesiredState.Build(fixture.Options, services, state);
                programmer.Apply(state);
            }
            if (step.WaitBefore > TimeSpan.Zero)
                Thread.Sleep(step.WaitBefore);

            var input = step.Input.Bytes();
            var expected = step.Output.Bytes();
            var reasonsBefore = ReasonCounts(datapath.Maps);
            var statsBefore = ServiceStats(datapath.Maps, state);
            var buffer = new byte[input.Length + 128];
            var context = new XdpMd { IngressIfindex = _network.Ifindex[step.Ingress] };

            var run = _network.Namespace.Run(() => datapath.Datapath.Program.TestRun(input, buffer, context));

            var output = buffer[..run.OutputLength];
            var reasonsAfter = ReasonCounts(datapath.Maps);
            var moved = reasonsAfter.Where(r => r.Value != reasonsBefore[r.Key]).Select(r => $"{r.Key} +{r.Value - reasonsBefore[r.Key]}").ToList();
            Assert.True(moved.SequenceEqual([$"{step.Reason} +1"]), $"{where}: lb_reasons moved [{string.Join(", ", moved)}], expected [{step.Reason} +1]");
            Assert.True(step.Action == run.Action, $"{where}: action {run.Action}, expected {step.Action}");
            Assert.True(expected.AsSpan().SequenceEqual(output), $"{where}: output differs\n{Describe("expected", step.Output, expected)}\n{Describe("actual", null, output)}");
            AssertChecksumsValid(where, output);
            AssertServiceStats(where, step, input.Length, statsBefore, ServiceStats(datapath.Maps, state), state);
        }
    }

    /// <summary>Checked on the engine's output by PacketView, from scratch: the IPv4 header and L4 checksums, and an IPIP packet's inner ones.</summary>
    private static void AssertChecksumsValid(string where, byte[] output)
    {
        var view = new PacketView(output);
        Assert.True(view.ChecksumsValid(out var why), $"{where}: {why}");
        if (view.Protocol is 4 or 41)
            Assert.True(view.Inner().ChecksumsValid(out var innerWhy), $"{where}: inner packet: {innerWhy}");
    }

    private static void AssertServiceStats(string where, FixtureStep step, int frameLength,
        IReadOnlyDictionary<string, LbServiceStats> before, IReadOnlyDictionary<string, LbServiceStats> after, DesiredState state)
    {
        foreach (var (service, now) in after)
        {
            var was = before.TryGetValue(service, out var b) ? b : default;
            var delta = (now.Packets - was.Packets, now.Bytes - was.Bytes, now.NewFlows - was.NewFlows);
            var expected = service == step.CountedService
                ? (1UL, (ulong)frameLength, step.NewFlow ? 1UL : 0UL)
                : (0UL, 0UL, 0UL);
            Assert.True(delta == expected, $"{where}: lb_svc_stats of {service} moved (packets, bytes, new flows) {delta}, expected {expected}");
        }
        if (step.CountedService is not null)
            Assert.True(after.ContainsKey(step.CountedService), $"{where}: service {step.CountedService} is not in the programmed state");
    }

    private static Dictionary<LbReason, ulong> ReasonCounts(LbMaps maps)
    {
        var counts = new Dictionary<LbReason, ulong>();
        for (uint r = 0; r < LbLimits.ReasonMax; r++)
            counts[(LbReason)r] = maps.Reasons.LookupPerCpu(r)!.Aggregate(0UL, (sum, c) => sum + c);
        return counts;
    }

    /// <summary>lb_svc_stats of every service of the snapshot, summed over the CPUs, by service name.</summary>
    private static Dictionary<string, LbServiceStats> ServiceStats(LbMaps maps, DesiredState state)
    {
        var stats = new Dictionary<string, LbServiceStats>();
        foreach (var service in state.ServicesById.Values)
        {
            var total = new LbServiceStats();
            foreach (var cpu in maps.SvcStats.LookupPerCpu(service.Id)!)
            {
                total.Packets += cpu.Packets;
                total.Bytes += cpu.Bytes;
                total.NewFlows += cpu.NewFlows;
            }
            stats[service.Name] = total;
        }
        return stats;
    }

    private static string Describe(string label, FrameSpec? spec, byte[] frame)
    {
        string parsed;
        try
        {
            parsed = new PacketView(frame).ToString();
        }
        catch (InvalidDataException e)
        {
            parsed = e.Message;
        }
        return $"{label}: {(spec is null ? "" : spec + "\n  ")}{parsed}\n  {Convert.ToHexString(frame)}";
    }
}
