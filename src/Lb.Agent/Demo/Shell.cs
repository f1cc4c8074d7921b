using System.Diagnostics;

namespace Lb.Agent.Demo;

/// <summary>Runs the system tools the tests set topologies up with (ip, ethtool, sysctl) and fails loudly.</summary>
public static class Shell
{
    public static string Run(string file, params string[] args)
    {
        var (code, stdout, stderr) = TryRun(file, args);
        if (code != 0)
            throw new InvalidOperationException($"`{file} {string.Join(' ', args)}` exited {code}: {stderr.Trim()}{stdout.Trim()}");
        return stdout;
    }

    public static (int ExitCode, string Stdout, string Stderr) TryRun(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    /// <summary>
    /// Runs a command inside a named network namespace. nsenter rather than `ip netns exec`, which
    /// remounts /sys and would hide pinned BPF objects from the command.
    /// </summary>
    public static string InNamespace(string ns, string file, params string[] args) =>
        Run("nsenter", [$"--net=/run/netns/{ns}", file, .. args]);
}
