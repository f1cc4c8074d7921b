using System.Net;
using System.Net.Sockets;
using Lb.Agent.Demo;

namespace Lb.EndToEnd.Tests.Infrastructure;

/// <summary>One request from the client: the source port it left from, and who answered (or why nobody did).</summary>
public sealed record Outcome(int SourcePort, string? Backend, string? Error);

/// <summary>A connection the client keeps open, and the backend that answered on it first.</summary>
public sealed record HeldConnection(Socket Socket, int SourcePort, string Backend);

/// <summary>Client traffic through the VIP, many requests at a time.</summary>
public static class Traffic
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private const int Parallelism = 32;

    /// <summary>One TCP connection per source port: connect, ask once, close.</summary>
    public static async Task<IReadOnlyList<Outcome>> TcpRequests(string ns, IPAddress vip, IReadOnlyList<int?> sourcePorts)
    {
        var outcomes = new Outcome[sourcePorts.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, sourcePorts.Count), new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (i, _) =>
        {
            try
            {
                var (socket, backend) = await LbClient.ConnectAndAsk(ns, new IPEndPoint(vip, BalancerFixture.Port), RequestTimeout, sourcePorts[i]);
                var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
                socket.Dispose();
                outcomes[i] = new Outcome(port, backend, null);
            }
            catch (Exception e)
            {
                outcomes[i] = new Outcome(sourcePorts[i] ?? 0, null, e.Message);
            }
        });
        return outcomes;
    }

    /// <summary><paramref name="count"/> connections from fresh ephemeral ports.</summary>
    public static Task<IReadOnlyList<Outcome>> TcpRequests(string ns, IPAddress vip, int count) =>
        TcpRequests(ns, vip, Enumerable.Repeat<int?>(null, count).ToList());

    /// <summary>One datagram per source port, each from a fresh socket.</summary>
    public static async Task<IReadOnlyList<Outcome>> UdpRequests(string ns, IPAddress vip, IReadOnlyList<int> sourcePorts)
    {
        var outcomes = new Outcome[sourcePorts.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, sourcePorts.Count), new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (i, _) =>
        {
            try
            {
                var backend = await LbClient.UdpAsk(ns, new IPEndPoint(vip, BalancerFixture.Port), RequestTimeout, sourcePorts[i]);
                outcomes[i] = new Outcome(sourcePorts[i], backend, null);
            }
            catch (Exception e)
            {
                outcomes[i] = new Outcome(sourcePorts[i], null, e.Message);
            }
        });
        return outcomes;
    }

    /// <summary>Opens <paramref name="count"/> connections and keeps them; all must be answered.</summary>
    public static async Task<IReadOnlyList<HeldConnection>> Hold(string ns, IPAddress vip, int count)
    {
        var held = new HeldConnection?[count];
        var errors = new List<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (i, _) =>
        {
            try
            {
                var (socket, backend) = await LbClient.ConnectAndAsk(ns, new IPEndPoint(vip, BalancerFixture.Port), RequestTimeout);
                held[i] = new HeldConnection(socket, ((IPEndPoint)socket.LocalEndPoint!).Port, backend);
            }
            catch (Exception e)
            {
                lock (errors)
                    errors.Add(e.Message);
            }
        });
        if (errors.Count > 0)
        {
            Close(held.OfType<HeldConnection>());
            throw new InvalidOperationException($"{errors.Count} of {count} connections failed: {errors[0]}");
        }
        return held.Select(h => h!).ToList();
    }

    /// <summary>Asks once more on each open connection: the answer, or the error (a reset shows here).</summary>
    public static async Task<IReadOnlyList<Outcome>> AskAgain(IEnumerable<HeldConnection> connections)
    {
        var tasks = connections.Select(async c =>
        {
            try
            {
                using var cts = new CancellationTokenSource(RequestTimeout);
                return new Outcome(c.SourcePort, await LbClient.Ask(c.Socket, cts.Token), null);
            }
            catch (Exception e)
            {
                return new Outcome(c.SourcePort, null, $"{e.GetType().Name}: {e.Message}");
            }
        });
        return await Task.WhenAll(tasks);
    }

    public static void Close(IEnumerable<HeldConnection> connections)
    {
        foreach (var c in connections)
            c.Socket.Dispose();
    }

    /// <summary>"backend-0: 1003, backend-1: 998, backend-2: 999, failed: 0" in backend order.</summary>
    public static string Describe(IEnumerable<Outcome> outcomes)
    {
        var list = outcomes.ToList();
        var counts = Count(list);
        var parts = counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}: {c.Value}").ToList();
        parts.Add($"failed: {list.Count(o => o.Backend is null)}");
        var firstError = list.FirstOrDefault(o => o.Error is not null)?.Error;
        return string.Join(", ", parts) + (firstError is null ? "" : $" (first error: {firstError})");
    }

    /// <summary>Answers per backend name; every backend of the topology is listed, with 0 if it answered none.</summary>
    public static Dictionary<string, int> Count(IEnumerable<Outcome> outcomes)
    {
        var counts = Enumerable.Range(0, 3).ToDictionary(i => $"backend-{i}", _ => 0);
        foreach (var o in outcomes)
        {
            if (o.Backend is not null)
                counts[o.Backend] = counts.GetValueOrDefault(o.Backend) + 1;
        }
        return counts;
    }
}
