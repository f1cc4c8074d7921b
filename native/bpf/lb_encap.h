/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* dsr-ipip forwarding: IPv4-in-IPv4 and IPv6-in-IPv6 encapsulation toward the backend, the size
 * check that keeps encapsulated frames within the MTU, and the MSS clamp that keeps a TCP flow's
 * later segments small enough to be encapsulated. */
#ifndef LB_ENCAP_H
#define LB_ENCAP_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lb/lb_abi.h"
#include "lb_csum.h"
#include "lb_parse.h"

#define LB_TCP_OPT_EOL     0
#define LB_TCP_OPT_NOP     1
#define LB_TCP_OPT_MSS     2
#define LB_TCP_OPT_MSS_LEN 4
#define LB_TCP_MAX_OPT_LEN 40 /* doff 15: 60 bytes of header, 20 of them fixed */

static __always_inline __u32 lb_encap_len(__u8 family)
{
	return family == LB_FAMILY_IPV4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
}

/* Whether the encapsulated IP packet would exceed cfg->mtu. Measured on IP lengths, so a VLAN tag
 * or Ethernet padding does not count: for an untagged, unpadded frame this is "the frame would
 * exceed mtu + 14". */
static __always_inline bool lb_encap_too_big(const struct lb_config *cfg, const struct lb_pkt *pkt)
{
	return pkt->ip_len + lb_encap_len(pkt->key.family) > cfg->mtu;
}

/* State of the TCP option walk, shared with its bpf_loop callback. */
struct lb_opt_walk {
	struct xdp_md *ctx;
	__u32 opt_base; /* frame offset of the first option byte */
	__u32 opt_len;  /* option bytes doff announces, at most 40 */
	__u32 off;      /* the current option, from opt_base */
	__u32 found;    /* 1: `off` is an MSS option of length 4 */
};

/* One step of the walk: EOL, a short or overlong option, or the end of the options stops it; NOP
 * advances one byte; another option advances by its length byte; the first MSS option stops it
 * with found = 1 (if its length is 4). Returns 1 to stop bpf_loop, 0 to go on. */
static long lb_opt_walk_step(__u32 index, void *data)
{
	struct lb_opt_walk *w = data;
	__u8 opt[2];

	if (w->off >= w->opt_len || bpf_xdp_load_bytes(w->ctx, w->opt_base + w->off, opt, 1))
		return 1;
	if (opt[0] == LB_TCP_OPT_EOL)
		return 1;
	if (opt[0] == LB_TCP_OPT_NOP) {
		w->off += 1;
		return 0;
	}
	if (w->off + 2 > w->opt_len || bpf_xdp_load_bytes(w->ctx, w->opt_base + w->off, opt, 2))
		return 1;
	if (opt[1] < 2 || w->off + opt[1] > w->opt_len)
		return 1;
	if (opt[0] == LB_TCP_OPT_MSS) {
		w->found = opt[1] == LB_TCP_OPT_MSS_LEN;
		return 1;
	}
	w->off += opt[1];
	return 0;
}

/* A TCP header with an MSS option first in its options. */
struct lb_tcp_mss_first {
	struct tcphdr tcp;
	__u8 kind;
	__u8 len;
	__be16 mss;
};

/* Lowers the MSS option of the TCP header at l4_off to max_mss, with an incremental TCP checksum
 * update; a smaller MSS, a header without one, or a malformed option list is left alone. The walk
 * (lb_opt_walk_step) covers the option bytes doff announces, at most 40, and looks at the first
 * MSS option only. Returns 1 if it lowered the MSS.
 *
 * The walk runs under bpf_loop (Linux 5.17) and reads by offset (bpf_xdp_load_bytes): as an
 * open-coded loop the verifier learned exact bounds for `off` on every path of option kinds,
 * could not merge them, and exceeded its 1M-instruction limit (Linux 6.18); a bpf_loop callback
 * is checked until its state converges, with imprecise scalars widened (Linux 6.7). Each step
 * advances at least one byte, so 40 steps cover any option list. */
static __always_inline int lb_tcp_clamp_mss(struct xdp_md *ctx, __u32 l4_off, __u16 max_mss)
{
	struct lb_opt_walk walk = { .ctx = ctx, .opt_base = l4_off + sizeof(struct tcphdr) };
	__be16 new_mss = bpf_htons(max_mss);
	__u16 mss, old_word, new_word;
	struct tcphdr *tcp;
	__u8 opt[LB_TCP_OPT_MSS_LEN];

	tcp = lb_pkt_at(ctx, l4_off, LB_MAX_L4_OFF, sizeof(*tcp));
	if (!tcp || tcp->doff < 5)
		return 0;
	walk.opt_len = tcp->doff * 4U - sizeof(*tcp);
	/* Every common stack sends the MSS as the first option: then the walk would stop at its
	 * first step with off 0, and the option is read in place. */
	if (walk.opt_len >= LB_TCP_OPT_MSS_LEN) {
		struct lb_tcp_mss_first *first = lb_pkt_at(ctx, l4_off, LB_MAX_L4_OFF, sizeof(*first));

		/* The value sits at TCP offset 22, an even offset: its checksum term is the value as
		 * loaded. */
		if (first && first->kind == LB_TCP_OPT_MSS && first->len == LB_TCP_OPT_MSS_LEN) {
			__be16 old_mss = first->mss;

			if (bpf_ntohs(old_mss) <= max_mss)
				return 0;
			/* Keeps clang from merging this store with the slow path's, through a pointer
			 * it would re-derive without the bounds check. */
			asm volatile("" : "+r"(first));
			first->mss = new_mss;
			first->tcp.check = lb_csum_update(first->tcp.check, lb_csum_diff16(0, old_mss, new_mss));
			return 1;
		}
	}
	bpf_loop(LB_TCP_MAX_OPT_LEN, lb_opt_walk_step, &walk, 0);
	if (!walk.found || bpf_xdp_load_bytes(ctx, walk.opt_base + walk.off, opt, sizeof(opt)))
		return 0;
	mss = ((__u16)opt[2] << 8) | opt[3];
	if (mss <= max_mss ||
	    bpf_xdp_store_bytes(ctx, walk.opt_base + walk.off + 2, &new_mss, sizeof(new_mss)))
		return 0;

	/* The value sits at TCP offset 20 + off + 2. At an even offset it is one checksum word (as
	 * loaded: the byte-swapped value); at an odd offset its two bytes fall into two words,
	 * which add up to the value itself in load order. */
	old_word = (walk.off & 1) ? mss : bpf_htons(mss);
	new_word = (walk.off & 1) ? max_mss : bpf_htons(max_mss);
	tcp = lb_pkt_at(ctx, l4_off, LB_MAX_L4_OFF, sizeof(*tcp));
	if (!tcp)
		return 0;
	tcp->check = lb_csum_update(tcp->check, lb_csum_diff16(0, old_word, new_word));
	return 1;
}

/* Moves the L2 header (Ethernet and the optional tag, pkt->l3_off bytes) from `shift` bytes into
 * the frame to its start: called after bpf_xdp_adjust_head grew (encap) the headroom. The outer
 * ethertype stays as it was, because the outer header has the inner header's family. */
static __always_inline int lb_encap_move_l2(struct xdp_md *ctx, const struct lb_pkt *pkt, __u32 shift)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + shift + LB_MAX_L3_OFF > data_end)
		return -1;
	__builtin_memcpy(data, data + shift, ETH_HLEN);
	if (pkt->l3_off > ETH_HLEN)
		__builtin_memcpy(data + ETH_HLEN, data + shift + ETH_HLEN, sizeof(struct lb_vlan_hdr));
	return 0;
}

/* Prepends an outer IPv4 header to the IPv4 packet: version 4, ihl 5, tos copied from the inner
 * header, tot_len inner + 20, id 0, frag_off 0, ttl LB_ENCAP_TTL, protocol IPPROTO_IPIP, the full
 * header checksum, saddr cfg->snat_v4, daddr the backend. Returns 0 or LB_DROP_ENCAP_FAILED (no
 * headroom). */
static __always_inline enum lb_reason lb4_encap(struct xdp_md *ctx, const struct lb_pkt *pkt,
						const struct lb_config *cfg, const struct lb_backend *be)
{
	struct iphdr outer, *hdr;

	__builtin_memset(&outer, 0, sizeof(outer));
	outer.version = 4;
	outer.ihl = 5;
	outer.tos = pkt->tos;
	outer.tot_len = bpf_htons(pkt->ip_len + sizeof(outer));
	outer.ttl = LB_ENCAP_TTL;
	outer.protocol = IPPROTO_IPIP;
	outer.saddr = cfg->snat_v4.v4;
	outer.daddr = be->addr.v4;
	outer.check = lb_csum_ipv4_header(&outer);

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(outer)))
		return LB_DROP_ENCAP_FAILED;
	if (lb_encap_move_l2(ctx, pkt, sizeof(outer)))
		return LB_DROP_ENCAP_FAILED;
	hdr = lb_pkt_at(ctx, pkt->l3_off, LB_MAX_L3_OFF, sizeof(*hdr));
	if (!hdr)
		return LB_DROP_ENCAP_FAILED;
	*hdr = outer;
	return 0;
}

/* Prepends an outer IPv6 header to the IPv6 packet: version 6, traffic class copied from the inner
 * header, flow label 0, payload_len the inner packet's length, next header IPPROTO_IPV6 (41), hop
 * limit LB_ENCAP_TTL, saddr cfg->snat_v6, daddr the backend. Returns 0 or LB_DROP_ENCAP_FAILED. */
static __always_inline enum lb_reason lb6_encap(struct xdp_md *ctx, const struct lb_pkt *pkt,
						const struct lb_config *cfg, const struct lb_backend *be)
{
	struct ipv6hdr outer, *hdr;

	__builtin_memset(&outer, 0, sizeof(outer));
	outer.version = 6;
	outer.priority = pkt->tos >> 4;
	outer.flow_lbl[0] = (pkt->tos & 0x0f) << 4;
	outer.payload_len = bpf_htons(pkt->ip_len);
	outer.nexthdr = IPPROTO_IPV6;
	outer.hop_limit = LB_ENCAP_TTL;
	__builtin_memcpy(outer.saddr.s6_addr, cfg->snat_v6.bytes, sizeof(outer.saddr));
	__builtin_memcpy(outer.daddr.s6_addr, be->addr.bytes, sizeof(outer.daddr));

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(outer)))
		return LB_DROP_ENCAP_FAILED;
	if (lb_encap_move_l2(ctx, pkt, sizeof(outer)))
		return LB_DROP_ENCAP_FAILED;
	hdr = lb_pkt_at(ctx, pkt->l3_off, LB_MAX_L3_OFF, sizeof(*hdr));
	if (!hdr)
		return LB_DROP_ENCAP_FAILED;
	*hdr = outer;
	return 0;
}

#endif /* LB_ENCAP_H */
