using Lb.Datapath.Abi;

namespace Lb.Datapath.Tests.Abi;

public sealed class LbNameTests
{
    [Fact]
    public void Create_Utf8Name_RoundTripsWithItsByteLength()
    {
        var record = LbName.Create("kube-system/coredns-ü", serviceId: 7);

        Assert.Equal("kube-system/coredns-ü", record.GetText());
        Assert.Equal(22u, record.Len);
        Assert.Equal(7u, record.ServiceId);
        ReadOnlySpan<byte> bytes = record.Name;
        Assert.False(bytes[(int)record.Len..].ContainsAnyExcept((byte)0));
    }

    [Fact]
    public void Create_LongerThanTheRecord_IsRefused()
    {
        var fits = LbName.Create(new string('a', (int)LbLimits.NameMax));

        var error = Assert.Throws<ArgumentException>(() => LbName.Create(new string('a', (int)LbLimits.NameMax + 1)));

        Assert.Equal(LbLimits.NameMax, fits.Len);
        Assert.Contains("longer than 256 bytes", error.Message);
    }

    [Fact]
    public void GetText_LengthBeyondTheBuffer_IsRefused()
    {
        var record = new LbName { Len = LbLimits.NameMax + 1 };

        Assert.Throws<InvalidOperationException>(() => record.GetText());
    }
}
