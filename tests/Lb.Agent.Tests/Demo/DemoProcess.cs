using System.Collections.Concurrent;
using System.Diagnostics;

namespace Lb.Agent.Tests.Demo;

/// <summary>
/// `dotnet lb.dll demo ...` as a child process, the way a user runs it: standard output and error are
/// collected line by line, so a test can wait for a line, signal the process, and read what it printed.
/// </summary>
internal sealed class DemoProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DemoProcess(params string[] arguments)
    {
        // The test project references Lb.Agent, so lb.dll and its runtimeconfig sit beside the tests.
        var lb = Path.Combine(AppContext.BaseDirectory, "lb.dll");
        Assert.True(File.Exists(lb), $"{lb} is missing");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(lb);
        psi.ArgumentList.Add("demo");
        foreach (var a in arguments)
            psi.ArgumentList.Add(a);
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => { if (e.Data is null) _stdoutClosed.TrySetResult(); else _stdout.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is null) _stderrClosed.TrySetResult(); else _stderr.Enqueue(e.Data); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public string Stdout => string.Join('\n', _stdout);

    public string Stderr => string.Join('\n', _stderr);

    /// <summary>Waits until standard error (the narration with --output json) has a line containing <paramref name="text"/>.</summary>
    public async Task<string> WaitForNarration(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var line = _stderr.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null)
                return line;
            if (_process.HasExited)
                break;
            await Task.Delay(20);
        }
        throw new TimeoutException($"lb demo never printed '{text}'. stderr:\n{Stderr}\nstdout:\n{Stdout}");
    }

    public async Task<int> WaitForExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            throw new TimeoutException($"lb demo did not exit within {timeout}. stderr:\n{Stderr}");
        }
        return _process.ExitCode;
    }

    public void Signal(string signal) => Lb.Agent.Demo.Shell.Run("kill", $"-{signal}", _process.Id.ToString());

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill();
        _process.Dispose();
    }
}
