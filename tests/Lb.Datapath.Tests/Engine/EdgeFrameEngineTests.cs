using Lb.Datapath.Abi;
using Lb.Datapath.Engine;
using Lb.Datapath.Tables;
using Lb.Testing;
using Lb.Testing.Fixtures;

namespace Lb.Datapath.Tests.Engine;

/// <summary>
/// The malformed-frame and pass-path cases of tests/Lb.Bpf.Tests (the same frames, from Lb.Testing) through
/// the managed engine, against the same table state: a service without backends. Each frame must be counted
/// once under the same reason, never forwarded, and a passed frame must come back untouched.
/// </summary>
public sealed class EdgeFrameEngineTests
{
    private readonly InMemoryTables _tables = new();
    private readonly PacketEngine _engine;

    public EdgeFrameEngineTests()
    {
        foreach (var (key, service) in MalformedFrames.ServiceWithoutBackends())
            _tables.SetService(key, service);
        // The program's lb_config exists from load (an array entry, zero until the agent writes it).
        _tables.SetConfig(default);
        _engine = new PacketEngine(_tables, new FixtureNextHop(), new ManualClock(), new SeededRandom(1));
    }

    public static TheoryData<string> WellFormed => new(MalformedFrames.WellFormedNames);

    [Theory]
    [MemberData(nameof(WellFormed))]
    public void Process_WellFormedFrameToServiceWithoutBackends_ReachesTheNoBackendPath(string which)
    {
        var frame = MalformedFrames.WellFormed(which);

        var (verdict, output, moved) = EngineRun.Run(_engine, _tables, frame, 2);

        Assert.Equal([$"{LbReason.PassNoBackend} +1"], moved);
        Assert.Equal(LbAction.Pass, verdict.Action);
        Assert.Equal(Convert.ToHexString(frame), Convert.ToHexString(output));
    }

    public static TheoryData<string, LbReason> Malformed()
    {
        var data = new TheoryData<string, LbReason>();
        foreach (var (variant, reason) in MalformedFrames.Cases())
            data.Add(variant, reason);
        return data;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Process_MalformedFrame_IsDroppedNeverForwardedAndCountedOnce(string variant, LbReason reason)
    {
        var frame = MalformedFrames.Build(variant);

        var (verdict, _, moved) = EngineRun.Run(_engine, _tables, frame, 2);

        Assert.Equal([$"{reason} +1"], moved);
        Assert.Equal(LbAction.Drop, verdict.Action);
        Assert.Equal(0u, verdict.EgressIfindex);
    }

    /// <summary>Frames shorter than the kernel lets BPF_PROG_TEST_RUN take (14 bytes) reach the engine from AF_XDP; they are malformed Ethernet.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(13)]
    public void Process_FrameShorterThanEthernet_IsMalformedEthernet(int length)
    {
        var frame = MalformedFrames.Tcp4()[..length];

        var (verdict, _, moved) = EngineRun.Run(_engine, _tables, frame, 2);

        Assert.Equal([$"{LbReason.DropMalformedEthernet} +1"], moved);
        Assert.Equal(LbAction.Drop, verdict.Action);
    }

    public static TheoryData<string, LbReason> PassPath()
    {
        var data = new TheoryData<string, LbReason>();
        foreach (var (variant, reason) in PassPathFrames.Cases)
            data.Add(variant, reason);
        return data;
    }

    [Theory]
    [MemberData(nameof(PassPath))]
    public void Process_FrameTheFastPathDoesNotHandle_PassesUntouchedAndCountedOnce(string variant, LbReason reason)
    {
        var frame = PassPathFrames.Build(variant);

        var (verdict, output, moved) = EngineRun.Run(_engine, _tables, frame, 2);

        Assert.Equal([$"{reason} +1"], moved);
        Assert.Equal(LbAction.Pass, verdict.Action);
        Assert.Equal(Convert.ToHexString(frame), Convert.ToHexString(output));
    }
}
