/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* NAT forwarding: the address and port rewrite (with TTL and incremental checksums), the SNAT
 * port choice, and the reverse-NAT entries that turn a backend's replies back into VIP -> client. */
#ifndef LB_NAT_H
#define LB_NAT_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lb/lb_abi.h"
#include "lb/flow_hash.h"
#include "lb_csum.h"
#include "lb_maglev.h"
#include "lb_maps.h"
#include "lb_parse.h"

/* Lb's own address of a family: the NAT source and the dsr-ipip outer source. */
static __always_inline const union lb_addr *lb_snat_addr(const struct lb_config *cfg, __u8 family)
{
	return family == LB_FAMILY_IPV4 ? &cfg->snat_v4 : &cfg->snat_v6;
}

/* Rewrites a parsed TCP/UDP packet to saddr:sport -> daddr:dport, decrements its TTL or hop limit
 * and updates the checksums incrementally from the old values in pkt->key: the IPv4 header
 * checksum over the addresses and the TTL, the L4 checksum over the pseudo-header addresses and
 * the ports. An IPv4 UDP checksum of 0 (none) stays 0; a computed UDP checksum of 0 is sent as
 * 0xffff (RFC 768). The caller has checked pkt->ttl > 1. Returns 0, or a malformed reason if the
 * frame no longer holds the headers the parser found (it cannot happen: nothing changed the frame
 * since, but the verifier wants the bounds again). */
static __always_inline enum lb_reason lb_nat_rewrite(struct xdp_md *ctx, const struct lb_pkt *pkt,
						     const union lb_addr *saddr, const union lb_addr *daddr,
						     __be16 sport, __be16 dport)
{
	const struct lb_flow_key *old = &pkt->key;
	bool ipv4 = old->family == LB_FAMILY_IPV4;
	__u32 addr_acc, l4_acc;
	__sum16 *l4_check;
	__be16 *ports;

	if (old->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = lb_pkt_at(ctx, pkt->l4_off, LB_MAX_L4_OFF, sizeof(*tcp));

		if (!tcp)
			return LB_DROP_MALFORMED_TCP;
		ports = &tcp->source;
		l4_check = &tcp->check;
	} else {
		struct udphdr *udp = lb_pkt_at(ctx, pkt->l4_off, LB_MAX_L4_OFF, sizeof(*udp));

		if (!udp)
			return LB_DROP_MALFORMED_UDP;
		ports = &udp->source;
		l4_check = &udp->check;
	}

	addr_acc = lb_csum_diff_addr(0, &old->saddr, saddr, old->family);
	addr_acc = lb_csum_diff_addr(addr_acc, &old->daddr, daddr, old->family);
	l4_acc = lb_csum_diff16(addr_acc, old->sport, sport);
	l4_acc = lb_csum_diff16(l4_acc, old->dport, dport);

	if (ipv4) {
		struct iphdr *ip = lb_pkt_at(ctx, pkt->l3_off, LB_MAX_L3_OFF, sizeof(*ip));
		__u16 *ttl_proto, old_word;

		if (!ip)
			return LB_DROP_MALFORMED_IPV4;
		/* TTL and protocol share one checksum word. */
		ttl_proto = (__u16 *)&ip->ttl;
		old_word = *ttl_proto;
		ip->ttl -= 1;
		ip->check = lb_csum_update(ip->check, lb_csum_diff16(addr_acc, old_word, *ttl_proto));
		ip->saddr = saddr->v4;
		ip->daddr = daddr->v4;
	} else {
		struct ipv6hdr *ip6 = lb_pkt_at(ctx, pkt->l3_off, LB_MAX_L3_OFF, sizeof(*ip6));

		if (!ip6)
			return LB_DROP_MALFORMED_IPV6;
		ip6->hop_limit -= 1;
		__builtin_memcpy(ip6->saddr.s6_addr, saddr->bytes, sizeof(ip6->saddr));
		__builtin_memcpy(ip6->daddr.s6_addr, daddr->bytes, sizeof(ip6->daddr));
	}

	ports[0] = sport;
	ports[1] = dport;
	if (old->proto == IPPROTO_TCP) {
		*l4_check = lb_csum_update(*l4_check, l4_acc);
	} else if (!ipv4 || *l4_check != 0) {
		__sum16 check = lb_csum_update(*l4_check, l4_acc);

		*l4_check = check ? check : (__sum16)0xffff;
	}
	return 0;
}

/* Whether a reverse-NAT entry is the one this client flow made (same client, client port, VIP and
 * VIP port): a flow chosen again after its lb_flows entry expired, or two CPUs racing on a flow's
 * first packets, must get the same port back, not a second one. */
static __always_inline bool lb_rev_nat_same_flow(const struct lb_rev_nat *a, const struct lb_rev_nat *b)
{
	__u32 diff = (a->client_port ^ b->client_port) | (a->vip_port ^ b->vip_port);

#pragma unroll
	for (int i = 0; i < 4; i++)
		diff |= (a->client.v6[i] ^ b->client.v6[i]) | (a->vip.v6[i] ^ b->vip.v6[i]);
	return diff == 0;
}

/* The 5-tuple of the backend's replies to a new NAT flow, all but the destination port (the
 * NAT port, or with LB_SVC_F_KEEP_CLIENT the client's port): backend address and port -> the SNAT
 * address of the family (or the client's address). */
static __always_inline void lb_nat_reply_key(const struct lb_config *cfg, const struct lb_service *svc,
					     const struct lb_flow_key *tuple, const struct lb_backend *be,
					     struct lb_flow_key *reply)
{
	__builtin_memset(reply, 0, sizeof(*reply));
	reply->saddr = be->addr;
	reply->daddr = svc->flags & LB_SVC_F_KEEP_CLIENT ? tuple->saddr : *lb_snat_addr(cfg, tuple->family);
	reply->sport = be->port;
	reply->proto = tuple->proto;
	reply->family = tuple->family;
}

/* Reserves the reply path of a new NAT flow to backend `be` and returns its source port in *port.
 *
 * With SNAT the source is (cfg snat address, a port in [nat_port_min, nat_port_max]) chosen so
 * that the managed engine chooses the same: base = lb_flow_hash(words of the client 5-tuple,
 * cfg->flow_hash_seed ^ LB_NAT_PORT_HASH_XOR), candidate i = nat_port_min + (base + i) % range for
 * i = 0 .. LB_NAT_PORT_TRIES - 1 (u32 arithmetic, range = max - min + 1). With
 * LB_SVC_F_KEEP_CLIENT the only candidate is the client's own address and port.
 *
 * A candidate is taken when lb_rev_nat[(backend, source, backend port, candidate, proto, family)]
 * can be inserted (BPF_NOEXIST), or when the entry there already belongs to this client flow
 * (it is then refreshed). *created says whether an entry was inserted, for the caller to undo.
 * No candidate, or an invalid range (min 0 or min > max): LB_PASS_NAT_PORTS_EXHAUSTED. */
static __always_inline enum lb_reason lb_nat_reserve(const struct lb_config *cfg,
						     const struct lb_service *svc,
						     const struct lb_flow_key *tuple,
						     const struct lb_backend *be, __u64 now,
						     __be16 *port, bool *created)
{
	bool snat = !(svc->flags & LB_SVC_F_KEEP_CLIENT);
	struct lb_flow_hash_input in;
	struct lb_flow_key reply;
	struct lb_rev_nat rev, *old;
	__u32 base = 0, range = 1, tries = 1;
	__u16 min = 0;

	if (snat) {
		min = cfg->nat_port_min;
		if (min == 0 || min > cfg->nat_port_max)
			return LB_PASS_NAT_PORTS_EXHAUSTED;
		range = (__u32)cfg->nat_port_max - min + 1;
		lb_hash_input(tuple, false, &in);
		base = lb_flow_hash(&in, cfg->flow_hash_seed ^ LB_NAT_PORT_HASH_XOR);
		tries = LB_NAT_PORT_TRIES;
	}

	lb_nat_reply_key(cfg, svc, tuple, be, &reply);

	__builtin_memset(&rev, 0, sizeof(rev));
	rev.client = tuple->saddr;
	rev.vip = tuple->daddr;
	rev.client_port = tuple->sport;
	rev.vip_port = tuple->dport;
	rev.service_id = svc->id;
	rev.last_seen_ns = now;

	for (__u32 i = 0; i < LB_NAT_PORT_TRIES && i < tries; i++) {
		reply.dport = snat ? bpf_htons(min + (base + i) % range) : tuple->sport;
		if (bpf_map_update_elem(&lb_rev_nat, &reply, &rev, BPF_NOEXIST) == 0) {
			*port = reply.dport;
			*created = true;
			return 0;
		}
		old = bpf_map_lookup_elem(&lb_rev_nat, &reply);
		if (old && lb_rev_nat_same_flow(old, &rev)) {
			*old = rev;
			*port = reply.dport;
			*created = false;
			return 0;
		}
	}
	return LB_PASS_NAT_PORTS_EXHAUSTED;
}

/* Undoes lb_nat_reserve's insert when the flow that needed it could not be recorded. */
static __always_inline void lb_nat_release(const struct lb_config *cfg, const struct lb_service *svc,
					   const struct lb_flow_key *tuple, const struct lb_backend *be,
					   __be16 port)
{
	struct lb_flow_key reply;

	lb_nat_reply_key(cfg, svc, tuple, be, &reply);
	reply.dport = port;
	bpf_map_delete_elem(&lb_rev_nat, &reply);
}

#endif /* LB_NAT_H */
