using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security;

namespace Lb.Native.Tests;

/// <summary>STYLE rule 10: the layers are projects, and these references are checked, not promised.</summary>
public sealed class LayerTests
{
    private static readonly Assembly Core = typeof(Lb.Core.Model.Backend).Assembly;
    private static readonly Assembly Datapath = typeof(Lb.Datapath.Abi.LbAbi).Assembly;
    private static readonly Assembly Native = typeof(BpfMap).Assembly;

    public static TheoryData<string> OsFreeAssemblies => new() { "Lb.Core", "Lb.Datapath" };

    private static Assembly ByName(string name) => name switch
    {
        "Lb.Core" => Core,
        "Lb.Datapath" => Datapath,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(OsFreeAssemblies))]
    public void OsFreeLayer_DoesNotReferenceLbNative(string name)
    {
        var references = ByName(name).GetReferencedAssemblies().Select(a => a.Name).ToList();

        Assert.DoesNotContain("Lb.Native", references);
        Assert.DoesNotContain(references, r => r is not null && r.StartsWith("Lb.Agent"));
    }

    [Theory]
    [MemberData(nameof(OsFreeAssemblies))]
    public void OsFreeLayer_HasNoNativeImportsAndNoUnsafeCode(string name)
    {
        var assembly = ByName(name);

        Assert.Empty(NativeImports(assembly));
        // The compiler marks a module built with AllowUnsafeBlocks as unverifiable.
        Assert.Empty(assembly.Modules.SelectMany(m => m.GetCustomAttributes<UnverifiableCodeAttribute>()));
    }

    [Fact]
    public void LbNative_IsTheOnlyLbAssemblyWithNativeImports()
    {
        var directory = Path.GetDirectoryName(Native.Location)!;
        var lbAssemblies = Directory.GetFiles(directory, "Lb.*.dll")
            .Select(path => Assembly.LoadFrom(path))
            .Where(a => !a.GetName().Name!.EndsWith(".Tests"))
            .ToList();

        var withImports = lbAssemblies.Where(a => NativeImports(a).Any()).Select(a => a.GetName().Name).ToList();

        Assert.Contains("Lb.Core", lbAssemblies.Select(a => a.GetName().Name));
        Assert.Equal(["Lb.Native"], withImports);
    }

    [Fact]
    public void LbNative_DisablesRuntimeMarshalling()
    {
        Assert.NotNull(Native.GetCustomAttribute<DisableRuntimeMarshallingAttribute>());
        Assert.NotEmpty(NativeImports(Native));
    }

    /// <summary>Methods that are P/Invokes: LibraryImport's generated stubs and any DllImport.</summary>
    private static IEnumerable<MethodInfo> NativeImports(Assembly assembly) =>
        assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => m.Attributes.HasFlag(MethodAttributes.PinvokeImpl) || m.GetCustomAttributes().Any(a => a.GetType().Name is "LibraryImportAttribute" or "DllImportAttribute"));
}
