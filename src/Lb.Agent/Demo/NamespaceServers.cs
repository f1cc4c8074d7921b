using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Native;

namespace Lb.Agent.Demo;

/// <summary>
/// Creates sockets inside network namespaces. A socket belongs to the namespace of the thread that
/// created it and keeps it for life, so each creation runs on a fresh thread that enters the namespace
/// and ends afterwards (no pooled thread is ever left in a foreign namespace).
/// </summary>
public static class InNamespace
{
    public static T Run<T>(string ns, Func<T> create)
    {
        T? result = default;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var scope = NetworkNamespace.Enter(ns);
                result = create();
            }
            catch (Exception e)
            {
                error = e;
            }
        }) { IsBackground = true, Name = $"netns {ns}" };
        thread.Start();
        thread.Join();
        if (error is not null)
            throw new InvalidOperationException($"in namespace {ns}: {error.Message}", error);
        return result!;
    }

    public static Socket TcpSocket(string ns, AddressFamily family) =>
        Run(ns, () => new Socket(family, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true });

    public static Socket UdpSocket(string ns, AddressFamily family) =>
        Run(ns, () => new Socket(family, SocketType.Dgram, ProtocolType.Udp));
}

/// <summary>
/// A backend's TCP and UDP service in its namespace. Every request line (TCP) or datagram (UDP) is
/// answered with the backend's name, so a client learns who served it. A TCP connection whose first
/// bytes are "GET " speaks HTTP/1.1 instead: each request gets a 200 response whose body is the
/// backend's name (keep-alive unless the request says "Connection: close"). TCP connections stay
/// open until the client closes them, which lets tests hold long-lived connections across changes.
/// UDP listens on each given address separately so a reply leaves from the address the request
/// was sent to (in DSR that is the VIP on the backend's loopback).
/// </summary>
public sealed class BackendServer : IAsyncDisposable
{
    private readonly Socket _tcp;
    private readonly List<Socket> _udp = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private readonly List<Task> _loops = new();
    private int _accepted;
    private int _datagrams;
    private int _httpRequests;

    /// <param name="udpPort">The UDP port, when it differs from the TCP <paramref name="port"/>.</param>
    public BackendServer(string ns, string name, ushort port, IEnumerable<IPAddress> udpAddresses, ushort? udpPort = null)
    {
        Name = name;
        Port = port;
        UdpPort = udpPort ?? port;
        _tcp = InNamespace.Run(ns, () =>
        {
            var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            s.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            s.Listen(4096);
            return s;
        });
        _loops.Add(Task.Run(AcceptLoop));
        foreach (var address in udpAddresses)
        {
            var u = InNamespace.Run(ns, () =>
            {
                var s = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                s.Bind(new IPEndPoint(address, UdpPort));
                return s;
            });
            _udp.Add(u);
            _loops.Add(Task.Run(() => UdpLoop(u)));
        }
    }

    public string Name { get; }
    public ushort Port { get; }
    public ushort UdpPort { get; }
    public int Accepted => Volatile.Read(ref _accepted);
    public int Datagrams => Volatile.Read(ref _datagrams);
    public int HttpRequests => Volatile.Read(ref _httpRequests);
    public int OpenConnections => _connections.Count;

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _tcp.AcceptAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            Interlocked.Increment(ref _accepted);
            _connections[client] = 0;
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(Socket client)
    {
        var buffer = new byte[4096];
        var reply = Encoding.ASCII.GetBytes(Name + "\n");
        try
        {
            var n = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            if (n >= 4 && buffer.AsSpan(0, 4).SequenceEqual("GET "u8))
            {
                await ServeHttp(client, buffer, n);
                return;
            }
            while (n > 0 && !_stop.IsCancellationRequested)
            {
                for (var i = 0; i < n; i++)
                {
                    if (buffer[i] == (byte)'\n')
                        await client.SendAsync(reply, SocketFlags.None, _stop.Token);
                }
                n = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception)
        {
            // A reset or shutdown ends this connection only.
        }
        finally
        {
            _connections.TryRemove(client, out _);
            client.Dispose();
        }
    }

    /// <summary>HTTP/1.1 on a connection that opened with "GET ": requests end at an empty line (GET has no body).</summary>
    private async Task ServeHttp(Socket client, byte[] buffer, int filled)
    {
        var body = Encoding.ASCII.GetBytes(Name + "\n");
        while (!_stop.IsCancellationRequested)
        {
            var end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                if (filled == buffer.Length)
                {
                    await client.SendAsync(HttpResponse(431, "Request Header Fields Too Large", "request head over 4096 bytes\n"u8.ToArray(), close: true), SocketFlags.None, _stop.Token);
                    return;
                }
                var n = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stop.Token);
                if (n == 0)
                    return;
                filled += n;
                continue;
            }

            var head = Encoding.ASCII.GetString(buffer, 0, end);
            var lines = head.Split("\r\n");
            var requestLine = lines[0].Split(' ');
            var close = lines.Skip(1).Any(l => l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase) && l.Contains("close", StringComparison.OrdinalIgnoreCase));
            byte[] response;
            if (requestLine is not ["GET", _, "HTTP/1.1" or "HTTP/1.0"])
            {
                response = HttpResponse(400, "Bad Request", Encoding.ASCII.GetBytes($"expected `GET <path> HTTP/1.1`, got `{lines[0]}`\n"), close: true);
                close = true;
            }
            else
            {
                Interlocked.Increment(ref _httpRequests);
                response = HttpResponse(200, "OK", body, close);
            }
            await client.SendAsync(response, SocketFlags.None, _stop.Token);
            if (close)
                return;
            var consumed = end + 4;
            Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
            filled -= consumed;
        }
    }

    private byte[] HttpResponse(int status, string reason, byte[] body, bool close) =>
        [.. Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\n" +
            "Content-Type: text/plain; charset=us-ascii\r\n" +
            $"Content-Length: {body.Length}\r\n" +
            $"X-Backend: {Name}\r\n" +
            (close ? "Connection: close\r\n" : "") +
            "\r\n"), .. body];

    private async Task UdpLoop(Socket socket)
    {
        var buffer = new byte[65536];
        var reply = Encoding.ASCII.GetBytes(Name);
        EndPoint any = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
                Interlocked.Increment(ref _datagrams);
                await socket.SendToAsync(reply, SocketFlags.None, r.RemoteEndPoint, _stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _tcp.Dispose();
        foreach (var u in _udp)
            u.Dispose();
        foreach (var c in _connections.Keys)
            c.Dispose();
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Loops end with cancellation or disposal errors; both mean stopped.
        }
    }
}

/// <summary>Client-side helpers: a request over TCP or UDP from the client namespace, answered by a backend's name.</summary>
public static class LbClient
{
    /// <summary>Opens a connection from <paramref name="ns"/> and asks once; returns the open socket and the backend's name.</summary>
    public static async Task<(Socket Socket, string Backend)> ConnectAndAsk(string ns, IPEndPoint vip, TimeSpan timeout, int? sourcePort = null)
    {
        var socket = InNamespace.TcpSocket(ns, vip.AddressFamily);
        try
        {
            if (sourcePort is { } port)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(new IPEndPoint(vip.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, port));
            }
            using var cts = new CancellationTokenSource(timeout);
            await socket.ConnectAsync(vip, cts.Token);
            var name = await Ask(socket, cts.Token);
            return (socket, name);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends one request line on an open connection and reads the backend's answer.</summary>
    public static async Task<string> Ask(Socket socket, CancellationToken cancellationToken)
    {
        await socket.SendAsync("?\n"u8.ToArray(), SocketFlags.None, cancellationToken);
        var buffer = new byte[256];
        var total = 0;
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, cancellationToken);
            if (n == 0)
                throw new IOException("connection closed before the backend answered");
            total += n;
            var newline = Array.IndexOf(buffer, (byte)'\n', 0, total);
            if (newline >= 0)
                return Encoding.ASCII.GetString(buffer, 0, newline);
        }
    }

    /// <summary>One UDP request from a fresh socket (a fresh source port) in <paramref name="ns"/>.</summary>
    public static Task<string> UdpAsk(string ns, IPEndPoint vip, TimeSpan timeout) => UdpAsk(ns, vip, timeout, sourcePort: null);

    /// <summary>One UDP request from <paramref name="sourcePort"/> (a fresh ephemeral port when null) in <paramref name="ns"/>.</summary>
    public static async Task<string> UdpAsk(string ns, IPEndPoint vip, TimeSpan timeout, int? sourcePort)
    {
        using var socket = InNamespace.UdpSocket(ns, vip.AddressFamily);
        if (sourcePort is { } port)
            socket.Bind(new IPEndPoint(vip.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, port));
        socket.Connect(vip);
        using var cts = new CancellationTokenSource(timeout);
        await socket.SendAsync("?"u8.ToArray(), SocketFlags.None, cts.Token);
        var buffer = new byte[256];
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }
}
