using System.Collections.Concurrent;
using Lb.Kubernetes.Client;
using Microsoft.Extensions.Logging;

namespace Lb.Kubernetes.Tests.Client;

/// <summary>Keeps every log line (event id, level, text) so tests can count state-change lines.</summary>
internal sealed class CapturingLogger : ILogger<KubernetesWatcher>
{
    public ConcurrentQueue<(int EventId, LogLevel Level, string Message)> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((eventId.Id, logLevel, formatter(state, exception)));

    public int Count(int eventId) => Lines.Count(l => l.EventId == eventId);
}
