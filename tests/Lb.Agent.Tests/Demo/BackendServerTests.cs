using Lb.Testing.Kernel;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Agent.Demo;
using Lb.Agent.Tests.Infrastructure;

namespace Lb.Agent.Tests.Demo;

/// <summary>The demo's backend over a namespace's loopback: HTTP/1.1 for a GET, the line protocol otherwise, UDP on its own port.</summary>
public sealed class BackendServerTests
{
    private const ushort Port = 8080;
    private const ushort UdpPort = 5353;

    [Fact]
    public async Task Serve_HttpGetsOnOneConnection_EachAnsweredWith200NamingTheBackend()
    {
        using var ns = new TestNamespace();
        await using var server = new BackendServer(ns.Name, "backend-7", Port, [IPAddress.Loopback], UdpPort);
        using var socket = InNamespace.TcpSocket(ns.Name, AddressFamily.InterNetwork);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port));

        var first = await HttpGet.Send(socket, "127.0.0.1", "/", CancellationToken.None);
        var second = await HttpGet.Send(socket, "127.0.0.1", "/again", CancellationToken.None);

        foreach (var answer in new[] { first, second })
        {
            Assert.Equal(200, answer.Status);
            Assert.Equal("backend-7\n", answer.Body);
            Assert.Equal("backend-7", answer.Headers["X-Backend"]);
        }
        Assert.Equal(2, server.HttpRequests);
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task Serve_HttpRequestWithConnectionClose_ClosesAfterTheResponse()
    {
        using var ns = new TestNamespace();
        await using var server = new BackendServer(ns.Name, "backend-1", Port, [IPAddress.Loopback]);
        using var socket = InNamespace.TcpSocket(ns.Name, AddressFamily.InterNetworkV6);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, Port));

        await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray());
        var received = await ReadToEnd(socket);

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", received);
        Assert.Contains("\r\nConnection: close\r\n", received);
        Assert.EndsWith("\r\n\r\nbackend-1\n", received);
    }

    [Fact]
    public async Task Serve_MalformedRequestLine_Answers400AndCloses()
    {
        using var ns = new TestNamespace();
        await using var server = new BackendServer(ns.Name, "backend-1", Port, [IPAddress.Loopback]);
        using var socket = InNamespace.TcpSocket(ns.Name, AddressFamily.InterNetwork);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port));

        await socket.SendAsync("GET /\r\n\r\n"u8.ToArray());
        var received = await ReadToEnd(socket);

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", received);
        Assert.Equal(0, server.HttpRequests);
    }

    [Fact]
    public async Task Serve_LineProtocolAndUdpOnItsOwnPort_AnsweredWithTheName()
    {
        using var ns = new TestNamespace();
        await using var server = new BackendServer(ns.Name, "backend-2", Port, [IPAddress.Loopback], UdpPort);
        var (socket, name) = await LbClient.ConnectAndAsk(ns.Name, new IPEndPoint(IPAddress.Loopback, Port), TimeSpan.FromSeconds(5));
        using (socket)
        {
            var again = await LbClient.Ask(socket, CancellationToken.None);
            var udp = await LbClient.UdpAsk(ns.Name, new IPEndPoint(IPAddress.Loopback, UdpPort), TimeSpan.FromSeconds(5));

            Assert.Equal(("backend-2", "backend-2", "backend-2"), (name, again, udp));
            Assert.Equal((0, 1), (server.HttpRequests, server.Datagrams));
        }
    }

    private static async Task<string> ReadToEnd(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var all = new MemoryStream();
        var buffer = new byte[1024];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            all.Write(buffer, 0, n);
        return Encoding.ASCII.GetString(all.ToArray());
    }
}
