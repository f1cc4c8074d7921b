using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Native;

namespace Lb.ScalingBench;

/// <summary>What one client run saw: latencies of the answered requests (µs) and why the others failed.</summary>
public sealed record ClientRun(int Concurrency, double Seconds, List<double> LatenciesMicros, Dictionary<string, int> Failures)
{
    public int Answered => LatenciesMicros.Count;
    public int Failed => Failures.Values.Sum();
    public double PerSecond => Answered / Seconds;
}

/// <summary>
/// Real clients in the client namespace. Each worker is a dedicated thread that enters the namespace
/// once, so every socket it makes belongs there, and works with blocking calls so the time measured is
/// the network's, not a scheduler's.
/// </summary>
public static class Clients
{
    // Keep-alive on purpose: the client reads the whole response and closes first, so TIME_WAIT stays on
    // the client, whose port choice avoids its own TIME_WAIT tuples. Were the server to close first, a
    // balancer that picks source ports at random (MASQUERADE --random-fully, Lb's SNAT) would now and then
    // pick a tuple still in the backend's TIME_WAIT, and that SYN would wait a 1 s retransmission: an
    // artefact of the client, not of the balancer.
    private static readonly byte[] Request = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: bench\r\n\r\n");

    /// <summary>
    /// <paramref name="concurrency"/> workers, each in a loop for <paramref name="duration"/>: a new TCP
    /// connection, one HTTP GET, the whole response (headers and Content-Length body), then the client
    /// closes; the latency is connect to the response's last byte. A request with no answer within <paramref name="timeout"/> is a failure.
    /// </summary>
    public static ClientRun Http(string ns, IPEndPoint target, int concurrency, TimeSpan duration, TimeSpan timeout) =>
        Run(ns, concurrency, duration, (deadline, latencies, failures) =>
        {
            var buffer = new byte[4096];
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var start = Stopwatch.GetTimestamp();
                var error = HttpOnce(target, buffer, timeout);
                if (error is null)
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                else
                {
                    failures[error] = failures.GetValueOrDefault(error) + 1;
                    // A refused or unreachable target fails at once: do not spin on it.
                    if (Stopwatch.GetElapsedTime(start) < TimeSpan.FromMilliseconds(1))
                        Thread.Sleep(1);
                }
            }
        });

    private static string? HttpOnce(IPEndPoint target, byte[] buffer, TimeSpan timeout)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.ReceiveTimeout = socket.SendTimeout = (int)timeout.TotalMilliseconds;
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            socket.ConnectAsync(target, cts.Token).AsTask().GetAwaiter().GetResult();
            socket.Send(Request);
            var total = 0;
            var expected = -1;
            while (expected < 0 || total < expected)
            {
                var n = socket.Receive(buffer, total, buffer.Length - total, SocketFlags.None);
                if (n == 0)
                    return "closed before the whole response";
                total += n;
                if (expected < 0 && ResponseLength(buffer.AsSpan(0, total)) is { } length)
                    expected = length;
                if (total == buffer.Length)
                    return "response over 4096 bytes";
            }
            socket.Shutdown(SocketShutdown.Both);
            return buffer.AsSpan(0, 12).SequenceEqual("HTTP/1.1 200"u8) ? null : "not a 200 response";
        }
        catch (OperationCanceledException)
        {
            return $"no connection within {timeout.TotalSeconds:0.#} s";
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut || e.SocketErrorCode == SocketError.WouldBlock)
        {
            return $"no answer within {timeout.TotalSeconds:0.#} s";
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode.ToString();
        }
        catch (InvalidDataException e)
        {
            return e.Message;
        }
    }

    /// <summary>The length of head and body once the head is complete (it must carry Content-Length), else null.</summary>
    private static int? ResponseLength(ReadOnlySpan<byte> received)
    {
        var end = received.IndexOf("\r\n\r\n"u8);
        if (end < 0)
            return null;
        foreach (var line in Encoding.ASCII.GetString(received[..end]).Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase) && int.TryParse(line.AsSpan(15).Trim(), out var body))
                return end + 4 + body;
        }
        throw new InvalidDataException("a response without Content-Length");
    }

    /// <summary>One UDP socket, one datagram at a time: the request-response rate, a reply missing after <paramref name="timeout"/> a failure.</summary>
    public static ClientRun Udp(string ns, IPEndPoint target, TimeSpan duration, TimeSpan timeout) =>
        Run(ns, 1, duration, (deadline, latencies, failures) =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
            socket.Connect(target);
            var request = "?"u8.ToArray();
            var buffer = new byte[256];
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    socket.Send(request);
                    socket.Receive(buffer);
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }
                catch (SocketException e)
                {
                    var error = e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock ? $"no reply within {timeout.TotalSeconds:0.#} s" : e.SocketErrorCode.ToString();
                    failures[error] = failures.GetValueOrDefault(error) + 1;
                    if (Stopwatch.GetElapsedTime(start) < TimeSpan.FromMilliseconds(1))
                        Thread.Sleep(1);
                }
            }
        });

    private static ClientRun Run(string ns, int concurrency, TimeSpan duration, Action<long, List<double>, Dictionary<string, int>> work)
    {
        var latencies = new List<double>[concurrency];
        var failures = new Dictionary<string, int>[concurrency];
        var errors = new Exception?[concurrency];
        using var ready = new CountdownEvent(concurrency);
        using var go = new ManualResetEventSlim();
        long deadline = 0;
        var threads = Enumerable.Range(0, concurrency).Select(i => new Thread(() =>
        {
            latencies[i] = [];
            failures[i] = [];
            try
            {
                using var scope = NetworkNamespace.Enter(ns);
                ready.Signal();
                go.Wait();
                work(Volatile.Read(ref deadline), latencies[i], failures[i]);
            }
            catch (Exception e)
            {
                errors[i] = e;
            }
        }) { IsBackground = true, Name = $"client {i} in {ns}" }).ToList();
        threads.ForEach(t => t.Start());
        ready.Wait();
        var start = Stopwatch.GetTimestamp();
        Volatile.Write(ref deadline, start + (long)(duration.TotalSeconds * Stopwatch.Frequency));
        go.Set();
        threads.ForEach(t => t.Join());
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (errors.FirstOrDefault(e => e is not null) is { } error)
            throw new InvalidOperationException($"a client in {ns} failed: {error.Message}", error);
        var merged = new Dictionary<string, int>();
        foreach (var f in failures)
            foreach (var (k, v) in f)
                merged[k] = merged.GetValueOrDefault(k) + v;
        return new ClientRun(concurrency, seconds, latencies.SelectMany(l => l).ToList(), merged);
    }
}
