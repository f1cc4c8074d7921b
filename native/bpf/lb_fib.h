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

/* Address families of struct bpf_fib_lookup (sys/socket.h values; UAPI headers do not have them
 * without libc). */
#define LB_AF_INET  2
#define LB_AF_INET6 10

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

/* Looks up the next hop and, on success, writes its MAC as destination and the egress
 * interface's MAC as source. Returns LB_FWD_TX (egress is the ingress interface), LB_FWD_REDIRECT
 * (bpf_redirect to the egress interface done), LB_PASS_FIB_NO_NEIGHBOUR (route found, neighbour
 * not resolved: the kernel resolves it if given the packet) or LB_PASS_FIB_FAILED (no route,
 * forwarding disabled on the ingress interface, the packet exceeds the route's MTU (tot_len), or
 * an error). The frame is untouched unless the lookup succeeded. */
static __always_inline enum lb_reason lb_fib_forward(struct xdp_md *ctx, struct bpf_fib_lookup *fib)
{
	void *data, *data_end;
	struct ethhdr *eth;
	long rc;

	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return LB_PASS_FIB_NO_NEIGHBOUR;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return LB_PASS_FIB_FAILED;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return LB_DROP_MALFORMED_ETHERNET; /* cannot happen: every caller parsed it */
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	if (fib->ifindex == ctx->ingress_ifindex)
		return LB_FWD_TX;
	/* With flags 0 bpf_redirect always returns XDP_REDIRECT. */
	bpf_redirect(fib->ifindex, 0);
	return LB_FWD_REDIRECT;
}

#endif /* LB_FIB_H */
