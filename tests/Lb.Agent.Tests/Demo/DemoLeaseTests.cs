using System.Diagnostics;
using Lb.Agent.Demo;
using Lb.Native;

namespace Lb.Agent.Tests.Demo;

/// <summary>
/// Which leftovers `lb demo` removes when it starts: a dead owner's, and nothing of a live one. In the
/// demo collection, so that no demo run's own clean-up of stale ids overlaps these.
/// </summary>
[Collection(DemoCollection.Name)]
public sealed class DemoLeaseTests
{
    [Fact]
    public void RemoveStale_OwnerIsDead_RemovesItsNamespacesPinRootAndRecord()
    {
        const string id = "dead01";
        var pid = ExitedProcessId();
        Directory.CreateDirectory(DemoLease.RecordDirectory);
        File.WriteAllText(DemoLease.RecordPathOf(id), $"{pid} 12345\n");
        Shell.Run("ip", "netns", "add", $"{DemoLease.NamespacePrefixOf(id)}lb");
        BpfFileSystem.EnsureMounted();
        Directory.CreateDirectory(DemoLease.PinRootOf(id));
        try
        {
            var cleaned = DemoLease.RemoveStale();

            var (_, removed) = Assert.Single(cleaned, c => c.Id == id);
            Assert.Equal([$"namespace {DemoLease.NamespacePrefixOf(id)}lb", $"pin root {DemoLease.PinRootOf(id)}", $"record {DemoLease.RecordPathOf(id)}"], removed);
            Assert.Empty(DemoLease.ResourcesOf(id));
        }
        finally
        {
            Shell.TryRun("ip", "netns", "delete", $"{DemoLease.NamespacePrefixOf(id)}lb");
            if (Directory.Exists(DemoLease.PinRootOf(id)))
                Directory.Delete(DemoLease.PinRootOf(id));
            File.Delete(DemoLease.RecordPathOf(id));
        }
    }

    [Fact]
    public void RemoveStale_NamespaceWithoutAnyRecord_IsRemoved()
    {
        const string id = "norec1";
        Shell.Run("ip", "netns", "add", $"{DemoLease.NamespacePrefixOf(id)}c");
        try
        {
            var cleaned = DemoLease.RemoveStale();

            Assert.Contains(cleaned, c => c.Id == id);
            Assert.Empty(DemoLease.ResourcesOf(id));
        }
        finally
        {
            Shell.TryRun("ip", "netns", "delete", $"{DemoLease.NamespacePrefixOf(id)}c");
        }
    }

    [Fact]
    public void RemoveStale_OwnerIsAlive_LeavesEverything()
    {
        var lease = DemoLease.Acquire();
        Shell.Run("ip", "netns", "add", $"{lease.NamespacePrefix}lb");
        try
        {
            var cleaned = DemoLease.RemoveStale();

            Assert.DoesNotContain(cleaned, c => c.Id == lease.Id);
            Assert.Equal([$"namespace {lease.NamespacePrefix}lb", $"record {lease.RecordPath}"], DemoLease.ResourcesOf(lease.Id));
        }
        finally
        {
            lease.Release();
        }
        Assert.Empty(DemoLease.ResourcesOf(lease.Id));
    }

    [Fact]
    public void RemoveStale_RecordOfAReusedPid_CountsTheOwnerAsDead()
    {
        const string id = "reuse1";
        Directory.CreateDirectory(DemoLease.RecordDirectory);
        // This process is alive, but it did not start at tick 1: the record's owner is another, dead process.
        File.WriteAllText(DemoLease.RecordPathOf(id), $"{Environment.ProcessId} 1\n");
        try
        {
            Assert.Contains(DemoLease.RemoveStale(), c => c.Id == id);
            Assert.False(File.Exists(DemoLease.RecordPathOf(id)));
        }
        finally
        {
            File.Delete(DemoLease.RecordPathOf(id));
        }
    }

    private static int ExitedProcessId()
    {
        using var process = Process.Start("true")!;
        process.WaitForExit();
        return process.Id;
    }
}

[CollectionDefinition(Name)]
public sealed class DemoCollection
{
    public const string Name = "lb demo";
}
