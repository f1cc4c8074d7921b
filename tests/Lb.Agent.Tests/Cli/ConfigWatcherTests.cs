using Lb.Agent.Running;

namespace Lb.Agent.Tests.Cli;

public sealed class ConfigWatcherTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lb-watch-test-").FullName;

    private string PathOf => Path.Combine(_directory, "lb.yaml");

    [Fact]
    public async Task WaitForChange_FileReplacedByRename_ReportsTheNewText()
    {
        File.WriteAllText(PathOf, "a");
        using var watcher = new ConfigWatcher(PathOf, "a", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
        var change = watcher.WaitForChangeAsync(CancellationToken.None);
        File.WriteAllText(PathOf + ".new", "b");
        File.Move(PathOf + ".new", PathOf, overwrite: true);

        var version = await change.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("b", version.Text);
        Assert.StartsWith("file", version.Trigger);
    }

    [Fact]
    public async Task WaitForChange_SameContentRewritten_NotReported()
    {
        File.WriteAllText(PathOf, "a");
        using var watcher = new ConfigWatcher(PathOf, "a", TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(20));
        var change = watcher.WaitForChangeAsync(CancellationToken.None);
        File.WriteAllText(PathOf, "a");
        await Task.Delay(500);
        Assert.False(change.IsCompleted);

        // Replaced whole (an in-place write may be read half done, between the truncation and the write).
        File.WriteAllText(PathOf + ".new", "c");
        File.Move(PathOf + ".new", PathOf, overwrite: true);
        Assert.Equal("c", (await change.WaitAsync(TimeSpan.FromSeconds(10))).Text);
    }

    [Fact]
    public async Task WaitForChange_WithoutEvents_PeriodicCheckFindsTheChange()
    {
        File.WriteAllText(PathOf, "a");
        // A watcher created on another file's text: only the periodic hash can notice the difference.
        using var watcher = new ConfigWatcher(PathOf, "something else", TimeSpan.FromMilliseconds(100), TimeSpan.Zero);
        var version = await watcher.WaitForChangeAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("a", version.Text);
        Assert.Equal("periodic check", version.Trigger);
    }

    [Fact]
    public async Task WaitForChange_FileDeleted_ReportsItUnreadable()
    {
        File.WriteAllText(PathOf, "a");
        using var watcher = new ConfigWatcher(PathOf, "a", TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(20));
        File.Delete(PathOf);
        var version = await watcher.WaitForChangeAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(version.Text);
        Assert.NotNull(version.ReadError);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
