namespace Lb.Agent.Demo;

/// <summary>
/// Finds lb_xdp.bpf.o for the demo: the path given, else $LB_XDP_OBJECT, else build/bpf/lb_xdp.bpf.o in
/// the nearest directory above the executable that has one (a source checkout built with build.sh).
/// </summary>
public static class BpfObjectLocator
{
    public const string EnvironmentVariable = "LB_XDP_OBJECT";
    private static readonly string RelativePath = Path.Combine("build", "bpf", "lb_xdp.bpf.o");

    public static string Find(string? given)
    {
        if (!string.IsNullOrEmpty(given))
            return File.Exists(given) ? Path.GetFullPath(given) : throw new FileNotFoundException($"--bpf-object {given} does not exist.", given);
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
            return File.Exists(fromEnvironment) ? Path.GetFullPath(fromEnvironment) : throw new FileNotFoundException($"${EnvironmentVariable} names {fromEnvironment}, which does not exist.", fromEnvironment);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, RelativePath);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException(
            $"Cannot find the XDP object lb_xdp.bpf.o: no {RelativePath} above {AppContext.BaseDirectory}. " +
            $"Build it (./build.sh build, or cmake -S . -B build && cmake --build build), or pass --bpf-object PATH or set ${EnvironmentVariable}.");
    }
}
