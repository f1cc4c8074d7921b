#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Smoke check of the XDP objects: build/bpf/lb_xdp.bpf.o and lb_decap.bpf.o, run on real frames.

Run as root after `cmake --build build`:  /usr/bin/python3 tools/xdp_smoke.py
(needs bpftool, iproute2 and Debian's python3-scapy)
It creates a network namespace (unique name, deleted at the end) with two veth links, static
neighbours and forwarding on; loads both objects into a private bpffs (its own mount namespace,
so nothing is pinned on the host); fills the maps with bpftool; runs scapy-built frames through
`bpftool prog run` with an xdp_md whose ingress_ifindex is a veth in that namespace; and checks
verdicts, rewritten bytes, checksums and counters. Exit status 0 when every check passed.

The C# BPF_PROG_TEST_RUN tests are the real suite; this is a quick check needing only bpftool.
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
from ipaddress import ip_address

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XDP_OBJ = os.path.join(ROOT, "build/bpf/lb_xdp.bpf.o")
DECAP_OBJ = os.path.join(ROOT, "build/bpf/lb_decap.bpf.o")
ABI = os.path.join(ROOT, "native/include/lb/lb_abi.h")
BPFFS = "/sys/fs/bpf"

XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT = 1, 2, 3, 4
MAC_A0, MAC_B0 = "02:00:00:00:00:01", "02:00:00:00:01:01"  # Lb's two interfaces
MAC_BACKEND_A, MAC_BACKEND_B = "02:00:00:00:00:02", "02:00:00:00:00:03"
MAC_CLIENT, MAC_TUNNEL_BACKEND = "02:00:00:00:00:09", "02:00:00:00:01:02"

SEED, MAGLEV_M, NAT_MIN, NAT_MAX, MTU = 0x12345678, 7, 40000, 40999, 1500


def sh(*args, check=True, capture=True):
    res = subprocess.run(args, check=False, text=True, capture_output=capture)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({res.returncode}): {res.stderr.strip()}")
    return res.stdout if capture else None


# ---------------------------------------------------------------- outside: the namespace
def outside():
    if os.geteuid() != 0:
        sys.exit("run as root")
    try:
        import scapy  # noqa: F401  (checked here so the namespace is not built for nothing)
    except ImportError:
        sys.exit(f"{sys.executable} has no scapy: apt-get install python3-scapy, and run with /usr/bin/python3")
    for obj in (XDP_OBJ, DECAP_OBJ):
        if not os.path.exists(obj):
            sys.exit(f"{obj} is missing: run cmake -S . -B build && cmake --build build")
    ns = f"lbxdp-smoke-{os.getpid()}"
    sh("ip", "netns", "add", ns)
    try:
        ipn = ("ip", "-n", ns)
        sh(*ipn, "link", "add", "lba0", "address", MAC_A0, "type", "veth", "peer", "name", "lba1")
        sh(*ipn, "link", "add", "lbb0", "address", MAC_B0, "type", "veth", "peer", "name", "lbb1")
        for dev in ("lo", "lba0", "lba1", "lbb0", "lbb1"):
            sh(*ipn, "link", "set", dev, "up")
        sh(*ipn, "addr", "add", "10.0.0.1/24", "dev", "lba0")
        sh(*ipn, "addr", "add", "fd00::1/64", "dev", "lba0", "nodad")
        sh(*ipn, "addr", "add", "10.0.1.1/24", "dev", "lbb0")
        sh(*ipn, "addr", "add", "fd00:1::1/64", "dev", "lbb0", "nodad")
        for addr, mac, dev in (("10.0.0.2", MAC_BACKEND_A, "lba0"), ("10.0.0.3", MAC_BACKEND_B, "lba0"),
                               ("10.0.0.9", MAC_CLIENT, "lba0"), ("fd00::2", MAC_BACKEND_A, "lba0"),
                               ("fd00::9", MAC_CLIENT, "lba0"), ("10.0.1.2", MAC_TUNNEL_BACKEND, "lbb0"),
                               ("fd00:1::2", MAC_TUNNEL_BACKEND, "lbb0")):
            sh(*ipn, "neigh", "replace", addr, "lladdr", mac, "dev", dev, "nud", "permanent")
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
        ifindex = {d: int(open_ifindex(ns, d)) for d in ("lba0", "lbb0")}
        # nsenter keeps this mount namespace (ip netns exec would remount /sys); unshare gives a
        # private one whose bpffs, and everything pinned in it, vanishes when the check ends.
        inner = f"mount -t bpf bpf {BPFFS} && exec {sys.executable} {os.path.abspath(__file__)} --inside {ifindex['lba0']} {ifindex['lbb0']}"
        res = subprocess.run(["nsenter", f"--net=/run/netns/{ns}", "unshare", "--mount", "--propagation",
                              "private", "sh", "-c", inner])
        return res.returncode
    finally:
        sh("ip", "netns", "del", ns, check=False)


def open_ifindex(ns, dev):
    out = sh("ip", "-n", ns, "-j", "link", "show", dev)
    return json.loads(out)[0]["ifindex"]


# ---------------------------------------------------------------- inside: ABI encodings
def reasons():
    text = open(ABI).read()
    body = re.search(r"enum lb_reason \{(.*?)\};", text, re.S).group(1)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"\b(LB_(?:PASS|DROP|FWD)_\w+) = (\d+),", body)}


R = reasons()
FAMILY = {4: 4, 6: 6}
PROTO = {"tcp": 6, "udp": 17}


def addr16(a):
    raw = ip_address(a).packed
    return raw + bytes(16 - len(raw))


def family_of(a):
    return ip_address(a).version


def hexargs(b):
    return ["hex"] + [f"{x:02x}" for x in b]


def config_value():
    # struct lb_config: seed, M, nat_port_min, nat_port_max, mtu, flags, flow_timeout_ns, snat_v4, snat_v6
    return struct.pack("<IIHHHHQ16s16s", SEED, MAGLEV_M, NAT_MIN, NAT_MAX, MTU, 0, 60 * 10**9,
                       addr16("10.0.0.1"), addr16("fd00::1"))


def service_key(vip, port, proto):
    return addr16(vip) + struct.pack(">H", port) + struct.pack("<BB", PROTO[proto], family_of(vip))


def service_value(sid, forwarding, count, flags=0, affinity_s=0):
    return struct.pack("<IIIB3xI", sid, flags, affinity_s, forwarding, count)


def backend_value(addr, port, sid, state=0):
    return addr16(addr) + struct.pack(">H", port) + struct.pack("<BBI", family_of(addr), state, sid)


def flow_key(saddr, daddr, sport, dport, proto):
    return (addr16(saddr) + addr16(daddr) + struct.pack(">HH", sport, dport)
            + struct.pack("<BB2x", PROTO[proto], family_of(saddr)))


def map_update(name, key, value, *flags):
    sh("bpftool", "map", "update", "pinned", f"{BPFFS}/{name}", "key", *hexargs(key), "value", *value, *flags)


def map_lookup(name, key):
    out = sh("bpftool", "-j", "map", "lookup", "pinned", f"{BPFFS}/{name}", "key", *hexargs(key), check=False)
    if not out.strip():
        return None
    doc = json.loads(out)
    if not doc or "error" in doc:  # a missing key prints null
        return None
    if "values" in doc:  # per-CPU: one value per CPU
        return [bytes(int(x, 16) for x in v["value"]) for v in doc["values"]]
    return bytes(int(x, 16) for x in doc["value"])


# ---------------------------------------------------------------- inside: the reference hash
M32 = 0xFFFFFFFF


def rol(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


def jhash2(words, initval):
    """Jenkins lookup3 jhash2, written from the paper, to check the BPF program's port choice."""
    a = b = c = (0xDEADBEEF + (len(words) << 2) + initval) & M32
    k, n = list(words), len(words)
    while n > 3:
        a, b, c = (a + k[0]) & M32, (b + k[1]) & M32, (c + k[2]) & M32
        a = (a - c) & M32; a ^= rol(c, 4); c = (c + b) & M32
        b = (b - a) & M32; b ^= rol(a, 6); a = (a + c) & M32
        c = (c - b) & M32; c ^= rol(b, 8); b = (b + a) & M32
        a = (a - c) & M32; a ^= rol(c, 16); c = (c + b) & M32
        b = (b - a) & M32; b ^= rol(a, 19); a = (a + c) & M32
        c = (c - b) & M32; c ^= rol(b, 4); b = (b + a) & M32
        k, n = k[3:], n - 3
    if n == 0:
        return c
    if n == 3:
        c = (c + k[2]) & M32
    if n >= 2:
        b = (b + k[1]) & M32
    a = (a + k[0]) & M32
    c ^= b; c = (c - rol(b, 14)) & M32
    a ^= c; a = (a - rol(c, 11)) & M32
    b ^= a; b = (b - rol(a, 25)) & M32
    c ^= b; c = (c - rol(b, 16)) & M32
    a ^= c; a = (a - rol(c, 4)) & M32
    b ^= a; b = (b - rol(a, 14)) & M32
    c ^= b; c = (c - rol(b, 24)) & M32
    return c


def flow_words(saddr, daddr, sport, dport, proto):
    raw = addr16(saddr) + addr16(daddr) + struct.pack(">HH", sport, dport)
    return list(struct.unpack("<9I", raw)) + [PROTO[proto]]


def expected_nat_port(*tuple5):
    base = jhash2(flow_words(*tuple5), SEED ^ 0x9E3779B9)
    return NAT_MIN + base % (NAT_MAX - NAT_MIN + 1)


def expected_slot(*tuple5):
    return jhash2(flow_words(*tuple5), SEED) % MAGLEV_M


# ---------------------------------------------------------------- inside: checksums
def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def l4_checksum_ok(ip):
    from scapy.all import IP
    if isinstance(ip, IP):
        pseudo = ip_address(ip.src).packed + ip_address(ip.dst).packed + struct.pack("!BBH", 0, ip.proto, ip.len - 20)
        seg = bytes(ip.payload)[: ip.len - 20]
    else:
        pseudo = ip_address(ip.src).packed + ip_address(ip.dst).packed + struct.pack("!IxxxB", ip.plen, ip.nh)
        seg = bytes(ip.payload)[: ip.plen]
    return csum(pseudo + seg) == 0xFFFF


def ipv4_checksum_ok(ip):
    return csum(bytes(ip)[:20]) == 0xFFFF


# ---------------------------------------------------------------- inside: running frames
class Runner:
    def __init__(self, ifindex, tmp):
        self.ifindex, self.tmp, self.failures, self.count = ifindex, tmp, [], {}

    def run(self, prog, frame, ifindex=None):
        fin, fout, fctx = (os.path.join(self.tmp, n) for n in ("in", "out", "ctx"))
        open(fin, "wb").write(frame)
        # struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex
        open(fctx, "wb").write(struct.pack("<6I", 0, len(frame), 0, ifindex or self.ifindex, 0, 0))
        out = sh("bpftool", "prog", "run", "pinned", prog, "data_in", fin, "data_out", fout,
                 "data_size_out", "4096", "ctx_in", fctx)
        ret = int(re.search(r"Return value: (\d+)", out).group(1))
        return ret, open(fout, "rb").read()

    def xdp(self, name, frame, action, reason, ifindex=None):
        ret, out = self.run(f"{BPFFS}/smoke_xdp/lb_xdp", bytes(frame), ifindex)
        self.count[reason] = self.count.get(reason, 0) + 1
        self.check(name, ret == action, f"action {ret}, expected {action}")
        return out

    def check(self, name, ok, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}")
        if not ok:
            self.failures.append(name)


def load_tables():
    map_update("lb_config", bytes(4), hexargs(config_value()))
    # Maglev tables: inner arrays of M ids, flagged BPF_F_INNER_MAP like the template.
    def table(key, ids):
        path = f"{BPFFS}/smoke_mg_{key}"
        sh("bpftool", "map", "create", path, "type", "array", "key", "4", "value", "4", "entries",
           str(MAGLEV_M), "name", f"smoke_mg_{key}", "flags", str(1 << 12))
        for slot, bid in enumerate(ids):
            sh("bpftool", "map", "update", "pinned", path, "key", *hexargs(struct.pack("<I", slot)),
               "value", *hexargs(struct.pack("<I", bid)))
        map_update("lb_maglev", struct.pack("<I", key), ["pinned", path])

    backends = {1: ("10.0.0.2", 8080, 1), 4: ("10.0.0.3", 8080, 1), 2: ("fd00::2", 8080, 1),
                3: ("10.0.1.2", 80, 2), 5: ("fd00:1::2", 80, 2), 6: ("10.0.0.2", 80, 3),
                7: ("10.0.0.2", 8080, 4), 8: ("10.0.0.4", 8080, 5)}
    for bid, (addr, port, sid) in backends.items():
        map_update("lb_backends", struct.pack("<I", bid), hexargs(backend_value(addr, port, sid)))
    NAT, IPIP, L2 = 0, 1, 2
    services = [(("192.0.2.10", 80, "tcp"), (1, NAT, 2)), (("192.0.2.10", 53, "udp"), (1, NAT, 2)),
                (("2001:db8::10", 80, "tcp"), (1, NAT, 1)), (("192.0.2.20", 80, "tcp"), (2, IPIP, 1)),
                (("2001:db8::20", 80, "tcp"), (2, IPIP, 1)), (("192.0.2.30", 80, "tcp"), (3, L2, 1)),
                (("192.0.2.40", 80, "tcp"), (4, NAT, 1, 1 << 1)), (("192.0.2.50", 80, "tcp"), (5, NAT, 1))]
    for key, value in services:
        map_update("lb_services", service_key(*key), hexargs(service_value(*value)))
    table(1 << 1, [1, 4, 1, 4, 1, 4, 1])
    table((1 << 1) | 1, [2] * MAGLEV_M)
    table(2 << 1, [3] * MAGLEV_M)
    table((2 << 1) | 1, [5] * MAGLEV_M)
    table(3 << 1, [6] * MAGLEV_M)
    table(4 << 1, [7] * MAGLEV_M)
    table(5 << 1, [8] * MAGLEV_M)
    # Service 4 admits 10.0.0.0/28 only: prefixlen 64 + 28 over (service id, family, address).
    map_update("lb_src_ranges", struct.pack("<III", 64 + 28, 4, 4) + addr16("10.0.0.0"),
               hexargs(struct.pack("<I", 1)))
    return backends


def inside(if_a, if_b):
    from scapy.all import ARP, IP, IPv6, TCP, UDP, ICMP, Ether, Dot1Q, Raw, IPv6ExtHdrRouting

    os.makedirs(f"{BPFFS}/smoke_xdp")
    os.makedirs(f"{BPFFS}/smoke_decap")
    sh("bpftool", "prog", "loadall", XDP_OBJ, f"{BPFFS}/smoke_xdp")
    sh("bpftool", "prog", "loadall", DECAP_OBJ, f"{BPFFS}/smoke_decap")
    backends = load_tables()
    tmp = tempfile.mkdtemp(prefix="lbxdp-smoke-")
    r = Runner(if_a, tmp)
    eth = Ether(src=MAC_CLIENT, dst=MAC_A0)
    client, vip = "10.0.0.9", "192.0.2.10"

    # --- nat, IPv4 TCP SYN: Maglev slot by flow hash, SNAT port by the documented formula.
    tup = (client, vip, 40000, 80, "tcp")
    syn = eth / IP(src=client, dst=vip, ttl=64, id=7) / TCP(sport=40000, dport=80, flags="S", seq=1, options=[("MSS", 1460)])
    out = Ether(r.xdp("nat4 syn", syn, XDP_TX, R["LB_FWD_TX"]))
    want_bid = [1, 4, 1, 4, 1, 4, 1][expected_slot(*tup)]
    want_addr = backends[want_bid][0]
    port = expected_nat_port(*tup)
    r.check("nat4 syn: backend from the Maglev slot of the flow hash", out[IP].dst == want_addr, f"{out[IP].dst} != {want_addr}")
    r.check("nat4 syn: SNAT address and the formula's port", (out[IP].src, out[TCP].sport) == ("10.0.0.1", port),
            f"{out[IP].src}:{out[TCP].sport}, expected 10.0.0.1:{port}")
    r.check("nat4 syn: dport, TTL", (out[TCP].dport, out[IP].ttl) == (8080, 63), f"{out[TCP].dport} {out[IP].ttl}")
    r.check("nat4 syn: MACs from the FIB", (out.src, out.dst) == (MAC_A0, MAC_BACKEND_A if want_addr == "10.0.0.2" else MAC_BACKEND_B), f"{out.src} {out.dst}")
    r.check("nat4 syn: checksums", ipv4_checksum_ok(out[IP]) and l4_checksum_ok(out[IP]))
    r.check("nat4 syn: payload and options untouched", bytes(out[TCP])[4:16] == bytes(syn[TCP])[4:16] and bytes(out[TCP])[18:] == bytes(syn[TCP])[18:])
    flow = map_lookup("lb_flows", flow_key(*tup))
    r.check("nat4 syn: flow recorded with its NAT port", flow is not None and struct.unpack_from("<II", flow, 8)[0] == want_bid
            and struct.unpack_from(">H", flow, 16)[0] == port, repr(flow))
    rev = map_lookup("lb_rev_nat", flow_key(want_addr, "10.0.0.1", 8080, port, "tcp"))
    r.check("nat4 syn: reverse entry", rev is not None and rev[:4] == ip_address(client).packed and rev[16:20] == ip_address(vip).packed)

    # --- the same flow again: the flow table keeps backend and port.
    ack = eth / IP(src=client, dst=vip, ttl=64) / TCP(sport=40000, dport=80, flags="A", seq=2, ack=5) / Raw(b"hello")
    out = Ether(r.xdp("nat4 ack", ack, XDP_TX, R["LB_FWD_TX"]))
    r.check("nat4 ack: same backend and port", (out[IP].dst, out[TCP].sport) == (want_addr, port))
    r.check("nat4 ack: checksums", ipv4_checksum_ok(out[IP]) and l4_checksum_ok(out[IP]))

    # --- the backend's reply: back to VIP:80 -> client:40000.
    reply = Ether(src=MAC_BACKEND_A, dst=MAC_A0) / IP(src=want_addr, dst="10.0.0.1", ttl=64) / TCP(sport=8080, dport=port, flags="SA", seq=9, ack=2)
    out = Ether(r.xdp("nat4 reply", reply, XDP_TX, R["LB_FWD_TX"]))
    r.check("nat4 reply: VIP -> client", (out[IP].src, out[TCP].sport, out[IP].dst, out[TCP].dport) == (vip, 80, client, 40000),
            f"{out[IP].src}:{out[TCP].sport} -> {out[IP].dst}:{out[TCP].dport}")
    r.check("nat4 reply: MACs, TTL", (out.dst, out.src, out[IP].ttl) == (MAC_CLIENT, MAC_A0, 63))
    r.check("nat4 reply: checksums", ipv4_checksum_ok(out[IP]) and l4_checksum_ok(out[IP]))

    # --- UDP without a checksum (0) keeps none; with one, it stays right.
    u = eth / IP(src=client, dst=vip) / UDP(sport=5353, dport=53, chksum=0) / Raw(b"q" * 12)
    out = Ether(r.xdp("nat4 udp no checksum", u, XDP_TX, R["LB_FWD_TX"]))
    r.check("nat4 udp: checksum 0 stays 0", out[UDP].chksum == 0 and out[UDP].dport == 8080, f"{out[UDP].chksum}")
    u = eth / IP(src=client, dst=vip) / UDP(sport=5354, dport=53) / Raw(b"q" * 12)
    out = Ether(r.xdp("nat4 udp", u, XDP_TX, R["LB_FWD_TX"]))
    r.check("nat4 udp: checksum", out[UDP].chksum != 0 and l4_checksum_ok(out[IP]))

    # --- Ethernet padding: a 60-byte frame whose IP packet is shorter.
    padded = bytes(eth / IP(src=client, dst=vip) / UDP(sport=5355, dport=53, chksum=0)) + b"\xee" * 18
    out = r.xdp("nat4 padded frame", padded, XDP_TX, R["LB_FWD_TX"])
    r.check("nat4 padded: padding kept, length fields from IP", len(out) == 60 and out[-18:] == b"\xee" * 18 and Ether(out)[IP].len == 28)

    # --- nat, IPv6.
    c6, vip6 = "fd00::9", "2001:db8::10"
    s6 = Ether(src=MAC_CLIENT, dst=MAC_A0) / IPv6(src=c6, dst=vip6, hlim=64, tc=0x28, fl=0x12345) / TCP(sport=41000, dport=80, flags="S", options=[("MSS", 1440)])
    out = Ether(r.xdp("nat6 syn", s6, XDP_TX, R["LB_FWD_TX"]))
    port6 = expected_nat_port(c6, vip6, 41000, 80, "tcp")
    r.check("nat6 syn: rewrite", (out[IPv6].src, out[TCP].sport, out[IPv6].dst, out[TCP].dport, out[IPv6].hlim) ==
            ("fd00::1", port6, "fd00::2", 8080, 63), f"{out[IPv6].src}:{out[TCP].sport} -> {out[IPv6].dst}:{out[TCP].dport} hlim {out[IPv6].hlim}")
    r.check("nat6 syn: traffic class and flow label kept", (out[IPv6].tc, out[IPv6].fl) == (0x28, 0x12345))
    r.check("nat6 syn: checksum", l4_checksum_ok(out[IPv6]))
    rp6 = Ether(src=MAC_BACKEND_A, dst=MAC_A0) / IPv6(src="fd00::2", dst="fd00::1") / TCP(sport=8080, dport=port6, flags="SA")
    out = Ether(r.xdp("nat6 reply", rp6, XDP_TX, R["LB_FWD_TX"]))
    r.check("nat6 reply: VIP -> client", (out[IPv6].src, out[TCP].sport, out[IPv6].dst, out[TCP].dport) == (vip6, 80, c6, 41000))
    r.check("nat6 reply: checksum", l4_checksum_ok(out[IPv6]))

    # --- dsr-ipip, IPv4: outer header, MSS clamp to mtu - 60, redirect to the other link.
    syn2 = eth / IP(src=client, dst="192.0.2.20", tos=0xb8, ttl=50) / TCP(sport=40001, dport=80, flags="S", options=[("NOP", None), ("MSS", 1460), ("SAckOK", b"")])
    raw = r.xdp("ipip4 syn", syn2, XDP_REDIRECT, R["LB_FWD_REDIRECT"])
    out = Ether(raw)
    o, i = out[IP], out[IP].payload
    r.check("ipip4: outer header", (o.version, o.ihl, o.tos, o.id, o.frag, o.flags, o.ttl, o.proto, o.src, o.dst, o.len) ==
            (4, 5, 0xb8, 0, 0, 0, 64, 4, "10.0.0.1", "10.0.1.2", len(syn2[IP]) + 20), o.summary())
    r.check("ipip4: outer checksum", ipv4_checksum_ok(o))
    r.check("ipip4: MACs toward the tunnel backend", (out.src, out.dst) == (MAC_B0, MAC_TUNNEL_BACKEND))
    mss = dict((k, v) for k, v in i[TCP].options).get("MSS")
    r.check("ipip4: MSS clamped to mtu - 60 at an odd option offset", mss == MTU - 60, f"{mss}")
    r.check("ipip4: inner TTL and addresses untouched, TCP checksum right", (i.ttl, i.src, i.dst) == (50, client, "192.0.2.20") and l4_checksum_ok(i))

    # --- lb_decap on the encapsulated frame gives back the inner packet.
    ret, dec = r.run(f"{BPFFS}/smoke_decap/lb_decap", raw)
    want = bytes(Ether(src=MAC_B0, dst=MAC_TUNNEL_BACKEND) / i)
    r.check("decap4: XDP_PASS with the inner packet", ret == XDP_PASS and dec == want, f"ret {ret}")

    # --- dsr-ipip, IPv6 (ip6ip6) with a VLAN tag: MSS clamp to mtu - 100.
    s6b = Ether(src=MAC_CLIENT, dst=MAC_A0) / Dot1Q(vlan=5) / IPv6(src=c6, dst="2001:db8::20", tc=0xb8) / TCP(sport=41001, dport=80, flags="S", options=[("MSS", 1440)])
    raw = r.xdp("ip6ip6 syn (vlan)", s6b, XDP_REDIRECT, R["LB_FWD_REDIRECT"])
    out = Ether(raw)
    o = out[IPv6]
    i = o.payload
    r.check("ip6ip6: VLAN tag kept", out.haslayer(Dot1Q) and out[Dot1Q].vlan == 5)
    r.check("ip6ip6: outer header", (o.tc, o.fl, o.nh, o.hlim, o.src, o.dst, o.plen) == (0xb8, 0, 41, 64, "fd00::1", "fd00:1::2", len(s6b[IPv6])), o.summary())
    mss = dict((k, v) for k, v in i[TCP].options).get("MSS")
    r.check("ip6ip6: MSS clamped to mtu - 100", mss == MTU - 100, f"{mss}")
    r.check("ip6ip6: inner TCP checksum", l4_checksum_ok(i))
    ret, dec = r.run(f"{BPFFS}/smoke_decap/lb_decap", raw)
    r.check("decap6: inner packet, tag kept", ret == XDP_PASS and dec == bytes(Ether(src=MAC_B0, dst=MAC_TUNNEL_BACKEND) / Dot1Q(vlan=5) / i))

    # --- dsr-ipip, frame too big for the MTU once encapsulated.
    big = eth / IP(src=client, dst="192.0.2.20") / TCP(sport=40002, dport=80, flags="A") / Raw(b"x" * (MTU - 40 - 19))
    r.xdp("ipip4 too big", big, XDP_DROP, R["LB_DROP_FRAME_TOO_BIG"])

    # --- dsr-l2: only the MACs change.
    l2 = eth / IP(src=client, dst="192.0.2.30", ttl=64) / TCP(sport=40003, dport=80, flags="S")
    out = r.xdp("dsr-l2", l2, XDP_TX, R["LB_FWD_TX"])
    r.check("dsr-l2: MACs only", out[12:] == bytes(l2)[12:] and Ether(out).dst == MAC_BACKEND_A and Ether(out).src == MAC_A0)

    # --- verdicts that leave the frame alone (pass) or drop it.
    untouched = [
        ("not IP (ARP)", eth / ARP(pdst="10.0.0.1"), XDP_PASS, "LB_PASS_NOT_IP"),
        ("no service", eth / IP(src=client, dst="192.0.2.99") / TCP(dport=80), XDP_PASS, "LB_PASS_NO_SERVICE"),
        ("ICMP", eth / IP(src=client, dst=vip) / ICMP(), XDP_PASS, "LB_PASS_ICMP"),
        ("fragment", eth / IP(src=client, dst=vip, flags="MF") / TCP(dport=80), XDP_PASS, "LB_PASS_FRAGMENT"),
        ("IPv4 options", eth / IP(src=client, dst=vip, options=b"\x01\x01\x01\x00") / TCP(dport=80), XDP_PASS, "LB_PASS_IPV4_OPTIONS"),
        ("IPv6 extension", Ether(src=MAC_CLIENT, dst=MAC_A0) / IPv6(src=c6, dst=vip6) / IPv6ExtHdrRouting() / TCP(dport=80), XDP_PASS, "LB_PASS_IPV6_EXTENSION"),
        ("TTL 1 (nat)", eth / IP(src=client, dst=vip, ttl=1) / TCP(sport=40009, dport=80), XDP_PASS, "LB_PASS_TTL_EXPIRED"),
        ("source range", eth / IP(src="10.0.0.77", dst="192.0.2.40") / TCP(dport=80), XDP_DROP, "LB_DROP_SOURCE_RANGE"),
        # BPF_PROG_TEST_RUN takes no frame shorter than 14 bytes: truncate inside the VLAN tag.
        ("truncated VLAN tag", bytes(Ether(src=MAC_CLIENT, dst=MAC_A0, type=0x8100)) + b"\x00\x05", XDP_DROP, "LB_DROP_MALFORMED_ETHERNET"),
        ("bad IPv4 tot_len", bytes(eth / IP(src=client, dst=vip, len=200) / TCP(dport=80)), XDP_DROP, "LB_DROP_MALFORMED_IPV4"),
        ("TCP doff 4", eth / IP(src=client, dst=vip) / TCP(dport=80, dataofs=4), XDP_DROP, "LB_DROP_MALFORMED_TCP"),
        ("UDP len past IP", eth / IP(src=client, dst=vip) / UDP(dport=53, len=40) / Raw(b"abc"), XDP_DROP, "LB_DROP_MALFORMED_UDP"),
    ]
    for name, frame, action, reason in untouched:
        out = r.xdp(name, frame, action, R[reason])
        if action == XDP_PASS:
            r.check(f"{name}: untouched", out == bytes(frame))
    ok_src = eth / IP(src=client, dst="192.0.2.40") / TCP(sport=40010, dport=80, flags="S")
    r.xdp("source range admits 10.0.0.0/28", ok_src, XDP_TX, R["LB_FWD_TX"])

    # --- nat toward a backend without a neighbour entry: passed, already rewritten.
    nn = eth / IP(src=client, dst="192.0.2.50", ttl=64) / TCP(sport=40011, dport=80, flags="S")
    out = Ether(r.xdp("no neighbour", nn, XDP_PASS, R["LB_PASS_FIB_NO_NEIGHBOUR"]))
    r.check("no neighbour: passed rewritten", (out[IP].dst, out[TCP].dport, out[IP].ttl) == ("10.0.0.4", 8080, 63))

    # --- counters: every frame in exactly one reason; service 1's packets and new flows.
    for name, num in R.items():
        vals = map_lookup("lb_reasons", struct.pack("<I", num)) or []
        got = sum(struct.unpack("<Q", v)[0] for v in vals)
        if got or r.count.get(num):
            r.check(f"lb_reasons[{name}] = {r.count.get(num, 0)}", got == r.count.get(num, 0), f"counted {got}")
    stats = [struct.unpack("<QQQ", v) for v in map_lookup("lb_svc_stats", struct.pack("<I", 1))]
    pk, by, nf = (sum(s[i] for s in stats) for i in range(3))
    # Service 1 saw: nat4 syn, ack, 2 udp, padded, nat6 syn, ICMP? no (ICMP passes before lookup),
    # fragment/options no (parser), TTL 1 yes. New flows: syn, 2 udp, padded, nat6 syn.
    r.check("lb_svc_stats[1]: packets and new flows", (pk, nf) == (7, 5), f"packets {pk} new_flows {nf}")

    print(f"\n{len(r.failures)} failed" if r.failures else "\nall checks passed")
    return 1 if r.failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--inside":
        sys.exit(inside(int(sys.argv[2]), int(sys.argv[3])))
    sys.exit(outside())
