/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The flow hash both engines use to index a service's Maglev table: jhash2 over 10 words.
 *
 * Word layout (each word is 4 bytes exactly as they sit in the packet, loaded as a
 * little-endian u32, i.e. a plain load on x86 and BPF; no byte swapping anywhere):
 *   w0..w3  source address (IPv4: w0 = saddr, w1..w3 = 0)
 *   w4..w7  destination address (IPv4: w4 = daddr, w5..w7 = 0)
 *   w8      the first 4 bytes of the L4 header: source port then destination port
 *   w9      the IP protocol number (6 or 17), as a plain integer
 * With ClientIP affinity only the client address is hashed: w4..w9 are zero, so every Lb node
 * maps a client to the same backend whatever port or frontend it uses.
 * The C# twin is src/Lb.Core/Hashing/FlowHash.cs; vectors in native/testdata/flowhash_vectors.txt.
 */
#ifndef LB_FLOW_HASH_H
#define LB_FLOW_HASH_H

#include <linux/types.h>
#include "lb/jhash.h"

#define LB_FLOW_HASH_WORDS 10

_Static_assert(LB_FLOW_HASH_WORDS <= LB_JHASH2_MAX_WORDS, "lb_jhash2 hashes at most LB_JHASH2_MAX_WORDS words");

/* "A plain load is a little-endian load" holds only on little-endian targets (x86, bpfel). On a
 * big-endian one the same packet would hash differently here than in the managed engine. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "flow_hash.h assumes a little-endian target (x86-64 host, clang -target bpf / bpfel)"
#endif

struct lb_flow_hash_input {
	__u32 w[LB_FLOW_HASH_WORDS];
};

static inline __u32 lb_flow_hash(const struct lb_flow_hash_input *in, __u32 seed)
{
	return lb_jhash2(in->w, LB_FLOW_HASH_WORDS, seed);
}

#endif /* LB_FLOW_HASH_H */
