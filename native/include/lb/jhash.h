/* SPDX-License-Identifier: GPL-2.0-only */
/* Jenkins lookup3 (Bob Jenkins, 2006, public domain) as Linux's include/linux/jhash.h has it.
 * Shared by the XDP program (clang -target bpf) and host-side C tests; the C# twin is
 * src/Lb.Core/Hashing/JHash.cs, and both are checked against native/testdata/jhash_vectors.txt and
 * native/testdata/flowhash_vectors.txt. */
#ifndef LB_JHASH_H
#define LB_JHASH_H

#include <linux/types.h>

#define LB_JHASH_INITVAL 0xdeadbeef

static inline __u32 lb_rol32(__u32 word, unsigned int shift)
{
	return (word << shift) | (word >> ((-shift) & 31));
}

#define __lb_jhash_mix(a, b, c)                 \
	{                                       \
		a -= c; a ^= lb_rol32(c, 4);  c += b; \
		b -= a; b ^= lb_rol32(a, 6);  a += c; \
		c -= b; c ^= lb_rol32(b, 8);  b += a; \
		a -= c; a ^= lb_rol32(c, 16); c += b; \
		b -= a; b ^= lb_rol32(a, 19); a += c; \
		c -= b; c ^= lb_rol32(b, 4);  b += a; \
	}

#define __lb_jhash_final(a, b, c)               \
	{                                       \
		c ^= b; c -= lb_rol32(b, 14);   \
		a ^= c; a -= lb_rol32(c, 11);   \
		b ^= a; b -= lb_rol32(a, 25);   \
		c ^= b; c -= lb_rol32(b, 16);   \
		a ^= c; a -= lb_rol32(c, 4);    \
		b ^= a; b -= lb_rol32(a, 14);   \
		c ^= b; c -= lb_rol32(b, 24);   \
	}

/* The most words lb_jhash2 hashes correctly. Its loop is bounded (4 rounds of 3 words, then a
 * tail of up to 3) so the verifier accepts it; a longer key would leave the loop with more than
 * 3 words, match no case of the tail, and return an unfinished hash without any error. Callers
 * with a constant length check it with _Static_assert against this limit. */
#define LB_JHASH2_MAX_WORDS 15

/* jhash2: hash `length` 32-bit words, length <= LB_JHASH2_MAX_WORDS. Callers pass a compile-time
 * length so clang unrolls the loop (the BPF verifier then sees straight-line code). */
static inline __u32 lb_jhash2(const __u32 *k, __u32 length, __u32 initval)
{
	__u32 a, b, c;

	a = b = c = LB_JHASH_INITVAL + (length << 2) + initval;
	/* gcc (host tests) does not know clang's spelling and fails -Wall -Werror on it. */
#if defined(__clang__)
#pragma unroll
#elif defined(__GNUC__)
#pragma GCC unroll 4
#endif
	for (int i = 0; i < 4; i++) {
		if (length <= 3)
			break;
		a += k[0];
		b += k[1];
		c += k[2];
		__lb_jhash_mix(a, b, c);
		length -= 3;
		k += 3;
	}
	switch (length) {
	case 3: c += k[2]; /* fallthrough */
	case 2: b += k[1]; /* fallthrough */
	case 1: a += k[0];
		__lb_jhash_final(a, b, c);
		break;
	case 0:
		break;
	}
	return c;
}

#endif /* LB_JHASH_H */
