using System.Net;
using System.Text;
using System.Text.Json;
using Lb.Agent.Demo;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Agent.Programming;

/// <summary>
/// Keeps the kernel's neighbour table ready for the XDP program's next-hop lookups. bpf_fib_lookup
/// forwards only to a next hop whose neighbour entry is resolved, and the kernel never resolves one for
/// a frame the program passes back (a nat frame from Lb's own address is a martian, a dsr-l2 frame is
/// not for the node), so the programmer asks for an entry per backend next hop before the backend is
/// visible. See docs/programmer.md, "Neighbours".
/// </summary>
public interface INeighbourKeeper
{
    /// <summary>
    /// Makes sure the next hop of every address in <paramref name="backends"/> has a neighbour entry, and
    /// removes the entries this keeper created whose next hops none of them uses any more. Never throws for
    /// a failed lookup or command: it logs it, and the next call tries again.
    /// </summary>
    void Keep(IReadOnlySet<IPAddress> backends);

    /// <summary>Removes every entry this keeper created (`lb down`).</summary>
    void RemoveAll();
}

/// <summary>Where a backend's packets go next: the route's gateway, or the backend itself when on-link, and the device.</summary>
public sealed record NextHop(IPAddress Address, string Device)
{
    public override string ToString() => $"{Address} dev {Device}";
}

/// <summary>
/// <see cref="INeighbourKeeper"/> with iproute2, the way Cilium does it: a kernel-managed entry
/// (NTF_MANAGED, `ip neigh replace ADDR dev DEV managed`, Linux 5.16), which the kernel resolves at once
/// and keeps REACHABLE for as long as it exists, whether or not traffic goes through the kernel. It
/// creates one only where no permanent, no-ARP or managed entry exists (those belong to someone else and
/// are left alone), records what it created in <c>recordPath</c> (so a restarted agent and `lb down`
/// know what is Lb's), and deletes only recorded entries that are still managed.
/// </summary>
public sealed partial class IpNeighbourKeeper : INeighbourKeeper
{
    /// <summary>The record's file name; `lb run` and `lb down` keep it next to the status file (/run/lb/neighbours.json).</summary>
    public const string RecordFileName = "neighbours.json";

    public const string DefaultRecordPath = "/run/lb/" + RecordFileName;

    /// <summary>The record that belongs with the status file <paramref name="statusFile"/>.</summary>
    public static string RecordPathFor(string statusFile) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(statusFile))!, RecordFileName);

    private readonly string? _namespace;
    private readonly string? _recordPath;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, NextHop> _nextHops = [];
    private readonly HashSet<NextHop> _created = [];

    /// <param name="networkNamespace">A named namespace (/run/netns/NAME) to keep the entries in; null: the caller's own.</param>
    /// <param name="recordPath">Where the created entries are recorded; null: in memory only.</param>
    public IpNeighbourKeeper(string? networkNamespace = null, string? recordPath = DefaultRecordPath, ILogger<IpNeighbourKeeper>? logger = null)
    {
        _namespace = networkNamespace;
        _recordPath = recordPath;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        foreach (var hop in ReadRecord(recordPath))
            _created.Add(hop);
    }

    /// <summary>The entries this keeper created and has not removed.</summary>
    public IReadOnlyCollection<NextHop> Created
    {
        get
        {
            lock (_lock)
                return [.. _created];
        }
    }

    public void Keep(IReadOnlySet<IPAddress> backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        lock (_lock)
        {
            var unknown = backends.Where(b => !_nextHops.ContainsKey(b)).ToList();
            if (unknown.Count > 0)
                foreach (var (backend, hop) in RouteGet(unknown))
                    _nextHops[backend] = hop;
            foreach (var gone in _nextHops.Keys.Where(b => !backends.Contains(b)).ToList())
                _nextHops.Remove(gone);

            var needed = backends.Where(_nextHops.ContainsKey).Select(b => _nextHops[b]).ToHashSet();
            var missing = needed.Where(h => !_created.Contains(h)).ToList();
            var unneeded = _created.Where(h => !needed.Contains(h)).ToList();
            if (missing.Count == 0 && unneeded.Count == 0)
                return;

            var table = ReadNeighbours();
            foreach (var hop in missing)
            {
                if (table.TryGetValue(hop, out var existing) && existing.IsSomeoneElses)
                {
                    // Not recorded, so the next Keep looks again: the owner may have removed it by then.
                    LogLeftAlone(_logger, hop.ToString(), existing.Describe());
                    continue;
                }
                var (code, _, error) = Ip("neigh", "replace", hop.Address.ToString(), "dev", hop.Device, "managed");
                if (code != 0)
                {
                    LogCommandFailed(_logger, $"neigh replace {hop} managed", error.Trim());
                    continue;
                }
                _created.Add(hop);
                LogCreated(_logger, hop.ToString());
            }
            foreach (var hop in unneeded)
                Remove(hop, table);
            WriteRecord();
        }
    }

    public void RemoveAll()
    {
        lock (_lock)
        {
            if (_created.Count > 0)
            {
                var table = ReadNeighbours();
                foreach (var hop in _created.ToList())
                    Remove(hop, table);
            }
            _nextHops.Clear();
            if (_recordPath is not null && File.Exists(_recordPath))
                File.Delete(_recordPath);
        }
    }

    /// <summary>Deletes an entry Lb created, unless someone replaced it since (it is then no longer managed).</summary>
    private void Remove(NextHop hop, IReadOnlyDictionary<NextHop, Neighbour> table)
    {
        _created.Remove(hop);
        if (!table.TryGetValue(hop, out var existing) || !existing.Managed)
        {
            if (existing is not null)
                LogLeftAlone(_logger, hop.ToString(), existing.Describe());
            return;
        }
        var (code, _, error) = Ip("neigh", "del", hop.Address.ToString(), "dev", hop.Device);
        if (code != 0)
            LogCommandFailed(_logger, $"neigh del {hop}", error.Trim());
        else
            LogRemoved(_logger, hop.ToString());
    }

    /// <summary>
    /// `ip -j route get` for every address in one `ip -batch` (one process per apply, not per backend).
    /// With -force a failed lookup (no route) prints nothing and the batch goes on, so answers are matched
    /// to addresses by their "dst".
    /// </summary>
    private List<(IPAddress Backend, NextHop Hop)> RouteGet(List<IPAddress> addresses)
    {
        var input = new StringBuilder();
        foreach (var address in addresses)
            input.Append("route get ").Append(address).Append('\n');
        var (code, output, error) = IpWithInput(input.ToString(), "-j", "-force", "-batch", "-");
        var found = new List<(IPAddress, NextHop)>();
        var wanted = addresses.ToHashSet();
        foreach (var route in JsonObjects(output))
        {
            if (!TryAddress(route, "dst", out var dst) || !wanted.Remove(dst))
                continue;
            var device = route.TryGetProperty("dev", out var dev) ? dev.GetString() : null;
            // A local address (a backend on this node) has no neighbour.
            if (device is null or "lo" || route.TryGetProperty("type", out var type) && type.GetString() == "local")
                continue;
            var next = TryAddress(route, "gateway", out var gateway) ? gateway : dst;
            found.Add((dst, new NextHop(next, device)));
        }
        if (code != 0 && wanted.Count > 0)
            LogNoRoute(_logger, string.Join(", ", wanted), error.Trim());
        return found;
    }

    private Dictionary<NextHop, Neighbour> ReadNeighbours()
    {
        var table = new Dictionary<NextHop, Neighbour>();
        var (code, output, error) = Ip("-j", "neigh", "show");
        if (code != 0)
        {
            LogCommandFailed(_logger, "neigh show", error.Trim());
            return table;
        }
        foreach (var entry in JsonObjects(output))
        {
            if (!TryAddress(entry, "dst", out var dst) || !entry.TryGetProperty("dev", out var dev) || dev.GetString() is not { } device)
                continue;
            var states = entry.TryGetProperty("state", out var state) && state.ValueKind == JsonValueKind.Array
                ? state.EnumerateArray().Select(s => s.GetString() ?? "").ToList()
                : [];
            table[new NextHop(dst, device)] = new Neighbour(entry.TryGetProperty("managed", out _), states);
        }
        return table;
    }

    /// <summary>Every object of the JSON arrays `ip -j` printed (one array per command of a batch).</summary>
    private static List<JsonElement> JsonObjects(string output)
    {
        var objects = new List<JsonElement>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(output), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.StartArray)
                continue;
            using var document = JsonDocument.ParseValue(ref reader);
            objects.AddRange(document.RootElement.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Select(e => e.Clone()));
        }
        return objects;
    }

    private static bool TryAddress(JsonElement element, string name, out IPAddress address)
    {
        address = IPAddress.None;
        return element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            && IPAddress.TryParse(value.GetString(), out address!);
    }

    private (int Code, string Stdout, string Stderr) IpWithInput(string? input, params string[] args)
    {
        try
        {
            return Shell.TryRunWithInput("ip", input, _namespace is null ? args : ["-n", _namespace, .. args]);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            // No iproute2 on the node: logged by the caller like any failed command, and the apply goes on.
            return (-1, "", $"cannot run ip: {e.Message}");
        }
    }

    private (int Code, string Stdout, string Stderr) Ip(params string[] args) => IpWithInput(null, args);

    private static List<NextHop> ReadRecord(string? path)
    {
        if (path is null || !File.Exists(path))
            return [];
        try
        {
            return JsonSerializer.Deserialize<List<RecordedNeighbour>>(File.ReadAllText(path))?
                .Select(r => new NextHop(IPAddress.Parse(r.Address), r.Device)).ToList() ?? [];
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentNullException)
        {
            throw new InvalidDataException($"{path}: not a record of neighbour entries ({e.Message}); remove the file to forget them", e);
        }
    }

    private void WriteRecord()
    {
        if (_recordPath is null)
            return;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_recordPath))!);
            var temporary = _recordPath + ".new";
            File.WriteAllText(temporary, JsonSerializer.Serialize(_created.Select(h => new RecordedNeighbour(h.Address.ToString(), h.Device)).ToList()));
            File.Move(temporary, _recordPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCommandFailed(_logger, $"write {_recordPath}", e.Message);
        }
    }

    private sealed record RecordedNeighbour(string Address, string Device);

    private sealed record Neighbour(bool Managed, IReadOnlyList<string> States)
    {
        /// <summary>Permanent and no-ARP entries were configured by someone; a managed one Lb did not record is another agent's.</summary>
        public bool IsSomeoneElses => Managed || States.Contains("PERMANENT") || States.Contains("NOARP");

        public string Describe() => (Managed ? "managed " : "") + string.Join(",", States);
    }

    [LoggerMessage(EventId = 2110, Level = LogLevel.Information, Message = "Neighbour {NextHop}: created a managed entry")]
    private static partial void LogCreated(ILogger logger, string nextHop);

    [LoggerMessage(EventId = 2111, Level = LogLevel.Information, Message = "Neighbour {NextHop}: removed Lb's managed entry, no backend needs it")]
    private static partial void LogRemoved(ILogger logger, string nextHop);

    [LoggerMessage(EventId = 2112, Level = LogLevel.Information, Message = "Neighbour {NextHop}: left alone, the entry ({Entry}) is not Lb's")]
    private static partial void LogLeftAlone(ILogger logger, string nextHop, string entry);

    [LoggerMessage(EventId = 2113, Level = LogLevel.Warning, Message = "No route to backend {Backends}, so no neighbour entry: {Error}")]
    private static partial void LogNoRoute(ILogger logger, string backends, string error);

    [LoggerMessage(EventId = 2114, Level = LogLevel.Warning, Message = "`ip {Command}` failed: {Error}")]
    private static partial void LogCommandFailed(ILogger logger, string command, string error);
}
