using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Lb.Datapath.Abi;

namespace Lb.Datapath.Engine;

/// <summary>
/// lb_csum.h in C#: incremental Internet checksum updates (RFC 1624 eqn. 3) over 16-bit words exactly
/// as a little-endian load reads them from the frame, as the XDP program sums them, so both engines
/// produce the same 16 bits (docs/xdp-datapath.md, "Incremental checksum").
/// </summary>
internal static class Checksum
{
    /// <summary>lb_csum_diff16: adds the change of one word from <paramref name="from"/> to <paramref name="to"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Diff16(uint acc, ushort from, ushort to) => acc + (ushort)~from + to;

    /// <summary>lb_csum_diff32: a 32-bit field as its two words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Diff32(uint acc, uint from, uint to)
    {
        acc = Diff16(acc, (ushort)from, (ushort)to);
        return Diff16(acc, (ushort)(from >> 16), (ushort)(to >> 16));
    }

    /// <summary>lb_csum_diff_addr: 4 bytes for IPv4, 16 for IPv6, read as little-endian words.</summary>
    public static uint DiffAddress(uint acc, in LbAddress from, in LbAddress to, LbFamily family)
    {
        ReadOnlySpan<byte> a = from;
        ReadOnlySpan<byte> b = to;
        var words = family == LbFamily.IPv4 ? 1 : 4;
        for (var i = 0; i < words; i++)
            acc = Diff32(acc, BinaryPrimitives.ReadUInt32LittleEndian(a[(4 * i)..]), BinaryPrimitives.ReadUInt32LittleEndian(b[(4 * i)..]));
        return acc;
    }

    /// <summary>lb_csum_fold: two rounds of end-around carry fold any 32-bit sum to 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fold(uint sum)
    {
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>lb_csum_update: HC' = ~fold(~HC + acc), on the field as loaded (little-endian).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Update(ushort check, uint acc) => (ushort)~Fold((ushort)~check + acc);

    /// <summary>lb_csum_ipv4_header: the checksum (as a little-endian word) of a 20-byte header whose check field is zero.</summary>
    public static ushort Ipv4Header(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (var i = 0; i < 20; i += 2)
            sum += BinaryPrimitives.ReadUInt16LittleEndian(header[i..]);
        return (ushort)~Fold(sum);
    }
}
