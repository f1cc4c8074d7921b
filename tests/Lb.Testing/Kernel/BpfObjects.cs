using Lb.Agent.Demo;

namespace Lb.Testing.Kernel;

/// <summary>
/// The compiled XDP objects under build/bpf, brought up to date with CMake once per test run (the
/// build is incremental), so the tests never run an object older than native/bpf.
/// </summary>
public static class BpfObjects
{
    private static readonly Lazy<string> s_buildDirectory = new(Build);

    public static string LbXdp => Path.Combine(s_buildDirectory.Value, "bpf", "lb_xdp.bpf.o");

    private static string Build()
    {
        var root = RepositoryRoot();
        var build = Path.Combine(root, "build");
        Shell.Run("cmake", "-S", root, "-B", build);
        Shell.Run("cmake", "--build", build, "--target", "bpf");
        return build;
    }

    /// <summary>The directory holding Lb.sln, found by walking up from the test binaries.</summary>
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Lb.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"No Lb.sln above {AppContext.BaseDirectory}.");
    }
}
