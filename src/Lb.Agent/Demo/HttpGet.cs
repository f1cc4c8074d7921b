using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Lb.Agent.Demo;

/// <summary>One HTTP/1.1 response as the client parsed it.</summary>
public sealed record HttpAnswer(int Status, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A minimal HTTP/1.1 client over a socket the caller opened (in the client namespace): sends a GET and
/// parses the status line, the headers and a Content-Length body. Any other shape is an error that says
/// what arrived, so a mangled packet cannot pass for an answer.
/// </summary>
public static class HttpGet
{
    private const int MaxHead = 8192;

    public static async Task<HttpAnswer> Send(Socket socket, string host, string path, CancellationToken cancellationToken)
    {
        var request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: lb-demo\r\nAccept: */*\r\n\r\n");
        await socket.SendAsync(request, SocketFlags.None, cancellationToken);

        var buffer = new byte[MaxHead];
        var filled = 0;
        int headEnd;
        while ((headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (filled == buffer.Length)
                throw new InvalidDataException($"response head longer than {MaxHead} bytes");
            var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (n == 0)
                throw new IOException(filled == 0 ? "connection closed before any response" : $"connection closed inside the response head ({filled} bytes)");
            filled += n;
        }

        var lines = Encoding.ASCII.GetString(buffer, 0, headEnd).Split("\r\n");
        var statusLine = lines[0].Split(' ', 3);
        if (statusLine.Length < 2 || statusLine[0] != "HTTP/1.1" || !int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            throw new InvalidDataException($"not an HTTP/1.1 status line: `{lines[0]}`");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
                throw new InvalidDataException($"malformed header line `{line}`");
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        if (!headers.TryGetValue("Content-Length", out var lengthText) || !int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > 1 << 20)
            throw new InvalidDataException("response without a usable Content-Length");

        var body = new byte[length];
        var have = Math.Min(filled - (headEnd + 4), length);
        buffer.AsSpan(headEnd + 4, have).CopyTo(body);
        while (have < length)
        {
            var n = await socket.ReceiveAsync(body.AsMemory(have), SocketFlags.None, cancellationToken);
            if (n == 0)
                throw new IOException($"connection closed after {have} of {length} body bytes");
            have += n;
        }
        return new HttpAnswer(status, headers, Encoding.ASCII.GetString(body));
    }
}
