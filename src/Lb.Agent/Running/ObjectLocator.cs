namespace Lb.Agent.Running;

/// <summary>Finds lb_xdp.bpf.o when `--object` is not given.</summary>
public static class ObjectLocator
{
    public const string ObjectFileName = "lb_xdp.bpf.o";

    /// <summary>
    /// $LB_XDP_OBJECT (as for `lb demo`), else next to the executable (an installed lb), else build/bpf in the executable's directory or a parent
    /// of it, or of the working directory (a source checkout built with CMake). Null when none exists.
    /// </summary>
    public static string? Find()
    {
        if (Environment.GetEnvironmentVariable(Demo.BpfObjectLocator.EnvironmentVariable) is { Length: > 0 } fromEnvironment)
            return fromEnvironment;
        var beside = Path.Combine(AppContext.BaseDirectory, ObjectFileName);
        if (File.Exists(beside))
            return beside;
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "build", "bpf", ObjectFileName);
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        return null;
    }
}
