using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Lb.Core.Model;

namespace Lb.Core.Hashing;

/// <summary>
/// The flow hash that picks a Maglev slot (<c>table[flowHash % M]</c>) in both engines: jhash2 over
/// the 10 words that <c>native/include/lb/flow_hash.h</c> lays out, seeded with the configured seed.
/// </summary>
/// <remarks>
/// Word layout, each word the packet's 4 bytes read little-endian (a plain load in the XDP program):
/// w0..w3 source address (IPv4: w0, the rest zero), w4..w7 destination address (likewise),
/// w8 the first 4 bytes of the L4 header (source port, destination port), w9 the IP protocol number.
/// With ClientIP affinity only the client address is hashed and w4..w9 are zero, so every Lb node
/// sends a client to the same backend whatever its port or the frontend it used.
/// The raw-bytes overloads are the packet path (no allocation); the <see cref="IPAddress"/> overloads
/// serve the control plane and tests, and go through the same bytes.
/// </remarks>
public static class FlowHash
{
    public const int WordCount = 10;

    private const int IPv4Length = 4;
    private const int IPv6Length = 16;
    private const int PortsLength = 4;
    private const int DestinationWord = 4;
    private const int PortsWord = 8;
    private const int ProtocolWord = 9;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The 5-tuple hash over raw packet bytes.
    /// </summary>
    /// <param name="sourceAddress">4 (IPv4) or 16 (IPv6) bytes as the IP header carries them.</param>
    /// <param name="destinationAddress">As many bytes as <paramref name="sourceAddress"/>.</param>
    /// <param name="l4Header">The TCP or UDP header; its first 4 bytes (the two ports) are hashed.</param>
    /// <param name="protocol">The IP protocol number (6 TCP, 17 UDP).</param>
    /// <param name="seed">The jhash initval, from <see cref="DeriveSeed"/>.</param>
    public static uint Compute(
        ReadOnlySpan<byte> sourceAddress,
        ReadOnlySpan<byte> destinationAddress,
        ReadOnlySpan<byte> l4Header,
        byte protocol,
        uint seed)
    {
        if (destinationAddress.Length != sourceAddress.Length)
        {
            ThrowAddressLengthMismatch(sourceAddress.Length, destinationAddress.Length);
        }

        if (l4Header.Length < PortsLength)
        {
            ThrowL4HeaderTooShort(l4Header.Length);
        }

        var ports = BinaryPrimitives.ReadUInt32LittleEndian(l4Header);
        if (sourceAddress.Length == IPv4Length)
        {
            return Hash(
                BinaryPrimitives.ReadUInt32LittleEndian(sourceAddress), 0, 0, 0,
                BinaryPrimitives.ReadUInt32LittleEndian(destinationAddress), 0, 0, 0,
                ports, protocol, seed);
        }

        if (sourceAddress.Length != IPv6Length)
        {
            ThrowBadAddressLength(sourceAddress.Length);
        }

        return Hash(
            BinaryPrimitives.ReadUInt32LittleEndian(sourceAddress),
            BinaryPrimitives.ReadUInt32LittleEndian(sourceAddress[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(sourceAddress[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(sourceAddress[12..]),
            BinaryPrimitives.ReadUInt32LittleEndian(destinationAddress),
            BinaryPrimitives.ReadUInt32LittleEndian(destinationAddress[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(destinationAddress[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(destinationAddress[12..]),
            ports, protocol, seed);
    }

    /// <summary>The ClientIP-affinity hash over the client address's 4 or 16 raw bytes.</summary>
    public static uint ComputeAffinity(ReadOnlySpan<byte> clientAddress, uint seed)
    {
        if (clientAddress.Length == IPv4Length)
        {
            return Hash(BinaryPrimitives.ReadUInt32LittleEndian(clientAddress), 0, 0, 0, 0, 0, 0, 0, 0, 0, seed);
        }

        if (clientAddress.Length != IPv6Length)
        {
            ThrowBadAddressLength(clientAddress.Length);
        }

        return Hash(
            BinaryPrimitives.ReadUInt32LittleEndian(clientAddress),
            BinaryPrimitives.ReadUInt32LittleEndian(clientAddress[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(clientAddress[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(clientAddress[12..]),
            0, 0, 0, 0, 0, 0, seed);
    }

    /// <summary>The 5-tuple hash of a flow given as parsed values; equal to the raw-bytes overload on its packet.</summary>
    public static uint Compute(
        IPAddress source,
        ushort sourcePort,
        IPAddress destination,
        ushort destinationPort,
        L4Protocol protocol,
        uint seed)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (source.AddressFamily != destination.AddressFamily)
        {
            throw new ArgumentException(
                $"source {source} and destination {destination} are of different address families; a packet has one",
                nameof(destination));
        }

        Span<byte> sourceBytes = stackalloc byte[IPv6Length];
        Span<byte> destinationBytes = stackalloc byte[IPv6Length];
        Span<byte> ports = stackalloc byte[PortsLength];
        BinaryPrimitives.WriteUInt16BigEndian(ports, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(ports[2..], destinationPort);
        return Compute(
            AddressBytes(source, sourceBytes, nameof(source)),
            AddressBytes(destination, destinationBytes, nameof(destination)),
            ports,
            (byte)protocol,
            seed);
    }

    /// <summary>The ClientIP-affinity hash of a client address.</summary>
    public static uint ComputeAffinity(IPAddress client, uint seed)
    {
        ArgumentNullException.ThrowIfNull(client);
        Span<byte> clientBytes = stackalloc byte[IPv6Length];
        return ComputeAffinity(AddressBytes(client, clientBytes, nameof(client)), seed);
    }

    /// <summary>Writes the 10 hashed words of a 5-tuple into <paramref name="words"/> (at least 10 long).</summary>
    public static void WriteWords(
        ReadOnlySpan<byte> sourceAddress,
        ReadOnlySpan<byte> destinationAddress,
        ReadOnlySpan<byte> l4Header,
        byte protocol,
        Span<uint> words)
    {
        if (destinationAddress.Length != sourceAddress.Length)
        {
            ThrowAddressLengthMismatch(sourceAddress.Length, destinationAddress.Length);
        }

        if (l4Header.Length < PortsLength)
        {
            ThrowL4HeaderTooShort(l4Header.Length);
        }

        WriteAffinityWords(sourceAddress, words);
        WriteAddress(destinationAddress, words.Slice(DestinationWord, 4));
        words[PortsWord] = BinaryPrimitives.ReadUInt32LittleEndian(l4Header);
        words[ProtocolWord] = protocol;
    }

    /// <summary>Writes the 10 words of the affinity variant: the client address, then zeros.</summary>
    public static void WriteAffinityWords(ReadOnlySpan<byte> clientAddress, Span<uint> words)
    {
        if (clientAddress.Length is not (IPv4Length or IPv6Length))
        {
            ThrowBadAddressLength(clientAddress.Length);
        }

        if (words.Length < WordCount)
        {
            ThrowWordsTooShort(words.Length);
        }

        words[..WordCount].Clear();
        WriteAddress(clientAddress, words[..4]);
    }

    /// <summary>
    /// The u32 flow-hash seed of a configured seed string (<see cref="MaglevOptions.Seed"/>): Linux
    /// <c>jhash</c> over its UTF-8 bytes with initval 0. Every Lb node given the same string agrees.
    /// </summary>
    /// <exception cref="ArgumentException">The string is not valid UTF-16 (a lone surrogate).</exception>
    public static uint DeriveSeed(string seed)
    {
        ArgumentNullException.ThrowIfNull(seed);
        byte[] utf8;
        try
        {
            utf8 = StrictUtf8.GetBytes(seed);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("the flow-hash seed contains a lone surrogate and has no UTF-8 form", nameof(seed), e);
        }

        return JHash.Bytes(utf8, 0);
    }

    /// <summary>
    /// <see cref="JHash.Words"/> unrolled for exactly the 10 flow words held in registers: the
    /// packet path then needs no word buffer. The vectors check it against the general loop's results.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(uint w0, uint w1, uint w2, uint w3, uint w4, uint w5, uint w6, uint w7, uint w8, uint w9, uint seed)
    {
        uint a, b, c;
        a = b = c = JHash.InitialValue + (WordCount << 2) + seed;
        a += w0; b += w1; c += w2;
        JHash.Mix(ref a, ref b, ref c);
        a += w3; b += w4; c += w5;
        JHash.Mix(ref a, ref b, ref c);
        a += w6; b += w7; c += w8;
        JHash.Mix(ref a, ref b, ref c);
        a += w9;
        JHash.Final(ref a, ref b, ref c);
        return c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteAddress(ReadOnlySpan<byte> address, Span<uint> words)
    {
        for (var i = 0; i < address.Length / 4; i++)
        {
            words[i] = BinaryPrimitives.ReadUInt32LittleEndian(address[(i * 4)..]);
        }
    }

    private static ReadOnlySpan<byte> AddressBytes(IPAddress address, Span<byte> buffer, string parameterName)
    {
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"{address} is neither IPv4 nor IPv6", parameterName);
        }

        // The scope id of a link-local IPv6 address is not in the packet, so it is not hashed.
        address.TryWriteBytes(buffer, out var written);
        return buffer[..written];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadAddressLength(int length) =>
        throw new ArgumentException($"an address is 4 (IPv4) or 16 (IPv6) bytes, not {length}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAddressLengthMismatch(int sourceLength, int destinationLength) =>
        throw new ArgumentException(
            $"source ({sourceLength} bytes) and destination ({destinationLength} bytes) addresses must be of one family");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowL4HeaderTooShort(int length) =>
        throw new ArgumentException($"the L4 header must hold at least the {PortsLength} bytes of the two ports, not {length}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWordsTooShort(int length) =>
        throw new ArgumentException($"the flow hash needs {WordCount} words, the buffer holds {length}");
}
