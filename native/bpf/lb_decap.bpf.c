// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lb's decapsulation program for dsr-ipip backends (`lb decap --interface IF`): strips the outer
 * IPv4 or IPv6 header of an IP-in-IP packet and passes the inner packet up the stack, for kernels
 * without the ipip / ip6_tunnel modules.
 *
 * Taken: an outer IPv4 header without options or fragmentation with protocol 4 (IPv4 inside) or
 * 41 (IPv6 inside), or an outer IPv6 header whose next header is 41 (IPv6) or 4 (IPv4), and an
 * inner header of the announced version that fits the outer packet. The L2 header (and its one
 * VLAN tag) moves forward over the outer header, its ethertype becomes the inner family's, and
 * bpf_xdp_adjust_head drops the outer header. Everything else passes untouched. It does not check the outer addresses, so any host that can reach the interface can
 * have an inner packet delivered as if it had arrived directly: attach it only where that is
 * acceptable (the inner packet still meets the backend's own firewall and rp_filter).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lb_parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The ethertype of an IP packet whose first byte is `first`, if its version is `version`, else 0. */
static __always_inline __be16 lb_decap_inner_proto(__u8 first, __u8 version)
{
	if ((first >> 4) != version)
		return 0;
	return version == 4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
}

/* The inner IP version an outer protocol / next header announces, or 0 for none. */
static __always_inline __u8 lb_decap_inner_version(__u8 proto)
{
	if (proto == IPPROTO_IPIP)
		return 4;
	if (proto == IPPROTO_IPV6)
		return 6;
	return 0;
}

/* The inner packet of an outer IPv4 header at the cursor: returns its ethertype, or 0 if this is
 * not an IP-in-IPv4 packet the program takes (see the file comment). */
static __always_inline __be16 lb4_decap_inner(struct lb_cursor *c)
{
	struct iphdr *ip = c->pos;
	__u8 version, *inner;
	__u32 tot_len;

	if ((void *)(ip + 1) > c->end || ip->version != 4 || ip->ihl != 5)
		return 0;
	if (ip->frag_off & bpf_htons(LB_IP_MF | LB_IP_OFFSET))
		return 0;
	version = lb_decap_inner_version(ip->protocol);
	if (!version)
		return 0;
	tot_len = bpf_ntohs(ip->tot_len);
	inner = (__u8 *)(ip + 1);
	if ((void *)(inner + 1) > c->end || (void *)ip + tot_len > c->end)
		return 0;
	if (tot_len < sizeof(*ip) + (version == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)))
		return 0;
	return lb_decap_inner_proto(inner[0], version);
}

/* The inner packet of an outer IPv6 header at the cursor: returns its ethertype, or 0. */
static __always_inline __be16 lb6_decap_inner(struct lb_cursor *c)
{
	struct ipv6hdr *ip6 = c->pos;
	__u8 version, *inner;
	__u32 payload_len;

	if ((void *)(ip6 + 1) > c->end || ip6->version != 6)
		return 0;
	version = lb_decap_inner_version(ip6->nexthdr);
	if (!version)
		return 0;
	payload_len = bpf_ntohs(ip6->payload_len);
	inner = (__u8 *)(ip6 + 1);
	if ((void *)(inner + 1) > c->end || (void *)inner + payload_len > c->end)
		return 0;
	if (payload_len < (version == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)))
		return 0;
	return lb_decap_inner_proto(inner[0], version);
}

/* Moves the L2 header (l3_off bytes: Ethernet and the optional tag) `shift` bytes forward, over
 * the outer header, and sets its ethertype to `proto`. Source and destination do not overlap:
 * shift (20 or 40) is larger than the L2 header (14 or 18). */
static __always_inline int lb_decap_move_l2(struct xdp_md *ctx, __u32 l3_off, __u32 shift, __be16 proto)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth;

	if (data + shift + LB_MAX_L3_OFF > data_end)
		return -1;
	if (l3_off > ETH_HLEN)
		__builtin_memcpy(data + shift + ETH_HLEN, data + ETH_HLEN, sizeof(struct lb_vlan_hdr));
	__builtin_memcpy(data + shift, data, ETH_HLEN);
	/* The ethertype that names the L3 header is the last field of the L2 header. */
	eth = data + shift;
	if (l3_off > ETH_HLEN)
		((struct lb_vlan_hdr *)(eth + 1))->proto = proto;
	else
		eth->h_proto = proto;
	return 0;
}

SEC("xdp")
int lb_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct lb_cursor c = { .pos = data, .end = data_end };
	__be16 proto, inner_proto;
	__u32 l3_off, outer_len;

	if (lb_parse_eth(&c, &proto))
		return XDP_PASS;
	l3_off = c.pos - data;
	if (proto == bpf_htons(ETH_P_IP)) {
		inner_proto = lb4_decap_inner(&c);
		outer_len = sizeof(struct iphdr);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		inner_proto = lb6_decap_inner(&c);
		outer_len = sizeof(struct ipv6hdr);
	} else {
		return XDP_PASS;
	}
	if (!inner_proto || lb_decap_move_l2(ctx, l3_off, outer_len, inner_proto))
		return XDP_PASS;
	/* Cannot fail: the frame holds the outer header it drops. Were it to fail, the frame would
	 * carry the moved L2 header over the outer one, so it is dropped rather than passed. */
	if (bpf_xdp_adjust_head(ctx, outer_len))
		return XDP_DROP;
	return XDP_PASS;
}
