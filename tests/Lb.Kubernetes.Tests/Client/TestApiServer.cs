using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lb.Kubernetes.Tests.Client;

/// <summary>
/// An API server in the test process that speaks the real protocol on 127.0.0.1: lists with
/// limit/continue and a list resourceVersion; watches as HTTP/1.1 chunked streams of one JSON event per
/// line from a resourceVersion, with bookmarks; one global resourceVersion counter as etcd keeps; a
/// compaction point below which watches get a 200 with an ERROR 410 event and continue tokens get HTTP
/// 410; connections it can drop mid-stream; and a restart on the same port.
/// </summary>
public sealed class TestApiServer : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Resource> _resources = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<HttpContext, byte> _watches = new();
    private WebApplication? _app;
    private long _version = 100;
    private long _compactedAt;

    public TestApiServer()
    {
        foreach (var path in new[] { "/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices", "/api/v1/nodes" })
            _resources[path] = new Resource();
    }

    public int Port { get; private set; }

    public Uri Uri => new($"{(_serverCertificate is null ? "http" : "https")}://127.0.0.1:{Port}");

    private System.Security.Cryptography.X509Certificates.X509Certificate2? _serverCertificate;

    /// <summary>Serve HTTPS with this certificate, asking clients for a certificate (recorded, not required).</summary>
    public void UseTls(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) => _serverCertificate = certificate;

    /// <summary>The subject of the client certificate of each request, or null.</summary>
    public ConcurrentQueue<string?> ClientCertificates { get; } = new();

    /// <summary>Every request: path and query, and the Authorization header.</summary>
    public ConcurrentQueue<(string PathAndQuery, string? Authorization)> Requests { get; } = new();

    /// <summary>Runs before each list page is served (a test compacts here to expire a continue token).</summary>
    public Action<string>? BeforeListPage { get; set; }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var port = Port;
        var certificate = _serverCertificate;
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = certificate;
                    https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate;
                    https.AllowAnyClientCertificate();
                });
            }
        }));
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        _app = app;
        if (Port == 0)
        {
            var address = app.Urls.First();
            Port = new Uri(address).Port;
        }
    }

    public async Task StopAsync()
    {
        if (_app is null)
            return;
        DropWatches();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    public long ResourceVersion
    {
        get { lock (_gate) return _version; }
    }

    /// <summary>Creates or replaces an object (ADDED or MODIFIED); returns its new resourceVersion.</summary>
    public long Upsert(string path, string json)
    {
        lock (_gate)
        {
            var node = JsonNode.Parse(json)!.AsObject();
            var version = ++_version;
            var meta = node["metadata"]!.AsObject();
            meta["resourceVersion"] = version.ToString();
            var key = Key(meta);
            var resource = _resources[path];
            var type = resource.Objects.ContainsKey(key) ? "MODIFIED" : "ADDED";
            var text = node.ToJsonString();
            resource.Objects[key] = text;
            resource.Publish(version, $"{{\"type\":\"{type}\",\"object\":{text}}}");
            return version;
        }
    }

    /// <summary>Sends an event whose object cannot be read as the resource's type (it is still versioned).</summary>
    public long PublishRaw(string path, string type, string objectJson)
    {
        lock (_gate)
        {
            var version = ++_version;
            _resources[path].Publish(version, $"{{\"type\":\"{type}\",\"object\":{objectJson}}}");
            return version;
        }
    }

    public long Delete(string path, string ns, string name)
    {
        lock (_gate)
        {
            var resource = _resources[path];
            var key = $"{ns}/{name}";
            var text = resource.Objects[key];
            resource.Objects.Remove(key);
            var version = ++_version;
            var node = JsonNode.Parse(text)!.AsObject();
            node["metadata"]!["resourceVersion"] = version.ToString();
            resource.Publish(version, $"{{\"type\":\"DELETED\",\"object\":{node.ToJsonString()}}}");
            return version;
        }
    }

    /// <summary>Removes an object without an event, as if its DELETED event had been lost to compaction.</summary>
    public void DeleteSilently(string path, string ns, string name)
    {
        lock (_gate)
        {
            _resources[path].Objects.Remove($"{ns}/{name}");
            _version++;
        }
    }

    /// <summary>Sends a BOOKMARK at the current resourceVersion to every open watch of <paramref name="path"/>.</summary>
    public long Bookmark(string path)
    {
        lock (_gate)
        {
            var version = ++_version;
            var kind = path.Contains("endpointslices") ? "EndpointSlice" : path.EndsWith("nodes") ? "Node" : "Service";
            _resources[path].Broadcast($"{{\"type\":\"BOOKMARK\",\"object\":{{\"kind\":\"{kind}\",\"apiVersion\":\"v1\",\"metadata\":{{\"resourceVersion\":\"{version}\"}}}}}}");
            return version;
        }
    }

    /// <summary>Compacts at the current version, as etcd does: older versions are 410 Gone, the current one still serves.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _compactedAt = _version;
            foreach (var resource in _resources.Values)
                resource.History.Clear();
        }
    }

    /// <summary>Cuts every open watch connection without ending the chunked stream.</summary>
    public void DropWatches()
    {
        foreach (var context in _watches.Keys)
        {
            if (_watches.TryRemove(context, out _))
                context.Abort();
        }
    }

    public int OpenWatches => _watches.Count;

    /// <summary>While set, every request is answered 500 with a Status body.</summary>
    public volatile bool FailRequests;

    private static string Key(JsonObject meta) => $"{meta["namespace"]?.GetValue<string>()}/{meta["name"]!.GetValue<string>()}";

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        Requests.Enqueue((request.Path + request.QueryString, request.Headers.Authorization.FirstOrDefault()));
        ClientCertificates.Enqueue(context.Connection.ClientCertificate?.Subject);
        if (FailRequests)
        {
            await WriteStatusAsync(context, 500, "InternalError", "etcdserver: request timed out");
            return;
        }
        if (!_resources.TryGetValue(request.Path.Value ?? "", out var resource))
        {
            await WriteStatusAsync(context, 404, "NotFound", $"the server could not find the requested resource");
            return;
        }
        if (request.Query["watch"] is { Count: > 0 } watch && (watch[0] == "1" || watch[0] == "true"))
            await WatchAsync(context, resource);
        else
            await ListAsync(context, resource);
    }

    private async Task ListAsync(HttpContext context, Resource resource)
    {
        BeforeListPage?.Invoke(context.Request.Path + context.Request.QueryString);
        var limit = int.TryParse(context.Request.Query["limit"], out var l) && l > 0 ? l : int.MaxValue;
        string[] items;
        long listVersion;
        int offset = 0;
        lock (_gate)
        {
            if (context.Request.Query["continue"] is { Count: > 0 } token)
            {
                var parts = Encoding.UTF8.GetString(Convert.FromBase64String(token[0]!)).Split(':');
                listVersion = long.Parse(parts[0]);
                offset = int.Parse(parts[1]);
                if (listVersion < _compactedAt)
                {
                    items = [];
                    goto expired;
                }
            }
            else
            {
                listVersion = _version;
            }
            // A consistent read at listVersion: this server only ever serves the latest state, so a
            // continued list sees changes made since; tests that care compact, which expires the token.
            items = resource.Objects.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value).ToArray();
        }

        var page = items.Skip(offset).Take(limit).ToArray();
        var next = offset + page.Length < items.Length
            ? Convert.ToBase64String(Encoding.UTF8.GetBytes($"{listVersion}:{offset + page.Length}"))
            : null;
        var body = new StringBuilder();
        var (kind, apiVersion) = context.Request.Path.Value!.Contains("endpointslices", StringComparison.Ordinal)
            ? ("EndpointSliceList", "discovery.k8s.io/v1")
            : context.Request.Path.Value.EndsWith("nodes", StringComparison.Ordinal) ? ("NodeList", "v1") : ("ServiceList", "v1");
        body.Append($"{{\"kind\":\"{kind}\",\"apiVersion\":\"{apiVersion}\",\"metadata\":{{\"resourceVersion\":\"").Append(listVersion).Append('"');
        if (next is not null)
            body.Append(",\"continue\":\"").Append(next).Append('"');
        body.Append("},\"items\":[").Append(string.Join(",", page)).Append("]}");
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToString());
        return;

    expired:
        await WriteStatusAsync(context, 410, "Expired",
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
    }

    private async Task WatchAsync(HttpContext context, Resource resource)
    {
        var from = long.Parse(context.Request.Query["resourceVersion"]!);
        var timeout = int.TryParse(context.Request.Query["timeoutSeconds"], out var t) ? t : 1800;
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        Channel<string> channel;
        string[] backlog;
        lock (_gate)
        {
            if (from < _compactedAt)
            {
                backlog = [$"{{\"type\":\"ERROR\",\"object\":{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{{}},\"status\":\"Failure\",\"message\":\"too old resource version: {from} ({_compactedAt})\",\"reason\":\"Expired\",\"code\":410}}}}"];
                channel = Channel.CreateUnbounded<string>();
                channel.Writer.Complete();
            }
            else
            {
                backlog = resource.History.Where(e => e.Version > from).Select(e => e.Json).ToArray();
                channel = Channel.CreateUnbounded<string>();
                resource.Subscribers.Add(channel);
            }
        }
        _watches.TryAdd(context, 0);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(TimeSpan.FromSeconds(timeout));
        try
        {
            await response.StartAsync(deadline.Token);
            foreach (var line in backlog)
                await WriteLineAsync(response, line, deadline.Token);
            await foreach (var line in channel.Reader.ReadAllAsync(deadline.Token))
                await WriteLineAsync(response, line, deadline.Token);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _watches.TryRemove(context, out _);
            lock (_gate)
                resource.Subscribers.Remove(channel);
        }
    }

    private static async Task WriteLineAsync(HttpResponse response, string line, CancellationToken cancellationToken)
    {
        await response.WriteAsync(line + "\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static async Task WriteStatusAsync(HttpContext context, int code, string reason, string message)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new Dictionary<string, object>(),
            ["status"] = "Failure", ["message"] = message, ["reason"] = reason, ["code"] = code,
        }));
    }

    private sealed class Resource
    {
        public Dictionary<string, string> Objects { get; } = new(StringComparer.Ordinal);

        public List<(long Version, string Json)> History { get; } = [];

        public List<Channel<string>> Subscribers { get; } = [];

        public void Publish(long version, string json)
        {
            History.Add((version, json));
            Broadcast(json);
        }

        public void Broadcast(string json)
        {
            foreach (var subscriber in Subscribers)
                subscriber.Writer.TryWrite(json);
        }
    }
}
