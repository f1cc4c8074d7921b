using System.Runtime.InteropServices;
using System.Text.Json;
using Lb.Datapath.Abi;
using Lb.Testing;

namespace Lb.Datapath.Tests.Abi;

/// <summary>
/// The C# mirror against native/include/lb/lb_abi.h, checked by the compiler: sizes, offsets and
/// field sizes of every struct, every enum value, flag, limit and map name. Plus the two directions
/// of completeness: every type in Lb.Datapath.Abi is in the list, and every struct, enum and LB_ macro
/// of the header has a mirror.
/// </summary>
public sealed class AbiLayoutTests
{
    // C# members whose C name does not follow PREFIX + UPPER_SNAKE(name).
    private static readonly Dictionary<string, string?> ReasonNames = new()
    {
        [nameof(LbReason.ReasonUnused0)] = "LB_REASON_UNUSED_0",
    };

    private static readonly Dictionary<string, string?> NoneIsNotAFlag = new() { ["None"] = null };

    /// <summary>The list: every ABI type and the C type it mirrors.</summary>
    internal static CLayoutCheck BuildCheck() => new CLayoutCheck()
        .Include("\"lb/lb_abi.h\"")
        .Size(typeof(Be16), "__be16")
        .Size(typeof(Be32), "__be32")
        .Size(typeof(LbAddress), "union lb_addr")
        .Size(typeof(LbPadding2), "__u8[2]")
        .Size(typeof(LbPadding3), "__u8[3]")
        .Struct(typeof(LbDatapathConfig), "struct lb_config")
        .Struct(typeof(LbServiceKey), "struct lb_service_key")
        .Struct(typeof(LbService), "struct lb_service")
        .Struct(typeof(LbBackend), "struct lb_backend")
        .Struct(typeof(LbFlowKey), "struct lb_flow_key")
        .Struct(typeof(LbFlow), "struct lb_flow")
        .Struct(typeof(LbAffinityKey), "struct lb_affinity_key")
        .Struct(typeof(LbAffinity), "struct lb_affinity")
        .Struct(typeof(LbRevNat), "struct lb_rev_nat")
        .Struct(typeof(LbSrcRangeKey), "struct lb_src_range_key")
        .Struct(typeof(LbServiceStats), "struct lb_service_stats")
        .Size(typeof(LbNameBytes), "__u8[LB_NAME_MAX]")
        .Struct(typeof(LbNameKey), "struct lb_name_key")
        .Struct(typeof(LbName), "struct lb_name")
        .Enum(typeof(LbFamily), "LB_FAMILY_")
        .Enum(typeof(LbForwarding), "LB_FWD_")
        .Enum(typeof(LbBackendState), "LB_BACKEND_")
        .Enum(typeof(LbReason), "LB_", ReasonNames)
        .Enum(typeof(LbConfigFlags), "LB_CFG_F_", NoneIsNotAFlag)
        .Enum(typeof(LbServiceFlags), "LB_SVC_F_", NoneIsNotAFlag)
        .Enum(typeof(LbNameKind), "LB_NAME_")
        .Constants(typeof(LbAbi), name => "LB_" + CLayoutCheck.SnakeCase(name).ToUpperInvariant())
        .Constants(typeof(LbMapNames), name => "LB_MAP_" + CLayoutCheck.SnakeCase(name).ToUpperInvariant())
        .Constants(typeof(LbLimits), name => "LB_" + CLayoutCheck.SnakeCase(name).ToUpperInvariant());

    public static TheoryData<string> Targets => new() { "host", "bpf" };

    [Theory]
    [MemberData(nameof(Targets))]
    public void GeneratedAssertions_CompiledAgainstHeader_AllHold(string target)
    {
        var check = BuildCheck();
        var (success, output) = check.Compile(TargetArguments(target));

        Assert.True(success, $"lb_abi.h and Lb.Datapath.Abi disagree ({target} target):\n{output}");
        Assert.True(check.AssertionCount > 150, $"only {check.AssertionCount} assertions were generated");
    }

    [Fact]
    public void GeneratedAssertions_WrongMirror_FailToCompileNamingTheField()
    {
        // A mirror with two fields swapped must be caught, or the check above proves nothing.
        var check = new CLayoutCheck().Include("\"lb/lb_abi.h\"").Struct(typeof(SwappedAffinity), "struct lb_affinity");

        var (success, output) = check.Compile(TargetArguments("host"));

        Assert.False(success);
        Assert.Contains("SwappedAffinity.BackendId is at offset 0", output);
    }

    [Fact]
    public void CheckedList_CoversEveryTypeInTheAbiNamespace()
    {
        var abiTypes = typeof(LbAbi).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(LbAbi).Namespace && !t.IsNested && !t.Name.StartsWith('<'))
            .ToHashSet();

        var missing = abiTypes.Except(BuildCheck().CoveredTypes).Select(t => t.Name).Order().ToList();

        Assert.True(missing.Count == 0, $"ABI types left out of the layout check: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Header_EveryStructAndEnum_HasAMirror()
    {
        var (success, output) = Clang.Run("#include \"lb/lb_abi.h\"\n",
            ["-Xclang", "-ast-dump=json", "-fsyntax-only", "-I", RepositoryRoot.NativeInclude, "-x", "c", "-"]);
        Assert.True(success, output);
        using var ast = JsonDocument.Parse(output);
        var mirrored = BuildCheck().Source;

        var missing = new List<string>();
        foreach (var decl in ast.RootElement.GetProperty("inner").EnumerateArray())
        {
            if (!decl.TryGetProperty("name", out var nameProperty) || nameProperty.GetString() is not { } name || !name.StartsWith("lb_"))
                continue;
            var kind = decl.GetProperty("kind").GetString();
            if (kind == "RecordDecl" && decl.TryGetProperty("completeDefinition", out _))
            {
                var cType = $"{decl.GetProperty("tagUsed").GetString()} {name}";
                if (!mirrored.Contains($"sizeof({cType})"))
                    missing.Add(cType);
                foreach (var field in Children(decl, "FieldDecl"))
                {
                    if (cType != "union lb_addr" && !mirrored.Contains($"__builtin_offsetof({cType}, {field})"))
                        missing.Add($"{cType}.{field}");
                }
            }
            else if (kind == "EnumDecl")
            {
                foreach (var constant in Children(decl, "EnumConstantDecl"))
                {
                    if (!mirrored.Contains($"({constant} ==") && !mirrored.Contains($"{constant} =="))
                        missing.Add(constant);
                }
            }
        }

        Assert.True(missing.Count == 0, $"lb_abi.h declarations without a C# mirror: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Header_EveryLbMacro_HasAMirror()
    {
        var (success, output) = Clang.Run("#include \"lb/lb_abi.h\"\n",
            ["-E", "-dM", "-I", RepositoryRoot.NativeInclude, "-x", "c", "-"]);
        Assert.True(success, output);
        var mirrored = BuildCheck().Source;

        var missing = output.Split('\n')
            .Select(line => line.Split(' ', 3))
            .Where(parts => parts.Length >= 2 && parts[0] == "#define" && parts[1].StartsWith("LB_") && parts[1] != "LB_ABI_H")
            .Select(parts => parts[1])
            .Where(macro => !mirrored.Contains($"{macro} ==") && !mirrored.Contains($"({macro}, "))
            .ToList();

        Assert.True(missing.Count == 0, $"LB_ macros without a C# mirror: {string.Join(", ", missing)}");
    }

    [Fact]
    public void MaglevKey_MatchesTheHeadersInlineFunction()
    {
        // lb_maglev_key is code, not layout: run the C version and compare outputs.
        (uint ServiceId, LbFamily Family)[] inputs = [(0, LbFamily.IPv4), (1, LbFamily.IPv6), (5, LbFamily.IPv4), (65535, LbFamily.IPv6), (0x7fffffff, LbFamily.IPv6)];
        var program = "#include <stdio.h>\n#include \"lb/lb_abi.h\"\nint main(void) {\n"
                      + string.Concat(inputs.Select(i => $"printf(\"%u\\n\", lb_maglev_key({i.ServiceId}u, {(byte)i.Family}));\n"))
                      + "return 0; }\n";
        var executable = Path.Combine(Path.GetTempPath(), $"lb-maglev-key-{Guid.NewGuid():N}");
        try
        {
            var (built, buildOutput) = Clang.Run(program, ["-I", RepositoryRoot.NativeInclude, "-x", "c", "-", "-o", executable]);
            Assert.True(built, buildOutput);
            using var run = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(executable) { RedirectStandardOutput = true })!;
            var printed = run.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(uint.Parse);
            run.WaitForExit();

            Assert.Equal(inputs.Select(i => LbAbi.MaglevKey(i.ServiceId, i.Family)), printed);
        }
        finally
        {
            File.Delete(executable);
        }
    }

    [Fact]
    public void ReasonNumbers_AreBelowReasonMaxAndUnique()
    {
        var values = Enum.GetValues<LbReason>().Select(r => (uint)r).ToList();

        Assert.All(values, v => Assert.True(v < LbLimits.ReasonMax, $"reason {v} is not below LB_REASON_MAX"));
        Assert.Equal(values.Count, values.Distinct().Count());
    }

    internal static string[] TargetArguments(string target) => target switch
    {
        "host" => ["-I", RepositoryRoot.NativeInclude],
        // The XDP program sees the BPF target's layout; its UAPI headers come from the host's multiarch dir.
        "bpf" => ["-target", "bpf", "-I", "/usr/include/x86_64-linux-gnu", "-I", RepositoryRoot.NativeInclude],
        _ => throw new ArgumentOutOfRangeException(nameof(target)),
    };

    private static IEnumerable<string> Children(JsonElement decl, string kind)
    {
        if (!decl.TryGetProperty("inner", out var inner))
            yield break;
        foreach (var child in inner.EnumerateArray())
        {
            if (child.GetProperty("kind").GetString() == kind && child.TryGetProperty("name", out var name))
                yield return name.GetString()!;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SwappedAffinity
    {
        public uint BackendId;
        public uint Pad;
        public ulong LastUsedNs;
    }
}
