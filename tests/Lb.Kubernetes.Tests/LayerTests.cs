using System.Reflection;
using System.Runtime.InteropServices;

namespace Lb.Kubernetes.Tests;

/// <summary>STYLE rule 10: Lb.Kubernetes sits on Lb.Core alone; the agent composes it with the rest.</summary>
public sealed class LayerTests
{
    private static readonly Assembly Kubernetes = typeof(Lb.Kubernetes.Translation.ServiceTranslator).Assembly;

    [Fact]
    public void LbKubernetes_ReferencesLbCoreOnlyAmongLbAssemblies()
    {
        var lb = Kubernetes.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("Lb.", StringComparison.Ordinal)).ToList();

        Assert.Equal(["Lb.Core"], lb);
    }

    [Fact]
    public void LbKubernetes_HasNoNativeImports()
    {
        var imports = Kubernetes.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<DllImportAttribute>() is not null || (m.Attributes & MethodAttributes.PinvokeImpl) != 0)
            .Select(m => $"{m.DeclaringType}.{m.Name}");

        Assert.Empty(imports);
    }
}
