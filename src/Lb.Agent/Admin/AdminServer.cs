using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lb.Agent.Admin;

/// <summary>What the admin API serves; the run loop implements it over its datapath and state.</summary>
public interface IAdminSource
{
    /// <summary>/metrics: the Prometheus text.</summary>
    string Metrics();

    /// <summary>/status: the JSON of `lb status`.</summary>
    string StatusJson();

    /// <summary>/healthz: null when healthy, else why not.</summary>
    string? Unhealthy();
}

/// <summary>
/// The admin HTTP API on Kestrel: /metrics, /healthz, /status. Listens where admin.listen says
/// (127.0.0.1:9090 by default; lb.yaml validation allows a non-loopback address only with allowRemote).
/// </summary>
public sealed class AdminServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AdminServer(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The address actually bound (with the port Kestrel chose when the config says 0).</summary>
    public string Address { get; }

    public static async Task<AdminServer> StartAsync(IPEndPoint listen, IAdminSource source, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(source);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrel(options => options.Listen(listen));
        builder.Logging.ClearProviders();
        // `lb run` owns SIGINT/SIGTERM and stops this server itself; the default console lifetime would
        // register its own signal handlers and stop the server behind the agent's back.
        builder.Services.AddSingleton<IHostLifetime, AgentOwnedLifetime>();
        var app = builder.Build();

        app.MapGet("/metrics", () => Results.Text(source.Metrics(), PrometheusText.ContentType));
        app.MapGet("/status", () => Results.Text(source.StatusJson(), "application/json; charset=utf-8"));
        app.MapGet("/healthz", () => source.Unhealthy() is { } reason
            ? Results.Text($"unhealthy: {reason}\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ok\n", "text/plain; charset=utf-8"));

        await app.StartAsync(cancellationToken);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var address = bound is null ? listen.ToString() : new Uri(bound).Authority;
        return new AdminServer(app, address);
    }

    private sealed class AgentOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
