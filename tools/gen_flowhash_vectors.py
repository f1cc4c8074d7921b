#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the flow-hash test vectors that the C headers and the C# code are both checked against.

This is the third, independent implementation: Bob Jenkins' lookup3 (hashword for word keys,
hashlittle for byte keys) written from lookup3.c's description, and the 10-word flow layout of
native/include/lb/flow_hash.h built from packed address bytes. It shares no code with either
twin, so a bug common to the C and C# code still shows as a mismatch.

Before writing anything it checks itself against the values published in lookup3.c's driver5().
Running it regenerates native/testdata/{jhash,flowhash,flowhash_seed}_vectors.txt byte for byte:

    python3 tools/gen_flowhash_vectors.py            # write the files
    python3 tools/gen_flowhash_vectors.py --check    # exit 1 if a committed file differs
"""
import ipaddress
import json
import os
import struct
import sys

MASK = 0xFFFFFFFF
GOLDEN = 0xDEADBEEF  # lookup3's arbitrary starting value; Linux calls it JHASH_INITVAL

# The C loop in jhash.h stops at this many words (LB_JHASH2_MAX_WORDS); no vector may exceed it.
C_MAX_WORDS = 15


def rot(x, k):
    return ((x << k) | (x >> (32 - k))) & MASK


def mix(a, b, c):
    a = (a - c) & MASK; a ^= rot(c, 4);  c = (c + b) & MASK
    b = (b - a) & MASK; b ^= rot(a, 6);  a = (a + c) & MASK
    c = (c - b) & MASK; c ^= rot(b, 8);  b = (b + a) & MASK
    a = (a - c) & MASK; a ^= rot(c, 16); c = (c + b) & MASK
    b = (b - a) & MASK; b ^= rot(a, 19); a = (a + c) & MASK
    c = (c - b) & MASK; c ^= rot(b, 4);  b = (b + a) & MASK
    return a, b, c


def final(a, b, c):
    c ^= b; c = (c - rot(b, 14)) & MASK
    a ^= c; a = (a - rot(c, 11)) & MASK
    b ^= a; b = (b - rot(a, 25)) & MASK
    c ^= b; c = (c - rot(b, 16)) & MASK
    a ^= c; a = (a - rot(c, 4)) & MASK
    b ^= a; b = (b - rot(a, 14)) & MASK
    c ^= b; c = (c - rot(b, 24)) & MASK
    return a, b, c


def hashword(words, initval):
    """lookup3 hashword(), which Linux ships as jhash2()."""
    a = b = c = (GOLDEN + (len(words) << 2) + initval) & MASK
    rest = list(words)
    while len(rest) > 3:
        a = (a + rest[0]) & MASK
        b = (b + rest[1]) & MASK
        c = (c + rest[2]) & MASK
        a, b, c = mix(a, b, c)
        rest = rest[3:]
    if not rest:
        return c  # lookup3: a zero-length tail needs no final mixing
    rest += [0] * (3 - len(rest))
    a = (a + rest[0]) & MASK
    b = (b + rest[1]) & MASK
    c = (c + rest[2]) & MASK
    return final(a, b, c)[2]


def hashlittle(data, initval):
    """lookup3 hashlittle(), which Linux ships as jhash(): bytes, little-endian 12-byte blocks."""
    a = b = c = (GOLDEN + len(data) + initval) & MASK
    rest = bytes(data)
    while len(rest) > 12:
        x, y, z = struct.unpack("<3I", rest[:12])
        a, b, c = mix((a + x) & MASK, (b + y) & MASK, (c + z) & MASK)
        rest = rest[12:]
    if not rest:
        return c
    x, y, z = struct.unpack("<3I", rest.ljust(12, b"\0"))
    return final((a + x) & MASK, (b + y) & MASK, (c + z) & MASK)[2]


def self_check():
    """Published lookup3 values (lookup3.c, driver5), so this script is pinned to Jenkins' own."""
    four_score = b"Four score and seven years ago"
    assert hashlittle(b"", 0) == 0xDEADBEEF
    assert hashlittle(b"", 0xDEADBEEF) == 0xBD5B7DDE
    assert hashlittle(four_score, 0) == 0x17770551
    assert hashlittle(four_score, 1) == 0xCD628161
    # hashword over the zero-padded little-endian words equals hashlittle once the initial value
    # is corrected for the length: hashword adds 4 * words, hashlittle adds the byte count.
    words = list(struct.unpack("<8I", four_score.ljust(32, b"\0")))
    assert hashword(words, (0 - 2) & MASK) == 0x17770551
    assert hashword(words, (1 - 2) & MASK) == 0xCD628161
    assert hashword([], 0) == 0xDEADBEEF


def le_words(raw):
    return list(struct.unpack("<%dI" % (len(raw) // 4), raw))


def flow_words(saddr, daddr, sport, dport, proto, affinity):
    """The 10 words of flow_hash.h: each the packet's 4 bytes read little-endian."""
    src = ipaddress.ip_address(saddr)
    dst = ipaddress.ip_address(daddr)
    assert src.version == dst.version
    words = [0] * 10
    words[0:len(src.packed) // 4] = le_words(src.packed)
    if affinity:
        return words
    words[4:4 + len(dst.packed) // 4] = le_words(dst.packed)
    words[8] = le_words(struct.pack(">HH", sport, dport))[0]  # the L4 header's first 4 bytes
    words[9] = proto
    return words


class XorShift32:
    """A fixed generator, so the file does not depend on Python's random module."""

    def __init__(self, state):
        self.state = state

    def next(self):
        x = self.state
        x ^= (x << 13) & MASK
        x ^= x >> 17
        x ^= (x << 5) & MASK
        self.state = x
        return x

    def bytes(self, n):
        return b"".join(struct.pack("<I", self.next()) for _ in range((n + 3) // 4))[:n]


def jhash_file():
    rng = XorShift32(0x1B873593)
    out = [
        "# Raw jhash2 vectors (Linux include/linux/jhash.h jhash2 = lookup3 hashword).",
        "# Generated by tools/gen_flowhash_vectors.py; do not edit by hand.",
        "# Format, one vector a line, fields separated by spaces:",
        "#   initval expected words",
        "# initval and expected are 0x-prefixed hex u32; words is '-' for the empty key, else the",
        "# key's u32 words in hex, comma-separated. At most %d words: the C loop's limit." % C_MAX_WORDS,
        "",
        "# Published: lookup3.c driver5, hashlittle(\"\", 0, 0) = deadbeef; the empty key is the same",
        "# for hashword and hashlittle.",
        "0x00000000 0x%08x -" % hashword([], 0),
        "# Published: lookup3.c driver5, hashlittle2(\"\", 0, &c = 0, &b = deadbeef) gives c = bd5b7dde,",
        "# the same as an empty key with initval deadbeef.",
        "0xdeadbeef 0x%08x -" % hashword([], 0xDEADBEEF),
    ]
    four_score = b"Four score and seven years ago"
    words = le_words(four_score.ljust(32, b"\0"))
    for published_initval, published in ((0, 0x17770551), (1, 0xCD628161)):
        initval = (published_initval - 2) & MASK
        assert hashword(words, initval) == published
        out += [
            "# Published: lookup3.c driver5, hashlittle(\"Four score and seven years ago\", 30, %d) = %08x."
            % (published_initval, published),
            "# hashword over the same bytes zero-padded to 8 little-endian words is the same hash once",
            "# initval makes up for 32 vs 30 in the starting value: initval = %d - 2." % published_initval,
            "0x%08x 0x%08x %s" % (initval, published, ",".join("%08x" % w for w in words)),
        ]
    out += ["", "# Every length the C code handles (loop rounds 0..4, tails 0..3), generated."]
    for length in range(0, C_MAX_WORDS + 1):
        for initval in (0, rng.next()):
            key = [rng.next() for _ in range(length)]
            out.append("0x%08x 0x%08x %s" % (initval, hashword(key, initval),
                                                ",".join("%08x" % w for w in key) if key else "-"))
    out += ["", "# Extreme words."]
    for key, initval in (([0] * 10, 0), ([MASK] * 10, MASK), ([MASK] * 3, 0), ([0x80000000] * 15, 0x80000000)):
        out.append("0x%08x 0x%08x %s" % (initval, hashword(key, initval), ",".join("%08x" % w for w in key)))
    return out


def derive_seed(text):
    """The flow-hash seed of MaglevOptions.Seed: Linux jhash() over the UTF-8 bytes, initval 0."""
    return hashlittle(text.encode("utf-8"), 0)


def flowhash_file():
    lb_seed = derive_seed("lb")
    any_seed = derive_seed("any string")
    rows = []

    def add(saddr, daddr, sport, dport, proto, affinity, seed):
        rows.append((saddr, daddr, sport, dport, proto, affinity, seed))

    # A plain TCP flow of each family, under several seeds, with and without affinity.
    for seed in (0, 1, 0xFFFFFFFF, lb_seed, any_seed):
        for affinity in (0, 1):
            add("192.0.2.1", "198.51.100.10", 40000, 80, 6, affinity, seed)
            add("2001:db8::1", "2001:db8::10", 40000, 80, 6, affinity, seed)
    # UDP, and the protocol alone changing the hash.
    add("192.0.2.1", "198.51.100.10", 40000, 80, 17, 0, 0)
    add("192.0.2.1", "198.51.100.53", 53000, 53, 17, 0, lb_seed)
    add("2001:db8::1", "2001:db8::53", 53000, 53, 17, 0, lb_seed)
    # Edge ports, and the two ports swapped (the hash is not symmetric).
    for sport, dport in ((0, 0), (65535, 65535), (0, 65535), (65535, 0), (80, 40000), (1, 256)):
        add("10.0.0.1", "10.0.0.2", sport, dport, 6, 0, 0)
        add("fd00::1", "fd00::2", sport, dport, 17, 0, 0x9E3779B9)
    # Addresses with the high bit of every byte set, all zeros and all ones.
    add("255.255.255.255", "255.255.255.255", 65535, 65535, 17, 0, 0xFFFFFFFF)
    add("0.0.0.0", "0.0.0.0", 0, 0, 6, 0, 0)
    add("128.129.130.131", "200.201.202.203", 32768, 443, 6, 0, lb_seed)
    add("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 65535, 6, 0, 0xFFFFFFFF)
    add("::", "::", 0, 0, 17, 0, 0)
    add("fe80::8081:8283:8485:8687", "ff02::fb", 5353, 5353, 17, 0, 0)
    # An IPv4 client and the same client as an IPv4-mapped IPv6 address hash differently.
    add("192.0.2.1", "198.51.100.10", 40000, 80, 6, 0, 0)
    add("::ffff:192.0.2.1", "::ffff:198.51.100.10", 40000, 80, 6, 0, 0)
    # Affinity: the same client from other ports, to other frontends and protocols hashes alike.
    add("203.0.113.7", "198.51.100.10", 1024, 80, 6, 1, lb_seed)
    add("203.0.113.7", "198.51.100.11", 60000, 443, 17, 1, lb_seed)
    add("2001:db8:ffff::7", "2001:db8::10", 1024, 80, 6, 1, lb_seed)
    add("2001:db8:ffff::7", "2001:db8::11", 60000, 8443, 17, 1, lb_seed)
    # Generated flows.
    rng = XorShift32(0x85EBCA6B)
    for _ in range(24):
        v6 = rng.next() & 1
        size = 16 if v6 else 4
        saddr = str(ipaddress.ip_address(rng.bytes(size)))
        daddr = str(ipaddress.ip_address(rng.bytes(size)))
        ports = rng.next()
        proto = 6 if rng.next() & 1 else 17
        affinity = 1 if rng.next() % 4 == 0 else 0
        add(saddr, daddr, ports >> 16, ports & 0xFFFF, proto, affinity, rng.next())

    out = [
        "# Flow-hash vectors: jhash2 over the 10 words of native/include/lb/flow_hash.h.",
        "# Generated by tools/gen_flowhash_vectors.py; do not edit by hand.",
        "# Format, one vector a line, fields separated by spaces:",
        "#   family saddr daddr sport dport proto affinity seed hash words",
        "# family 4 or 6; addresses in their usual text form; sport, dport (0..65535) and proto",
        "# decimal; affinity 1 = ClientIP (only the client address is hashed), else 0; seed and",
        "# hash 0x-prefixed hex u32 (seed is the jhash initval); words the 10 hashed u32 words in",
        "# hex, comma-separated, each the packet's 4 bytes read little-endian.",
        "# Seeds used: 0x%08x is the default seed \"lb\" derived as flowhash_seed_vectors.txt says," % lb_seed,
        "# 0x%08x is \"any string\" (the example in lb.yaml)." % any_seed,
        "",
    ]
    for saddr, daddr, sport, dport, proto, affinity, seed in rows:
        words = flow_words(saddr, daddr, sport, dport, proto, affinity)
        family = ipaddress.ip_address(saddr).version
        out.append("%d %s %s %d %d %d %d 0x%08x 0x%08x %s" % (
            family, saddr, daddr, sport, dport, proto, affinity, seed, hashword(words, seed),
            ",".join("%08x" % w for w in words)))
    return out


def seed_file():
    texts = [
        "",
        "Four score and seven years ago",
        "lb",
        "any string",
        "a", "ab", "abc", "abcd", "abcde", "abcdefgh", "abcdefghijk", "abcdefghijkl", "abcdefghijklm",
        "abcdefghijklmnopqrstuvwx", "abcdefghijklmnopqrstuvwxy",
        "seed with spaces and \"quotes\" and \\ backslash",
        "caf\u00e9 \u00fcber \u65e5\u672c \U0001F600",
        "x" * 100,
    ]
    out = [
        "# Flow-hash seed derivation: the u32 seed of MaglevOptions.Seed (lb.yaml datapath.maglev.seed)",
        "# is Linux jhash() (lookup3 hashlittle) over the string's UTF-8 bytes with initval 0.",
        "# Generated by tools/gen_flowhash_vectors.py; do not edit by hand.",
        "# Format, one vector a line: expected seed, a space, then the string as a JSON string literal.",
        "# The first two values are published in lookup3.c (driver5).",
        "",
    ]
    for text in texts:
        out.append("0x%08x %s" % (derive_seed(text), json.dumps(text, ensure_ascii=True)))
    return out


def main():
    self_check()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "native", "testdata")
    files = {
        "jhash_vectors.txt": jhash_file(),
        "flowhash_vectors.txt": flowhash_file(),
        "flowhash_seed_vectors.txt": seed_file(),
    }
    check = sys.argv[1:] == ["--check"]
    stale = []
    for name, lines in files.items():
        path = os.path.join(root, name)
        text = "\n".join(lines) + "\n"
        if check:
            with open(path, encoding="utf-8") as existing:
                if existing.read() != text:
                    stale.append(name)
        else:
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
    if stale:
        print("stale, rerun tools/gen_flowhash_vectors.py: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
