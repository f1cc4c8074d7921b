using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Datapath.Engine;
using Lb.Datapath.Tables;
using Lb.Testing;
using Lb.Testing.Fixtures;

namespace Lb.Datapath.Tests.Engine;

/// <summary>
/// Runs every golden fixture (the ones tests/Lb.Bpf.Tests runs through BPF_PROG_TEST_RUN) through the
/// managed engine: tables holding what the programmer writes for each snapshot, the fixture network as the
/// next hop, a clock the steps' waits move. Each step must give the fixture's verdict, exactly its output
/// bytes (whose checksums must verify from scratch), one count under its reason and no other, and the
/// documented lb_svc_stats movement: the same expectations the XDP program meets.
/// </summary>
public sealed class GoldenFixtureEngineTests
{
    [Theory]
    [MemberData(nameof(GoldenFixtures.NameRows), MemberType = typeof(GoldenFixtures))]
    public void Process_GoldenFixture_GivesTheVerdictOutputBytesAndCounters(string name)
    {
        var fixture = GoldenFixtures.Named(name);
        var tables = FixtureTables.Create(fixture, out var state);
        var clock = new ManualClock();
        var network = new FixtureNextHop();
        var engine = new PacketEngine(tables, network, clock, new SeededRandom(1));

        for (var i = 0; i < fixture.Steps.Count; i++)
        {
            var step = fixture.Steps[i];
            var where = $"{fixture.Name} step {i + 1} ({step.Description})";
            if (step.ProgramBefore is { } services)
            {
                state = DesiredState.Build(fixture.Options, services, state);
                tables.Apply(state, FixtureTables.Config(state, fixture.FlowTimeout));
            }
            clock.Advance(step.WaitBefore);

            var input = step.Input.Bytes();
            var expected = step.Output.Bytes();
            var statsBefore = ServiceStats(tables, state);

            var (verdict, output, moved) = EngineRun.Run(engine, tables, input, network.IfindexOf(step.Ingress));

            Assert.True(moved.SequenceEqual([$"{step.Reason} +1"]), $"{where}: lb_reasons moved [{string.Join(", ", moved)}], expected [{step.Reason} +1]");
            Assert.True((int)step.Action == (int)verdict.Action, $"{where}: action {verdict.Action}, expected {step.Action}");
            Assert.True(expected.AsSpan().SequenceEqual(output), $"{where}: output differs\n{Describe("expected", step.Output, expected)}\n{Describe("actual", null, output)}");
            AssertEgress(where, verdict, step, network);
            AssertChecksumsValid(where, output);
            AssertServiceStats(where, step, input.Length, statsBefore, ServiceStats(tables, state));
        }
    }

    /// <summary>TX leaves by the ingress interface; a redirect names the other one; nothing else names an egress.</summary>
    private static void AssertEgress(string where, PacketVerdict verdict, FixtureStep step, FixtureNextHop network)
    {
        var ingress = network.IfindexOf(step.Ingress);
        var expected = step.Reason switch
        {
            LbReason.FwdTx => ingress,
            LbReason.FwdRedirect => ingress == network.ClientSideIfindex ? network.BackendSideIfindex : network.ClientSideIfindex,
            _ => 0u,
        };
        Assert.True(expected == verdict.EgressIfindex, $"{where}: egress ifindex {verdict.EgressIfindex}, expected {expected}");
    }

    private static void AssertChecksumsValid(string where, byte[] output)
    {
        var view = new PacketView(output);
        Assert.True(view.ChecksumsValid(out var why), $"{where}: {why}");
        if (view.Protocol is 4 or 41)
            Assert.True(view.Inner().ChecksumsValid(out var innerWhy), $"{where}: inner packet: {innerWhy}");
    }

    private static void AssertServiceStats(string where, FixtureStep step, int frameLength,
        IReadOnlyDictionary<string, LbServiceStats> before, IReadOnlyDictionary<string, LbServiceStats> after)
    {
        foreach (var (service, now) in after)
        {
            var was = before.TryGetValue(service, out var b) ? b : default;
            var delta = (now.Packets - was.Packets, now.Bytes - was.Bytes, now.NewFlows - was.NewFlows);
            var expected = service == step.CountedService ? (1UL, (ulong)frameLength, step.NewFlow ? 1UL : 0UL) : (0UL, 0UL, 0UL);
            Assert.True(delta == expected, $"{where}: lb_svc_stats of {service} moved (packets, bytes, new flows) {delta}, expected {expected}");
        }
        if (step.CountedService is not null)
            Assert.True(after.ContainsKey(step.CountedService), $"{where}: service {step.CountedService} is not in the programmed state");
    }

    private static Dictionary<string, LbServiceStats> ServiceStats(InMemoryTables tables, DesiredState state) =>
        state.ServicesById.Values.ToDictionary(s => s.Name, s => tables.ServiceStats(s.Id));

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
