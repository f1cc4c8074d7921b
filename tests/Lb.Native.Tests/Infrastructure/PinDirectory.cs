namespace Lb.Native.Tests.Infrastructure;

/// <summary>A unique directory on bpffs for one test's pins, removed with everything in it on Dispose.</summary>
internal sealed class PinDirectory : IDisposable
{
    public PinDirectory()
    {
        BpfFileSystem.EnsureMounted();
        Path = System.IO.Path.Combine(BpfFileSystem.DefaultRoot, $"lb-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
