#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the pinned Maglev golden table (run-length encoded) that tests/Lb.Core.Tests/Maglev checks
the C# builder against. It implements docs/maglev.md on its own, with tools/murmur3.py, so the golden
table is a second implementation's answer rather than the C# code's own output.

    python3 tools/maglev_golden.py > tests/Lb.Core.Tests/Maglev/testdata/golden-16381-lb.rle

Regenerate only for a deliberate change to the hash, the seed derivation or the fill.
"""
import sys

from murmur3 import hash128

TABLE_SIZE = 16381
SEED = "lb"
# (identity, weight, id): IPv4 and IPv6 identities, mixed weights, ids unrelated to the sort order.
BACKENDS = [
    ("10.0.0.1:80", 1, 17),
    ("10.0.0.2:80", 2, 3),
    ("10.0.0.3:8080", 3, 42),
    ("[2001:db8::1]:80", 1, 7),
    ("[2001:db8::2]:443", 5, 1000),
]


def hash_seed(seed: str) -> int:
    """Low 32 bits of h1 of Murmur3 x64-128 over the UTF-8 seed string with seed 0."""
    return hash128(seed.encode("utf-8"), 0)[0] & 0xFFFFFFFF


def offset_and_skip(identity: str, m: int, seed32: int):
    h1, h2 = hash128(identity.encode("utf-8"), seed32)
    return h1 % m, h2 % (m - 1) + 1


def build(m: int, seed: str, backends):
    """Returns the table as a list of ids: slots claimed in weighted turns, backends sorted by identity."""
    seed32 = hash_seed(seed)
    # Python sorts str by code point, which matches .NET's ordinal comparison for ASCII identities.
    ordered = sorted(backends, key=lambda b: b[0])
    max_weight = max(w for _, w, _ in ordered)
    walkers = []
    for identity, weight, _ in ordered:
        offset, skip = offset_and_skip(identity, m, seed32)
        walkers.append({"next": offset, "skip": skip, "weight": weight, "credit": max_weight // 2})
    table = [None] * m
    filled = 0
    while True:
        for i, w in enumerate(walkers):
            w["credit"] += w["weight"]
            if w["credit"] < max_weight:
                continue
            w["credit"] -= max_weight
            slot = w["next"]
            while table[slot] is not None:
                slot = (slot + w["skip"]) % m
            table[slot] = ordered[i][2]
            w["next"] = (slot + w["skip"]) % m
            filled += 1
            if filled == m:
                return table


def run_length(table):
    runs = []
    for value in table:
        if runs and runs[-1][0] == value:
            runs[-1][1] += 1
        else:
            runs.append([value, 1])
    return runs


def main():
    table = build(TABLE_SIZE, SEED, BACKENDS)
    out = sys.stdout
    out.write("# Maglev golden table written by tools/maglev_golden.py (an independent implementation).\n")
    out.write("# A change here must be deliberate: it moves flows on every node that upgrades.\n")
    out.write("# Runs are id*count (count omitted when 1), in slot order.\n")
    out.write(f"tableSize {TABLE_SIZE}\n")
    out.write(f"seed {SEED}\n")
    for identity, weight, backend_id in BACKENDS:
        out.write(f"backend {identity} weight {weight} id {backend_id}\n")
    line = []
    width = 0
    out.write("runs\n")
    for value, count in run_length(table):
        token = f"{value}*{count}" if count > 1 else f"{value}"
        if width + len(token) + 1 > 100:
            out.write(" ".join(line) + "\n")
            line, width = [], 0
        line.append(token)
        width += len(token) + 1
    if line:
        out.write(" ".join(line) + "\n")
    counts = {}
    for value in table:
        counts[value] = counts.get(value, 0) + 1
    total_weight = sum(w for _, w, _ in BACKENDS)
    for identity, weight, backend_id in BACKENDS:
        ideal = TABLE_SIZE * weight / total_weight
        print(f"{identity} id {backend_id}: {counts.get(backend_id, 0)} slots, ideal {ideal:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
