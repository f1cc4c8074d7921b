using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Running;

namespace Lb.Benchmarks;

/// <summary>
/// Runs the BenchmarkDotNet suite; pick benchmarks with <c>--filter</c> and a job with <c>--job</c>
/// (e.g. <c>--job short</c>). Reports (JSON and GitHub markdown) land under perf/results/.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        // The default config already writes GitHub markdown (and CSV, HTML); JSON is added for tools.
        var config = DefaultConfig.Instance
            .AddExporter(JsonExporter.Full)
            .WithArtifactsPath(Path.Combine(RepositoryRoot(), "perf", "results"));
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }

    /// <summary>The folder holding Lb.sln, found upward from the binaries so results go to one place however the suite is started.</summary>
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lb.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no Lb.sln above {AppContext.BaseDirectory}; run the benchmarks from the repository's build output");
    }
}
