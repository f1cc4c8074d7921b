using System.Net;
using System.Net.Sockets;
using Lb.Core.Maglev;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Datapath.Tables;
using Lb.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Agent.Programming;

/// <summary>
/// Turns desired-state snapshots into BPF map writes (STYLE §12). <see cref="Apply"/> diffs the target
/// against the snapshot it last programmed and applies <see cref="StateDiff.Ordered"/>: backends, then
/// Maglev tables, then the lb_services entries that make them visible, then deletions. Every write is
/// compared first with what the programmer knows the maps hold (<see cref="MapContents"/>), which
/// changes only after the write succeeded; so applying the same target twice writes nothing, and an
/// apply cut short by a failed write is finished by the next one. See docs/programmer.md.
/// </summary>
public sealed partial class Programmer
{
    /// <summary>
    /// Tables swapped per batch. Each update of a map of maps waits for an RCU grace period (milliseconds),
    /// so swaps go in batches; a bound keeps the descriptors and kernel memory of built-but-unswapped
    /// tables in check.
    /// </summary>
    internal const int TableSwapBatch = 1024;

    private readonly LbMaps _maps;
    private readonly ProgrammerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly INeighbourKeeper? _neighbours;
    private readonly MapContents _contents;
    private readonly Lock _applyLock = new();
    private readonly List<PendingTable> _pendingTables = [];
    private readonly List<uint> _pendingRemovals = [];
    private readonly HashSet<uint> _servicesWithNewTables = [];
    private MaglevTableBuilder? _builder;
    private DesiredState _applied = DesiredState.Empty;
    private bool _fullSyncPending = true;
    private int _writes;
    private int _tablesBuilt;

    /// <summary>
    /// A programmer for <paramref name="maps"/>. It reads what the maps hold, including the pinned names
    /// record (<see cref="RestoredIds"/>); its first apply writes the whole target and removes whatever the
    /// maps hold beyond it (entries of services dropped while no agent ran), later ones only the difference.
    /// With <paramref name="neighbours"/>, every backend's next hop gets a neighbour entry before the backend
    /// is written, and entries no backend needs any more go after the deletions (docs/programmer.md).
    /// </summary>
    public Programmer(LbMaps maps, ProgrammerOptions? options = null, ILogger<Programmer>? logger = null, TimeProvider? time = null,
        INeighbourKeeper? neighbours = null)
    {
        ArgumentNullException.ThrowIfNull(maps);
        _options = options ?? ProgrammerOptions.Default;
        var errors = _options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException("Invalid programmer options: " + string.Join("; ", errors) + ".", nameof(options));
        _maps = maps;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _neighbours = neighbours;
        _contents = MapContents.Read(maps);
        RestoredIds = ToIdAssignment(_contents);
        LogStarted(_logger, _contents.ServiceNames.Count, _contents.BackendNames.Count, _contents.Services.Count, _contents.Tables.Count);
    }

    /// <summary>
    /// The ids the pinned names record held when this programmer started: give it to
    /// <see cref="DesiredState.Restore(LbConfig, IdAssignment)"/> so every service and backend keeps the id
    /// its flows were recorded with.
    /// </summary>
    public IdAssignment RestoredIds { get; }

    /// <summary>The snapshot last applied completely (<see cref="DesiredState.Empty"/> before the first).</summary>
    public DesiredState Applied
    {
        get
        {
            lock (_applyLock)
                return _applied;
        }
    }

    /// <summary>The latest apply that completed, with its programming latency; null before the first.</summary>
    public ApplyResult? LastApply { get; private set; }

    /// <summary>Applies that completed, and applies that failed part-way, since start.</summary>
    public long AppliedCount { get; private set; }

    public long FailedCount { get; private set; }

    /// <summary>Reads the ids in the names record pinned with <paramref name="maps"/> (empty when nothing was ever programmed).</summary>
    public static IdAssignment Restore(LbMaps maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        return ToIdAssignment(MapContents.Read(maps));
    }

    /// <summary>
    /// Programs <paramref name="target"/>. A failed map write stops the apply with a
    /// <see cref="DatapathProgrammingException"/>; what was written stays, <see cref="Applied"/> stays the
    /// previous snapshot, and the next apply writes the whole of its target again, skipping what is there.
    /// </summary>
    /// <exception cref="ArgumentException">The target cannot be programmed as it is (nothing is written).</exception>
    public ApplyResult Apply(DesiredState target)
    {
        ArgumentNullException.ThrowIfNull(target);
        lock (_applyLock)
        {
            var start = _time.GetTimestamp();
            var (snatV4, snatV6) = CheckTarget(target);
            var fullSync = _fullSyncPending;
            var diff = DesiredState.Diff(fullSync ? DesiredState.Empty : _applied, target);
            _writes = 0;
            _tablesBuilt = 0;
            if (!fullSync && diff.IsEmpty)
            {
                _applied = target;
                return Complete(target, "no changes", fullSync, start);
            }

            // Before any backend is visible, so the kernel is resolving its next hop when the first packet comes;
            // the previous snapshot's backends are kept until the deletions below are written.
            _neighbours?.Keep(BackendAddresses(fullSync ? DesiredState.Empty : _applied, target));

            StateChange? current = null;
            try
            {
                WriteConfig(target, snatV4, snatV6);
                WriteCursors(target.Cursors);
                foreach (var change in diff.Ordered())
                {
                    // Table changes come in runs (Ordered keeps them together); each run is written in batches,
                    // whose failure names no single change.
                    current = null;
                    if (change is not MaglevTableRebuilt)
                        FlushTables(target, endOfRun: true);
                    if (change is not MaglevTableRemoved)
                        FlushRemovals();
                    current = change;
                    ApplyChange(change, target);
                }
                current = null;
                FlushTables(target, endOfRun: true);
                FlushRemovals();
                if (fullSync)
                    RemoveStale(target);
            }
            catch (Exception e)
            {
                // The contents model holds exactly what was written; a full pass next time finishes the job.
                _pendingTables.Clear();
                _pendingRemovals.Clear();
                _servicesWithNewTables.Clear();
                _fullSyncPending = true;
                FailedCount++;
                var error = DatapathProgrammingException.From(e, current, target.Generation);
                LogApplyFailed(_logger, target.Generation, _writes, error);
                throw error;
            }

            _applied = target;
            _fullSyncPending = false;
            _neighbours?.Keep(BackendAddresses(DesiredState.Empty, target));
            return Complete(target, fullSync ? $"full sync: {diff}" : diff.ToString(), fullSync, start);
        }
    }

    private static HashSet<IPAddress> BackendAddresses(DesiredState previous, DesiredState target)
    {
        var addresses = new HashSet<IPAddress>();
        foreach (var backend in previous.BackendsById.Values)
            addresses.Add(backend.Backend.Address);
        foreach (var backend in target.BackendsById.Values)
            addresses.Add(backend.Backend.Address);
        return addresses;
    }

    private ApplyResult Complete(DesiredState target, string changes, bool fullSync, long start)
    {
        var result = new ApplyResult(target.Generation, changes, _writes, _tablesBuilt, fullSync, _time.GetElapsedTime(start));
        LastApply = result;
        AppliedCount++;
        if (_writes > 0)
            LogApplied(_logger, result.Generation, result.Changes, result.MapWrites, result.TablesBuilt, result.Duration.TotalMilliseconds);
        return result;
    }

    private void ApplyChange(StateChange change, DesiredState target)
    {
        switch (change)
        {
            case OptionsChanged c:
                // lb_config was written above. Map sizes are fixed when the object is loaded.
                if (_maps.Flows.Map.MaxEntries != c.To.FlowTableCapacity)
                    LogCapacityNeedsRestart(_logger, _maps.Flows.Map.MaxEntries, c.To.FlowTableCapacity);
                break;
            case ServiceAdded c:
                WriteServiceName(c.ServiceId, c.Name);
                break;
            case ServiceRemoved c:
                DeleteName(LbNameKind.Service, c.ServiceId);
                break;
            case ServicePolicyChanged c:
                WriteServiceEntries(c.ServiceId, target);
                break;
            case SourceRangesChanged c:
                foreach (var network in c.Added)
                    InsertSourceRange(MapEncoding.SourceRange(c.ServiceId, network));
                foreach (var network in c.Removed)
                    DeleteSourceRange(MapEncoding.SourceRange(c.ServiceId, network));
                break;
            case BackendAdded c:
                WriteBackendName(c.Backend);
                WriteBackend(c.Backend);
                break;
            case BackendChanged c:
                WriteBackend(c.To);
                break;
            case BackendRemoved c:
                DeleteBackend(c.Backend.Id);
                DeleteName(LbNameKind.Backend, c.Backend.Id);
                break;
            case FrontendAdded c:
                WriteFrontend(c.Frontend.Key, target);
                break;
            case FrontendChanged c:
                WriteFrontend(c.To.Key, target);
                break;
            case FrontendRemoved c:
                DeleteFrontend(MapEncoding.ServiceKey(c.Frontend.Key));
                break;
            case MaglevTableRebuilt c:
                QueueTable(c, target);
                break;
            case MaglevTableRemoved c:
                // Its frontends of that family must read backend_count 0 before the table goes.
                WriteServiceEntries(c.Key.ServiceId, target);
                QueueRemoval(MapEncoding.MaglevSlot(c.Key));
                break;
            default:
                throw new InvalidOperationException($"The programmer does not know the change {change.GetType().Name}.");
        }
    }

    // ---- lb_config and the names record ----

    private void WriteConfig(DesiredState target, IPAddress? snatV4, IPAddress? snatV6)
    {
        var config = MapEncoding.Config(target, _options.NatPortMin, _options.NatPortMax, _options.Mtu, _options.FlowTimeout, snatV4, snatV6);
        if (Bytewise<LbDatapathConfig>.Same(_contents.Config, config))
            return;
        _maps.Config.Update(0, config);
        _contents.Config = config;
        _writes++;
    }

    private void WriteCursors(IdCursors cursors)
    {
        if (_contents.Cursors == cursors)
            return;
        var record = new LbName { ServiceId = cursors.LastServiceId, BackendId = cursors.LastBackendId };
        _maps.Names.Update(new LbNameKey(LbNameKind.Cursors, 0), record);
        _contents.Cursors = cursors;
        _writes++;
    }

    private void WriteServiceName(uint serviceId, string name)
    {
        if (_contents.ServiceNames.TryGetValue(serviceId, out var known) && known == name)
            return;
        _maps.Names.Update(new LbNameKey(LbNameKind.Service, serviceId), LbName.Create(name));
        _contents.ServiceNames[serviceId] = name;
        _writes++;
        // A new holder of the id counts from zero, not from where the previous holder stopped; the
        // counters are zeroed before any frontend can reach the service.
        _maps.SvcStats.UpdatePerCpu(serviceId, new LbServiceStats[BpfMap.PossibleCpus]);
        _writes++;
    }

    private void WriteBackendName(BackendEntry backend)
    {
        if (_contents.BackendNames.TryGetValue(backend.Id, out var known) && known == (backend.ServiceId, backend.Identity))
            return;
        _maps.Names.Update(new LbNameKey(LbNameKind.Backend, backend.Id), LbName.Create(backend.Identity, backend.ServiceId));
        _contents.BackendNames[backend.Id] = (backend.ServiceId, backend.Identity);
        _writes++;
    }

    private void DeleteName(LbNameKind kind, uint id)
    {
        var known = kind == LbNameKind.Service ? _contents.ServiceNames.ContainsKey(id) : _contents.BackendNames.ContainsKey(id);
        if (!known)
            return;
        _maps.Names.Delete(new LbNameKey(kind, id));
        if (kind == LbNameKind.Service)
            _contents.ServiceNames.Remove(id);
        else
            _contents.BackendNames.Remove(id);
        _writes++;
    }

    // ---- lb_backends, lb_services, lb_src_ranges ----

    private void WriteBackend(BackendEntry backend)
    {
        var value = MapEncoding.Backend(backend);
        if (_contents.Backends.TryGetValue(backend.Id, out var known) && Bytewise<LbBackend>.Same(known, value))
            return;
        _maps.Backends.Update(backend.Id, value);
        _contents.Backends[backend.Id] = value;
        _writes++;
    }

    private void DeleteBackend(uint id)
    {
        if (!_contents.Backends.ContainsKey(id))
            return;
        // lb_backends is an array: a free id is an all-zero entry, which the program refuses like a missing one.
        _maps.Backends.Update(id, default);
        _contents.Backends.Remove(id);
        _writes++;
    }

    /// <summary>Writes the lb_services entry of one frontend as the target has it: owner, policy, schedulable count of its family.</summary>
    private void WriteFrontend(FrontendKey key, DesiredState target)
    {
        var owner = target.ServicesById[target.Frontends[key].ServiceId];
        var value = MapEncoding.Service(owner, key.Family, target.SchedulableBackends(owner.Id, key.Family).Count);
        var mapKey = MapEncoding.ServiceKey(key);
        if (_contents.Services.TryGetValue(mapKey, out var known) && Bytewise<LbService>.Same(known, value))
            return;
        _maps.Services.Update(mapKey, value);
        _contents.Services[mapKey] = value;
        _writes++;
    }

    /// <summary>Every lb_services entry of a service in the target; nothing when the target has no such service.</summary>
    private void WriteServiceEntries(uint serviceId, DesiredState target)
    {
        if (!target.ServicesById.TryGetValue(serviceId, out var service))
            return;
        foreach (var frontend in service.Service.Frontends)
            WriteFrontend(frontend.Key, target);
    }

    private void DeleteFrontend(LbServiceKey key)
    {
        if (!_contents.Services.ContainsKey(key))
            return;
        _maps.Services.Delete(key);
        _contents.Services.Remove(key);
        _writes++;
    }

    private void InsertSourceRange(LbSrcRangeKey key)
    {
        if (_contents.SourceRanges.Contains(key))
            return;
        _maps.SrcRanges.Update(key, 1);
        _contents.SourceRanges.Add(key);
        _writes++;
    }

    private void DeleteSourceRange(LbSrcRangeKey key)
    {
        if (!_contents.SourceRanges.Contains(key))
            return;
        _maps.SrcRanges.Delete(key);
        _contents.SourceRanges.Remove(key);
        _writes++;
    }

    // ---- lb_maglev ----

    private void QueueTable(MaglevTableRebuilt change, DesiredState target)
    {
        var slot = MapEncoding.MaglevSlot(change.Key);
        var options = target.Options.Maglev;
        var backends = change.Backends.Select(b => new MaglevBackend(b.Identity, b.Backend.Weight, b.Id)).ToEquatableArray();
        if (_contents.Tables.TryGetValue(slot, out var known) && known.Matches(options, backends))
            return;
        _pendingTables.Add(new PendingTable(slot, change.Key.ServiceId, options, backends));
        if (_pendingTables.Count >= TableSwapBatch)
            FlushTables(target, endOfRun: false);
    }

    /// <summary>
    /// Builds the queued tables (in parallel: building is pure computation, and most of the cost of a
    /// large apply), fills a new inner map for each and swaps them in with one batch. At the end of the
    /// run of table changes, the lb_services entries of their services are written too (the schedulable
    /// count follows the table); not before, so no frontend counts on a table of the run not yet in place.
    /// </summary>
    private void FlushTables(DesiredState target, bool endOfRun)
    {
        if (_pendingTables.Count > 0)
        {
            var pending = _pendingTables.ToArray();
            _pendingTables.Clear();
            var tables = new BpfMap?[pending.Length];
            try
            {
                BuildTables(pending, tables);
                var swapped = 0;
                try
                {
                    swapped = _maps.SetMaglevTables(pending.Select(p => p.Slot).ToArray(), tables!);
                }
                catch (BpfBatchException e)
                {
                    swapped = e.Processed;
                    throw;
                }
                finally
                {
                    for (var i = 0; i < swapped; i++)
                    {
                        _contents.Tables[pending[i].Slot] = new MaglevTableRecord(tables[i]!.Id, pending[i].Options, pending[i].Backends);
                        _servicesWithNewTables.Add(pending[i].ServiceId);
                    }
                    _writes += swapped;
                }
            }
            finally
            {
                // The outer map holds a reference to every swapped table; the rest are freed with their descriptor.
                foreach (var table in tables)
                    table?.Dispose();
            }
        }

        if (endOfRun && _servicesWithNewTables.Count > 0)
        {
            foreach (var serviceId in _servicesWithNewTables.Order())
                WriteServiceEntries(serviceId, target);
            _servicesWithNewTables.Clear();
        }
    }

    private void BuildTables(PendingTable[] pending, BpfMap?[] tables)
    {
        var options = pending[0].Options;
        if (_builder is null || _builder.TableSize != options.TableSize || _builder.Seed != options.Seed)
            _builder = new MaglevTableBuilder(options);
        var builder = _builder;
        try
        {
            Parallel.For(0, pending.Length, i =>
            {
                var table = builder.Build(pending[i].Backends.AsImmutableArray().AsSpan());
                tables[i] = _maps.CreateMaglevTable(table.BackendIds.Span);
            });
        }
        catch (AggregateException e)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        _tablesBuilt += pending.Length;
    }

    private void QueueRemoval(uint slot)
    {
        if (_contents.Tables.ContainsKey(slot))
            _pendingRemovals.Add(slot);
    }

    private void FlushRemovals()
    {
        if (_pendingRemovals.Count == 0)
            return;
        var slots = _pendingRemovals.ToArray();
        _pendingRemovals.Clear();
        var removed = 0;
        try
        {
            removed = _maps.RemoveMaglevTables(slots);
        }
        catch (BpfBatchException e)
        {
            removed = e.Processed;
            throw;
        }
        finally
        {
            for (var i = 0; i < removed; i++)
                _contents.Tables.Remove(slots[i]);
            _writes += removed;
        }
    }

    // ---- the first apply: what the maps hold beyond the target ----

    /// <summary>
    /// Deletes entries the target does not have, in the order of the deletion step: frontends, tables,
    /// source ranges, backends, then the names (so the names record always covers what the maps hold).
    /// </summary>
    private void RemoveStale(DesiredState target)
    {
        var frontends = target.Frontends.Keys.Select(MapEncoding.ServiceKey).ToHashSet(Bytewise<LbServiceKey>.Instance);
        foreach (var key in _contents.Services.Keys.Where(k => !frontends.Contains(k)).ToList())
            DeleteFrontend(key);

        var slots = target.SchedulableSets.Keys.Select(MapEncoding.MaglevSlot).ToHashSet();
        foreach (var slot in _contents.Tables.Keys.Where(s => !slots.Contains(s)).Order().ToList())
            QueueRemoval(slot);
        FlushRemovals();

        var ranges = MapEncoding.SourceRanges(target).ToHashSet(Bytewise<LbSrcRangeKey>.Instance);
        foreach (var key in _contents.SourceRanges.Where(k => !ranges.Contains(k)).ToList())
            DeleteSourceRange(key);

        foreach (var id in _contents.Backends.Keys.Where(id => !target.BackendsById.ContainsKey(id)).Order().ToList())
            DeleteBackend(id);
        foreach (var id in _contents.BackendNames.Keys.Where(id => !target.BackendsById.ContainsKey(id)).Order().ToList())
            DeleteName(LbNameKind.Backend, id);
        foreach (var id in _contents.ServiceNames.Keys.Where(id => !target.ServicesById.ContainsKey(id)).Order().ToList())
            DeleteName(LbNameKind.Service, id);
    }

    // ---- checks before any write ----

    /// <summary>
    /// What would make the target impossible to program: a Maglev set larger than the table, or a service
    /// that needs Lb's own address (nat with SNAT, or dsr-ipip's outer header) in a family that has none.
    /// </summary>
    private (IPAddress? V4, IPAddress? V6) CheckTarget(DesiredState target)
    {
        var datapath = target.Options;
        var snatV4 = _options.SnatAddressV4 ?? FirstOfFamily(AddressFamily.InterNetwork, datapath.SnatAddress, datapath.SnatAddressV6);
        var snatV6 = _options.SnatAddressV6 ?? FirstOfFamily(AddressFamily.InterNetworkV6, datapath.SnatAddressV6, datapath.SnatAddress);
        var errors = new List<string>();
        foreach (var (key, set) in target.SchedulableSets)
        {
            if ((uint)set.Count > datapath.Maglev.TableSize)
                errors.Add($"{key} has {set.Count} schedulable backends, more than maglev.tableSize {datapath.Maglev.TableSize}");
        }

        foreach (var service in target.ServicesById.Values)
        {
            var policy = service.Service.Policy;
            var needsOwnAddress = policy.Forwarding == ForwardingMode.DsrIpip
                                  || (policy.Forwarding == ForwardingMode.Nat && policy.ExternalTrafficPolicy != TrafficPolicy.Local);
            if (!needsOwnAddress)
                continue;
            foreach (var family in service.Service.Frontends.Select(f => f.Family).Distinct())
            {
                if ((family == AddressFamily.InterNetwork ? snatV4 : snatV6) is null)
                {
                    var which = family == AddressFamily.InterNetwork ? "IPv4" : "IPv6";
                    errors.Add($"service '{service.Name}' forwards {which} traffic by {ConfigName(policy.Forwarding)}, which needs Lb's own {which} address, " +
                               $"and none is set (datapath.snatAddress{(family == AddressFamily.InterNetwork ? "" : "V6")}, or an {which} address on the interface)");
                }
            }
        }

        if (errors.Count > 0)
        {
            const int shown = 10;
            var more = errors.Count > shown ? $"; and {errors.Count - shown} more" : "";
            throw new ArgumentException($"Generation {target.Generation} cannot be programmed: {string.Join("; ", errors.Take(shown))}{more}.", nameof(target));
        }
        return (snatV4, snatV6);
    }

    private static IPAddress? FirstOfFamily(AddressFamily family, params IPAddress?[] candidates) =>
        candidates.FirstOrDefault(a => a?.AddressFamily == family);

    private static string ConfigName(ForwardingMode mode) => mode switch
    {
        ForwardingMode.Nat => "nat",
        ForwardingMode.DsrIpip => "dsr-ipip",
        _ => "dsr-l2",
    };

    private static IdAssignment ToIdAssignment(MapContents contents)
    {
        try
        {
            var services = contents.ServiceNames.Select(pair => KeyValuePair.Create(pair.Value, pair.Key));
            // A backend's service is named through its owner's record, which is removed after the backend's.
            var backends = contents.BackendNames
                .Where(pair => contents.ServiceNames.ContainsKey(pair.Value.ServiceId))
                .Select(pair => KeyValuePair.Create(new BackendKey(contents.ServiceNames[pair.Value.ServiceId], pair.Value.Identity), pair.Key));
            return new IdAssignment(services, backends, contents.Cursors);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The pinned names record ({LbMapNames.Names}) is inconsistent: {e.Message} `lb down` clears it, with the datapath.", e);
        }
    }

    private readonly record struct PendingTable(uint Slot, uint ServiceId, MaglevOptions Options, EquatableArray<MaglevBackend> Backends);

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information,
        Message = "Programmer started on maps holding {ServiceNames} named services, {BackendNames} named backends, {Frontends} frontends and {Tables} Maglev tables")]
    private static partial void LogStarted(ILogger logger, int serviceNames, int backendNames, int frontends, int tables);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information,
        Message = "Programmed generation {Generation} ({Changes}): {Writes} map writes, {Tables} Maglev tables built, in {Milliseconds:F1} ms")]
    private static partial void LogApplied(ILogger logger, long generation, string changes, int writes, int tables, double milliseconds);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Error,
        Message = "Programming generation {Generation} failed after {Writes} map writes; the next apply completes it")]
    private static partial void LogApplyFailed(ILogger logger, long generation, int writes, Exception exception);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning,
        Message = "The running flow table has {Running} entries and datapath.flowTable.capacity asks for {Configured}; it keeps its size until `lb down` and a restart")]
    private static partial void LogCapacityNeedsRestart(ILogger logger, uint running, uint configured);
}
