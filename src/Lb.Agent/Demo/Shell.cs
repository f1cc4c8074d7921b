using System.Diagnostics;

namespace Lb.Agent.Demo;

/// <summary>Runs the system tools that topologies are set up with (ip, ethtool, sysctl), and the agent's `ip neigh` work, and fails loudly.</summary>
public static class Shell
{
    public static string Run(string file, params string[] args)
    {
        var (code, stdout, stderr) = TryRun(file, args);
        if (code != 0)
            throw new InvalidOperationException($"`{file} {string.Join(' ', args)}` exited {code}: {stderr.Trim()}{stdout.Trim()}");
        return stdout;
    }

    public static (int ExitCode, string Stdout, string Stderr) TryRun(string file, params string[] args) =>
        TryRunWithInput(file, null, args);

    /// <summary>As <see cref="TryRun"/>, writing <paramref name="input"/> (when not null) to the command's standard input.</summary>
    public static (int ExitCode, string Stdout, string Stderr) TryRunWithInput(string file, string? input, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderrTask = p.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            p.StandardInput.Write(input);
            p.StandardInput.Close();
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderrTask.Result);
    }

    /// <summary>
    /// Runs a command inside a named network namespace. nsenter rather than `ip netns exec`, which
    /// remounts /sys and would hide pinned BPF objects from the command.
    /// </summary>
    public static string InNamespace(string ns, string file, params string[] args) =>
        Run("nsenter", [$"--net=/run/netns/{ns}", file, .. args]);
}
