using Lb.Datapath.Abi;
using Lb.Native;
using Lb.Testing;

namespace Lb.Bpf.Tests;

/// <summary>
/// Frames the fast path does not handle (<see cref="PassPathFrames"/>): traffic for no service, non-IP,
/// fragments, IPv4 options, IPv6 extension headers, ICMP, a service without backends. Each goes to the
/// kernel untouched (output bytes equal input bytes) and is counted exactly once under its reason.
/// </summary>
public sealed class PassPathTests : IClassFixture<MalformedFrameTests.ServiceWithoutBackends>
{
    private readonly LoadedLbXdp _lb;

    public PassPathTests(MalformedFrameTests.ServiceWithoutBackends fixture) => _lb = fixture.Lb;

    public static TheoryData<string, LbReason> Cases()
    {
        var data = new TheoryData<string, LbReason>();
        foreach (var (variant, reason) in PassPathFrames.Cases)
            data.Add(variant, reason);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Run_FrameTheFastPathDoesNotHandle_PassesUntouchedAndCountedOnce(string variant, LbReason reason)
    {
        var frame = PassPathFrames.Build(variant);
        var before = _lb.AllReasonCounts();
        var output = new byte[frame.Length + 256];

        var result = _lb.Program.TestRun(frame, output);

        var after = _lb.AllReasonCounts();
        var changed = Enumerable.Range(0, before.Length).Where(r => after[r] != before[r]).Select(r => $"{(LbReason)r} +{after[r] - before[r]}");
        Assert.Equal([$"{reason} +1"], changed);
        Assert.Equal(XdpAction.Pass, (XdpAction)result.ReturnValue);
        Assert.Equal(Convert.ToHexString(frame), Convert.ToHexString(output, 0, result.OutputLength));
    }
}
