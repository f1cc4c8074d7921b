using Microsoft.Extensions.Logging;

namespace Lb.Agent.Running;

/// <summary>
/// The agent's log events (STYLE §15). Event ids are stable: scripts and alerts match on them, so a
/// retired event keeps its number. 3000-3099 belong to `lb run`; Lb.Native uses 1200-1399 and the
/// programmer 2100-2199.
/// </summary>
internal static partial class AgentLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information,
        Message = "lb {Version} starting: config {ConfigPath}, interfaces {Interfaces}, object {ObjectPath}, pin root {PinRoot}")]
    public static partial void Starting(ILogger logger, string version, string configPath, string interfaces, string objectPath, string pinRoot);

    /// <summary>One error of lb.yaml; the error text starts with file:line:column.</summary>
    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Invalid configuration: {Error}")]
    public static partial void ConfigError(ILogger logger, string error);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information,
        Message = "SNAT address for {Family} is {Address} (from {Source})")]
    public static partial void SnatAddress(ILogger logger, string family, string address, string source);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information,
        Message = "Adopted the pinned names record: {Services} services and {Backends} backends keep their ids")]
    public static partial void Adopted(ILogger logger, int services, int backends);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information,
        Message = "Programmed generation {Generation} from {ConfigPath}: {Services} services ({Changes}), {Writes} map writes in {Milliseconds:F1} ms")]
    public static partial void Programmed(ILogger logger, long generation, string configPath, int services, string changes, int writes, double milliseconds);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "XDP on {Interface}: {Mode} mode, program id {ProgramId}")]
    public static partial void Attached(ILogger logger, string @interface, string mode, uint programId);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Information, Message = "Admin HTTP listening on http://{Address} (/metrics, /healthz, /status)")]
    public static partial void AdminListening(ILogger logger, string address);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Running; watching {ConfigPath} for changes")]
    public static partial void Running(ILogger logger, string configPath);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "{ConfigPath} changed ({Trigger}); reloading")]
    public static partial void ConfigChanged(ILogger logger, string configPath, string trigger);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning,
        Message = "Refused the change to {ConfigPath} ({Count} errors); the running tables stay as they were (generation {Generation})")]
    public static partial void ReloadRefused(ILogger logger, string configPath, int count, long generation);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "{ConfigPath} changed but describes the running state; nothing to program")]
    public static partial void ReloadUnchanged(ILogger logger, string configPath);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Warning,
        Message = "{Setting} changed from {From} to {To} in {ConfigPath}; it takes effect at the next `lb run` (other changes are applied now)")]
    public static partial void NeedsRestart(ILogger logger, string setting, string from, string to, string configPath);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Error,
        Message = "Programming {ConfigPath} failed; the next change or the periodic check retries it")]
    public static partial void ProgrammingFailed(ILogger logger, string configPath, Exception exception);

    [LoggerMessage(EventId = 3015, Level = LogLevel.Error, Message = "Refused {ConfigPath}: {Reason}; the running tables stay as they were")]
    public static partial void TargetRefused(ILogger logger, string configPath, string reason);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Information, Message = "Stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Information,
        Message = "Stopped; lb_xdp stays attached to {Interfaces} and the maps stay pinned at {PinRoot}, so traffic keeps flowing (`lb down` removes both)")]
    public static partial void Stopped(ILogger logger, string interfaces, string pinRoot);

    [LoggerMessage(EventId = 3030, Level = LogLevel.Warning, Message = "Could not write the status file {Path}")]
    public static partial void StatusFileFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 3031, Level = LogLevel.Warning, Message = "Watching {ConfigPath} failed; the periodic check still reloads it")]
    public static partial void WatchFailed(ILogger logger, string configPath, Exception exception);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Critical, Message = "lb run could not start: {Reason}")]
    public static partial void StartFailed(ILogger logger, string reason, Exception? exception);
}
