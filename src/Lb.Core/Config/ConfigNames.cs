using System.Net.Sockets;
using Lb.Core.Model;

namespace Lb.Core.Config;

/// <summary>
/// The spelling of an enum in lb.yaml. One table serves the reader and the writer, so the two
/// cannot drift apart; names are matched exactly (a case slip earns a "did you mean").
/// </summary>
internal sealed class NameTable<T> where T : struct
{
    private readonly (string Name, T Value)[] _entries;

    public NameTable(params (string Name, T Value)[] entries) => _entries = entries;

    public IEnumerable<string> Names => _entries.Select(e => e.Name);

    public bool TryParse(string text, out T value)
    {
        foreach (var (name, candidate) in _entries)
        {
            if (string.Equals(name, text, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }

    public string NameOf(T value)
    {
        foreach (var (name, candidate) in _entries)
        {
            if (EqualityComparer<T>.Default.Equals(candidate, value))
                return name;
        }
        throw new ArgumentOutOfRangeException(nameof(value), value, $"{typeof(T).Name} has no lb.yaml name");
    }
}

internal static class ConfigNames
{
    public static NameTable<DatapathMode> Mode { get; } = new(("xdp", DatapathMode.Xdp), ("afxdp", DatapathMode.AfXdp));

    public static NameTable<L4Protocol> Protocol { get; } = new(("tcp", L4Protocol.Tcp), ("udp", L4Protocol.Udp));

    public static NameTable<FrontendKind> Kind { get; } = new(
        ("static", FrontendKind.Static),
        ("loadBalancer", FrontendKind.LoadBalancer),
        ("externalIP", FrontendKind.ExternalIP),
        ("nodePort", FrontendKind.NodePort));

    public static NameTable<AddressFamily> Family { get; } = new(
        ("ipv4", AddressFamily.InterNetwork),
        ("ipv6", AddressFamily.InterNetworkV6));

    public static NameTable<ForwardingMode> Forwarding { get; } = new(
        ("nat", ForwardingMode.Nat),
        ("dsr-ipip", ForwardingMode.DsrIpip),
        ("dsr-l2", ForwardingMode.DsrL2));

    public static NameTable<SchedulerKind> Scheduler { get; } = new(("maglev", SchedulerKind.Maglev), ("random", SchedulerKind.Random));

    public static NameTable<TrafficPolicy> TrafficPolicy { get; } = new(
        ("cluster", Model.TrafficPolicy.Cluster),
        ("local", Model.TrafficPolicy.Local));

    public static NameTable<BackendState> State { get; } = new(
        ("active", BackendState.Active),
        ("terminating", BackendState.Terminating),
        ("maintenance", BackendState.Maintenance));

    /// <summary>"IPv4" / "IPv6", as messages name a family.</summary>
    public static string Describe(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
}

/// <summary>Finds the known name a user most likely meant, for "did you mean" hints.</summary>
internal static class NearMiss
{
    /// <summary>
    /// The closest of <paramref name="known"/> to <paramref name="typed"/>, or null if none is close:
    /// same letters in another case, a prefix ("timeout" for "timeoutSeconds"), or an edit distance of
    /// at most a third of the name (at least 1). Ties yield null: a guess between two is no help.
    /// </summary>
    public static string? Suggest(string typed, IEnumerable<string> known)
    {
        if (typed.Length == 0)
            return null;

        string? best = null;
        var bestScore = int.MaxValue;
        var tied = false;
        foreach (var candidate in known)
        {
            var score = Score(typed, candidate);
            if (score < bestScore)
            {
                (best, bestScore, tied) = (candidate, score, false);
            }
            else if (score == bestScore)
            {
                tied = true;
            }
        }

        var limit = Math.Max(1, typed.Length / 3);
        return best is not null && !tied && bestScore <= limit ? best : null;
    }

    private static int Score(string typed, string candidate)
    {
        if (string.Equals(typed, candidate, StringComparison.OrdinalIgnoreCase))
            return 0;
        if (typed.Length >= 4 && candidate.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
            return 1;
        return Distance(typed.ToLowerInvariant(), candidate.ToLowerInvariant());
    }

    /// <summary>
    /// Edit distance counting a swap of two neighbouring letters as one edit ("xpd" is one from "xdp"),
    /// the optimal string alignment variant of Damerau-Levenshtein.
    /// </summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
            d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++)
            d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(d[i - 1, j - 1] + cost, Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
