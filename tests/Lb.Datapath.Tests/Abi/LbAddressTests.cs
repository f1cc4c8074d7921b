using System.Net;
using FsCheck;
using FsCheck.Fluent;
using Lb.Datapath.Abi;

namespace Lb.Datapath.Tests.Abi;

public sealed class LbAddressTests
{
    [Fact]
    public void FromIPAddress_IPv4_FillsFirstFourBytesAndZeroesTheRest()
    {
        var address = LbAddress.FromIPAddress(IPAddress.Parse("198.51.100.10"));

        ReadOnlySpan<byte> bytes = address;
        Assert.Equal(new byte[] { 198, 51, 100, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, bytes.ToArray());
        Assert.Equal(IPAddress.Parse("198.51.100.10"), address.ToIPAddress(LbFamily.IPv4));
    }

    [Fact]
    public void FromIPAddress_IPv6_FillsAllSixteenBytes()
    {
        var ip = IPAddress.Parse("2001:db8::10");

        var address = LbAddress.FromIPAddress(ip);

        ReadOnlySpan<byte> bytes = address;
        Assert.Equal(ip.GetAddressBytes(), bytes.ToArray());
        Assert.Equal(ip, address.ToIPAddress(LbFamily.IPv6));
        Assert.Equal("2001:db8::10", address.ToString());
    }

    [Fact]
    public void V4_IsTheFirstWordInNetworkOrder()
    {
        var address = LbAddress.FromIPAddress(IPAddress.Parse("10.0.0.1"));

        Assert.Equal(0x0A000001u, address.V4.ToHost());
        Assert.Equal(address, LbAddress.FromV4(Be32.FromHost(0x0A000001)));
    }

    [Fact]
    public void ToIPAddress_IPv4FamilyWithNonZeroTail_Throws()
    {
        var address = LbAddress.FromIPAddress(IPAddress.Parse("2001:db8::10"));

        var error = Assert.Throws<InvalidOperationException>(() => address.ToIPAddress(LbFamily.IPv4));
        Assert.Contains("not an IPv4 address", error.Message);
    }

    [Fact]
    public void Equality_ComparesAllSixteenBytes()
    {
        var a = LbAddress.FromIPAddress(IPAddress.Parse("2001:db8::1"));
        var b = LbAddress.FromIPAddress(IPAddress.Parse("2001:db8::1"));
        var c = LbAddress.FromIPAddress(IPAddress.Parse("2001:db8::2"));

        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != c);
    }

    [Fact]
    public void RoundTrip_AnyIPv4AndIPv6Address_ReturnsTheSameAddress()
    {
        Prop.ForAll<uint, byte[]>((v4, seed) =>
            {
                var ip4 = new IPAddress(BitConverter.GetBytes(v4));
                var bytes6 = new byte[16];
                seed.AsSpan(0, Math.Min(seed.Length, 16)).CopyTo(bytes6);
                bytes6[0] = 0x20; // a global unicast prefix, never an IPv4-looking address
                var ip6 = new IPAddress(bytes6);
                return LbAddress.FromIPAddress(ip4).ToIPAddress(LbFamily.IPv4).Equals(ip4)
                       && LbAddress.FromIPAddress(ip6).ToIPAddress(LbFamily.IPv6).Equals(ip6);
            })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void MaglevKey_IsServiceIdShiftedWithTheIPv6Bit()
    {
        Assert.Equal(10u, LbAbi.MaglevKey(5, LbFamily.IPv4));
        Assert.Equal(11u, LbAbi.MaglevKey(5, LbFamily.IPv6));
    }
}
