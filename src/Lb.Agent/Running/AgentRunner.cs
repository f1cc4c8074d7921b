using System.Net;
using Lb.Agent.Admin;
using Lb.Agent.Inspection;
using Lb.Agent.Programming;
using Lb.Core.Config;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Native;
using Microsoft.Extensions.Logging;

namespace Lb.Agent.Running;

/// <summary>
/// `lb run`: loads (or adopts) the datapath, programs lb.yaml into it, attaches it, serves the admin API
/// and keeps the tables in step with the file until it is stopped. Stopping leaves the program attached
/// and the maps pinned, so traffic keeps flowing and the next `lb run` adopts them.
/// </summary>
public sealed class AgentRunner : IAdminSource
{
    /// <summary>Exit codes of `lb run` (docs/cli.md).</summary>
    public const int ExitOk = 0, ExitFailed = 1, ExitInvalid = 2;

    private readonly RunOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly AgentMetrics _metrics = new();
    private LbDatapath? _datapath;
    private Programmer? _programmer;
    private SnatAddresses? _snat;
    private DesiredState _current = DesiredState.Empty;
    private LbConfig? _runningConfig;
    private IReadOnlyList<string> _interfaces = [];
    private volatile AgentStatus? _status;

    public AgentRunner(RunOptions options, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _loggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        _logger = loggerFactory.CreateLogger<AgentRunner>();
        _time = time ?? TimeProvider.System;
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var configPath = _options.ConfigPath;
        string text;
        try
        {
            text = File.ReadAllText(configPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            AgentLog.ConfigError(_logger, $"{configPath}: cannot read the file: {e.Message}");
            return ExitInvalid;
        }
        var loaded = LbConfigLoader.Parse(text, configPath);
        if (!loaded.IsValid)
        {
            foreach (var error in loaded.Errors)
                AgentLog.ConfigError(_logger, error.ToString());
            return ExitInvalid;
        }
        var config = loaded.Config!;
        if (config.Datapath.Mode != DatapathMode.Xdp)
            return Refuse(configPath, "datapath.mode afxdp needs the AF_XDP worker, which this build does not have yet; use mode: xdp");

        _interfaces = _options.Interfaces.Count > 0 ? _options.Interfaces : [.. config.Datapath.Interfaces];
        if (_interfaces.Count == 0)
            return Refuse(configPath, "no interface to attach to: list datapath.interfaces in the file or pass --interface");
        string objectPath;
        try
        {
            objectPath = XdpObjectLocator.Find(_options.ObjectPath, "--object");
        }
        catch (FileNotFoundException e)
        {
            return Refuse(configPath, e.Message);
        }
        AgentLog.Starting(_logger, BuildInfo.Version, configPath, string.Join(", ", _interfaces), objectPath, _options.PinRoot);
        if (OtherAgent() is { } other)
        {
            AgentLog.StartFailed(_logger, $"another `lb run` (pid {other.Pid}) programs the datapath pinned at {other.PinRoot}; stop it first", null);
            return ExitFailed;
        }

        _snat = SnatAddresses.Resolve(_options.SnatAddresses, config.Datapath, _interfaces);
        if (_snat.V4 is not null)
            AgentLog.SnatAddress(_logger, "IPv4", _snat.V4.ToString(), _snat.V4Source!);
        if (_snat.V6 is not null)
            AgentLog.SnatAddress(_logger, "IPv6", _snat.V6.ToString(), _snat.V6Source!);
        config = WithSnat(config);

        var started = _time.GetUtcNow();
        IReadOnlyList<XdpAttachment> attachments = [];
        AdminServer? admin = null;
        ConfigWatcher? watcher = null;
        try
        {
            _datapath = LbDatapath.Load(new LbDatapathOptions
            {
                ObjectPath = objectPath,
                PinRoot = _options.PinRoot,
                FlowTableCapacity = config.Datapath.FlowTableCapacity,
                MaglevTableSize = config.Datapath.Maglev.TableSize,
            }, _loggerFactory.CreateLogger<LbDatapath>());
            // The record outlives the agent, like the maps: the next `lb run` removes what it no longer needs, `lb down` the rest.
            var neighbours = new IpNeighbourKeeper(null, IpNeighbourKeeper.RecordPathFor(_options.StatusFile), _loggerFactory.CreateLogger<IpNeighbourKeeper>());
            _programmer = new Programmer(_datapath.Maps, ProgrammerOptions.Default, _loggerFactory.CreateLogger<Programmer>(), _time, neighbours);
            var restored = _programmer.RestoredIds;
            if (restored.ServiceIds.Count > 0)
                AgentLog.Adopted(_logger, restored.ServiceIds.Count, restored.BackendIds.Count);

            // Program before attaching: a new program (or a replacement) meets complete tables from its first frame.
            DesiredState first;
            ApplyResult result;
            try
            {
                first = DesiredState.Restore(config, restored);
                result = _programmer.Apply(first);
            }
            catch (Exception e) when (e is ArgumentException or IdSpaceExhaustedException)
            {
                return Refuse(configPath, e.Message);
            }
            _current = first;
            _runningConfig = config;
            _metrics.RecordProgramming(result.Duration);
            _metrics.RecordUpdate("applied", _time.GetUtcNow());
            AgentLog.Programmed(_logger, first.Generation, configPath, first.ServicesById.Count, result.Changes, result.MapWrites, result.Duration.TotalMilliseconds);

            attachments = _datapath.Attach(_interfaces);
            foreach (var attachment in attachments)
                AgentLog.Attached(_logger, Interfaces.NameOf(attachment.Ifindex), attachment.Mode.ToString().ToLowerInvariant(), attachment.ProgramId);

            _status = new AgentStatus
            {
                Pid = Environment.ProcessId,
                Version = BuildInfo.Version,
                StartedAt = started,
                Source = "file",
                ConfigPath = Path.GetFullPath(configPath),
                Mode = "xdp",
                PinRoot = _datapath.PinRoot,
                ObjectPath = Path.GetFullPath(objectPath),
                ProgramId = _datapath.Program.Id,
                Interfaces = _interfaces,
                LastUpdate = _time.GetUtcNow(),
                LastResult = "applied",
                LastApplied = _time.GetUtcNow(),
                Generation = first.Generation,
                Services = first.ServicesById.Count,
                FrontendKinds = FrontendKinds(first),
            };
            WriteStatus();

            admin = await AdminServer.StartAsync(IPEndPoint.Parse(config.Admin.Listen), this, _loggerFactory, cancellationToken);
            AgentLog.AdminListening(_logger, admin.Address);
            _status = _status with { AdminListen = admin.Address };
            WriteStatus();

            watcher = new ConfigWatcher(configPath, text, _options.PollInterval, _options.Debounce, e => AgentLog.WatchFailed(_logger, configPath, e));
            AgentLog.Running(_logger, configPath);
            while (!cancellationToken.IsCancellationRequested)
            {
                ConfigFileVersion version;
                try
                {
                    version = await watcher.WaitForChangeAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                AgentLog.ConfigChanged(_logger, configPath, version.Trigger);
                if (!Reload(version))
                    watcher.Forget();
            }
            AgentLog.Stopping(_logger);
            return ExitOk;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            AgentLog.Stopping(_logger);
            return ExitOk;
        }
        catch (Exception e) when (e is NativeErrorException or InvalidOperationException or IOException or InvalidDataException or DatapathProgrammingException)
        {
            AgentLog.StartFailed(_logger, e.Message, e);
            return ExitFailed;
        }
        finally
        {
            watcher?.Dispose();
            if (admin is not null)
                await admin.DisposeAsync();
            // Descriptors only: the program stays attached and the maps pinned.
            foreach (var attachment in attachments)
                attachment.Dispose();
            var pinRoot = _datapath?.PinRoot;
            _datapath?.Dispose();
            if (attachments.Count > 0)
                AgentLog.Stopped(_logger, string.Join(", ", _interfaces), pinRoot!);
        }
    }

    /// <summary>
    /// Applies a new version of the file. Returns false when it should be tried again even if the file does
    /// not change (a map write failed); an invalid file returns true: it is refused until it changes.
    /// </summary>
    private bool Reload(ConfigFileVersion version)
    {
        var configPath = _options.ConfigPath;
        var now = _time.GetUtcNow();
        var loaded = version.Text is null
            ? null
            : LbConfigLoader.Parse(version.Text, configPath);
        if (loaded is null || !loaded.IsValid)
        {
            var errors = loaded is null ? [$"{configPath}: cannot read the file: {version.ReadError}"] : loaded.Errors.Select(e => e.ToString()).ToList();
            foreach (var error in errors)
                AgentLog.ConfigError(_logger, error);
            AgentLog.ReloadRefused(_logger, configPath, errors.Count, _current.Generation);
            Record("refused", now, errors);
            return true;
        }

        var config = WithSnat(loaded.Config!);
        WarnAboutRestartSettings(_runningConfig!, config);
        ApplyResult result;
        DesiredState target;
        try
        {
            target = DesiredState.Build(config, _current);
            result = _programmer!.Apply(target);
        }
        catch (Exception e) when (e is ArgumentException or IdSpaceExhaustedException)
        {
            AgentLog.TargetRefused(_logger, configPath, e.Message);
            Record("refused", now, [e.Message]);
            return true;
        }
        catch (DatapathProgrammingException e)
        {
            AgentLog.ProgrammingFailed(_logger, configPath, e);
            Record("failed", now, [e.Message]);
            return false;
        }

        _current = target;
        _runningConfig = config;
        _metrics.RecordProgramming(result.Duration);
        var outcome = result.MapWrites == 0 ? "unchanged" : "applied";
        if (outcome == "unchanged")
            AgentLog.ReloadUnchanged(_logger, configPath);
        else
            AgentLog.Programmed(_logger, target.Generation, configPath, target.ServicesById.Count, result.Changes, result.MapWrites, result.Duration.TotalMilliseconds);
        Record(outcome, now, []);
        return true;
    }

    private static Dictionary<string, string> FrontendKinds(DesiredState state) =>
        state.ServicesById.Values.SelectMany(s => s.Service.Frontends)
            .GroupBy(f => f.Key.ToString())
            .ToDictionary(g => g.Key, g => g.First().Kind.ToString());

    private void Record(string result, DateTimeOffset at, IReadOnlyList<string> errors)
    {
        _metrics.RecordUpdate(result, at);
        var status = _status!;
        _status = status with
        {
            LastUpdate = at,
            LastResult = result,
            LastErrors = errors,
            LastApplied = result == "applied" ? at : status.LastApplied,
            Generation = _current.Generation,
            Services = _current.ServicesById.Count,
            FrontendKinds = FrontendKinds(_current),
        };
        WriteStatus();
    }

    private void WarnAboutRestartSettings(LbConfig running, LbConfig next)
    {
        var path = _options.ConfigPath;
        if (_options.Interfaces.Count == 0 && running.Datapath.Interfaces != next.Datapath.Interfaces)
            AgentLog.NeedsRestart(_logger, "datapath.interfaces", string.Join(",", running.Datapath.Interfaces), string.Join(",", next.Datapath.Interfaces), path);
        if (running.Datapath.Mode != next.Datapath.Mode)
            AgentLog.NeedsRestart(_logger, "datapath.mode", running.Datapath.Mode.ToString(), next.Datapath.Mode.ToString(), path);
        if (running.Admin != next.Admin)
            AgentLog.NeedsRestart(_logger, "admin", running.Admin.ToString(), next.Admin.ToString(), path);
    }

    /// <summary>A running agent on the same pin root, by its status file: two agents would undo each other's writes.</summary>
    private AgentStatus? OtherAgent()
    {
        try
        {
            var status = AgentStatus.TryRead(_options.StatusFile);
            return status is not null && status.Pid != Environment.ProcessId && status.IsRunning()
                && Path.GetFullPath(status.PinRoot).TrimEnd('/') == Path.GetFullPath(_options.PinRoot).TrimEnd('/')
                ? status
                : null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private LbConfig WithSnat(LbConfig config) => config with { Datapath = _snat!.ApplyTo(config.Datapath, _options.SnatAddresses) };

    private int Refuse(string configPath, string reason)
    {
        AgentLog.TargetRefused(_logger, configPath, reason);
        return ExitInvalid;
    }

    private void WriteStatus()
    {
        try
        {
            _status?.Write(_options.StatusFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            AgentLog.StatusFileFailed(_logger, _options.StatusFile, e);
        }
    }

    // ---- the admin API ----

    string IAdminSource.Metrics()
    {
        var maps = _datapath!.Maps;
        var services = DatapathInspector.Services(maps);
        var reasons = DatapathInspector.Reasons(maps)
            .Select(r => new ReasonCount(DatapathInspector.ReasonName(r.Reason), DatapathInspector.Verdict(r.Reason), r.Count)).ToList();
        return PrometheusText.Render(new PrometheusText.Inputs(services, reasons, DatapathInspector.Fill(maps), _metrics.Read(),
            _programmer!.AppliedCount, _programmer.FailedCount, _current.Generation));
    }

    string IAdminSource.StatusJson() =>
        StatusReport.Collect(_datapath!.Maps, _datapath.PinRoot, new AgentView(true, _status), _interfaces).ToJson();

    string? IAdminSource.Unhealthy()
    {
        if (_status?.LastResult == "failed")
            return "the last change could not be programmed: " + string.Join("; ", _status.LastErrors);
        foreach (var name in _interfaces)
        {
            var query = XdpAttachment.Query(Interfaces.IndexOf(name));
            if (query.ProgramId != _datapath!.Program.Id)
                return $"lb_xdp (id {_datapath.Program.Id}) is not attached to {name} (it runs program id {query.ProgramId})";
        }
        return null;
    }
}
