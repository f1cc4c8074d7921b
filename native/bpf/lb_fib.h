/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Sending a rewritten frame on: the kernel's FIB and neighbour tables (bpf_fib_lookup) give the
 * egress interface and both MAC addresses; the frame leaves by XDP_TX on the interface it came in
 * on, or by bpf_redirect to another one. */
#ifndef LB_FIB_H
#define LB_FIB_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#include "lb/lb_abi.h"
#include "lb_parse.h"
#include "lb_time.h"

/* Address families of struct bpf_fib_lookup (sys/socket.h values; UAPI headers do not have them
 * without libc). */
#define LB_AF_INET  2
#define LB_AF_INET6 10

/* A next-hop cache entry: what bpf_fib_lookup last answered toward a backend on this CPU, so that
 * most packets skip the lookup. An entry says which lookup it answers, so backends that share a
 * slot only cost lookups. */
#define LB_NEXTHOP_SLOTS 16384 /* 2^14: lb_nexthop_client_slot shifts by 32 - 14 */
struct lb_nexthop {
	__u64 resolved_ns;       /* the clock (lb_now) when bpf_fib_lookup gave this answer */
	union lb_addr dst;       /* the lookup: destination, */
	__be32 tos;              /* IPv4 TOS, or IPv6 flowinfo, as given to the lookup, */
	__u32 ingress_ifindex;   /* ingress interface, */
	__u8 family;             /* LB_AF_INET / LB_AF_INET6 */
	__u8 l4_protocol;        /* and protocol; 0 in an empty entry */
	__u16 mtu;               /* the answer: the route's MTU (mtu_result), */
	__u32 egress_ifindex;    /* egress interface */
	__u8 dmac[6];            /* and MAC addresses */
	__u8 smac[6];
};

/* FIB lookup parameters for the packet as it will leave: from src to dst with L4 protocol, ports
 * and IP length (tot_len, which the kernel checks against the route's MTU) as given, the TOS byte
 * (IPv4) or flowinfo (IPv6) of the parsed packet, arriving on the ingress interface. */
static __always_inline void lb_fib_init(struct bpf_fib_lookup *fib, struct xdp_md *ctx,
					const struct lb_pkt *pkt, const union lb_addr *src,
					const union lb_addr *dst, __u8 l4_protocol, __be16 sport,
					__be16 dport, __u32 tot_len)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = ctx->ingress_ifindex;
	fib->l4_protocol = l4_protocol;
	fib->sport = sport;
	fib->dport = dport;
	fib->tot_len = tot_len;
	if (pkt->key.family == LB_FAMILY_IPV4) {
		fib->family = LB_AF_INET;
		fib->tos = pkt->tos;
		fib->ipv4_src = src->v4;
		fib->ipv4_dst = dst->v4;
	} else {
		fib->family = LB_AF_INET6;
		fib->flowinfo = pkt->flowinfo;
		__builtin_memcpy(fib->ipv6_src, src->v6, sizeof(fib->ipv6_src));
		__builtin_memcpy(fib->ipv6_dst, dst->v6, sizeof(fib->ipv6_dst));
	}
}

/* How long a cached next hop is used before it is looked up again (lb_now ns). A route or
 * neighbour change reaches packets of a backend within this time. */
#define LB_NEXTHOP_TTL_NS 1000000000ULL

/* Writes the next hop's MAC addresses into the frame and sends it: LB_FWD_TX when it leaves by
 * the ingress interface, LB_FWD_REDIRECT (bpf_redirect done) otherwise. */
static __always_inline enum lb_reason lb_fib_send(struct xdp_md *ctx, const __u8 *dmac, const __u8 *smac,
						 __u32 egress_ifindex)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return LB_DROP_MALFORMED_ETHERNET; /* cannot happen: every caller parsed it */
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	if (egress_ifindex == ctx->ingress_ifindex)
		return LB_FWD_TX;
	/* With flags 0 bpf_redirect always returns XDP_REDIRECT. */
	bpf_redirect(egress_ifindex, 0);
	return LB_FWD_REDIRECT;
}

/* The TOS byte (IPv4) or flowinfo (IPv6) of the lookup, as one word for the cache. */
static __always_inline __be32 lb_fib_tos(const struct bpf_fib_lookup *fib)
{
	return fib->family == LB_AF_INET ? fib->tos : fib->flowinfo;
}

/* Sends the frame by a cached next hop when `nh` answers the lookup the packet would make: same
 * destination `dst` of family `af` (LB_AF_*), L4 protocol, TOS byte or flowinfo word `tos` and
 * ingress interface, resolved less than LB_NEXTHOP_TTL_NS before `now`. The route's MTU is checked
 * against tot_len as the kernel would (LB_PASS_FIB_FAILED above it); otherwise it returns what
 * lb_fib_send returns. 0 (no reason): no answer here, the caller looks up. Checked before the
 * lookup's parameters are built, which a hit does not need. */
static __always_inline enum lb_reason lb_nexthop_send(struct xdp_md *ctx, const struct lb_nexthop *nh,
						      const union lb_addr *dst, __u8 af, __u8 l4_protocol,
						      __be32 tos, __u32 tot_len, __u64 now)
{
	__u32 diff;

	if (!nh)
		return 0;
	diff = (nh->family ^ af) | (nh->l4_protocol ^ l4_protocol) | (nh->tos ^ tos) |
	       (nh->ingress_ifindex ^ ctx->ingress_ifindex);
	if (af == LB_AF_INET) {
		diff |= nh->dst.v4 ^ dst->v4;
	} else {
#pragma unroll
		for (int i = 0; i < 4; i++)
			diff |= nh->dst.v6[i] ^ dst->v6[i];
	}
	if (diff || !lb_fresh(now, nh->resolved_ns, LB_NEXTHOP_TTL_NS))
		return 0;
	if (tot_len > nh->mtu)
		return LB_PASS_FIB_FAILED;
	return lb_fib_send(ctx, nh->dmac, nh->smac, nh->egress_ifindex);
}

/* The address family of bpf_fib_lookup for a parsed packet. */
static __always_inline __u8 lb_fib_af(const struct lb_pkt *pkt)
{
	return pkt->key.family == LB_FAMILY_IPV4 ? LB_AF_INET : LB_AF_INET6;
}

/* The TOS word lb_fib_init gives a lookup for the packet (IPv4 TOS byte, or IPv6 flowinfo). */
static __always_inline __be32 lb_pkt_fib_tos(const struct lb_pkt *pkt)
{
	return pkt->key.family == LB_FAMILY_IPV4 ? pkt->tos : pkt->flowinfo;
}

/* Looks up the next hop and, on success, writes its MAC as destination and the egress
 * interface's MAC as source. Returns LB_FWD_TX (egress is the ingress interface), LB_FWD_REDIRECT
 * (bpf_redirect to the egress interface done), LB_PASS_FIB_NO_NEIGHBOUR (route found, neighbour
 * not resolved: the kernel resolves it if given the packet) or LB_PASS_FIB_FAILED (no route,
 * forwarding disabled on the ingress interface, the packet exceeds the route's MTU (tot_len), or
 * an error). The frame is untouched unless the lookup succeeded.
 *
 * With a cache entry `nh` (which lb_nexthop_send found no answer in), a successful lookup is
 * stored in it. Failures are never cached. */
static __always_inline enum lb_reason lb_fib_forward_cached(struct xdp_md *ctx, struct bpf_fib_lookup *fib,
							    struct lb_nexthop *nh, __u64 now)
{
	__u8 l4_protocol = fib->l4_protocol;
	long rc;

	/* The lookup overwrites its inputs (the destination by a gateway, the ifindex by the egress
	 * one, tot_len by the route's MTU), so the entry takes them first, marked empty until the
	 * lookup succeeds. */
	if (nh) {
		nh->l4_protocol = 0;
		nh->family = fib->family;
		nh->tos = lb_fib_tos(fib);
		nh->ingress_ifindex = fib->ifindex;
		if (fib->family == LB_AF_INET) {
			__builtin_memset(&nh->dst, 0, sizeof(nh->dst));
			nh->dst.v4 = fib->ipv4_dst;
		} else {
			__builtin_memcpy(nh->dst.v6, fib->ipv6_dst, sizeof(nh->dst));
		}
	}
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return LB_PASS_FIB_NO_NEIGHBOUR;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return LB_PASS_FIB_FAILED;
	if (nh) {
		/* mtu_result: the route's MTU on success (Linux 5.12). */
		nh->mtu = fib->mtu_result;
		nh->egress_ifindex = fib->ifindex;
		__builtin_memcpy(nh->dmac, fib->dmac, ETH_ALEN);
		__builtin_memcpy(nh->smac, fib->smac, ETH_ALEN);
		nh->resolved_ns = now;
		nh->l4_protocol = l4_protocol;
	}
	return lb_fib_send(ctx, fib->dmac, fib->smac, fib->ifindex);
}

static __always_inline enum lb_reason lb_fib_forward(struct xdp_md *ctx, struct bpf_fib_lookup *fib)
{
	return lb_fib_forward_cached(ctx, fib, NULL, 0);
}

#endif /* LB_FIB_H */
