/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Internet checksum arithmetic for header rewrites: incremental updates (RFC 1624) and the full
 * sum of a fresh IPv4 header.
 *
 * Words are 16-bit values exactly as loaded from memory (little-endian loads of network-order
 * bytes). The one's complement sum commutes with swapping the bytes of every term, so the result
 * is the same bytes the RFC's big-endian arithmetic gives; the managed engine may compute in
 * either order and must agree byte for byte. An update is HC' = ~fold(~HC + sum(~m + m')) with
 * end-around carry (RFC 1624 eqn. 3). Each term ~m + m' is at least 0xffff, so the sum is never
 * zero and its fold is the representative in 1..0xffff of the sum modulo 0xffff: any exact
 * implementation of the equation gives the same 16 bits (never "negative zero" ambiguity).
 */
#ifndef LB_CSUM_H
#define LB_CSUM_H

#include <linux/types.h>

#include "lb/lb_abi.h"

/* Adds the change of one 16-bit word from `from` to `to` to the accumulator. An accumulator of
 * at most a few dozen terms cannot overflow 32 bits. */
static __always_inline __u32 lb_csum_diff16(__u32 acc, __u16 from, __u16 to)
{
	return acc + (__u16)~from + to;
}

/* The change of a 32-bit field, as its two 16-bit words. */
static __always_inline __u32 lb_csum_diff32(__u32 acc, __u32 from, __u32 to)
{
	acc = lb_csum_diff16(acc, from & 0xffff, to & 0xffff);
	return lb_csum_diff16(acc, from >> 16, to >> 16);
}

/* The change of an address of `family` (4 or 16 bytes). */
static __always_inline __u32 lb_csum_diff_addr(__u32 acc, const union lb_addr *from,
					       const union lb_addr *to, __u8 family)
{
	if (family == LB_FAMILY_IPV4)
		return lb_csum_diff32(acc, from->v4, to->v4);
#pragma unroll
	for (int i = 0; i < 4; i++)
		acc = lb_csum_diff32(acc, from->v6[i], to->v6[i]);
	return acc;
}

/* Folds a 32-bit sum to 16 bits with end-around carry. Two rounds suffice for any 32-bit sum:
 * the first leaves at most 0x1fffe, the second at most 0xffff. */
static __always_inline __u16 lb_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Applies an accumulated change to a checksum field: HC' = ~fold(~HC + acc). */
static __always_inline __sum16 lb_csum_update(__sum16 check, __u32 acc)
{
	return (__sum16)~lb_csum_fold((__u16)~check + acc);
}

/* The checksum of a 20-byte IPv4 header whose check field is zero. */
static __always_inline __sum16 lb_csum_ipv4_header(const void *hdr)
{
	const __u16 *w = hdr;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	return (__sum16)~lb_csum_fold(sum);
}

#endif /* LB_CSUM_H */
