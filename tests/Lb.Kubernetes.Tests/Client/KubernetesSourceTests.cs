using System.Threading.Channels;
using Lb.Core.Model;
using Lb.Kubernetes.Client;
using Lb.Kubernetes.Translation;
using static Lb.Kubernetes.Tests.Client.Objects;

namespace Lb.Kubernetes.Tests.Client;

public sealed class KubernetesSourceTests : IAsyncLifetime
{
    private readonly TestApiServer _server = new();

    public async Task InitializeAsync()
    {
        _server.Upsert(Services, Service("web", "198.51.100.1"));
        _server.Upsert(Slices, Slice("web-abc", "web", "10.244.1.1", "10.244.1.2"));
        _server.Upsert(Nodes, Node("node-a", "192.168.1.10"));
        await _server.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task RunAsync_WithTranslation_DeliversLbServicesAndFollowsEndpointChanges()
    {
        using var api = new KubernetesApiClient(new KubernetesConnection(_server.Uri));
        var watcher = new KubernetesWatcher(api, new KubernetesWatchOptions { CoalesceWindow = TimeSpan.FromMilliseconds(20) }, random: new Random(1));
        var results = Channel.CreateUnbounded<TranslationResult>();
        using var stop = new CancellationTokenSource();
        var run = watcher.RunAsync(new TranslationOptions(NodeName: "node-a"), (r, _) =>
        {
            results.Writer.TryWrite(r);
            return Task.CompletedTask;
        }, stop.Token);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var first = await results.Reader.ReadAsync(timeout.Token);
        var service = Assert.Single(first.Services);
        Assert.Equal("default/web/http", service.Name);
        Assert.Equal(["10.244.1.1:8080", "10.244.1.2:8080"], service.Backends.Select(b => b.Identity));

        _server.Upsert(Slices, Slice("web-abc", "web", "10.244.1.2"));
        var second = await results.Reader.ReadAsync(timeout.Token);

        Assert.Equal(new Backend(System.Net.IPAddress.Parse("10.244.1.2"), 8080), Assert.Single(Assert.Single(second.Services).Backends));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task RunAsync_ApiDownForSeveralRetries_OneUnreachableLinePerResource()
    {
        var logger = new CapturingLogger();
        await using var harness = new WatcherHarness(new KubernetesConnection(_server.Uri), logger: logger);
        await harness.WaitForAsync(s => s.Services.Length == 1, "the service");

        await _server.StopAsync();
        await Task.Delay(1500); // Backoff 20-200 ms: several retries per resource.
        await _server.StartAsync();
        _server.Upsert(Services, Service("web2", "198.51.100.2"));
        await harness.WaitForAsync(s => s.Services.Length == 2, "web2");

        Assert.True(logger.Count(4003) == 3, string.Join("\n", logger.Lines)); // Unreachable: once per resource, not once per retry.
        Assert.True(logger.Count(4004) >= 3, $"expected retries logged at debug, saw {logger.Count(4004)}");
        Assert.Equal(3, logger.Count(4000)); // Listed: once each; the reconnect resumed the watches.
    }
}
