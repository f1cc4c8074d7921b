using System.Text.Json;
using System.Text.Json.Serialization;
using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.Agent.Inspection;

/// <summary>
/// What `lb run` knows beyond the maps: where its desired state comes from and when it last changed.
/// Written by `lb run` to the status file (default <see cref="DefaultPath"/>) after every change, served
/// at /status, and read by `lb status`.
/// </summary>
public sealed record AgentStatus
{
    public const string DefaultPath = "/run/lb/status.json";

    public required int Pid { get; init; }
    public required string Version { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>Where the desired state comes from: <c>file</c> (lb.yaml).</summary>
    public required string Source { get; init; }
    public required string ConfigPath { get; init; }
    public required string Mode { get; init; }
    public required string PinRoot { get; init; }
    public required string ObjectPath { get; init; }
    public required uint ProgramId { get; init; }
    public required IReadOnlyList<string> Interfaces { get; init; }
    public string? AdminListen { get; init; }
    /// <summary>The last time the source was read, whatever came of it.</summary>
    public DateTimeOffset? LastUpdate { get; init; }
    /// <summary><c>applied</c>, <c>unchanged</c>, <c>refused</c> (invalid file, tables untouched) or <c>failed</c> (a map write failed).</summary>
    public string? LastResult { get; init; }
    /// <summary>Why the last update was refused or failed, with file:line for an invalid file.</summary>
    public IReadOnlyList<string> LastErrors { get; init; } = [];
    /// <summary>The last time a change reached the maps.</summary>
    public DateTimeOffset? LastApplied { get; init; }
    public long Generation { get; init; }
    /// <summary>
    /// Each programmed frontend's kind (LoadBalancer, ExternalIP, NodePort, Static), keyed by its
    /// <c>address:port/protocol</c>: the maps hold no kinds, and `lb service list` shows them from here.
    /// </summary>
    public IReadOnlyDictionary<string, string> FrontendKinds { get; init; } = new Dictionary<string, string>();
    public int Services { get; init; }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>Writes the file whole (a new file renamed over the old), so a reader never sees half of it.</summary>
    public void Write(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Json));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The status file, or null when there is none (no `lb run` has written it).</summary>
    public static AgentStatus? TryRead(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<AgentStatus>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The status file {path} is not valid JSON ({e.Message}); delete it, `lb run` writes it again.", e);
        }
    }

    /// <summary>Whether the process that wrote this still runs (its pid exists and is an lb / dotnet process).</summary>
    public bool IsRunning()
    {
        if (Pid == Environment.ProcessId)
            return true;
        try
        {
            var command = File.ReadAllText($"/proc/{Pid}/cmdline");
            return command.Contains("lb", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

public sealed record AgentView(bool Running, AgentStatus? Status);

public sealed record DatapathStatus(string Mode, string PinRoot, uint PinnedProgramId, uint MaglevTableSize, uint FlowHashSeed,
    string NatPorts, string? SnatV4, string? SnatV6);

public sealed record InterfaceStatus(string Name, string XdpMode, uint ProgramId, bool LbProgram, string? Error);

public sealed record ReasonCount(string Reason, string Verdict, ulong Count);

public sealed record ServiceCountersView(uint Id, string Name, ulong Packets, ulong Bytes, ulong NewFlows);

/// <summary>The JSON of `lb status` and /status.</summary>
public sealed record StatusReport(
    string Version,
    AgentView Agent,
    DatapathStatus Datapath,
    IReadOnlyList<InterfaceStatus> Interfaces,
    IReadOnlyList<MapFill> Maps,
    IReadOnlyList<ReasonCount> Reasons,
    IReadOnlyList<ServiceCountersView> Services)
{
    public string ToJson() => JsonSerializer.Serialize(this, AgentStatus.Json);

    /// <summary>
    /// Reads the maps pinned at <paramref name="pinRoot"/> through <paramref name="maps"/>, queries XDP on
    /// <paramref name="interfaces"/> (in this process's network namespace) and joins the agent's status.
    /// </summary>
    public static StatusReport Collect(LbMaps maps, string pinRoot, AgentView agent, IEnumerable<string> interfaces)
    {
        ArgumentNullException.ThrowIfNull(maps);
        uint pinnedProgram = 0;
        var programPin = Path.Combine(pinRoot, LbDatapath.ProgramPinName);
        if (File.Exists(programPin))
        {
            using var program = BpfProgram.OpenPinned(programPin);
            pinnedProgram = program.Id;
        }

        maps.Config.TryLookup(0, out var config);
        var snatV4 = config.SnatV4.Equals(default(LbAddress)) ? null : config.SnatV4.ToIPAddress(LbFamily.IPv4).ToString();
        var snatV6 = config.SnatV6.Equals(default(LbAddress)) ? null : config.SnatV6.ToIPAddress(LbFamily.IPv6).ToString();
        var datapath = new DatapathStatus(agent.Status?.Mode ?? "xdp", pinRoot, pinnedProgram, config.MaglevSize, config.FlowHashSeed,
            $"{config.NatPortMin}-{config.NatPortMax}", snatV4, snatV6);

        var interfaceStatus = new List<InterfaceStatus>();
        foreach (var name in interfaces.Distinct())
        {
            try
            {
                var query = XdpAttachment.Query(Lb.Native.Interfaces.IndexOf(name));
                interfaceStatus.Add(new InterfaceStatus(name, query.Mode.ToString().ToLowerInvariant(), query.ProgramId,
                    query.IsAttached && query.ProgramId == pinnedProgram, null));
            }
            catch (Exception e) when (e is NativeErrorException or ArgumentException)
            {
                interfaceStatus.Add(new InterfaceStatus(name, "unknown", 0, false, e.Message));
            }
        }

        var services = DatapathInspector.Services(maps);
        return new StatusReport(
            BuildInfo.Version,
            agent,
            datapath,
            interfaceStatus,
            DatapathInspector.Fill(maps),
            DatapathInspector.Reasons(maps).Select(r => new ReasonCount(DatapathInspector.ReasonName(r.Reason), DatapathInspector.Verdict(r.Reason), r.Count)).ToList(),
            services.Select(s => new ServiceCountersView(s.Id, s.Name, s.Counters.Packets, s.Counters.Bytes, s.Counters.NewFlows)).ToList());
    }
}
