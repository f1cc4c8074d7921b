// The C# mirror of native/include/lb/lb_abi.h: every map name, limit, enum, flag, key and value
// struct that crosses the boundary to the XDP program, in exactly one file. The layout test in
// tests/Lb.Datapath.Tests generates _Static_asserts from these types by reflection and compiles them
// against the header with clang, and fails when a type here or a struct in the header is left out.
//
// Rules carried over from the header: fields in the header's order with [StructLayout(Sequential)];
// padding is a named field (hash keys compare every byte, so padding is zero and visible); network
// byte order is Be16 / Be32, so every conversion is written out.

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Lb.Datapath.Abi;

/// <summary>Where the maps live and the pure helpers the header defines inline.</summary>
public static class LbAbi
{
    /// <summary>LB_PIN_ROOT: every map of the XDP object is pinned here by name.</summary>
    public const string PinRoot = "/sys/fs/bpf/lb";

    /// <summary>lb_maglev_key(): the outer lb_maglev key of a service's table for one family.</summary>
    public static uint MaglevKey(uint serviceId, LbFamily family) =>
        (serviceId << 1) | (family == LbFamily.IPv6 ? 1u : 0u);
}

/// <summary>LB_MAP_*: map names as declared in the object and pinned under <see cref="LbAbi.PinRoot"/>.</summary>
public static class LbMapNames
{
    public const string Config = "lb_config";
    public const string Services = "lb_services";
    public const string Backends = "lb_backends";
    public const string Maglev = "lb_maglev";
    public const string Flows = "lb_flows";
    public const string Affinity = "lb_affinity";
    public const string RevNat = "lb_rev_nat";
    public const string SrcRanges = "lb_src_ranges";
    public const string SvcStats = "lb_svc_stats";
    public const string Reasons = "lb_reasons";
    /// <summary>User space only: the names behind the ids, for a restarted agent (<see cref="LbName"/>).</summary>
    public const string Names = "lb_names";
}

/// <summary>Map sizes and id ranges. Ids are dense small integers chosen by the control plane; 0 means none.</summary>
public static class LbLimits
{
    /// <summary>Service ids run 1 .. MaxServices-1.</summary>
    public const uint MaxServices = 65536;
    public const uint MaxFrontends = 131072;
    /// <summary>Backend ids run 1 .. MaxBackends-1.</summary>
    public const uint MaxBackends = 262144;
    public const uint MaxSrcRanges = 65536;
    /// <summary>Default size of lb_flows and lb_rev_nat; the loader may change it.</summary>
    public const uint DefaultFlows = 1000000;
    public const uint DefaultAffinity = 262144;
    /// <summary>Default Maglev table size M (prime); the loader sets the inner map size to the configured M.</summary>
    public const uint MaglevDefaultSize = 16381;
    /// <summary>Candidate SNAT ports tried before a flow is handed over.</summary>
    public const uint NatPortTries = 8;
    /// <summary>Bytes of UTF-8 in one lb_names record (service names are at most 253).</summary>
    public const uint NameMax = 256;
    /// <summary>lb_names entries: one per service id and backend id, and the cursors.</summary>
    public const uint MaxNames = MaxServices + MaxBackends;
    /// <summary>LB_REASON_MAX: one past the largest reason number; the size of the reason counters.</summary>
    public const uint ReasonMax = 96;
    /// <summary>Reasons from this number on are drops; below it the frame was passed to the kernel.</summary>
    public const uint ReasonFirstDrop = 32;
    /// <summary>Reasons from this number on mean the frame was forwarded.</summary>
    public const uint ReasonFirstFwd = 64;

    // Constants of the packet path that both engines must apply identically (docs/xdp-datapath.md).

    /// <summary>The SNAT port base is the flow hash of the 5-tuple with seed <c>flow_hash_seed ^ NatPortHashXor</c>.</summary>
    public const uint NatPortHashXor = 0x9e3779b9;
    /// <summary>Outer IPv4 TTL / IPv6 hop limit of dsr-ipip.</summary>
    public const uint EncapTtl = 64;
    /// <summary>dsr-ipip SYN over IPv4: MSS &lt;= mtu - (outer 20 + inner 20 + TCP 20).</summary>
    public const uint MssOverheadV4 = 60;
    /// <summary>dsr-ipip SYN over IPv6: MSS &lt;= mtu - (outer 40 + inner 40 + TCP 20).</summary>
    public const uint MssOverheadV6 = 100;
}

/// <summary>enum lb_family: the IP version number, as stored in the __u8 family fields.</summary>
public enum LbFamily : byte
{
    IPv4 = 4,
    IPv6 = 6,
}

/// <summary>enum lb_forwarding.</summary>
public enum LbForwarding : byte
{
    Nat = 0,
    DsrIpip = 1,
    DsrL2 = 2,
}

/// <summary>enum lb_backend_state.</summary>
public enum LbBackendState : byte
{
    Active = 0,
    Terminating = 1,
    Maintenance = 2,
}

/// <summary>LB_CFG_F_*: lb_config.flags.</summary>
[Flags]
public enum LbConfigFlags : ushort
{
    None = 0,
    /// <summary>
    /// Some nat service keeps client addresses, so its replies are addressed to clients: every packet is
    /// looked up in lb_rev_nat. Without it only packets to Lb's SNAT address of their family are.
    /// </summary>
    KeepClientNat = 1 << 0,
}

/// <summary>LB_SVC_F_*: lb_service.flags.</summary>
[Flags]
public enum LbServiceFlags : uint
{
    None = 0,
    /// <summary>ClientIP affinity: hash the client address only.</summary>
    Affinity = 1u << 0,
    /// <summary>Consult lb_src_ranges for this service.</summary>
    SrcRanges = 1u << 1,
    /// <summary>Random scheduler instead of the flow hash.</summary>
    SchedRandom = 1u << 2,
    /// <summary>NAT without SNAT (traffic policy local, or snat: false).</summary>
    KeepClient = 1u << 3,
}

/// <summary>
/// enum lb_reason: why a frame was passed, dropped or forwarded. Stable numbers: a retired reason
/// keeps its number, marked unused. The XDP program and the managed engine count into the same reasons.
/// </summary>
public enum LbReason : uint
{
    ReasonUnused0 = 0,

    // Passed to the kernel (or, later, to the AF_XDP worker).
    PassNotIp = 1,
    PassNoService = 2,
    PassFragment = 3,
    PassIpv4Options = 4,
    PassIpv6Extension = 5,
    /// <summary>ICMP not handled by the fast path (errors, echo).</summary>
    PassIcmp = 6,
    PassNoBackend = 7,
    PassFibNoNeighbour = 8,
    PassFibFailed = 9,
    PassNatPortsExhausted = 10,
    PassFlowTableFull = 11,
    PassTtlExpired = 12,

    // Dropped.
    DropSourceRange = 32,
    DropMalformedEthernet = 33,
    DropMalformedIpv4 = 34,
    DropMalformedIpv6 = 35,
    DropMalformedTcp = 36,
    DropMalformedUdp = 37,
    DropEncapFailed = 38,
    DropFrameTooBig = 39,

    // Forwarded: counted so every frame the program saw lands in exactly one reason.
    FwdTx = 64,
    FwdRedirect = 65,
}

/// <summary>
/// A __be16: the value exactly as it sits in memory and on the wire. <see cref="Raw"/> is that raw
/// in-memory value; <see cref="FromHost"/> and <see cref="ToHost"/> are the only conversions.
/// </summary>
public readonly struct Be16 : IEquatable<Be16>
{
    private readonly ushort _raw;

    private Be16(ushort raw) => _raw = raw;

    public ushort Raw => _raw;

    public static Be16 FromRaw(ushort raw) => new(raw);

    public static Be16 FromHost(ushort value) =>
        new(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value);

    public ushort ToHost() => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(_raw) : _raw;

    public bool Equals(Be16 other) => _raw == other._raw;
    public override bool Equals(object? obj) => obj is Be16 other && Equals(other);
    public override int GetHashCode() => _raw;
    public static bool operator ==(Be16 left, Be16 right) => left._raw == right._raw;
    public static bool operator !=(Be16 left, Be16 right) => left._raw != right._raw;

    /// <summary>The host-order value, which is what a reader of a port number expects.</summary>
    public override string ToString() => ToHost().ToString();
}

/// <summary>A __be32: the value exactly as it sits in memory and on the wire; see <see cref="Be16"/>.</summary>
public readonly struct Be32 : IEquatable<Be32>
{
    private readonly uint _raw;

    private Be32(uint raw) => _raw = raw;

    public uint Raw => _raw;

    public static Be32 FromRaw(uint raw) => new(raw);

    public static Be32 FromHost(uint value) =>
        new(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value);

    public uint ToHost() => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(_raw) : _raw;

    public bool Equals(Be32 other) => _raw == other._raw;
    public override bool Equals(object? obj) => obj is Be32 other && Equals(other);
    public override int GetHashCode() => (int)_raw;
    public static bool operator ==(Be32 left, Be32 right) => left._raw == right._raw;
    public static bool operator !=(Be32 left, Be32 right) => left._raw != right._raw;

    public override string ToString() => $"0x{ToHost():x8}";
}

/// <summary>
/// union lb_addr: IPv4 in the first 4 bytes (the other 12 zero) or IPv6 in all 16, in network order.
/// The union is 4-byte aligned in C and this struct 1-byte aligned; every struct here puts it at an
/// offset the C compiler would also choose, and the compiled layout check proves it field by field.
/// </summary>
[InlineArray(16)]
public struct LbAddress : IEquatable<LbAddress>
{
    public const int Size = 16;

    private byte _element0;

    public static LbAddress FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var result = default(LbAddress);
        Span<byte> bytes = result;
        if (!address.TryWriteBytes(bytes, out _))
            throw new ArgumentException($"Address {address} does not fit in an lb_addr.", nameof(address));
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException($"Address {address} is neither IPv4 nor IPv6.", nameof(address));
        return result;
    }

    /// <summary>Reads the address back; the family says how many bytes are meaningful.</summary>
    public readonly IPAddress ToIPAddress(LbFamily family)
    {
        ReadOnlySpan<byte> bytes = this;
        switch (family)
        {
            case LbFamily.IPv4:
                if (bytes[4..].ContainsAnyExcept((byte)0))
                    throw new InvalidOperationException($"lb_addr {Convert.ToHexString(bytes)} is not an IPv4 address: bytes 4..15 are not zero.");
                return new IPAddress(bytes[..4]);
            case LbFamily.IPv6:
                return new IPAddress(bytes);
            default:
                throw new ArgumentOutOfRangeException(nameof(family), family, "Not an lb_family value.");
        }
    }

    /// <summary>The IPv4 view (union member v4): the first four bytes, in network order.</summary>
    public readonly Be32 V4
    {
        get
        {
            ReadOnlySpan<byte> bytes = this;
            return Be32.FromRaw(MemoryMarshal.Read<uint>(bytes));
        }
    }

    public static LbAddress FromV4(Be32 v4)
    {
        var result = default(LbAddress);
        Span<byte> bytes = result;
        var raw = v4.Raw;
        MemoryMarshal.Write(bytes, in raw);
        return result;
    }

    public readonly bool Equals(LbAddress other)
    {
        ReadOnlySpan<byte> mine = this;
        ReadOnlySpan<byte> theirs = other;
        return mine.SequenceEqual(theirs);
    }

    public override readonly bool Equals(object? obj) => obj is LbAddress other && Equals(other);

    public override readonly int GetHashCode()
    {
        var hash = new HashCode();
        ReadOnlySpan<byte> bytes = this;
        hash.AddBytes(bytes);
        return hash.ToHashCode();
    }

    public static bool operator ==(LbAddress left, LbAddress right) => left.Equals(right);
    public static bool operator !=(LbAddress left, LbAddress right) => !left.Equals(right);

    /// <summary>Shown as IPv4 when bytes 4..15 are zero, else as IPv6 (the union alone does not know its family).</summary>
    public override readonly string ToString()
    {
        ReadOnlySpan<byte> bytes = this;
        return bytes[4..].ContainsAnyExcept((byte)0) ? new IPAddress(bytes).ToString() : new IPAddress(bytes[..4]).ToString();
    }
}

/// <summary>__u8 pad[2].</summary>
[InlineArray(2)]
public struct LbPadding2
{
    private byte _element0;
}

/// <summary>__u8 pad[3].</summary>
[InlineArray(3)]
public struct LbPadding3
{
    private byte _element0;
}

/// <summary>struct lb_config, lb_config[0]: datapath settings the agent writes before attaching.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbDatapathConfig
{
    /// <summary>jhash initval for the flow hash.</summary>
    public uint FlowHashSeed;
    /// <summary>M, prime; every inner Maglev table has M entries.</summary>
    public uint MaglevSize;
    /// <summary>SNAT source ports, host order, inclusive.</summary>
    public ushort NatPortMin;
    public ushort NatPortMax;
    /// <summary>Egress MTU used for the DSR MSS clamp.</summary>
    public ushort Mtu;
    /// <summary>LB_CFG_F_*.</summary>
    public LbConfigFlags Flags;
    /// <summary>An idle flow older than this is scheduled again.</summary>
    public ulong FlowTimeoutNs;
    /// <summary>Lb's own IPv4 address: NAT source, IPIP outer source.</summary>
    public LbAddress SnatV4;
    /// <summary>Lb's own IPv6 address.</summary>
    public LbAddress SnatV6;
}

/// <summary>struct lb_service_key: lb_services key, one entry per frontend. A NodePort matching any local address has an all-zero address.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbServiceKey
{
    public LbAddress Addr;
    public Be16 Port;
    /// <summary>IPPROTO_TCP / IPPROTO_UDP.</summary>
    public byte Proto;
    public LbFamily Family;
}

/// <summary>struct lb_service: lb_services value.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbService
{
    public uint Id;
    public LbServiceFlags Flags;
    public uint AffinityTimeoutS;
    public LbForwarding Forwarding;
    public LbPadding3 Pad;
    /// <summary>Schedulable backends of this family; 0 takes the no-backend path.</summary>
    public uint BackendCount;
}

/// <summary>struct lb_backend: lb_backends value, keyed by the __u32 backend id.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbBackend
{
    public LbAddress Addr;
    public Be16 Port;
    public LbFamily Family;
    public LbBackendState State;
    /// <summary>The owner: a flow of another service never uses a recycled id.</summary>
    public uint ServiceId;
}

/// <summary>struct lb_flow_key: the lb_flows and lb_rev_nat key, the 5-tuple as the packet carries it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbFlowKey
{
    public LbAddress Saddr;
    public LbAddress Daddr;
    public Be16 Sport;
    public Be16 Dport;
    public byte Proto;
    public LbFamily Family;
    public LbPadding2 Pad;
}

/// <summary>struct lb_flow: lb_flows value.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbFlow
{
    /// <summary>CLOCK_MONOTONIC_COARSE ns (lb_now in native/bpf/lb_maps.h).</summary>
    public ulong LastSeenNs;
    public uint BackendId;
    public uint ServiceId;
    /// <summary>NAT: the SNAT source port; 0 otherwise.</summary>
    public Be16 NatPort;
    public ushort Pad0;
    public uint Pad1;
}

/// <summary>struct lb_affinity_key: lb_affinity key, (service, client address).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbAffinityKey
{
    public LbAddress Client;
    public uint ServiceId;
    public LbFamily Family;
    public LbPadding3 Pad;
}

/// <summary>struct lb_affinity: lb_affinity value.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbAffinity
{
    public ulong LastUsedNs;
    public uint BackendId;
    public uint Pad;
}

/// <summary>struct lb_rev_nat: lb_rev_nat value, how to turn a reply (backend → Lb:nat_port) back into VIP → client.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbRevNat
{
    public LbAddress Client;
    public LbAddress Vip;
    public Be16 ClientPort;
    public Be16 VipPort;
    public uint ServiceId;
    public ulong LastSeenNs;
}

/// <summary>
/// struct lb_src_range_key: lb_src_ranges (LPM trie) key. The prefix length counts service id and family
/// (64 bits) plus the CIDR's prefix; the value is __u32 1 = allowed.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbSrcRangeKey
{
    /// <summary>Bits of the key that must match: <see cref="PrefixBitsBeforeAddress"/> plus the CIDR's prefix length.</summary>
    public uint Prefixlen;
    public uint ServiceId;
    /// <summary>An <see cref="LbFamily"/> value widened to __u32 so the LPM prefix stays word aligned.</summary>
    public uint Family;
    public LbAddress Addr;

    /// <summary>service_id and family: always part of the matched prefix.</summary>
    public const uint PrefixBitsBeforeAddress = 64;
}

/// <summary>struct lb_service_stats: lb_svc_stats (per-CPU array) value, keyed by service id.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbServiceStats
{
    public ulong Packets;
    public ulong Bytes;
    public ulong NewFlows;
}

/// <summary>enum lb_name_kind: what an lb_names record names.</summary>
public enum LbNameKind : uint
{
    /// <summary>Id 0: the last service and backend ids handed out.</summary>
    Cursors = 0,
    Service = 1,
    Backend = 2,
}

/// <summary>struct lb_name_key: lb_names key.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbNameKey
{
    public LbNameKind Kind;
    public uint Id;

    public LbNameKey(LbNameKind kind, uint id)
    {
        Kind = kind;
        Id = id;
    }
}

/// <summary>__u8 name[LB_NAME_MAX].</summary>
[InlineArray((int)LbLimits.NameMax)]
public struct LbNameBytes
{
    private byte _element0;
}

/// <summary>
/// struct lb_name: lb_names value, user space only. A service's name, or a backend's identity with its
/// owner in <see cref="ServiceId"/>, or (kind Cursors) the last ids handed out.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbName
{
    /// <summary>Backend: the owner service. Cursors: the last service id handed out.</summary>
    public uint ServiceId;
    /// <summary>Cursors: the last backend id handed out; otherwise 0.</summary>
    public uint BackendId;
    /// <summary>Bytes of <see cref="Name"/> in use.</summary>
    public uint Len;
    /// <summary>UTF-8, not NUL-terminated; the rest zero.</summary>
    public LbNameBytes Name;

    /// <summary>A record holding <paramref name="text"/>; longer than <see cref="LbLimits.NameMax"/> UTF-8 bytes is refused.</summary>
    public static LbName Create(string text, uint serviceId = 0, uint backendId = 0)
    {
        ArgumentNullException.ThrowIfNull(text);
        var record = new LbName { ServiceId = serviceId, BackendId = backendId };
        Span<byte> bytes = record.Name;
        if (!System.Text.Encoding.UTF8.TryGetBytes(text, bytes, out var written))
            throw new ArgumentException($"'{text[..Math.Min(text.Length, 40)]}…' is longer than {LbLimits.NameMax} bytes of UTF-8, the size of an lb_names record.", nameof(text));
        record.Len = (uint)written;
        return record;
    }

    /// <summary>The name as text; a length beyond the buffer is refused rather than cut.</summary>
    public readonly string GetText()
    {
        if (Len > LbLimits.NameMax)
            throw new InvalidOperationException($"lb_names record claims {Len} bytes; a record holds at most {LbLimits.NameMax}.");
        ReadOnlySpan<byte> bytes = Name;
        return System.Text.Encoding.UTF8.GetString(bytes[..(int)Len]);
    }
}
