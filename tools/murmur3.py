#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""MurmurHash3 x64 128-bit (Austin Appleby, SMHasher's MurmurHash3.cpp), written independently of
the C# port in src/Lb.Core/Hashing/Murmur3.cs so the C# test vectors do not come from the code they test.

Run it to print the vectors the C# tests pin and to check SMHasher's verification value:
    python3 tools/murmur3.py
"""
import struct
import sys

MASK64 = (1 << 64) - 1
C1 = 0x87C37B91114253D5
C2 = 0x4CF5AD432745937F


def rotl64(x, r):
    return ((x << r) | (x >> (64 - r))) & MASK64


def fmix64(k):
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & MASK64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & MASK64
    k ^= k >> 33
    return k


def hash128(data: bytes, seed: int = 0):
    """Returns (h1, h2), the two 64-bit words MurmurHash3_x64_128 writes to out[0] and out[1]."""
    length = len(data)
    nblocks = length // 16
    h1 = seed & 0xFFFFFFFF
    h2 = seed & 0xFFFFFFFF

    for i in range(nblocks):
        k1, k2 = struct.unpack_from("<QQ", data, i * 16)
        k1 = (k1 * C1) & MASK64
        k1 = rotl64(k1, 31)
        k1 = (k1 * C2) & MASK64
        h1 ^= k1
        h1 = rotl64(h1, 27)
        h1 = (h1 + h2) & MASK64
        h1 = (h1 * 5 + 0x52DCE729) & MASK64
        k2 = (k2 * C2) & MASK64
        k2 = rotl64(k2, 33)
        k2 = (k2 * C1) & MASK64
        h2 ^= k2
        h2 = rotl64(h2, 31)
        h2 = (h2 + h1) & MASK64
        h2 = (h2 * 5 + 0x38495AB5) & MASK64

    tail = data[nblocks * 16:]
    k1 = 0
    k2 = 0
    # The reference switch falls through from the longest tail down; bytes 8..15 go to k2, 0..7 to k1.
    for i in range(len(tail) - 1, 7, -1):
        k2 ^= tail[i] << ((i - 8) * 8)
    if len(tail) > 8:
        k2 = (k2 * C2) & MASK64
        k2 = rotl64(k2, 33)
        k2 = (k2 * C1) & MASK64
        h2 ^= k2
    for i in range(min(len(tail), 8) - 1, -1, -1):
        k1 ^= tail[i] << (i * 8)
    if len(tail) > 0:
        k1 = (k1 * C1) & MASK64
        k1 = rotl64(k1, 31)
        k1 = (k1 * C2) & MASK64
        h1 ^= k1

    h1 ^= length
    h2 ^= length
    h1 = (h1 + h2) & MASK64
    h2 = (h2 + h1) & MASK64
    h1 = fmix64(h1)
    h2 = fmix64(h2)
    h1 = (h1 + h2) & MASK64
    h2 = (h2 + h1) & MASK64
    return h1, h2


def digest(data: bytes, seed: int = 0) -> bytes:
    """The 16 output bytes as the reference writes them on a little-endian machine (mmh3.hash_bytes)."""
    h1, h2 = hash128(data, seed)
    return struct.pack("<QQ", h1, h2)


def smhasher_verification() -> int:
    """SMHasher's VerificationTest: hash keys {0}, {0,1}, ..., {0..254} of length i with seed 256 - i,
    hash the concatenated digests with seed 0, and read the first four bytes as a little-endian u32."""
    hashes = b"".join(digest(bytes(range(i)), 256 - i) for i in range(256))
    return struct.unpack_from("<I", digest(hashes, 0))[0]


VECTORS = [
    (b"", 0),
    (b"", 1),
    (b"hello", 0),
    (b"The quick brown fox jumps over the lazy dog", 0),
    (b"The quick brown fox jumps over the lazy dog", 0x9747B28C),
    (b"0123456789abcdef", 0),          # exactly one block, empty tail
    (b"0123456789abcdefX", 42),        # one block and a one-byte tail
    (b"lb", 0),                        # the default Maglev seed string
    (b"10.0.0.1:80", 0),
    ("[2001:db8::1]:80".encode(), 0),
]

if __name__ == "__main__":
    verification = smhasher_verification()
    # SMHasher lists 0x6384BA69 as MurmurHash3_x64_128's verification value.
    status = "ok" if verification == 0x6384BA69 else "MISMATCH"
    print(f"SMHasher verification 0x{verification:08X} ({status}, expected 0x6384BA69)")
    for data, seed in VECTORS:
        h1, h2 = hash128(data, seed)
        print(f"seed=0x{seed:08X} h1=0x{h1:016X} h2=0x{h2:016X} digest={digest(data, seed).hex()} data={data!r}")
    sys.exit(0 if status == "ok" else 1)
