using System.Net;
using System.Net.Sockets;

namespace Lb.Core.Config;

/// <summary>
/// Strict address syntax. <see cref="IPAddress.TryParse(string, out IPAddress)"/> accepts forms no one
/// means in a config file ("10.1" is 10.0.0.1, "010.0.0.1" is octal 8.0.0.1, "0x7f.1" is hex), and
/// <see cref="IPNetwork.TryParse(string, out IPNetwork)"/> silently clears host bits; here each of
/// those is an error with the reason. Every method returns null on success, or the message.
/// </summary>
internal static class AddressSyntax
{
    public static string? ParseAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Length == 0)
            return "an empty string is not an IP address";

        if (text.StartsWith('[') && text.EndsWith(']'))
            return $"'{text}': write an IPv6 address without brackets";
        if (text.Contains('%'))
            return $"'{text}': zone ids ('%eth0') are not supported";

        if (text.Contains(':'))
        {
            if (!text.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.') ||
                !IPAddress.TryParse(text, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
                return $"'{text}' is not an IPv6 address";
            if (v6.IsIPv4MappedToIPv6)
                return $"'{text}' is an IPv4-mapped IPv6 address; write the IPv4 address {v6.MapToIPv4()}";
            address = v6;
            return null;
        }

        var parts = text.Split('.');
        if (parts.Length != 4 || !parts.All(IsDecimalOctet))
            return $"'{text}' is not an IP address (IPv4 is four decimal numbers 0-255, as in 192.0.2.1)";
        address = new IPAddress(parts.Select(byte.Parse).ToArray());
        return null;
    }

    /// <summary>
    /// Why <paramref name="address"/> cannot be a frontend, backend or source address, or null if it can.
    /// </summary>
    public static string? UnicastProblem(IPAddress address)
    {
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
            return $"{address} is the unspecified address, not a host";
        if (address.Equals(IPAddress.Broadcast))
            return $"{address} is the broadcast address, not a host";
        if (IPAddress.IsLoopback(address))
            return $"{address} is a loopback address; traffic to it never reaches an interface's XDP program";
        if (IsMulticast(address))
            return $"{address} is a multicast address, not a host";
        return null;
    }

    /// <summary>A CIDR such as <c>10.0.0.0/8</c> or <c>2001:db8::/32</c>, with no bits set after the prefix.</summary>
    public static string? ParseNetwork(string text, out IPNetwork network)
    {
        network = default;
        var slash = text.IndexOf('/');
        if (slash < 0)
        {
            var single = ParseAddress(text, out var lone) is null
                ? $"; write '{text}/{(lone.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)}' for that one address"
                : "";
            return $"'{text}' is not a CIDR (address/prefix, as in 10.0.0.0/8){single}";
        }

        var addressText = text[..slash];
        var prefixText = text[(slash + 1)..];
        var addressError = ParseAddress(addressText, out var address);
        if (addressError is not null)
            return $"'{text}' is not a CIDR: {addressError}";

        var maxPrefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (!IsDecimal(prefixText) || prefixText.Length > 3 || (prefixText.Length > 1 && prefixText[0] == '0'))
            return $"'{text}' is not a CIDR: the prefix length must be a number 0-{maxPrefix}";
        var prefix = int.Parse(prefixText);
        if (prefix > maxPrefix)
            return $"'{text}' is not a CIDR: prefix length {prefix} is out of range (0-{maxPrefix})";

        var masked = new IPNetwork(Mask(address, prefix), prefix);
        if (!masked.BaseAddress.Equals(address))
            return $"'{text}' has bits set after the /{prefix} prefix; did you mean '{masked}'?";
        network = masked;
        return null;
    }

    /// <summary><c>127.0.0.1:9090</c> or <c>[::1]:9090</c>; the host must be an IP address (no name lookups here).</summary>
    public static string? ParseEndpoint(string text, out IPAddress address, out ushort port)
    {
        address = IPAddress.None;
        port = 0;
        const string expected = "expected host:port, as in 127.0.0.1:9090 or [::1]:9090";

        string hostText;
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
                return $"'{text}' is not host:port; {expected}";
            hostText = text[1..close];
            portText = text[(close + 2)..];
            if (!hostText.Contains(':'))
                return $"'{text}': brackets are only for IPv6 addresses; {expected}";
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0)
                return $"'{text}' is not host:port (no port); {expected}";
            hostText = text[..colon];
            portText = text[(colon + 1)..];
            if (hostText.Contains(':'))
                return $"'{text}': write an IPv6 host in brackets, as in [::1]:9090";
        }

        var hostError = ParseAddress(hostText, out address);
        if (hostError is not null)
            return $"'{text}': the host must be an IP address ({hostError})";
        if (!IsDecimal(portText) || portText.Length > 5 || int.Parse(portText) is < 1 or > 65535)
            return $"'{text}': the port must be a number 1-65535";
        port = ushort.Parse(portText);
        return null;
    }

    public static bool IsMulticast(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6
            ? address.IsIPv6Multicast
            : (address.GetAddressBytes()[0] & 0xF0) == 0xE0;

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }

    private static bool IsDecimal(string text) => text.Length > 0 && text.All(char.IsAsciiDigit);

    private static bool IsDecimalOctet(string part) =>
        IsDecimal(part) && part.Length <= 3 && (part.Length == 1 || part[0] != '0') && int.Parse(part) <= 255;
}
