using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Lb.Kubernetes.Api;

namespace Lb.Kubernetes.Client;

/// <summary>The API answered with an error status; <see cref="Status"/> is its meta/v1 Status body when it sent one.</summary>
public class KubernetesApiException(HttpStatusCode statusCode, KubeStatus? status, string message) : Exception(message)
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    public KubeStatus? Status { get; } = status;
}

/// <summary>
/// 410 Gone: the resourceVersion (or continue token) asked for has been compacted away. The only way on
/// is a fresh list. A watch reports it as a 200 response with one ERROR event, a list as HTTP 410.
/// </summary>
public sealed class ResourceExpiredException(KubeStatus? status, string message)
    : KubernetesApiException(HttpStatusCode.Gone, status, message);

/// <summary>A list, every page of it: the raw items and the resourceVersion to watch from.</summary>
public sealed record ListResult(IReadOnlyList<JsonElement> Items, string ResourceVersion);

/// <summary>
/// The few API calls Lb makes: a paginated list and a watch, over HttpClient with System.Text.Json's
/// source-generated metadata. Authentication is a client certificate and/or a bearer token fetched for
/// every request (so a rotated token file is picked up by the next request).
/// </summary>
public sealed class KubernetesApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly KubernetesConnection _connection;
    private readonly TimeProvider _time;

    /// <param name="time">Clock for the dead-watch deadline; the system clock unless a test injects one.</param>
    public KubernetesApiClient(KubernetesConnection connection, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _time = time ?? TimeProvider.System;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            SslOptions = TlsOptions(connection),
        };
        _http = new HttpClient(handler) { BaseAddress = connection.Server, Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri Server => _connection.Server;

    /// <summary>
    /// Lists <paramref name="path"/> page by page (limit/continue). When a continue token has expired
    /// (410 in the middle of the pages), the list starts over from the first page, as client-go does.
    /// </summary>
    public async Task<ListResult> ListAsync(string path, int pageSize, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var items = new List<JsonElement>();
            string? continueToken = null;
            try
            {
                while (true)
                {
                    var query = $"{path}?limit={pageSize}" + (continueToken is null ? "" : $"&continue={Uri.EscapeDataString(continueToken)}");
                    using var response = await SendAsync(query, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
                    await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    var page = await JsonSerializer.DeserializeAsync(body, KubeJsonContext.Default.KubeList, cancellationToken).ConfigureAwait(false)
                        ?? throw new JsonException($"GET {path}: the list body is null");
                    items.AddRange(page.Items ?? []);
                    continueToken = page.Metadata?.Continue;
                    if (string.IsNullOrEmpty(continueToken))
                    {
                        var version = page.Metadata?.ResourceVersion;
                        if (string.IsNullOrEmpty(version))
                            throw new JsonException($"GET {path}: the list has no metadata.resourceVersion");
                        return new ListResult(items, version);
                    }
                }
            }
            catch (ResourceExpiredException) when (continueToken is not null && attempt < 3)
            {
                // The snapshot behind the continue token is gone; a list is only consistent if whole.
            }
        }
    }

    /// <summary>
    /// Watches <paramref name="path"/> from <paramref name="resourceVersion"/> with bookmarks, yielding
    /// each event as the server streams it (one JSON object per line). The stream ends when the server
    /// ends it (after <paramref name="timeoutSeconds"/>); an ERROR event is yielded like any other.
    /// <paramref name="opened"/> runs once the server has accepted the watch (2xx headers received).
    /// </summary>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(
        string path, string resourceVersion, int timeoutSeconds, Action? opened = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = $"{path}?watch=1&allowWatchBookmarks=true&resourceVersion={Uri.EscapeDataString(resourceVersion)}&timeoutSeconds={timeoutSeconds}";
        // The server ends the watch after timeoutSeconds; one still open 30 s later is dead without a
        // FIN (a NAT dropped it, the server host vanished), and is given up on.
        using var expiry = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds + 30), _time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
        using var response = await SendAsync(query, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
        opened?.Invoke();
        await using var body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
        using var reader = new StreamReader(body);
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"watch {path}: not ended by the server {timeoutSeconds + 30} s after it began");
            }
            if (line is null)
                yield break;
            if (line.Length == 0)
                continue;
            yield return JsonSerializer.Deserialize(line, KubeJsonContext.Default.WatchEvent)
                ?? throw new JsonException($"watch {path}: a null event");
        }
    }

    private async Task<HttpResponseMessage> SendAsync(string pathAndQuery, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_connection.Token is { } token)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await token.GetAsync(cancellationToken).ConfigureAwait(false));
        var response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
            return response;
        using (response)
        {
            KubeStatus? status = null;
            try
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                status = JsonSerializer.Deserialize(text, KubeJsonContext.Default.KubeStatus);
            }
            catch (JsonException)
            {
                // Not a Status body (a proxy's HTML page, say): the HTTP status says enough.
            }
            var message = $"GET {pathAndQuery}: {(int)response.StatusCode} {response.ReasonPhrase}" +
                (status?.Message is { } m ? $": {m}" : "");
            if (response.StatusCode == HttpStatusCode.Gone)
                throw new ResourceExpiredException(status, message);
            throw new KubernetesApiException(response.StatusCode, status, message);
        }
    }

    private static SslClientAuthenticationOptions TlsOptions(KubernetesConnection connection)
    {
        var options = new SslClientAuthenticationOptions();
        if (connection.ClientCertificate is { } certificate)
            options.ClientCertificates = new X509CertificateCollection { certificate };
        if (connection.InsecureSkipTlsVerify)
        {
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (connection.CertificateAuthorities is { } authorities)
        {
            // Trust exactly the configured roots (not the system's): the chain must end in one of them.
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(authorities);
        }
        return options;
    }

    public void Dispose() => _http.Dispose();
}
