/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Frame parsing for Lb's XDP programs: Ethernet (one 802.1Q tag), IPv4, IPv6, TCP and UDP, into
 * a struct lb_pkt of header offsets and the 5-tuple, or the reason the fast path does not take it.
 *
 * Parsers walk a cursor and check every header with the `hdr + 1 > end` idiom before reading it.
 * Lengths that the IP header vouches for bound the L4 header, not the frame length: a frame may
 * carry Ethernet padding behind the IP packet (minimum-size frames always do).
 */
#ifndef LB_PARSE_H
#define LB_PARSE_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lb/lb_abi.h"

#define LB_IP_MF     0x2000 /* IPv4 "more fragments" flag, host order */
#define LB_IP_OFFSET 0x1fff /* IPv4 fragment offset mask, host order */

/* IPv6 extension headers that linux/in6.h does not name (IANA "IPv6 Extension Header Types"). */
#define LB_IPPROTO_HIP   139
#define LB_IPPROTO_SHIM6 140
#define LB_IPPROTO_EXP1  253
#define LB_IPPROTO_EXP2  254

#define LB_TCP_FLAG_SYN 0x02

/* Bounds on the offsets kept in struct lb_pkt, so that the verifier sees a bounded offset when a
 * pointer is made again from one (an offset reloaded from the stack is a plain integer). */
#define LB_MAX_L3_OFF (ETH_HLEN + 4)                         /* one VLAN tag */
#define LB_MAX_L4_OFF (LB_MAX_L3_OFF + sizeof(struct ipv6hdr)) /* IPv4 options are not taken */

struct lb_vlan_hdr {
	__be16 tci;
	__be16 proto; /* the ethertype of what follows the tag */
};

struct lb_cursor {
	void *pos;
	void *end;
};

/* What the fast path knows about a frame it may balance. Offsets, not pointers: a pointer into
 * the frame does not survive bpf_xdp_adjust_head, so every user makes its own from an offset. */
struct lb_pkt {
	struct lb_flow_key key; /* the 5-tuple as the packet carries it, padding zero */
	__u32 frame_len;        /* data_end - data on arrival: the bytes counted per service */
	__u32 ip_len;           /* IPv4 tot_len, IPv6 40 + payload_len: the IP packet without padding */
	__be32 flowinfo;        /* IPv6 traffic class and flow label (for the FIB lookup); 0 for IPv4 */
	__u16 l3_off;           /* Ethernet header and the optional tag: 14 or 18 */
	__u16 l4_off;           /* l3_off + 20 (IPv4) or + 40 (IPv6) */
	__u8 ttl;               /* IPv4 TTL or IPv6 hop limit */
	__u8 tos;               /* IPv4 TOS byte or IPv6 traffic class (DSCP and ECN) */
	__u8 tcp_flags;         /* byte 13 of the TCP header; 0 for UDP */
	__u8 pad;
};

/* A pointer `off` bytes into the frame with `len` readable bytes behind it, or NULL.
 * Every caller passes a constant max_off that the offset cannot legitimately exceed. */
static __always_inline void *lb_pkt_at(struct xdp_md *ctx, __u32 off, __u32 max_off, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	void *p;

	if (off > max_off)
		return NULL;
	p = data + off;
	if (p + len > data_end)
		return NULL;
	return p;
}

/* Ethernet with at most one 802.1Q tag at the cursor. Returns 0 with the ethertype that names the
 * L3 header (the Ethernet header's, or the tag's) in *proto and the cursor on the L3 header; -1
 * when the frame ends inside its L2 header. The ethertype field is always the last two bytes
 * before the L3 header. A second tag (QinQ) comes back as the ethertype 0x8100, "not IP". */
static __always_inline int lb_parse_eth(struct lb_cursor *c, __be16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct lb_vlan_hdr *vlan;

	if ((void *)(eth + 1) > c->end)
		return -1;
	*proto = eth->h_proto;
	c->pos = eth + 1;
	if (*proto == bpf_htons(ETH_P_8021Q)) {
		vlan = c->pos;
		if ((void *)(vlan + 1) > c->end)
			return -1;
		*proto = vlan->proto;
		c->pos = vlan + 1;
	}
	return 0;
}

/* IPv4 header at the cursor. Returns 0 for an unfragmented TCP or UDP packet without options,
 * with family, protocol, addresses, ip_len, ttl and tos in pkt and the cursor on the L4 header.
 * Checks run in this order, the first failing one gives the verdict: header past the frame,
 * version != 4, ihl < 5, tot_len < ihl * 4 or past the frame (LB_DROP_MALFORMED_IPV4); ihl > 5
 * (LB_PASS_IPV4_OPTIONS); MF or a fragment offset (LB_PASS_FRAGMENT); ICMP (LB_PASS_ICMP); any
 * other protocol but TCP and UDP (LB_PASS_NO_SERVICE: no frontend can match it). */
static __always_inline enum lb_reason lb4_parse(struct lb_cursor *c, struct lb_pkt *pkt)
{
	struct iphdr *ip = c->pos;
	__u32 tot_len;

	if ((void *)(ip + 1) > c->end)
		return LB_DROP_MALFORMED_IPV4;
	if (ip->version != 4 || ip->ihl < 5)
		return LB_DROP_MALFORMED_IPV4;
	tot_len = bpf_ntohs(ip->tot_len);
	if (tot_len < ip->ihl * 4U || (void *)ip + tot_len > c->end)
		return LB_DROP_MALFORMED_IPV4;
	if (ip->ihl > 5)
		return LB_PASS_IPV4_OPTIONS;
	if (ip->frag_off & bpf_htons(LB_IP_MF | LB_IP_OFFSET))
		return LB_PASS_FRAGMENT;
	if (ip->protocol == IPPROTO_ICMP)
		return LB_PASS_ICMP;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return LB_PASS_NO_SERVICE;

	pkt->key.family = LB_FAMILY_IPV4;
	pkt->key.proto = ip->protocol;
	pkt->key.saddr.v4 = ip->saddr;
	pkt->key.daddr.v4 = ip->daddr;
	pkt->ip_len = tot_len;
	pkt->ttl = ip->ttl;
	pkt->tos = ip->tos;
	c->pos = ip + 1;
	return 0;
}

static __always_inline bool lb6_is_extension(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_ESP:
	case IPPROTO_AH:
	case IPPROTO_DSTOPTS:
	case IPPROTO_MH:
	case LB_IPPROTO_HIP:
	case LB_IPPROTO_SHIM6:
	case LB_IPPROTO_EXP1:
	case LB_IPPROTO_EXP2:
		return true;
	}
	return false;
}

/* IPv6 header at the cursor. Returns 0 for a TCP or UDP packet without extension headers, with
 * family, protocol, addresses, ip_len, ttl (hop limit), tos (traffic class) and flowinfo in pkt
 * and the cursor on the L4 header. In order: header past the frame, version != 6, payload_len
 * past the frame (LB_DROP_MALFORMED_IPV6); ICMPv6 (LB_PASS_ICMP); an extension header as next
 * header (LB_PASS_IPV6_EXTENSION); anything else but TCP and UDP (LB_PASS_NO_SERVICE). */
static __always_inline enum lb_reason lb6_parse(struct lb_cursor *c, struct lb_pkt *pkt)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 payload_len;

	if ((void *)(ip6 + 1) > c->end)
		return LB_DROP_MALFORMED_IPV6;
	if (ip6->version != 6)
		return LB_DROP_MALFORMED_IPV6;
	payload_len = bpf_ntohs(ip6->payload_len);
	if ((void *)(ip6 + 1) + payload_len > c->end)
		return LB_DROP_MALFORMED_IPV6;
	if (ip6->nexthdr == IPPROTO_ICMPV6)
		return LB_PASS_ICMP;
	if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP)
		return lb6_is_extension(ip6->nexthdr) ? LB_PASS_IPV6_EXTENSION : LB_PASS_NO_SERVICE;

	pkt->key.family = LB_FAMILY_IPV6;
	pkt->key.proto = ip6->nexthdr;
	__builtin_memcpy(pkt->key.saddr.bytes, ip6->saddr.s6_addr, sizeof(pkt->key.saddr));
	__builtin_memcpy(pkt->key.daddr.bytes, ip6->daddr.s6_addr, sizeof(pkt->key.daddr));
	pkt->ip_len = sizeof(*ip6) + payload_len;
	pkt->ttl = ip6->hop_limit;
	pkt->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	pkt->flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
	c->pos = ip6 + 1;
	return 0;
}

/* TCP or UDP header at the cursor (pkt->l4_off), as pkt->key.proto says. `l4_len` is what the IP
 * header leaves for L4 (ip_len minus the IP header). Returns 0 with the ports in pkt->key and,
 * for TCP, the flags in pkt->tcp_flags.
 * TCP: header past the frame or past l4_len, doff < 5, doff * 4 > l4_len: LB_DROP_MALFORMED_TCP.
 * UDP: header past the frame or past l4_len, len < 8 (so also 0), len > l4_len:
 * LB_DROP_MALFORMED_UDP. */
static __always_inline enum lb_reason lb_parse_l4(struct lb_cursor *c, struct lb_pkt *pkt, __u32 l4_len)
{
	if (pkt->key.proto == IPPROTO_TCP) {
		struct tcphdr *tcp = c->pos;

		if ((void *)(tcp + 1) > c->end || l4_len < sizeof(*tcp))
			return LB_DROP_MALFORMED_TCP;
		if (tcp->doff < 5 || tcp->doff * 4U > l4_len)
			return LB_DROP_MALFORMED_TCP;
		pkt->key.sport = tcp->source;
		pkt->key.dport = tcp->dest;
		pkt->tcp_flags = ((__u8 *)tcp)[13];
		return 0;
	}

	struct udphdr *udp = c->pos;
	__u32 len;

	if ((void *)(udp + 1) > c->end || l4_len < sizeof(*udp))
		return LB_DROP_MALFORMED_UDP;
	len = bpf_ntohs(udp->len);
	if (len < sizeof(*udp) || len > l4_len)
		return LB_DROP_MALFORMED_UDP;
	pkt->key.sport = udp->source;
	pkt->key.dport = udp->dest;
	return 0;
}

/* Parses a frame for the fast path. Returns 0 when it is a TCP or UDP packet the fast path may
 * balance, with all of pkt filled in; otherwise the reason of its verdict (a pass or a drop),
 * with pkt only partly filled. A frame that ends inside its Ethernet header or tag is
 * LB_DROP_MALFORMED_ETHERNET; an ethertype other than IPv4 and IPv6 is LB_PASS_NOT_IP. */
static __always_inline enum lb_reason lb_parse(struct xdp_md *ctx, struct lb_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct lb_cursor c = { .pos = data, .end = data_end };
	enum lb_reason reason;
	__be16 proto;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	pkt->frame_len = data_end - data;
	if (lb_parse_eth(&c, &proto))
		return LB_DROP_MALFORMED_ETHERNET;
	pkt->l3_off = c.pos - data;
	if (proto == bpf_htons(ETH_P_IP))
		reason = lb4_parse(&c, pkt);
	else if (proto == bpf_htons(ETH_P_IPV6))
		reason = lb6_parse(&c, pkt);
	else
		return LB_PASS_NOT_IP;
	if (reason)
		return reason;
	pkt->l4_off = c.pos - data;
	return lb_parse_l4(&c, pkt, pkt->ip_len - (pkt->l4_off - pkt->l3_off));
}

#endif /* LB_PARSE_H */
