using Lb.Datapath.Abi;
using Lb.Native;
using Lb.Testing.Kernel;

namespace Lb.Bpf.Tests;

/// <summary>
/// The real build/bpf/lb_xdp.bpf.o, loaded with its maps pinned under a pin root of its own, so
/// tests run side by side and never touch a running Lb's /sys/fs/bpf/lb. Disposing removes the pins.
/// </summary>
public sealed class LoadedLbXdp : IDisposable
{
    private readonly BpfObject _object;

    public LoadedLbXdp()
    {
        BpfFileSystem.EnsureMounted();
        PinRoot = $"/sys/fs/bpf/lb-test-{Guid.NewGuid():N}";
        Directory.CreateDirectory(PinRoot);
        try
        {
            _object = BpfObject.Open(BpfObjects.LbXdp, new BpfObjectOpenOptions { PinRootPath = PinRoot });
            _object.Load();
            Program = _object.GetProgram("lb_xdp");
            Services = _object.GetMap(LbMapNames.Services).As<LbServiceKey, LbService>();
            Reasons = _object.GetMap(LbMapNames.Reasons).As<uint, ulong>();
        }
        catch
        {
            Directory.Delete(PinRoot, recursive: true);
            throw;
        }
    }

    public string PinRoot { get; }
    public BpfProgram Program { get; }
    public BpfMap<LbServiceKey, LbService> Services { get; }
    public BpfMap<uint, ulong> Reasons { get; }

    /// <summary>The count of one reason summed over every CPU.</summary>
    public ulong ReasonCount(LbReason reason) => Reasons.LookupPerCpu((uint)reason)!.Aggregate(0UL, (a, b) => a + b);

    /// <summary>All reasons' counts, for asserting that a frame was counted exactly once.</summary>
    public ulong[] AllReasonCounts() =>
        Enumerable.Range(0, (int)LbLimits.ReasonMax).Select(r => ReasonCount((LbReason)r)).ToArray();

    public void Dispose()
    {
        Program.Dispose();
        Services.Dispose();
        Reasons.Dispose();
        _object.Dispose();
        Directory.Delete(PinRoot, recursive: true);
    }
}
