using Microsoft.Extensions.Logging;

namespace Lb.Kubernetes.Client;

/// <summary>The Kubernetes source's log lines (event ids 4000-4099), one per state change.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "{Resource}: listed {Count} objects at resourceVersion {ResourceVersion}")]
    public static partial void Listed(ILogger logger, string resource, int count, string resourceVersion);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "{Resource}: watching from resourceVersion {ResourceVersion}")]
    public static partial void Watching(ILogger logger, string resource, string resourceVersion);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "{Resource}: resourceVersion {ResourceVersion} expired (410 Gone); listing again")]
    public static partial void Expired(ILogger logger, string resource, string resourceVersion);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "{Resource}: the API server at {Server} cannot be reached; keeping the last known state and retrying in {Delay}")]
    public static partial void Unreachable(ILogger logger, string resource, Uri server, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Debug, Message = "{Resource}: still unreachable; retrying in {Delay}")]
    public static partial void StillUnreachable(ILogger logger, string resource, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "{Resource}: skipped a malformed object: {Reason}")]
    public static partial void Malformed(ILogger logger, string resource, string reason);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "{Resource}: the watch returned an error ({Code} {Reason}): {Message}")]
    public static partial void WatchError(ILogger logger, string resource, int code, string? reason, string? message);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Information, Message = "Kubernetes snapshot: {Services} services, {Slices} EndpointSlices, {Nodes} nodes")]
    public static partial void Snapshot(ILogger logger, int services, int slices, int nodes);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning, Message = "Kubernetes translation: {Issue}")]
    public static partial void TranslationIssue(ILogger logger, string issue);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Warning, Message = "Service {Service} asked for DSR but its ports differ; it forwards with nat")]
    public static partial void NatFallback(ILogger logger, string service);
}
