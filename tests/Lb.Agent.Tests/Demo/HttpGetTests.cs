using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Agent.Demo;

namespace Lb.Agent.Tests.Demo;

/// <summary>The demo's HTTP/1.1 client against a canned server on loopback: what it accepts and what it refuses.</summary>
public sealed class HttpGetTests
{
    [Fact]
    public async Task Send_ResponseSplitAcrossSegments_ParsesStatusHeadersAndBody()
    {
        var answer = await Exchange(["HTTP/1.1 200 OK\r\nContent-Le", "ngth: 10\r\nX-Backend: backend-0\r\n\r\nbacke", "nd-0\n"]);

        Assert.Equal(200, answer.Status);
        Assert.Equal("backend-0", answer.Headers["x-backend"]);
        Assert.Equal("backend-0\n", answer.Body);
    }

    [Theory]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", "not an HTTP/1.1 status line")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Backend: b\r\n\r\nb\n", "Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line")]
    public async Task Send_MalformedResponse_RefusedSayingWhy(string response, string reason)
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => Exchange([response]));

        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public async Task Send_ConnectionClosedInsideTheBody_Refused()
    {
        var error = await Assert.ThrowsAsync<IOException>(() => Exchange(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nback"]));

        Assert.Contains("4 of 10 body bytes", error.Message);
    }

    /// <summary>Serves one connection on loopback: reads the request head, writes the segments one by one, closes.</summary>
    private static async Task<HttpAnswer> Exchange(string[] segments)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var server = Task.Run(async () =>
        {
            using var peer = await listener.AcceptAsync();
            peer.NoDelay = true;
            var buffer = new byte[4096];
            var head = "";
            while (!head.Contains("\r\n\r\n"))
                head += Encoding.ASCII.GetString(buffer, 0, await peer.ReceiveAsync(buffer));
            Assert.StartsWith("GET /probe HTTP/1.1\r\nHost: example\r\n", head);
            foreach (var segment in segments)
            {
                await peer.SendAsync(Encoding.ASCII.GetBytes(segment));
                await Task.Delay(20);
            }
            peer.Shutdown(SocketShutdown.Both);
        });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await HttpGet.Send(client, "example", "/probe", timeout.Token);
        }
        finally
        {
            await server;
        }
    }
}
