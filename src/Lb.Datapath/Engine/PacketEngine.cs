using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lb.Core.Hashing;
using Lb.Datapath.Abi;

namespace Lb.Datapath.Engine;

/// <summary>
/// The managed engine: the packet path of native/bpf/lb_xdp.bpf.c (DESIGN.md §3, docs/xdp-datapath.md)
/// on a frame in a span, step for step and bit for bit, against the same tables. Each method names the
/// BPF helper it mirrors; the order of checks, table writes and counters is the program's.
/// </summary>
/// <remarks>
/// The frame lives in a larger buffer at an offset, as in an AF_XDP UMEM chunk: the bytes before the
/// offset are headroom, into which dsr-ipip grows the frame by 20 or 40 bytes (bpf_xdp_adjust_head).
/// Per packet the engine makes no OS calls and does not allocate, throw or take locks; one engine
/// instance serves one thread (the XDP program runs per CPU; tables are shared).
/// </remarks>
public sealed class PacketEngine
{
    private const ulong NanosecondsPerSecond = 1_000_000_000;
    private const int MaxTcpOptionsLength = 40;
    private const byte TcpOptionEnd = 0;
    private const byte TcpOptionNop = 1;
    private const byte TcpOptionMss = 2;
    private const byte TcpOptionMssLength = 4;

    private readonly IDatapathTables _tables;
    private readonly INextHop _nextHop;
    private readonly IMonotonicClock _clock;
    private readonly IRandomSource _random;

    public PacketEngine(IDatapathTables tables, INextHop nextHop, IMonotonicClock clock, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(nextHop);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(random);
        _tables = tables;
        _nextHop = nextHop;
        _clock = clock;
        _random = random;
    }

    /// <summary>Bytes of headroom a frame needs in front of it for any encapsulation the engine may add (IPv6 in IPv6).</summary>
    public const int RequiredHeadroom = PacketParser.Ipv6HeaderLength;

    /// <summary>
    /// lb_xdp: runs one frame through the packet path and counts its reason. The frame is
    /// <c>buffer[offset..(offset + length)]</c>; on return <paramref name="offset"/> and <paramref name="length"/>
    /// describe the frame to send or pass (encapsulation moves the offset back). A frame without the headroom
    /// it needs is dropped as LB_DROP_ENCAP_FAILED, as bpf_xdp_adjust_head would refuse it.
    /// </summary>
    public PacketVerdict Process(Span<byte> buffer, ref int offset, ref int length, in PacketContext context)
    {
        if ((uint)offset > (uint)buffer.Length || (uint)length > (uint)(buffer.Length - offset))
            ThrowFrameOutsideBuffer(buffer.Length, offset, length);
        var reason = ProcessFrame(buffer, ref offset, ref length, context, out var egress);
        _tables.CountReason(reason);
        return new PacketVerdict(reason, reason is LbReason.FwdTx or LbReason.FwdRedirect ? egress : 0);
    }

    /// <summary>lb_process: the steps of DESIGN.md §3 in order; returns the frame's reason.</summary>
    private LbReason ProcessFrame(Span<byte> buffer, ref int offset, ref int length, in PacketContext context, out uint egress)
    {
        egress = 0;
        var frame = buffer.Slice(offset, length);

        // 1. Parse.
        var reason = new PacketParser(frame).Parse(out var packet);
        if (reason != 0)
            return reason;

        if (!_tables.TryGetConfig(out var config))
            return LbReason.PassNoService;

        // 2. A backend's reply to a NAT flow, before the service lookup: the SNAT address may itself be a frontend address.
        if (MaybeReply(config, packet.Key) && _tables.TryGetRevNat(packet.Key, out var revNat))
            return NatReply(frame, packet, packet.Key, ref revNat, context, out egress);

        // 3. The service.
        if (!TryLookupService(packet.Key, out var service))
            return LbReason.PassNoService;
        _tables.CountServicePacket(service.Id, packet.FrameLength);

        // 4. Source ranges.
        if ((service.Flags & LbServiceFlags.SrcRanges) != 0 && !SourceRangeAllowed(service.Id, packet.Key))
            return LbReason.DropSourceRange;
        reason = Precheck(config, service, packet);
        if (reason != 0)
            return reason;

        // 5. An established flow keeps its backend; 6-8 otherwise choose and record one.
        var now = _clock.NowNanoseconds();
        if (!TryEstablished(packet.Key, config, service, now, out var backend, out var natPort))
        {
            reason = NewFlow(config, service, packet, now, out backend, out natPort);
            if (reason != 0)
                return reason;
        }

        // 8. Rewrite and send.
        return service.Forwarding switch
        {
            LbForwarding.Nat => ForwardNat(frame, packet, config, service, backend, natPort, context, out egress),
            LbForwarding.DsrIpip => ForwardIpip(buffer, ref offset, ref length, packet, config, backend, context, out egress),
            _ => ForwardL2(frame, packet, backend, context, out egress),
        };
    }

    /// <summary>lb_nat_reply: TTL check, refresh, rewrite to VIP:port -> client:port, next hop toward the client.</summary>
    private LbReason NatReply(Span<byte> frame, in ParsedPacket packet, in LbFlowKey key, ref LbRevNat revNat, in PacketContext context, out uint egress)
    {
        egress = 0;
        if (packet.Ttl <= 1)
            return LbReason.PassTtlExpired;
        var now = _clock.NowNanoseconds();
        if (revNat.LastSeenNs != now)
        {
            revNat.LastSeenNs = now;
            _tables.UpdateRevNat(key, revNat);
        }
        NatRewrite(frame, packet, revNat.Vip, revNat.Client, revNat.VipPort, revNat.ClientPort);
        var query = Query(packet, context, revNat.Vip, revNat.Client, packet.Key.Proto, revNat.VipPort, revNat.ClientPort, packet.IpLength);
        return Forward(frame, query, context, out egress);
    }

    /// <summary>lb_precheck: what stops a packet before any table is written.</summary>
    private static LbReason Precheck(in LbDatapathConfig config, in LbService service, in ParsedPacket packet) => service.Forwarding switch
    {
        LbForwarding.Nat => packet.Ttl <= 1 ? LbReason.PassTtlExpired : 0,
        LbForwarding.DsrIpip => packet.IpLength + EncapLength(packet.Key.Family) > config.Mtu ? LbReason.DropFrameTooBig : 0,
        LbForwarding.DsrL2 => 0,
        _ => LbReason.PassNoService,
    };

    /// <summary>lb_service_lookup: the exact frontend, then the NodePort wildcard with the all-zero address.</summary>
    private bool TryLookupService(in LbFlowKey tuple, out LbService service)
    {
        var key = new LbServiceKey { Addr = tuple.Daddr, Port = tuple.Dport, Proto = tuple.Proto, Family = tuple.Family };
        if (_tables.TryGetService(key, out service))
            return true;
        key.Addr = default;
        return _tables.TryGetService(key, out service);
    }

    /// <summary>lb_src_range_allowed: a full-length LPM key (service id and family always match in full).</summary>
    private bool SourceRangeAllowed(uint serviceId, in LbFlowKey tuple)
    {
        var key = new LbSrcRangeKey
        {
            Prefixlen = LbSrcRangeKey.PrefixBitsBeforeAddress + (tuple.Family == LbFamily.IPv4 ? 32u : 128u),
            ServiceId = serviceId,
            Family = (uint)tuple.Family,
            Addr = tuple.Saddr,
        };
        return _tables.MatchSourceRange(key);
    }

    /// <summary>lb_backend_get: the backend if it exists, the service owns it and it has the packet's family.</summary>
    private bool TryGetUsableBackend(uint id, uint serviceId, LbFamily family, out LbBackend backend)
    {
        if (id == 0 || !_tables.TryGetBackend(id, out backend))
        {
            backend = default;
            return false;
        }
        return backend.ServiceId == serviceId && backend.Family == family;
    }

    /// <summary>
    /// lb_maybe_reply: whether a packet may be a backend's reply to a NAT flow, to be looked up in lb_rev_nat. With SNAT
    /// every reply is addressed to Lb's own address of its family; only when some nat service keeps the client address
    /// (<see cref="LbConfigFlags.KeepClientNat"/>) are replies addressed to clients, that is to anything.
    /// </summary>
    private static bool MaybeReply(in LbDatapathConfig config, in LbFlowKey key) =>
        (config.Flags & LbConfigFlags.KeepClientNat) != 0
        || (key.Family == LbFamily.IPv4 ? key.Daddr.V4 == config.SnatV4.V4 : key.Daddr.Equals(config.SnatV6));

    /// <summary>lb_fresh: younger than the timeout, or stamped at or after now (another writer read the clock later).</summary>
    private static bool Fresh(ulong now, ulong stamp, ulong timeout) => stamp >= now || now - stamp < timeout;

    /// <summary>lb_svc_snat: nat that rewrites the source (needs a NAT port in every flow entry).</summary>
    private static bool Snats(in LbService service) =>
        service.Forwarding == LbForwarding.Nat && (service.Flags & LbServiceFlags.KeepClient) == 0;

    /// <summary>lb_flow_established: a fresh entry whose backend is usable (any state) and, for SNAT, has a port; refreshed.</summary>
    private bool TryEstablished(in LbFlowKey tuple, in LbDatapathConfig config, in LbService service, ulong now, out LbBackend backend, out Be16 natPort)
    {
        backend = default;
        natPort = default;
        if (!_tables.TryGetFlow(tuple, out var flow) || !Fresh(now, flow.LastSeenNs, config.FlowTimeoutNs))
            return false;
        if (Snats(service) && flow.NatPort.Raw == 0)
            return false;
        if (!TryGetUsableBackend(flow.BackendId, service.Id, tuple.Family, out backend))
            return false;
        // The coarse clock moves once a tick: most packets of a busy flow find the stamp current and write nothing.
        if (flow.LastSeenNs != now)
        {
            flow.LastSeenNs = now;
            _tables.UpdateFlow(tuple, flow);
        }
        natPort = flow.NatPort;
        return true;
    }

    /// <summary>lb_new_flow: affinity or Maglev, the NAT port, the flow entry, the affinity entry, the new-flow counter.</summary>
    private LbReason NewFlow(in LbDatapathConfig config, in LbService service, in ParsedPacket packet, ulong now, out LbBackend backend, out Be16 natPort)
    {
        ref readonly var tuple = ref packet.Key;
        var affine = (service.Flags & LbServiceFlags.Affinity) != 0;
        var picked = false;
        var created = false;
        uint backendId = 0;
        Be16 reserved = default;
        natPort = default;

        if (!affine || !TryAffinity(tuple, service, now, out backendId, out backend))
        {
            backendId = MaglevPick(config, service, tuple);
            if (!TryGetUsableBackend(backendId, service.Id, tuple.Family, out backend))
                return LbReason.PassNoBackend;
            picked = true;
        }
        if (service.Forwarding == LbForwarding.Nat)
        {
            var reason = NatReserve(config, service, tuple, backend, now, out reserved, out created);
            if (reason != 0)
                return reason;
        }
        // The flow keeps a port only when it is a SNAT port (lb_flow.nat_port).
        var port = Snats(service) ? reserved : default;
        var flow = new LbFlow { LastSeenNs = now, BackendId = backendId, ServiceId = service.Id, NatPort = port };
        if (!_tables.UpdateFlow(tuple, flow))
        {
            if (created)
                NatRelease(config, service, tuple, backend, reserved);
            return LbReason.PassFlowTableFull;
        }
        if (affine && picked)
        {
            var key = AffinityKey(tuple, service.Id);
            _tables.UpdateAffinity(key, new LbAffinity { LastUsedNs = now, BackendId = backendId });
        }
        _tables.CountNewFlow(service.Id);
        natPort = port;
        return 0;
    }

    private static LbAffinityKey AffinityKey(in LbFlowKey tuple, uint serviceId) =>
        new() { Client = tuple.Saddr, ServiceId = serviceId, Family = tuple.Family };

    /// <summary>lb_affinity_lookup: a fresh entry whose backend is usable and active; refreshed.</summary>
    private bool TryAffinity(in LbFlowKey tuple, in LbService service, ulong now, out uint backendId, out LbBackend backend)
    {
        backendId = 0;
        backend = default;
        var key = AffinityKey(tuple, service.Id);
        if (!_tables.TryGetAffinity(key, out var affinity)
            || !Fresh(now, affinity.LastUsedNs, service.AffinityTimeoutS * NanosecondsPerSecond))
            return false;
        if (!TryGetUsableBackend(affinity.BackendId, service.Id, tuple.Family, out backend) || backend.State != LbBackendState.Active)
            return false;
        // lb_affinity_lookup stores the stamp unconditionally into the value it points at; storing an equal
        // stamp changes nothing, so here an unchanged stamp spares the table write.
        if (affinity.LastUsedNs != now)
        {
            affinity.LastUsedNs = now;
            _tables.UpdateAffinity(key, affinity);
        }
        backendId = affinity.BackendId;
        return true;
    }

    /// <summary>lb_maglev_pick: the backend id in the slot the flow hash (or a random number) gives, or 0.</summary>
    private uint MaglevPick(in LbDatapathConfig config, in LbService service, in LbFlowKey tuple)
    {
        if (service.BackendCount == 0 || config.MaglevSize == 0)
            return 0;
        var key = LbAbi.MaglevKey(service.Id, tuple.Family);
        if (!_tables.HasMaglevTable(key))
            return 0;
        uint slot;
        if ((service.Flags & LbServiceFlags.SchedRandom) != 0)
            slot = _random.NextUInt32() % config.MaglevSize;
        else
            slot = FlowHashOf(tuple, (service.Flags & LbServiceFlags.Affinity) != 0, config.FlowHashSeed) % config.MaglevSize;
        return _tables.TryGetMaglevSlot(key, slot, out var backendId) ? backendId : 0;
    }

    /// <summary>lb_hash_input + lb_flow_hash: jhash2 over the words of flow_hash.h (client address only for affinity).</summary>
    internal static uint FlowHashOf(in LbFlowKey tuple, bool clientOnly, uint seed)
    {
        Span<uint> words = stackalloc uint[FlowHash.WordCount];
        words.Clear();
        ReadOnlySpan<byte> source = tuple.Saddr;
        for (var i = 0; i < 4; i++)
            words[i] = BinaryPrimitives.ReadUInt32LittleEndian(source[(4 * i)..]);
        if (!clientOnly)
        {
            ReadOnlySpan<byte> destination = tuple.Daddr;
            for (var i = 0; i < 4; i++)
                words[4 + i] = BinaryPrimitives.ReadUInt32LittleEndian(destination[(4 * i)..]);
            // sport then dport as one word, in packet order.
            words[8] = (uint)tuple.Sport.Raw | ((uint)tuple.Dport.Raw << 16);
            words[9] = tuple.Proto;
        }
        return JHash.Words(words, seed);
    }

    private static ref readonly LbAddress SnatAddress(in LbDatapathConfig config, LbFamily family) =>
        ref family == LbFamily.IPv4 ? ref config.SnatV4 : ref config.SnatV6;

    /// <summary>lb_nat_reply_key: the reply 5-tuple of a new NAT flow but for its destination port.</summary>
    private static LbFlowKey NatReplyKey(in LbDatapathConfig config, in LbService service, in LbFlowKey tuple, in LbBackend backend) => new()
    {
        Saddr = backend.Addr,
        Daddr = (service.Flags & LbServiceFlags.KeepClient) != 0 ? tuple.Saddr : SnatAddress(config, tuple.Family),
        Sport = backend.Port,
        Proto = tuple.Proto,
        Family = tuple.Family,
    };

    /// <summary>lb_rev_nat_same_flow: the entry this client flow made (client, client port, VIP, VIP port).</summary>
    private static bool SameFlow(in LbRevNat a, in LbRevNat b) =>
        a.ClientPort == b.ClientPort && a.VipPort == b.VipPort && a.Client.Equals(b.Client) && a.Vip.Equals(b.Vip);

    /// <summary>
    /// lb_nat_reserve: the SNAT port candidates min + (hash(5-tuple, seed ^ 0x9e3779b9) + i) % range, i &lt; 8
    /// (u32 arithmetic), each taken by a BPF_NOEXIST insert of the reply key or by finding this flow's own
    /// entry there; with keep-client the client's own port is the one candidate.
    /// </summary>
    private LbReason NatReserve(in LbDatapathConfig config, in LbService service, in LbFlowKey tuple, in LbBackend backend, ulong now, out Be16 port, out bool created)
    {
        port = default;
        created = false;
        var snat = (service.Flags & LbServiceFlags.KeepClient) == 0;
        uint min = 0, range = 1, tries = 1, hashBase = 0;
        if (snat)
        {
            min = config.NatPortMin;
            if (min == 0 || min > config.NatPortMax)
                return LbReason.PassNatPortsExhausted;
            range = (uint)config.NatPortMax - min + 1;
            hashBase = FlowHashOf(tuple, clientOnly: false, config.FlowHashSeed ^ LbLimits.NatPortHashXor);
            tries = LbLimits.NatPortTries;
        }

        var reply = NatReplyKey(config, service, tuple, backend);
        var revNat = new LbRevNat
        {
            Client = tuple.Saddr,
            Vip = tuple.Daddr,
            ClientPort = tuple.Sport,
            VipPort = tuple.Dport,
            ServiceId = service.Id,
            LastSeenNs = now,
        };
        for (uint i = 0; i < LbLimits.NatPortTries && i < tries; i++)
        {
            reply.Dport = snat ? Be16.FromHost((ushort)(min + unchecked(hashBase + i) % range)) : tuple.Sport;
            if (_tables.InsertRevNat(reply, revNat))
            {
                port = reply.Dport;
                created = true;
                return 0;
            }
            if (_tables.TryGetRevNat(reply, out var old) && SameFlow(old, revNat))
            {
                _tables.UpdateRevNat(reply, revNat);
                port = reply.Dport;
                return 0;
            }
        }
        return LbReason.PassNatPortsExhausted;
    }

    /// <summary>lb_nat_release: undoes NatReserve's insert when the flow could not be recorded.</summary>
    private void NatRelease(in LbDatapathConfig config, in LbService service, in LbFlowKey tuple, in LbBackend backend, Be16 port)
    {
        var reply = NatReplyKey(config, service, tuple, backend);
        reply.Dport = port;
        _tables.DeleteRevNat(reply);
    }

    /// <summary>lb_forward_nat: DNAT to the backend, SNAT unless keep-client, then the next hop.</summary>
    private LbReason ForwardNat(Span<byte> frame, in ParsedPacket packet, in LbDatapathConfig config, in LbService service, in LbBackend backend, Be16 natPort, in PacketContext context, out uint egress)
    {
        var keep = (service.Flags & LbServiceFlags.KeepClient) != 0;
        ref readonly var source = ref keep ? ref packet.Key.Saddr : ref SnatAddress(config, packet.Key.Family);
        var sourcePort = keep ? packet.Key.Sport : natPort;
        // The query copies the source before the rewrite can matter: it reads the addresses, not the frame.
        var query = Query(packet, context, source, backend.Addr, packet.Key.Proto, sourcePort, backend.Port, packet.IpLength);
        NatRewrite(frame, packet, source, backend.Addr, sourcePort, backend.Port);
        return Forward(frame, query, context, out egress);
    }

    /// <summary>
    /// lb_nat_rewrite: new addresses and ports, TTL / hop limit - 1, checksums updated incrementally from the
    /// parsed values: the IPv4 header over addresses and the (TTL, protocol) word, L4 over the pseudo-header
    /// addresses and ports. IPv4 UDP without checksum stays 0; a computed UDP 0 goes out as 0xffff.
    /// </summary>
    private static void NatRewrite(Span<byte> frame, in ParsedPacket packet, in LbAddress source, in LbAddress destination, Be16 sourcePort, Be16 destinationPort)
    {
        ref readonly var old = ref packet.Key;
        var ipv4 = old.Family == LbFamily.IPv4;
        var addressAcc = Checksum.DiffAddress(0, old.Saddr, source, old.Family);
        addressAcc = Checksum.DiffAddress(addressAcc, old.Daddr, destination, old.Family);
        var l4Acc = Checksum.Diff16(addressAcc, old.Sport.Raw, sourcePort.Raw);
        l4Acc = Checksum.Diff16(l4Acc, old.Dport.Raw, destinationPort.Raw);

        var ip = frame[packet.L3Offset..];
        if (ipv4)
        {
            // TTL and protocol share one checksum word.
            var oldWord = BinaryPrimitives.ReadUInt16LittleEndian(ip[8..]);
            ip[8] -= 1;
            var newWord = BinaryPrimitives.ReadUInt16LittleEndian(ip[8..]);
            var check = BinaryPrimitives.ReadUInt16LittleEndian(ip[10..]);
            BinaryPrimitives.WriteUInt16LittleEndian(ip[10..], Checksum.Update(check, Checksum.Diff16(addressAcc, oldWord, newWord)));
            ((ReadOnlySpan<byte>)source)[..4].CopyTo(ip[12..]);
            ((ReadOnlySpan<byte>)destination)[..4].CopyTo(ip[16..]);
        }
        else
        {
            ip[7] -= 1;
            ((ReadOnlySpan<byte>)source).CopyTo(ip[8..]);
            ((ReadOnlySpan<byte>)destination).CopyTo(ip[24..]);
        }

        var l4 = frame[packet.L4Offset..];
        MemoryMarshal.Write(l4, sourcePort.Raw);
        MemoryMarshal.Write(l4[2..], destinationPort.Raw);
        if (old.Proto == PacketParser.ProtocolTcp)
        {
            var check = BinaryPrimitives.ReadUInt16LittleEndian(l4[16..]);
            BinaryPrimitives.WriteUInt16LittleEndian(l4[16..], Checksum.Update(check, l4Acc));
        }
        else
        {
            var check = BinaryPrimitives.ReadUInt16LittleEndian(l4[6..]);
            if (!ipv4 || check != 0)
            {
                var updated = Checksum.Update(check, l4Acc);
                BinaryPrimitives.WriteUInt16LittleEndian(l4[6..], updated != 0 ? updated : (ushort)0xffff);
            }
        }
    }

    private static uint EncapLength(LbFamily family) =>
        family == LbFamily.IPv4 ? (uint)PacketParser.Ipv4HeaderLength : PacketParser.Ipv6HeaderLength;

    /// <summary>lb_forward_ipip: clamp a SYN's MSS, encapsulate from the SNAT address to the backend, next hop for the outer packet.</summary>
    private LbReason ForwardIpip(Span<byte> buffer, ref int offset, ref int length, in ParsedPacket packet, in LbDatapathConfig config, in LbBackend backend, in PacketContext context, out uint egress)
    {
        egress = 0;
        var ipv4 = packet.Key.Family == LbFamily.IPv4;
        var overhead = ipv4 ? LbLimits.MssOverheadV4 : LbLimits.MssOverheadV6;
        if (packet.Key.Proto == PacketParser.ProtocolTcp && (packet.TcpFlags & PacketParser.TcpFlagSyn) != 0 && config.Mtu > overhead)
            ClampMss(buffer.Slice(offset, length), packet.L4Offset, (ushort)(config.Mtu - overhead));
        var reason = Encapsulate(buffer, ref offset, ref length, packet, config, backend);
        if (reason != 0)
            return reason;
        ref readonly var source = ref SnatAddress(config, packet.Key.Family);
        var query = Query(packet, context, source, backend.Addr, ipv4 ? PacketParser.ProtocolIpip : PacketParser.ProtocolIpv6,
            default, default, packet.IpLength + EncapLength(packet.Key.Family));
        // The outer IPv6 header has the inner traffic class and flow label 0.
        query.FlowInfo = Be32.FromRaw(query.FlowInfo.Raw & Be32.FromHost(0x0ff00000).Raw);
        return Forward(buffer.Slice(offset, length), query, context, out egress);
    }

    /// <summary>
    /// lb_tcp_clamp_mss with lb_opt_walk_step: walks the doff*4 - 20 option bytes (EOL stops, NOP advances one,
    /// another kind needs a length &gt;= 2 inside the options) to the first MSS option; with length 4 and a
    /// value above <paramref name="maxMss"/> it is lowered and the TCP checksum updated.
    /// </summary>
    private static void ClampMss(Span<byte> frame, int l4Offset, ushort maxMss)
    {
        var tcp = frame[l4Offset..];
        var dataOffset = tcp[12] >> 4;
        if (dataOffset < 5)
            return;
        var optionsLength = dataOffset * 4 - PacketParser.TcpHeaderLength;
        var options = tcp.Slice(PacketParser.TcpHeaderLength, optionsLength);
        var at = 0;
        var found = false;
        for (var step = 0; step < MaxTcpOptionsLength; step++)
        {
            if (at >= optionsLength)
                break;
            var kind = options[at];
            if (kind == TcpOptionEnd)
                break;
            if (kind == TcpOptionNop)
            {
                at += 1;
                continue;
            }
            if (at + 2 > optionsLength)
                break;
            var optionLength = options[at + 1];
            if (optionLength < 2 || at + optionLength > optionsLength)
                break;
            if (kind == TcpOptionMss)
            {
                found = optionLength == TcpOptionMssLength;
                break;
            }
            at += optionLength;
        }
        if (!found)
            return;
        var mss = BinaryPrimitives.ReadUInt16BigEndian(options[(at + 2)..]);
        if (mss <= maxMss)
            return;
        BinaryPrimitives.WriteUInt16BigEndian(options[(at + 2)..], maxMss);
        // At an even offset the value is one checksum word (as loaded: byte-swapped); at an odd offset its two
        // bytes fall into two words, which add up to the value itself in load order.
        var odd = (at & 1) != 0;
        var oldWord = odd ? mss : BinaryPrimitives.ReverseEndianness(mss);
        var newWord = odd ? maxMss : BinaryPrimitives.ReverseEndianness(maxMss);
        var check = BinaryPrimitives.ReadUInt16LittleEndian(tcp[16..]);
        BinaryPrimitives.WriteUInt16LittleEndian(tcp[16..], Checksum.Update(check, Checksum.Diff16(0, oldWord, newWord)));
    }

    /// <summary>
    /// lb4_encap / lb6_encap: grows the frame at the front (bpf_xdp_adjust_head), moves the L2 header (and tag)
    /// to the new start and writes the outer header behind it: IPv4 ihl 5, TOS copied, id 0, no DF, TTL 64,
    /// protocol 4, full checksum; IPv6 traffic class copied, flow label 0, next header 41, hop limit 64.
    /// </summary>
    private static LbReason Encapsulate(Span<byte> buffer, ref int offset, ref int length, in ParsedPacket packet, in LbDatapathConfig config, in LbBackend backend)
    {
        var ipv4 = packet.Key.Family == LbFamily.IPv4;
        var shift = (int)EncapLength(packet.Key.Family);
        Span<byte> outer = stackalloc byte[PacketParser.Ipv6HeaderLength];
        outer = outer[..shift];
        outer.Clear();
        if (ipv4)
        {
            outer[0] = 0x45;
            outer[1] = packet.Tos;
            BinaryPrimitives.WriteUInt16BigEndian(outer[2..], (ushort)(packet.IpLength + (uint)shift));
            outer[8] = (byte)LbLimits.EncapTtl;
            outer[9] = PacketParser.ProtocolIpip;
            ((ReadOnlySpan<byte>)config.SnatV4)[..4].CopyTo(outer[12..]);
            ((ReadOnlySpan<byte>)backend.Addr)[..4].CopyTo(outer[16..]);
            BinaryPrimitives.WriteUInt16LittleEndian(outer[10..], Checksum.Ipv4Header(outer));
        }
        else
        {
            outer[0] = (byte)(0x60 | (packet.Tos >> 4));
            outer[1] = (byte)((packet.Tos & 0x0f) << 4);
            BinaryPrimitives.WriteUInt16BigEndian(outer[4..], (ushort)packet.IpLength);
            outer[6] = PacketParser.ProtocolIpv6;
            outer[7] = (byte)LbLimits.EncapTtl;
            ((ReadOnlySpan<byte>)config.SnatV6).CopyTo(outer[8..]);
            ((ReadOnlySpan<byte>)backend.Addr).CopyTo(outer[24..]);
        }

        // bpf_xdp_adjust_head fails without the headroom; lb_encap_move_l2 wants the largest L2 header behind the shift.
        if (offset < shift || length + shift < shift + PacketParser.EthernetHeaderLength + PacketParser.VlanTagLength)
            return LbReason.DropEncapFailed;
        offset -= shift;
        length += shift;
        var frame = buffer.Slice(offset, length);
        frame.Slice(shift, packet.L3Offset).CopyTo(frame);
        outer.CopyTo(frame[packet.L3Offset..]);
        return 0;
    }

    /// <summary>lb_forward_l2: the next hop toward the backend first, so a failed lookup leaves the frame untouched.</summary>
    private LbReason ForwardL2(Span<byte> frame, in ParsedPacket packet, in LbBackend backend, in PacketContext context, out uint egress)
    {
        var query = Query(packet, context, packet.Key.Saddr, backend.Addr, packet.Key.Proto, packet.Key.Sport, packet.Key.Dport, packet.IpLength);
        return Forward(frame, query, context, out egress);
    }

    /// <summary>lb_fib_init: the packet as it will leave, with the parsed TOS (IPv4) or flowinfo (IPv6).</summary>
    private static NextHopQuery Query(in ParsedPacket packet, in PacketContext context, in LbAddress source, in LbAddress destination,
        byte l4Protocol, Be16 sourcePort, Be16 destinationPort, uint totalLength)
    {
        var query = new NextHopQuery
        {
            IngressIfindex = context.IngressIfindex,
            Family = packet.Key.Family,
            L4Protocol = l4Protocol,
            SourcePort = sourcePort,
            DestinationPort = destinationPort,
            TotalLength = (ushort)totalLength,
            Source = source,
            Destination = destination,
        };
        if (packet.Key.Family == LbFamily.IPv4)
            query.Tos = packet.Tos;
        else
            query.FlowInfo = packet.FlowInfo;
        return query;
    }

    /// <summary>lb_fib_forward: on success the MACs are rewritten and the frame leaves by TX or redirect; otherwise it is passed as it is.</summary>
    private LbReason Forward(Span<byte> frame, in NextHopQuery query, in PacketContext context, out uint egress)
    {
        egress = 0;
        var outcome = _nextHop.Resolve(query, out var hop);
        if (outcome == NextHopOutcome.NoNeighbour)
            return LbReason.PassFibNoNeighbour;
        if (outcome != NextHopOutcome.Success)
            return LbReason.PassFibFailed;
        ((ReadOnlySpan<byte>)hop.DestinationMac).CopyTo(frame);
        ((ReadOnlySpan<byte>)hop.SourceMac).CopyTo(frame[LbMacAddress.Size..]);
        egress = hop.Ifindex;
        return hop.Ifindex == context.IngressIfindex ? LbReason.FwdTx : LbReason.FwdRedirect;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowFrameOutsideBuffer(int bufferLength, int offset, int length) =>
        throw new ArgumentOutOfRangeException(nameof(offset), $"frame at offset {offset} of length {length} does not lie in a buffer of {bufferLength} bytes");
}
