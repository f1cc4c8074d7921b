using BenchmarkDotNet.Attributes;
using Lb.Core.Maglev;
using Lb.Core.Model;

namespace Lb.Benchmarks;

/// <summary>
/// Time and memory to build one Maglev table: the control plane does this for every service whose
/// backend set changes, so it bounds how fast endpoint churn reaches the datapath.
/// </summary>
[MemoryDiagnoser]
public class MaglevBuildBenchmarks
{
    private MaglevTableBuilder _builder = null!;
    private MaglevBackend[] _backends = [];

    public static IEnumerable<MaglevBuildCase> Cases() =>
    [
        new(16381, 10),
        new(16381, 100),
        new(16381, 1000),
        new(65537, 1000),
    ];

    [ParamsSource(nameof(Cases))]
    public MaglevBuildCase Case { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _builder = new MaglevTableBuilder(new MaglevOptions(Case.TableSize, MaglevOptions.DefaultSeed));
        _backends = new MaglevBackend[Case.Backends];
        for (var i = 0; i < _backends.Length; i++)
            _backends[i] = new MaglevBackend($"10.1.{i >> 8}.{i & 0xff}:8080", 1, (uint)i);
    }

    [Benchmark]
    public MaglevTable Build() => _builder.Build(_backends);
}

public readonly record struct MaglevBuildCase(uint TableSize, int Backends)
{
    public override string ToString() => $"M={TableSize} N={Backends}";
}
