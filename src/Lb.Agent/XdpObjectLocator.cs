namespace Lb.Agent;

/// <summary>
/// Finds lb_xdp.bpf.o for `lb run` and `lb demo` alike: the path given, else $LB_XDP_OBJECT, else next to
/// the executable (an installed lb), else build/bpf/ in the nearest directory above the executable or the
/// working directory that has one (a source checkout built with build.sh or CMake).
/// </summary>
public static class XdpObjectLocator
{
    public const string EnvironmentVariable = "LB_XDP_OBJECT";
    public const string ObjectFileName = "lb_xdp.bpf.o";
    private static readonly string RelativePath = Path.Combine("build", "bpf", ObjectFileName);

    /// <summary>The object, or a <see cref="FileNotFoundException"/> that says where it looked and how to build it.</summary>
    /// <param name="given">An explicit path (the command's option), or null.</param>
    /// <param name="optionName">The option that gives a path, for the error message.</param>
    public static string Find(string? given, string optionName)
    {
        if (!string.IsNullOrEmpty(given))
            return File.Exists(given) ? Path.GetFullPath(given) : throw new FileNotFoundException($"{optionName} {given} does not exist.", given);
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
            return File.Exists(fromEnvironment) ? Path.GetFullPath(fromEnvironment) : throw new FileNotFoundException($"${EnvironmentVariable} names {fromEnvironment}, which does not exist.", fromEnvironment);
        return Search() ?? throw new FileNotFoundException(
            $"Cannot find the XDP object {ObjectFileName}: not next to {AppContext.BaseDirectory}, and no {RelativePath} above it or above {Directory.GetCurrentDirectory()}. " +
            $"Build it (./build.sh build, or cmake -S . -B build && cmake --build build), or pass {optionName} PATH or set ${EnvironmentVariable}.");
    }

    private static string? Search()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, ObjectFileName);
        if (File.Exists(beside))
            return beside;
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, RelativePath);
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        return null;
    }
}
