using System.Reflection;

namespace Lb.Agent;

/// <summary>The version and commit this `lb` was built from (the informational version is "version+commit").</summary>
public static class BuildInfo
{
    private static readonly string s_informational =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static string Version => s_informational.Split('+')[0];

    public static string Commit => s_informational.Contains('+') ? s_informational[(s_informational.IndexOf('+') + 1)..] : "unknown";
}
