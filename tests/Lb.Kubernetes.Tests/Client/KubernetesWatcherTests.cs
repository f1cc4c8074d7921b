using Lb.Kubernetes.Client;
using static Lb.Kubernetes.Tests.Client.Objects;

namespace Lb.Kubernetes.Tests.Client;

public sealed class KubernetesWatcherTests : IAsyncLifetime
{
    private readonly TestApiServer _server = new();

    public async Task InitializeAsync()
    {
        for (var i = 1; i <= 5; i++)
            _server.Upsert(Services, Service($"web{i}", $"198.51.100.{i}"));
        _server.Upsert(Slices, Slice("web1-abc", "web1", "10.244.1.1", "10.244.1.2"));
        _server.Upsert(Nodes, Node("node-a", "192.168.1.10"));
        await _server.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static bool HasService(Lb.Kubernetes.Translation.ClusterSnapshot s, string name) =>
        s.Services.Any(x => x.Metadata!.Name == name);

    [Fact]
    public async Task RunAsync_InitialListInPages_OneSnapshotWithEveryObject()
    {
        await using var harness = new WatcherHarness(new KubernetesConnection(_server.Uri));

        var snapshot = await harness.WaitForAsync(s => s.Services.Length == 5, "5 services");

        Assert.Single(snapshot.EndpointSlices);
        Assert.Single(snapshot.Nodes);
        var serviceLists = _server.Requests.Where(r => r.PathAndQuery.StartsWith(Services + "?limit=2", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, serviceLists.Count); // 2 + 2 + 1 items.
        Assert.Equal(2, serviceLists.Count(r => r.PathAndQuery.Contains("&continue=", StringComparison.Ordinal)));
        Assert.Equal(1, harness.Count);
    }

    [Fact]
    public async Task RunAsync_WatchStartsAtListVersion_WithBookmarksAndTimeout()
    {
        var listVersion = _server.ResourceVersion;
        await using var harness = new WatcherHarness(new KubernetesConnection(_server.Uri));
        await harness.WaitForAsync(s => s.Services.Length == 5, "5 services");
        await WaitUntilAsync(() => _server.Requests.Any(r => r.PathAndQuery.StartsWith(Services + "?watch=1", StringComparison.Ordinal)), "a service watch");

        var watch = _server.Requests.First(r => r.PathAndQuery.StartsWith(Services + "?watch=1", StringComparison.Ordinal)).PathAndQuery;
        Assert.Contains($"resourceVersion={listVersion}", watch, StringComparison.Ordinal);
        Assert.Contains("allowWatchBookmarks=true", watch, StringComparison.Ordinal);
        Assert.Contains("timeoutSeconds=60", watch, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_AddedModifiedDeletedEvents_AppliedToSnapshot()
    {
        await using var harness = new WatcherHarness(new KubernetesConnection(_server.Uri));
        await harness.WaitForAsync(s => s.Services.Length == 5, "5 services");

        _server.Upsert(Services, Service("web6", "198.51.100.6"));
        _server.Upsert(Services, Service("web1", "198.51.100.99"));
        _server.Delete(Slices, "default", "web1-abc");
        _server.Upsert(Nodes, Node("node-b", "192.168.1.11"));

        var snapshot = await harness.WaitForAsync(
            s => HasService(s, "web6") && s.EndpointSlices.IsEmpty && s.Nodes.Length == 2
                 && s.Services.Single(x => x.Metadata!.Name == "web1").Status!.LoadBalancer!.Ingress![0].IP == "198.51.100.99",
            "web6 added, web1 modified, the slice deleted and node-b added");
        Assert.Equal(6, snapshot.Services.Length);
        Assert.Equal((1, 1, 1), harness.Watcher.ListCounts);
    }

    [Fact]
    public async Task RunAsync_BurstOfChangesWithinWindow_CoalescedIntoOneSnapshot()
    {
        await using var harness = new WatcherHarness(new KubernetesConnection(_server.Uri), new KubernetesWatchOptions
        {
            CoalesceWindow = TimeSpan.FromMilliseconds(600),
            InitialBackoff = TimeSpan.FromMilliseconds(20),
        });
        await harness.WaitForAsync(s => s.Services.Length == 5, "5 services");
        Assert.Equal(1, harness.Count);

        for (var i = 10; i < 30; i++)
            _server.Upsert(Services, Service($"burst{i}", $"198.51.100.{i}"));

        await harness.WaitForAsync(s => s.Services.Length == 25, "all 20 new services");
        await Task.Delay(1000);
        Assert.Equal(2, harness.Count);
    }

    [Fact]
    public async Task RunAsync_WatchFromCompactedVersion_RelistsAndForgetsObjectsDeletedMeanwhile()
    {
        await using var harness = new WatcherHarness(new KubernetesConnection(_server.Uri));
        await harness.WaitForAsync(s => s.Services.Length == 5, "5 services");
        await WaitUntilAsync(() => _server.OpenWatches == 3, "three open watches");

        // web2's DELETED event is lost to compaction while the client is disconnected: only a relist
        // can tell it the object is gone.
        _server.Upsert(Services, Service("web7", "198.51.100.7"));
        await harness.WaitForAsync(s => HasService(s, "web7"), "web7");
        _server.DeleteSilently(Services, "default", "web2");
        _server.Compact();
        _server.DropWatches();

        var snapshot = await harness.WaitForAsync(s => !HasService(s, "web2") && HasService(s, "web7"), "web2 gone and web7 present");
        Assert.Equal(5, snapshot.Services.Length);
        Assert.Equal(2, harness.Watcher.ListCounts.Services);
    }

    [Fact]
    public async Task ListAsync_ContinueTokenExpired_StartsOverFromTheFirstPage()
    {
        var compacted = false;
        _server.BeforeListPage = query =>
        {
            if (!compacted && query.Contains("continue=", StringComparison.Ordinal))
            {
                compacted = true;
                _server.Upsert(Services, Service("web8", "198.51.100.8"));
                _server.Compact();
            }
        };
        using var api = new KubernetesApiClient(new KubernetesConnection(_server.Uri));

        var list = await api.ListAsync(Services, 2, CancellationToken.None);

        Assert.Equal(6, list.Items.Count);
        Assert.Equal(_server.ResourceVersion.ToString(), list.ResourceVersion);
        Assert.Equal(2, _server.Requests.Count(r => r.PathAndQuery == Services + "?limit=2"));
    }

    [Fact]
    public async Task ListAsync_ServerAnswers410_ThrowsResourceExpiredWithStatus()
    {
        var n = 0;
        _server.BeforeListPage = _ =>
        {
            _server.Upsert(Services, Service($"churn{n++}", "198.51.100.9"));
            _server.Compact();
        };
        using var api = new KubernetesApiClient(new KubernetesConnection(_server.Uri));

        // Every continue token expires, so after its retries the list gives up with the 410.
        var error = await Assert.ThrowsAsync<ResourceExpiredException>(() => api.ListAsync(Services, 2, CancellationToken.None));

        Assert.Equal("Expired", error.Status?.Reason);
        Assert.Equal(410, error.Status?.Code);
    }

    [Fact]
    public async Task RunAsync_Bookmark_NextWatchStartsFromItsVersion()
    {
        await using var harness = new WatcherHarness(new KubernetesConnection(_server.Uri));
        await harness.WaitForAsync(s => s.Services.Length == 5, "5 services");
        await WaitUntilAsync(() => _server.OpenWatches == 3, "three open watches");

        var bookmark = _server.Bookmark(Services);
        await Task.Delay(300);
        _server.DropWatches();

        await WaitUntilAsync(
            () => _server.Requests.Any(r => r.PathAndQuery.StartsWith(Services + "?watch=1", StringComparison.Ordinal)
                                            && r.PathAndQuery.Contains($"resourceVersion={bookmark}&", StringComparison.Ordinal)),
            $"a service watch from the bookmark's version {bookmark}");
        Assert.Equal((1, 1, 1), harness.Watcher.ListCounts);
    }

    [Fact]
    public async Task RunAsync_ConnectionDroppedMidStream_ResumesFromLastVersionWithoutRelist()
    {
        await using var harness = new WatcherHarness(new KubernetesConnection(_server.Uri));
        await harness.WaitForAsync(s => s.Services.Length == 5, "5 services");
        _server.Upsert(Services, Service("before-drop", "198.51.100.40"));
        await harness.WaitForAsync(s => HasService(s, "before-drop"), "before-drop");

        _server.DropWatches();
        _server.Upsert(Services, Service("after-drop", "198.51.100.41"));

        await harness.WaitForAsync(s => HasService(s, "after-drop"), "after-drop");
        Assert.Equal((1, 1, 1), harness.Watcher.ListCounts);
    }

    [Fact]
    public async Task RunAsync_ServerRestart_KeepsLastStateWhileDownThenCatchesUp()
    {
        await using var harness = new WatcherHarness(new KubernetesConnection(_server.Uri));
        await harness.WaitForAsync(s => s.Services.Length == 5, "5 services");
        var before = harness.Count;

        await _server.StopAsync();
        await Task.Delay(700);
        Assert.Equal(before, harness.Count); // Nothing published while down: the last state stays in force.
        Assert.All(harness.Watcher.Status, s => Assert.Equal(WatchPhase.Unreachable, s.Phase));
        _server.Upsert(Services, Service("while-down", "198.51.100.50"));
        await _server.StartAsync();

        var snapshot = await harness.WaitForAsync(s => HasService(s, "while-down"), "while-down");
        Assert.Equal(6, snapshot.Services.Length);
        Assert.Equal(WatchPhase.Watching, harness.Watcher.Status[0].Phase);
        Assert.Single(snapshot.EndpointSlices);
    }

    [Fact]
    public async Task Requests_TokenFileRotated_NextRequestCarriesTheNewToken()
    {
        var tokenFile = Path.Combine(Path.GetTempPath(), $"lb-token-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(tokenFile, "token-a\n");
        try
        {
            await using var harness = new WatcherHarness(new KubernetesConnection(_server.Uri, Token: BearerToken.FromFile(tokenFile)));
            await harness.WaitForAsync(s => s.Services.Length == 5, "5 services");
            await WaitUntilAsync(() => _server.OpenWatches == 3, "three open watches");
            Assert.All(_server.Requests, r => Assert.Equal("Bearer token-a", r.Authorization));

            await File.WriteAllTextAsync(tokenFile, "token-b\n");
            var seen = _server.Requests.Count;
            _server.DropWatches();

            await WaitUntilAsync(() => _server.Requests.Count >= seen + 3, "three new watch requests");
            Assert.All(_server.Requests.Skip(seen), r => Assert.Equal("Bearer token-b", r.Authorization));
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    [Fact]
    public async Task RunAsync_MalformedObjectInWatch_SkippedAndLaterEventsApplied()
    {
        await using var harness = new WatcherHarness(new KubernetesConnection(_server.Uri));
        await harness.WaitForAsync(s => s.Services.Length == 5, "5 services");

        _server.PublishRaw(Services, "ADDED", """{"metadata":{"name":"broken","namespace":"default"},"spec":{"ports":[{"port":"eighty"}]}}""");
        _server.Upsert(Services, Service("fine", "198.51.100.60"));

        var snapshot = await harness.WaitForAsync(s => HasService(s, "fine"), "fine");
        Assert.False(HasService(snapshot, "broken"));
        Assert.Equal(6, snapshot.Services.Length);
    }

    [Fact]
    public async Task RunAsync_ApiDownAtStart_NoSnapshotUntilEveryResourceIsListed()
    {
        var port = _server.Port;
        await _server.StopAsync();
        var logger = new CapturingLogger();
        await using var harness = new WatcherHarness(new KubernetesConnection(new Uri($"http://127.0.0.1:{port}")), logger: logger);
        await Task.Delay(500);
        Assert.Equal(0, harness.Count);
        Assert.True(logger.Count(4003) == 3, string.Join("\n", logger.Lines)); // One warning per resource, not per failed list.

        await _server.StartAsync();

        var snapshot = await harness.WaitForAsync(s => s.Services.Length == 5, "5 services");
        Assert.Single(snapshot.Nodes);
    }

    [Fact]
    public async Task RunAsync_ApiAnswers500_RetriesOnlyAsTheInjectedClockPassesTheBackoff()
    {
        _server.FailRequests = true;
        var clock = new ManualTimeProvider();
        using var api = new KubernetesApiClient(new KubernetesConnection(_server.Uri), clock);
        var watcher = new KubernetesWatcher(api, new KubernetesWatchOptions
        {
            InitialBackoff = TimeSpan.FromSeconds(1),
            MaxBackoff = TimeSpan.FromSeconds(10),
            CoalesceWindow = TimeSpan.FromMilliseconds(100),
        }, clock, new Random(5));
        var snapshots = 0;
        using var stop = new CancellationTokenSource();
        var run = watcher.RunAsync((_, _) =>
        {
            Interlocked.Increment(ref snapshots);
            return Task.CompletedTask;
        }, stop.Token);

        await WaitUntilAsync(() => _server.Requests.Count == 3 && clock.PendingTimers == 3, "three failed lists, each waiting its backoff");
        await Task.Delay(300);
        Assert.Equal(3, _server.Requests.Count); // No retry while the clock stands still.

        clock.Advance(TimeSpan.FromSeconds(1)); // The first delay is 0.5-1 s.
        await WaitUntilAsync(() => _server.Requests.Count == 6 && clock.PendingTimers == 3, "three retries");
        clock.Advance(TimeSpan.FromMilliseconds(900)); // The second delay is 1-2 s: not yet due.
        await Task.Delay(300);
        Assert.Equal(6, _server.Requests.Count);

        _server.FailRequests = false;
        clock.Advance(TimeSpan.FromMilliseconds(1100));
        // Pending then: three watch deadlines and the coalescing window.
        await WaitUntilAsync(() => watcher.Status.All(s => s.Synced) && clock.PendingTimers == 4, "every resource listed and watched");
        Assert.Equal(0, snapshots); // The coalescing window runs on the same clock.
        clock.Advance(TimeSpan.FromMilliseconds(100));
        await WaitUntilAsync(() => snapshots == 1, "the first snapshot");

        await stop.CancelAsync();
        await run;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}
