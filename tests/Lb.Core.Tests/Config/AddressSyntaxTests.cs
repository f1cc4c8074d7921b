using System.Net;
using Lb.Core.Config;

namespace Lb.Core.Tests.Config;

public class AddressSyntaxTests
{
    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("2001:db8::1")]
    [InlineData("2001:DB8:0:0:0:0:0:1")]
    [InlineData("::")]
    [InlineData("64:ff9b::192.0.2.1")]
    public void ParseAddress_StrictForms_AreAccepted(string text)
    {
        Assert.Null(AddressSyntax.ParseAddress(text, out var address));
        Assert.Equal(IPAddress.Parse(text), address);
    }

    [Theory]
    [InlineData("1")]              // IPAddress.Parse reads 0.0.0.1
    [InlineData("10.1")]           // 10.0.0.1
    [InlineData("010.0.0.1")]      // octal: 8.0.0.1
    [InlineData("0x7f.0.0.1")]     // hex: 127.0.0.1
    [InlineData("1.2.3.4.5")]
    [InlineData("256.0.0.1")]
    [InlineData(" 192.0.2.1")]
    [InlineData("192.0.2.1 ")]
    [InlineData("")]
    [InlineData("2001:db8::1::2")]
    [InlineData("2001:db8::/32")]
    [InlineData("[2001:db8::1]")]
    [InlineData("fe80::1%2")]
    [InlineData("::ffff:192.0.2.1")]
    public void ParseAddress_LenientOrBrokenForms_AreRefused(string text)
    {
        Assert.NotNull(AddressSyntax.ParseAddress(text, out _));
    }

    [Theory]
    [InlineData("10.0.0.0/8")]
    [InlineData("0.0.0.0/0")]
    [InlineData("192.0.2.7/32")]
    [InlineData("::/0")]
    [InlineData("2001:db8::/32")]
    [InlineData("2001:db8::1/128")]
    [InlineData("2001:db8:8000::/33")]
    public void ParseNetwork_CanonicalCidrs_AreAccepted(string text)
    {
        Assert.Null(AddressSyntax.ParseNetwork(text, out var network));
        Assert.Equal(IPNetwork.Parse(text), network);
    }

    [Theory]
    [InlineData("10.0.0.1/8", "'10.0.0.0/8'")]
    [InlineData("10.255.0.0/9", "'10.128.0.0/9'")]
    [InlineData("2001:db8:8000::/31", "'2001:db8::/31'")]
    [InlineData("192.0.2.1/0", "'0.0.0.0/0'")]
    public void ParseNetwork_HostBitsSet_IsRefusedWithTheMaskedNetwork(string text, string suggestion)
    {
        Assert.EndsWith($"did you mean {suggestion}?", AddressSyntax.ParseNetwork(text, out _));
    }

    [Theory]
    [InlineData("10.0.0.0/08")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/")]
    [InlineData("/8")]
    [InlineData("10.0.0.0/8/8")]
    public void ParseNetwork_MalformedPrefix_IsRefused(string text)
    {
        Assert.NotNull(AddressSyntax.ParseNetwork(text, out _));
    }

    [Theory]
    [InlineData("127.0.0.1:9090", "127.0.0.1", 9090)]
    [InlineData("[::1]:1", "::1", 1)]
    [InlineData("[2001:db8::5]:65535", "2001:db8::5", 65535)]
    public void ParseEndpoint_HostPort_IsAccepted(string text, string host, int port)
    {
        Assert.Null(AddressSyntax.ParseEndpoint(text, out var address, out var parsedPort));
        Assert.Equal(IPAddress.Parse(host), address);
        Assert.Equal(port, parsedPort);
    }

    [Theory]
    [InlineData("127.0.0.1:65536")]
    [InlineData("127.0.0.1:")]
    [InlineData(":9090")]
    [InlineData("[::1]9090")]
    [InlineData("[::1]:")]
    public void ParseEndpoint_Malformed_IsRefused(string text)
    {
        Assert.NotNull(AddressSyntax.ParseEndpoint(text, out _, out _));
    }
}
