using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Agent.Demo;
using Lb.Testing.Kernel;

namespace Lb.Agent.Tests.Cli;

/// <summary>
/// `lb` as a child process, as an operator runs it: <c>dotnet lb.dll ...</c>, for `lb run` inside a
/// namespace through nsenter (the whole process, and every thread it starts, lives there; /sys/fs/bpf
/// stays the host's, so pins are shared with the test). Output lines are collected for assertions.
/// </summary>
internal sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _newLine = new(0);

    private AgentProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Collect(e.Data);
        _process.ErrorDataReceived += (_, e) => Collect(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>lb.dll of this build: the test project references Lb.Agent, so it sits beside the tests.</summary>
    public static string LbDll => Path.Combine(AppContext.BaseDirectory, "lb.dll");

    public IReadOnlyList<string> Lines => _lines.ToList();

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts `lb run` in <paramref name="ns"/> (null: this namespace).</summary>
    public static AgentProcess StartRun(string? ns, AgentFiles files, params string[] extra) =>
        Start(ns, ["run", "--config", files.ConfigPath, "--pin-root", files.PinRoot, "--status-file", files.StatusFile,
            "--object", BpfObjects.LbXdp, "--poll-interval", "0.5", .. extra]);

    public static AgentProcess Start(string? ns, IEnumerable<string> lbArguments)
    {
        var psi = new ProcessStartInfo(ns is null ? "dotnet" : "nsenter")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (ns is not null)
        {
            psi.ArgumentList.Add($"--net=/run/netns/{ns}");
            psi.ArgumentList.Add("dotnet");
        }
        psi.ArgumentList.Add(LbDll);
        foreach (var argument in lbArguments)
            psi.ArgumentList.Add(argument);
        return new AgentProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start lb"));
    }

    /// <summary>Runs an `lb` command to its end (in this namespace) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEnd(params string[] lbArguments)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(LbDll);
        foreach (var argument in lbArguments)
            psi.ArgumentList.Add(argument);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Waits for an output line matching <paramref name="match"/> (seen before or after the call).</summary>
    public async Task<string> WaitForLine(Func<string, bool> match, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var found = _lines.FirstOrDefault(match);
            if (found is not null)
                return found;
            if (_process.HasExited && _lines.FirstOrDefault(match) is null)
            {
                await Task.Delay(200);
                found = _lines.FirstOrDefault(match);
                if (found is not null)
                    return found;
                throw new InvalidOperationException($"lb exited ({_process.ExitCode}) before logging {what ?? "the expected line"}:\n{string.Join('\n', _lines)}");
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"lb did not log {what ?? "the expected line"}:\n{string.Join('\n', _lines)}");
            await _newLine.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(200, left.TotalMilliseconds)));
        }
    }

    /// <summary>Waits for the n-th line (counting from 1) with the event id.</summary>
    public Task<string> WaitForEvent(int eventId, int occurrence = 1, TimeSpan? timeout = null)
    {
        var tag = $"[{eventId}]";
        return WaitForLine(_ => _lines.Count(l => l.Contains(tag)) >= occurrence, timeout, $"event {eventId} (#{occurrence})")
            .ContinueWith(_ => _lines.Where(l => l.Contains(tag)).ElementAt(occurrence - 1));
    }

    public int Count(int eventId) => _lines.Count(l => l.Contains($"[{eventId}]"));

    /// <summary>Waits for the process to exit by itself; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as systemd or Kubernetes stops it; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
            Shell.Run("kill", "-TERM", _process.Id.ToString());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, and the exit must be the clean one (0); the output is in the failure message.</summary>
    public async Task StopCleanly()
    {
        var code = await StopAsync();
        Assert.True(code == 0, $"lb exited {code} on SIGTERM:\n{string.Join('\n', _lines)}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Collect(string? line)
    {
        if (line is null)
            return;
        _lines.Enqueue(line);
        _newLine.Release();
    }
}

/// <summary>A temporary directory with lb.yaml and the status file, and a unique pin root; removed on Dispose.</summary>
internal sealed class AgentFiles : IDisposable
{
    public AgentFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("lb-agent-test-").FullName;
        PinRoot = $"/sys/fs/bpf/lb-test-{Guid.NewGuid():N}";
    }

    public string Directory { get; }
    public string ConfigPath => Path.Combine(Directory, "lb.yaml");
    public string StatusFile => Path.Combine(Directory, "status.json");
    public string PinRoot { get; }

    /// <summary>Replaces lb.yaml the way editors and config tools do: a new file renamed over the old.</summary>
    public void WriteConfig(string yaml)
    {
        var temporary = ConfigPath + ".new";
        File.WriteAllText(temporary, yaml);
        File.Move(temporary, ConfigPath, overwrite: true);
    }

    public void Dispose()
    {
        if (System.IO.Directory.Exists(PinRoot))
            System.IO.Directory.Delete(PinRoot, recursive: true);
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>HTTP/1.0 GET from inside a namespace (the admin API listens on the namespace's loopback).</summary>
internal static class AdminClient
{
    public static async Task<(int Status, string ContentType, string Body)> Get(string ns, string path, int port = 9090)
    {
        using var socket = InNamespace.TcpSocket(ns, AddressFamily.InterNetwork);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n"), SocketFlags.None, timeout.Token);
        var response = new MemoryStream();
        var buffer = new byte[65536];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            response.Write(buffer, 0, n);
        var text = Encoding.UTF8.GetString(response.ToArray());
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headerEnd > 0, $"no HTTP header in: {text}");
        var headers = text[..headerEnd].Split("\r\n");
        var status = int.Parse(headers[0].Split(' ')[1]);
        var contentType = headers.FirstOrDefault(h => h.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))?["Content-Type:".Length..].Trim() ?? "";
        return (status, contentType, text[(headerEnd + 4)..]);
    }
}
