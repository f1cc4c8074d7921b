using Lb.Datapath.Abi;
using Lb.Native;
using Lb.Testing;

namespace Lb.Bpf.Tests;

/// <summary>
/// Malformed frames (<see cref="MalformedFrames"/>) sent to a configured service without backends. The
/// program must never forward one and must count each exactly once under the reason docs/xdp-datapath.md
/// gives; a well-formed control frame reaches the no-backend path, which proves the others are stopped by
/// parsing and not by a missing service.
/// </summary>
public sealed class MalformedFrameTests : IClassFixture<MalformedFrameTests.ServiceWithoutBackends>
{
    private readonly LoadedLbXdp _lb;

    public MalformedFrameTests(ServiceWithoutBackends fixture) => _lb = fixture.Lb;

    /// <summary>One loaded program for the whole class (loading costs the verifier's time); every check is a counter delta.</summary>
    public sealed class ServiceWithoutBackends : IDisposable
    {
        public ServiceWithoutBackends()
        {
            foreach (var (key, service) in MalformedFrames.ServiceWithoutBackends())
                Lb.Services.Update(key, service);
        }

        public LoadedLbXdp Lb { get; } = new();

        public void Dispose() => Lb.Dispose();
    }

    public static TheoryData<string> WellFormed => new(MalformedFrames.WellFormedNames);

    [Theory]
    [MemberData(nameof(WellFormed))]
    public void Run_WellFormedFrameToServiceWithoutBackends_ReachesTheNoBackendPath(string which)
    {
        var frame = MalformedFrames.WellFormed(which);

        var verdict = RunCounted(frame, LbReason.PassNoBackend);

        Assert.Equal(XdpAction.Pass, verdict);
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
    public void Run_MalformedFrame_IsDroppedNeverForwardedAndCountedOnce(string variant, LbReason reason)
    {
        var frame = MalformedFrames.Build(variant);

        var verdict = RunCounted(frame, reason);

        Assert.Equal(XdpAction.Drop, verdict);
    }

    /// <summary>Runs one frame and asserts it was counted exactly once, under <paramref name="expected"/>.</summary>
    private XdpAction RunCounted(byte[] frame, LbReason expected)
    {
        var before = _lb.AllReasonCounts();
        var output = new byte[frame.Length + 256];

        var result = _lb.Program.TestRun(frame, output);

        var after = _lb.AllReasonCounts();
        var changed = Enumerable.Range(0, before.Length).Where(r => after[r] != before[r]).Select(r => $"{(LbReason)r} +{after[r] - before[r]}").ToList();
        Assert.Equal([$"{expected} +1"], changed);
        var verdict = (XdpAction)result.ReturnValue;
        Assert.NotEqual(XdpAction.Tx, verdict);
        Assert.NotEqual(XdpAction.Redirect, verdict);
        return verdict;
    }
}
