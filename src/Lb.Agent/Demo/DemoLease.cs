using System.Globalization;

namespace Lb.Agent.Demo;

/// <summary>
/// What one `lb demo` owns on the host, all named after its id so that a demo killed with SIGKILL (which
/// cannot clean up) leaves things the next demo recognises: namespaces <c>lbdemo-&lt;id&gt;-*</c>, the pin root
/// <c>/sys/fs/bpf/lbdemo-&lt;id&gt;</c>, and the record <c>/run/lb-demo/&lt;id&gt;.pid</c> naming the owning process.
/// The record is written before anything else is made and removed after everything else, so a namespace or
/// pin root without a live owner is always a dead demo's.
/// </summary>
public sealed class DemoLease
{
    public const string NamePrefix = "lbdemo";
    public const string RecordDirectory = "/run/lb-demo";
    public const string BpfRoot = "/sys/fs/bpf";

    private DemoLease(string id)
    {
        Id = id;
    }

    public string Id { get; }

    public string RecordPath => RecordPathOf(Id);

    public string PinRoot => PinRootOf(Id);

    /// <summary>The prefix of this demo's namespace names, "lbdemo-&lt;id&gt;-".</summary>
    public string NamespacePrefix => NamespacePrefixOf(Id);

    public static string RecordPathOf(string id) => Path.Combine(RecordDirectory, $"{id}.pid");

    public static string PinRootOf(string id) => Path.Combine(BpfRoot, $"{NamePrefix}-{id}");

    public static string NamespacePrefixOf(string id) => $"{NamePrefix}-{id}-";

    /// <summary>Takes a fresh id and records this process as its owner (pid and the kernel's start time of the process, against pid reuse).</summary>
    public static DemoLease Acquire()
    {
        Directory.CreateDirectory(RecordDirectory);
        var lease = new DemoLease(Guid.NewGuid().ToString("N")[..6]);
        File.WriteAllText(lease.RecordPath, $"{Environment.ProcessId} {ProcessStartTime(Environment.ProcessId)}\n");
        return lease;
    }

    /// <summary>Removes what the lease names; the record last. Returns what it removed.</summary>
    public IReadOnlyList<string> Release() => RemoveEverythingOf(Id);

    /// <summary>
    /// Finds the leftovers of demos whose process is gone (killed, crashed, the machine rebooted under /run's
    /// feet) and removes them: their namespaces, pin roots and records. A demo that is still running is left
    /// alone. Returns the ids it cleaned up with what it removed.
    /// </summary>
    public static IReadOnlyList<(string Id, IReadOnlyList<string> Removed)> RemoveStale()
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        if (Directory.Exists(RecordDirectory))
        {
            foreach (var record in Directory.EnumerateFiles(RecordDirectory, "*.pid"))
                ids.Add(Path.GetFileNameWithoutExtension(record));
        }
        foreach (var ns in ListNamespaces())
        {
            if (IdOfName(ns) is { } id)
                ids.Add(id);
        }
        if (Directory.Exists(BpfRoot))
        {
            foreach (var dir in Directory.EnumerateDirectories(BpfRoot, $"{NamePrefix}-*"))
            {
                if (IdOfName(Path.GetFileName(dir) + "-") is { } id)
                    ids.Add(id);
            }
        }

        var cleaned = new List<(string, IReadOnlyList<string>)>();
        foreach (var id in ids)
        {
            if (OwnerIsAlive(id))
                continue;
            cleaned.Add((id, RemoveEverythingOf(id)));
        }
        return cleaned;
    }

    /// <summary>Everything on the host that carries <paramref name="id"/>: namespaces, the pin root, the record.</summary>
    public static IReadOnlyList<string> ResourcesOf(string id)
    {
        var found = ListNamespaces().Where(ns => ns.StartsWith(NamespacePrefixOf(id), StringComparison.Ordinal)).Select(ns => $"namespace {ns}").ToList();
        if (Directory.Exists(PinRootOf(id)))
            found.Add($"pin root {PinRootOf(id)}");
        if (File.Exists(RecordPathOf(id)))
            found.Add($"record {RecordPathOf(id)}");
        return found;
    }

    private static IReadOnlyList<string> RemoveEverythingOf(string id)
    {
        var removed = new List<string>();
        var failures = new List<string>();
        foreach (var ns in ListNamespaces().Where(ns => ns.StartsWith(NamespacePrefixOf(id), StringComparison.Ordinal)))
        {
            var (code, _, err) = Shell.TryRun("ip", "netns", "delete", ns);
            if (code == 0)
                removed.Add($"namespace {ns}");
            else
                failures.Add($"namespace {ns}: {err.Trim()}");
        }
        var pinRoot = PinRootOf(id);
        if (Directory.Exists(pinRoot))
        {
            try
            {
                // Closing the last reference to a pinned program or map frees it; XDP attachments went with the veths.
                Directory.Delete(pinRoot, recursive: true);
                removed.Add($"pin root {pinRoot}");
            }
            catch (IOException e)
            {
                failures.Add($"pin root {pinRoot}: {e.Message}");
            }
        }
        if (failures.Count > 0)
            throw new InvalidOperationException($"could not remove everything of demo {id} (its record {RecordPathOf(id)} is kept so the next `lb demo` tries again): {string.Join("; ", failures)}");
        if (File.Exists(RecordPathOf(id)))
        {
            File.Delete(RecordPathOf(id));
            removed.Add($"record {RecordPathOf(id)}");
        }
        return removed;
    }

    private static bool OwnerIsAlive(string id)
    {
        var path = RecordPathOf(id);
        if (!File.Exists(path))
            return false;
        var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid))
            return false;
        return ProcessStartTime(pid) is { } started && started == parts[1];
    }

    /// <summary>Field 22 of /proc/PID/stat (start time in clock ticks since boot), or null when there is no such process.</summary>
    private static string? ProcessStartTime(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        var afterName = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return afterName.Length > 19 ? afterName[19] : null;
    }

    /// <summary>"lbdemo-&lt;id&gt;-..." gives the id; anything else null.</summary>
    private static string? IdOfName(string name)
    {
        if (!name.StartsWith(NamePrefix + "-", StringComparison.Ordinal))
            return null;
        var rest = name[(NamePrefix.Length + 1)..];
        var dash = rest.IndexOf('-');
        return dash > 0 ? rest[..dash] : null;
    }

    private static IReadOnlyList<string> ListNamespaces()
    {
        // `ip netns list` prints "name" or "name (id: N)".
        return Shell.Run("ip", "netns", "list")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ')[0])
            .ToList();
    }
}
