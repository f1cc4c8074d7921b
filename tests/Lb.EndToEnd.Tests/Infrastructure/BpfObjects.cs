using Lb.Agent.Demo;
using Lb.Testing;

namespace Lb.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The compiled XDP objects under build/bpf, brought up to date with CMake once per test run (the build
/// is incremental), so the tests never run an object older than native/bpf.
/// </summary>
internal static class BpfObjects
{
    private static readonly Lazy<string> s_buildDirectory = new(Build);

    public static string LbXdp => Path.Combine(s_buildDirectory.Value, "bpf", "lb_xdp.bpf.o");

    public static string LbDecap => Path.Combine(s_buildDirectory.Value, "bpf", "lb_decap.bpf.o");

    private static string Build()
    {
        var root = RepositoryRoot.Path;
        var build = Path.Combine(root, "build");
        Shell.Run("cmake", "-S", root, "-B", build);
        Shell.Run("cmake", "--build", build, "--target", "bpf");
        return build;
    }
}
