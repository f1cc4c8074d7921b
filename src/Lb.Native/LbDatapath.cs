using Lb.Datapath.Abi;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Native;

/// <summary>What <see cref="LbDatapath.Load"/> loads and how it sizes the maps.</summary>
public sealed record LbDatapathOptions
{
    /// <summary>The compiled XDP object, <c>lb_xdp.bpf.o</c> (CMake writes it to build/bpf).</summary>
    public required string ObjectPath { get; init; }

    /// <summary>Where maps and the program are pinned; a directory on bpffs.</summary>
    public string PinRoot { get; init; } = LbAbi.PinRoot;

    /// <summary>max_entries of lb_flows and lb_rev_nat (<c>datapath.flowTable.capacity</c>).</summary>
    public uint FlowTableCapacity { get; init; } = LbLimits.DefaultFlows;

    /// <summary>M, the size of every inner Maglev table (<c>datapath.maglev.tableSize</c>).</summary>
    public uint MaglevTableSize { get; init; } = LbLimits.MaglevDefaultSize;
}

/// <summary>What <see cref="LbDatapath.Down"/> did.</summary>
public sealed record LbDatapathDownResult(
    IReadOnlyList<string> DetachedInterfaces,
    IReadOnlyList<string> RemovedPins,
    bool RemovedPinRoot);

/// <summary>
/// Lb's XDP datapath on this host: the lb_xdp program and its maps, loaded with libbpf so that every map
/// is pinned by name under the pin root and reused from there by the next load (a restarted or upgraded
/// agent adopts the running maps, and the flows in them). The program is pinned too, and attached over
/// netlink, so it keeps running when the agent exits; <see cref="Down"/> undoes all of it.
/// </summary>
public sealed partial class LbDatapath : IDisposable
{
    /// <summary>The XDP program's name in the object (SEC("xdp") int lb_xdp).</summary>
    public const string ProgramName = "lb_xdp";

    /// <summary>The program's pin under the pin root, how <c>lb status</c> and <c>lb down</c> know which attached program is Lb's.</summary>
    public const string ProgramPinName = "prog_lb_xdp";

    /// <summary>Where a new program is pinned before it is renamed over <see cref="ProgramPinName"/> (bpffs refuses '.' in names).</summary>
    private const string ProgramStagingPinName = "prog_lb_xdp_new";

    private readonly ILogger _logger;

    private LbDatapath(LbMaps maps, BpfProgram program, string pinRoot, ILogger logger)
    {
        Maps = maps;
        Program = program;
        PinRoot = pinRoot;
        _logger = logger;
    }

    public LbMaps Maps { get; }

    public BpfProgram Program { get; }

    public string PinRoot { get; }

    /// <summary>Every name Lb pins under its pin root: the maps and the program. <see cref="Down"/> removes these and nothing else.</summary>
    public static IReadOnlyList<string> PinNames { get; } = [.. LbMaps.PinnedMapNames, ProgramPinName, ProgramStagingPinName];

    /// <summary>
    /// Loads the object: mounts bpffs if needed, sizes lb_flows and lb_rev_nat and the Maglev inner
    /// template, and loads with the pin root, so maps already pinned there are reused (their sizes must
    /// match) and new ones are pinned. Then pins the program, replacing an older build's pin.
    /// </summary>
    public static LbDatapath Load(LbDatapathOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.ObjectPath);
        ArgumentException.ThrowIfNullOrEmpty(options.PinRoot);
        ArgumentOutOfRangeException.ThrowIfZero(options.FlowTableCapacity);
        ArgumentOutOfRangeException.ThrowIfZero(options.MaglevTableSize);
        logger ??= NullLogger.Instance;
        if (!File.Exists(options.ObjectPath))
            throw new FileNotFoundException($"The XDP object {options.ObjectPath} does not exist (build it with `cmake -S . -B build && cmake --build build`).", options.ObjectPath);

        BpfFileSystem.EnsureMounted();
        var pinRoot = Path.GetFullPath(options.PinRoot);
        Directory.CreateDirectory(pinRoot);
        CheckPinnedCapacity(pinRoot, LbMapNames.Flows, options.FlowTableCapacity);
        CheckPinnedCapacity(pinRoot, LbMapNames.RevNat, options.FlowTableCapacity);

        using var obj = BpfObject.Open(options.ObjectPath, new BpfObjectOpenOptions { PinRootPath = pinRoot });
        obj.SetMaxEntries(LbMapNames.Flows, options.FlowTableCapacity);
        obj.SetMaxEntries(LbMapNames.RevNat, options.FlowTableCapacity);
        obj.SetInnerMapMaxEntries(LbMapNames.Maglev, options.MaglevTableSize, LbMaps.MaglevInnerFlags);
        obj.Load();

        var maps = LbMaps.FromObject(obj, pinRoot);
        BpfProgram? program = null;
        try
        {
            program = obj.GetProgram(ProgramName);
            PinProgram(program, pinRoot);
            LogLoaded(logger, options.ObjectPath, program.Id, pinRoot, options.FlowTableCapacity, options.MaglevTableSize);
            return new LbDatapath(maps, program, pinRoot, logger);
        }
        catch
        {
            program?.Dispose();
            maps.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Puts this program on each interface: attaches it where there is none (native mode, falling back to
    /// generic with a logged warning when the driver has no XDP hook), keeps it where it already runs, and
    /// atomically replaces an older build of lb_xdp (the adopted attachment keeps its mode). An interface
    /// running some other XDP program is an error, and nothing is changed on it.
    /// </summary>
    public IReadOnlyList<XdpAttachment> Attach(IEnumerable<string> interfaces, XdpMode mode = XdpMode.Native, bool allowGenericFallback = true)
    {
        ArgumentNullException.ThrowIfNull(interfaces);
        var attachments = new List<XdpAttachment>();
        try
        {
            foreach (var name in interfaces)
                attachments.Add(AttachOne(name, mode, allowGenericFallback));
            return attachments;
        }
        catch
        {
            // Descriptors only: what was attached stays attached, as it would after a crash.
            foreach (var attachment in attachments)
                attachment.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <c>lb down</c>: detaches Lb's program from each of <paramref name="interfaces"/> (an lb_xdp program,
    /// or the pinned one; another program is left alone with a warning), then removes exactly the pins Lb
    /// creates (<see cref="PinNames"/>) from <paramref name="pinRoot"/>, and the directory if that leaves it
    /// empty. Established flows are gone with the maps.
    /// </summary>
    public static LbDatapathDownResult Down(IEnumerable<string> interfaces, string pinRoot = LbAbi.PinRoot, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(interfaces);
        ArgumentException.ThrowIfNullOrEmpty(pinRoot);
        logger ??= NullLogger.Instance;
        pinRoot = Path.GetFullPath(pinRoot);

        uint pinnedProgramId = 0;
        var programPin = Path.Combine(pinRoot, ProgramPinName);
        if (File.Exists(programPin))
        {
            using var pinned = BpfProgram.OpenPinned(programPin);
            pinnedProgramId = pinned.Id;
        }

        var detached = new List<string>();
        foreach (var name in interfaces)
        {
            var ifindex = Interfaces.IndexOf(name);
            using var attachment = XdpAttachment.Adopt(ifindex);
            if (attachment is null)
                continue;
            if (attachment.ProgramId != pinnedProgramId && ProgramNameOf(attachment.ProgramId) != ProgramName)
            {
                LogForeignProgramLeft(logger, name, attachment.ProgramId, ProgramNameOf(attachment.ProgramId));
                continue;
            }
            attachment.Detach(logger);
            detached.Add(name);
        }

        var removed = new List<string>();
        foreach (var pin in PinNames)
        {
            var path = Path.Combine(pinRoot, pin);
            if (!File.Exists(path))
                continue;
            File.Delete(path);
            removed.Add(pin);
        }

        var removedRoot = false;
        if (Directory.Exists(pinRoot))
        {
            var left = Directory.EnumerateFileSystemEntries(pinRoot).Select(Path.GetFileName).ToList();
            if (left.Count == 0)
            {
                Directory.Delete(pinRoot);
                removedRoot = true;
            }
            else
            {
                LogPinRootKept(logger, pinRoot, string.Join(", ", left));
            }
        }
        LogDown(logger, detached.Count, removed.Count, pinRoot);
        return new LbDatapathDownResult(detached, removed, removedRoot);
    }

    /// <summary>Closes the descriptors; the program stays attached and the maps stay pinned.</summary>
    public void Dispose()
    {
        Program.Dispose();
        Maps.Dispose();
    }

    private XdpAttachment AttachOne(string name, XdpMode mode, bool allowGenericFallback)
    {
        var ifindex = Interfaces.IndexOf(name);
        var existing = XdpAttachment.Adopt(ifindex);
        if (existing is null)
            return XdpAttachment.Attach(ifindex, Program, mode, allowGenericFallback, _logger);
        try
        {
            if (existing.ProgramId == Program.Id)
                return existing;
            var existingName = ProgramNameOf(existing.ProgramId);
            if (existingName != ProgramName)
            {
                throw new InvalidOperationException(
                    $"Interface {name} runs XDP program '{existingName}' (id {existing.ProgramId}), which is not Lb's; " +
                    $"detach it (ip link set dev {name} xdp off) or leave {name} out of datapath.interfaces.");
            }
            LogAdopted(_logger, name, existing.ProgramId, existing.Mode);
            existing.Replace(Program, _logger);
            return existing;
        }
        catch
        {
            existing.Dispose();
            throw;
        }
    }

    private static string ProgramNameOf(uint programId)
    {
        using var program = BpfProgram.OpenById(programId);
        return program.Name;
    }

    /// <summary>
    /// Pins under a temporary name and renames over the old pin, so the pin always names a loaded program
    /// (bpffs renames atomically); the older program lives on while it is attached.
    /// </summary>
    private static void PinProgram(BpfProgram program, string pinRoot)
    {
        var path = Path.Combine(pinRoot, ProgramPinName);
        var staging = Path.Combine(pinRoot, ProgramStagingPinName);
        if (File.Exists(staging))
            File.Delete(staging);
        program.Pin(staging);
        File.Move(staging, path, overwrite: true);
    }

    private static void CheckPinnedCapacity(string pinRoot, string mapName, uint capacity)
    {
        var path = Path.Combine(pinRoot, mapName);
        if (!File.Exists(path))
            return;
        using var pinned = BpfMap.OpenPinned(path);
        if (pinned.MaxEntries != capacity)
        {
            throw new InvalidOperationException(
                $"{path} holds the running flow table with {pinned.MaxEntries} entries, but datapath.flowTable.capacity is {capacity}. " +
                $"A pinned map cannot be resized: set flowTable.capacity back to {pinned.MaxEntries}, or run `lb down` first " +
                "(which drops every established flow).");
        }
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Information,
        Message = "Loaded {ObjectPath} (program id {ProgramId}) with maps pinned at {PinRoot}: flow table {FlowCapacity} entries, Maglev table size {MaglevSize}")]
    private static partial void LogLoaded(ILogger logger, string objectPath, uint programId, string pinRoot, uint flowCapacity, uint maglevSize);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information,
        Message = "Adopting lb_xdp id {ProgramId} on {Interface} ({Mode} mode) and replacing it with this build")]
    private static partial void LogAdopted(ILogger logger, string @interface, uint programId, XdpMode mode);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning,
        Message = "Left XDP program '{ProgramName}' (id {ProgramId}) on {Interface}: it is not Lb's")]
    private static partial void LogForeignProgramLeft(ILogger logger, string @interface, uint programId, string programName);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning,
        Message = "Kept {PinRoot}: it holds entries Lb did not create ({Entries})")]
    private static partial void LogPinRootKept(ILogger logger, string pinRoot, string entries);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Information,
        Message = "Lb datapath down: detached from {Detached} interfaces, removed {Removed} pins under {PinRoot}")]
    private static partial void LogDown(ILogger logger, int detached, int removed, string pinRoot);
}
