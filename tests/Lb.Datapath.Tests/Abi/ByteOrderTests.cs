using System.Buffers.Binary;
using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using Lb.Datapath.Abi;

namespace Lb.Datapath.Tests.Abi;

public sealed class ByteOrderTests
{
    [Fact]
    public void Be16_FromHost_StoresNetworkOrderInMemory()
    {
        var port = Be16.FromHost(0x1F90); // 8080

        var bytes = new byte[2];
        MemoryMarshal.Write(bytes, in port);

        Assert.Equal(new byte[] { 0x1F, 0x90 }, bytes);
        Assert.Equal((ushort)8080, port.ToHost());
        Assert.Equal("8080", port.ToString());
    }

    [Fact]
    public void Be16_Raw_IsTheInMemoryValueNotTheHostValue()
    {
        var port = Be16.FromHost(80);

        Assert.Equal(BinaryPrimitives.ReadUInt16LittleEndian(new byte[] { 0x00, 0x50 }), port.Raw);
        Assert.Equal(port, Be16.FromRaw(port.Raw));
    }

    [Fact]
    public void Be32_FromHost_StoresNetworkOrderInMemory()
    {
        var value = Be32.FromHost(0xC0A80001); // 192.168.0.1

        var bytes = new byte[4];
        MemoryMarshal.Write(bytes, in value);

        Assert.Equal(new byte[] { 192, 168, 0, 1 }, bytes);
        Assert.Equal(0xC0A80001u, value.ToHost());
    }

    [Fact]
    public void Be16_HostRoundTrip_HoldsForEveryValue()
    {
        Prop.ForAll<ushort>(v =>
            {
                var be = Be16.FromHost(v);
                return be.ToHost() == v && BinaryPrimitives.ReadUInt16BigEndian(MemoryMarshal.AsBytes(new ReadOnlySpan<Be16>(in be))) == v;
            })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Be32_HostRoundTrip_HoldsForEveryValue()
    {
        Prop.ForAll<uint>(v =>
            {
                var be = Be32.FromHost(v);
                return be.ToHost() == v && BinaryPrimitives.ReadUInt32BigEndian(MemoryMarshal.AsBytes(new ReadOnlySpan<Be32>(in be))) == v;
            })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Be16_Equality_ComparesRawValues()
    {
        Assert.True(Be16.FromHost(443) == Be16.FromHost(443));
        Assert.True(Be16.FromHost(443) != Be16.FromHost(444));
        Assert.Equal(Be16.FromHost(443).GetHashCode(), Be16.FromHost(443).GetHashCode());
    }
}
