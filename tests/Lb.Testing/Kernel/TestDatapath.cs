using Lb.Native;

namespace Lb.Testing.Kernel;

/// <summary>
/// The real lb_xdp object loaded by <see cref="LbDatapath"/> with its own pin root,
/// /sys/fs/bpf/lb-test-&lt;guid&gt;, which Dispose removes with everything in it.
/// </summary>
public sealed class TestDatapath : IDisposable
{
    /// <summary>Small flow tables: their entries are preallocated, and these tests never fill them.</summary>
    public const uint TestFlowCapacity = 4096;

    private readonly List<LbDatapath> _loads = [];

    public TestDatapath(uint maglevTableSize = 16381)
    {
        BpfFileSystem.EnsureMounted();
        PinRoot = Path.Combine(BpfFileSystem.DefaultRoot, $"lb-test-{Guid.NewGuid():N}");
        MaglevTableSize = maglevTableSize;
        try
        {
            Datapath = LoadAgain();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string PinRoot { get; }

    public uint MaglevTableSize { get; }

    /// <summary>The first load.</summary>
    public LbDatapath Datapath { get; }

    public LbMaps Maps => Datapath.Maps;

    public LbDatapathOptions Options => new()
    {
        ObjectPath = BpfObjects.LbXdp,
        PinRoot = PinRoot,
        FlowTableCapacity = TestFlowCapacity,
        MaglevTableSize = MaglevTableSize,
    };

    /// <summary>Loads the object again on the same pin root, as a restarted agent does.</summary>
    public LbDatapath LoadAgain(LbDatapathOptions? options = null)
    {
        var load = LbDatapath.Load(options ?? Options);
        _loads.Add(load);
        return load;
    }

    public void Dispose()
    {
        foreach (var load in _loads)
            load.Dispose();
        if (Directory.Exists(PinRoot))
            Directory.Delete(PinRoot, recursive: true);
    }
}
