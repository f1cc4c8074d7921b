using Lb.Native;

namespace Lb.Testing.Kernel;

/// <summary>A unique /sys/fs/bpf/lb-test-&lt;guid&gt; for a test that loads objects itself; removed with its pins on Dispose.</summary>
public sealed class PinRoot : IDisposable
{
    public PinRoot()
    {
        BpfFileSystem.EnsureMounted();
        Path = System.IO.Path.Combine(BpfFileSystem.DefaultRoot, $"lb-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
