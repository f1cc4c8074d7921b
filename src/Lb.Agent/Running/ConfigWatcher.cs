using System.Security.Cryptography;
using System.Threading.Channels;

namespace Lb.Agent.Running;

/// <summary>A new version of the watched file: its text (null when it could not be read, with the reason) and what noticed it.</summary>
internal sealed record ConfigFileVersion(string? Text, string? ReadError, string Trigger);

/// <summary>
/// Watches lb.yaml for a change of content. Two triggers, because neither is enough alone: a
/// FileSystemWatcher on the directory (editors and config-management tools replace the file by rename,
/// which a watch on the file itself misses), and a periodic hash of the content (inotify is not delivered
/// for every bind mount or network file system, and a Kubernetes ConfigMap update is a symlink swap).
/// Events are debounced, so a file written in several steps is read once it is quiet; a version is
/// reported only when its content differs from the last one reported, whether it was valid or not.
/// </summary>
internal sealed class ConfigWatcher : IDisposable
{
    private readonly string _path;
    private readonly TimeSpan _pollInterval;
    private readonly TimeSpan _debounce;
    private readonly Channel<string> _events = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly FileSystemWatcher? _watcher;
    private byte[] _lastHash;

    public ConfigWatcher(string path, string initialText, TimeSpan pollInterval, TimeSpan debounce, Action<Exception>? watchFailed = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(debounce, TimeSpan.Zero);
        _path = Path.GetFullPath(path);
        _pollInterval = pollInterval;
        _debounce = debounce;
        _lastHash = Hash(initialText);
        try
        {
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName | NotifyFilters.CreationTime,
            };
            _watcher.Changed += (_, _) => _events.Writer.TryWrite("file changed");
            _watcher.Created += (_, _) => _events.Writer.TryWrite("file created");
            _watcher.Renamed += (_, _) => _events.Writer.TryWrite("file renamed");
            _watcher.Deleted += (_, _) => _events.Writer.TryWrite("file deleted");
            _watcher.Error += (_, e) => watchFailed?.Invoke(e.GetException());
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            // inotify instances are a per-user limit; the periodic check still sees every change.
            _watcher?.Dispose();
            _watcher = null;
            watchFailed?.Invoke(e);
        }
    }

    /// <summary>Waits until the file's content differs from the last version seen, and returns it.</summary>
    public async Task<ConfigFileVersion> WaitForChangeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var trigger = await NextTriggerAsync(cancellationToken);
            var (text, error) = Read();
            var hash = text is null ? SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("unreadable: " + error)) : Hash(text);
            if (hash.AsSpan().SequenceEqual(_lastHash))
                continue;
            _lastHash = hash;
            return new ConfigFileVersion(text, error, trigger);
        }
    }

    /// <summary>Forgets the last version, so the next check reports the file again even if it did not change (a retry).</summary>
    public void Forget() => _lastHash = [];

    public void Dispose()
    {
        _watcher?.Dispose();
        _events.Writer.TryComplete();
    }

    private async Task<string> NextTriggerAsync(CancellationToken cancellationToken)
    {
        using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        poll.CancelAfter(_pollInterval);
        string trigger;
        try
        {
            trigger = await _events.Reader.ReadAsync(poll.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "periodic check";
        }

        // Debounce: read only once the writer has been quiet for a while.
        while (true)
        {
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            quiet.CancelAfter(_debounce);
            try
            {
                await _events.Reader.ReadAsync(quiet.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return trigger;
            }
        }
    }

    private (string? Text, string? Error) Read()
    {
        try
        {
            return (File.ReadAllText(_path), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, e.Message);
        }
    }

    private static byte[] Hash(string text) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
}
