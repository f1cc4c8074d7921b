// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lb's XDP load balancer: takes TCP/UDP frames for a service, picks a backend (flow table,
 * affinity, Maglev) and forwards them by NAT, IPIP encapsulation or MAC rewrite, in the driver.
 *
 * The packet path is DESIGN.md §3; every choice both engines must share is written down in
 * docs/xdp-datapath.md. Each frame ends in exactly one enum lb_reason, counted in lb_reasons, and
 * the reason's number decides the XDP action (lb_reason_action).
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lb/lb_abi.h"
#include "lb_affinity.h"
#include "lb_encap.h"
#include "lb_fib.h"
#include "lb_flows.h"
#include "lb_maglev.h"
#include "lb_maps.h"
#include "lb_nat.h"
#include "lb_parse.h"
#include "lb_service.h"
#include "lb_stats.h"

/* bpf_fib_lookup is a GPL-only helper. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* A reply of a NAT flow (step 2): backend:port -> Lb:nat_port (or client) becomes VIP:port ->
 * client:port, and is forwarded toward the client. */
static __always_inline enum lb_reason lb_nat_reply(struct xdp_md *ctx, const struct lb_pkt *pkt,
						   struct lb_rev_nat *rev)
{
	struct bpf_fib_lookup fib;
	struct lb_nexthop *nh;
	enum lb_reason reason;
	__u64 now;

	if (pkt->ttl <= 1)
		return LB_PASS_TTL_EXPIRED;
	now = lb_now();
	if (rev->last_seen_ns != now)
		rev->last_seen_ns = now;
	reason = lb_nat_rewrite(ctx, pkt, &rev->vip, &rev->client, rev->vip_port, rev->client_port);
	if (reason)
		return reason;
	nh = lb_nexthop_client_slot(&rev->client);
	reason = lb_nexthop_send(ctx, nh, &rev->client, lb_fib_af(pkt), pkt->key.proto, lb_pkt_fib_tos(pkt),
				 pkt->ip_len, now);
	if (reason)
		return reason;
	lb_fib_init(&fib, ctx, pkt, &rev->vip, &rev->client, pkt->key.proto, rev->vip_port,
		    rev->client_port, pkt->ip_len);
	return lb_fib_forward_cached(ctx, &fib, nh, now);
}

/* Checks on a packet for a service that must come before any table is written, so that a packet
 * they stop leaves no trace but its counters: a nat packet whose TTL would expire, a dsr-ipip
 * packet too big to encapsulate, a forwarding mode this program does not know. */
static __always_inline enum lb_reason lb_precheck(const struct lb_config *cfg, const struct lb_service *svc,
						  const struct lb_pkt *pkt)
{
	switch (svc->forwarding) {
	case LB_FWD_NAT:
		return pkt->ttl <= 1 ? LB_PASS_TTL_EXPIRED : 0;
	case LB_FWD_DSR_IPIP:
		return lb_encap_too_big(cfg, pkt) ? LB_DROP_FRAME_TOO_BIG : 0;
	case LB_FWD_DSR_L2:
		return 0;
	}
	return LB_PASS_NO_SERVICE;
}

/* Steps 6 to 8 for a packet no established flow covers: the backend from the client's affinity or
 * the Maglev table, the NAT port (nat), then the flow entry, the affinity entry and the new-flow
 * counter. Returns 0 with the backend, its id and NAT port (0 unless the service SNATs), or the reason
 * the packet cannot be balanced here. */
static __always_inline enum lb_reason lb_new_flow(const struct lb_config *cfg, const struct lb_service *svc,
						  const struct lb_pkt *pkt, __u64 now,
						  struct lb_backend **backend, __be16 *nat_port, __u32 *chosen_id)
{
	const struct lb_flow_key *tuple = &pkt->key;
	bool affine = svc->flags & LB_SVC_F_AFFINITY;
	struct lb_backend *be = NULL;
	bool picked = false, created = false;
	__u32 backend_id = 0;
	__be16 reserved = 0, port;
	enum lb_reason reason;

	if (affine)
		be = lb_affinity_lookup(tuple, svc, now, &backend_id);
	if (!be) {
		backend_id = lb_maglev_pick(cfg, svc, tuple);
		be = lb_backend_get(backend_id, svc->id, tuple->family);
		if (!be)
			return LB_PASS_NO_BACKEND;
		picked = true;
	}
	if (svc->forwarding == LB_FWD_NAT) {
		reason = lb_nat_reserve(cfg, svc, tuple, be, now, &reserved, &created);
		if (reason)
			return reason;
	}
	/* The flow keeps a port only when it is a SNAT port (lb_flow.nat_port). */
	port = lb_svc_snat(svc) ? reserved : 0;
	if (lb_flow_record(tuple, svc->id, backend_id, port, now)) {
		if (created)
			lb_nat_release(cfg, svc, tuple, be, reserved);
		return LB_PASS_FLOW_TABLE_FULL;
	}
	if (affine && picked)
		lb_affinity_record(tuple, svc->id, backend_id, now);
	lb_count_new_flow(svc->id);
	*backend = be;
	*nat_port = port;
	*chosen_id = backend_id;
	return 0;
}

/* nat: DNAT to the backend, SNAT to (cfg snat address, nat_port) unless the service keeps the
 * client's address, TTL - 1, then the FIB. */
static __always_inline enum lb_reason lb_forward_nat(struct xdp_md *ctx, const struct lb_pkt *pkt,
						     const struct lb_config *cfg, const struct lb_service *svc,
						     const struct lb_backend *be, __be16 nat_port,
						     struct lb_nexthop *nh, __u64 now)
{
	const union lb_addr *saddr = &pkt->key.saddr;
	__be16 sport = pkt->key.sport;
	struct bpf_fib_lookup fib;
	enum lb_reason reason;

	if (!(svc->flags & LB_SVC_F_KEEP_CLIENT)) {
		saddr = lb_snat_addr(cfg, pkt->key.family);
		sport = nat_port;
	}
	reason = lb_nat_rewrite(ctx, pkt, saddr, &be->addr, sport, be->port);
	if (reason)
		return reason;
	reason = lb_nexthop_send(ctx, nh, &be->addr, lb_fib_af(pkt), pkt->key.proto, lb_pkt_fib_tos(pkt),
				 pkt->ip_len, now);
	if (reason)
		return reason;
	lb_fib_init(&fib, ctx, pkt, saddr, &be->addr, pkt->key.proto, sport, be->port, pkt->ip_len);
	return lb_fib_forward_cached(ctx, &fib, nh, now);
}

/* dsr-ipip: clamp the MSS of a SYN, encapsulate toward the backend from the SNAT address, then
 * the FIB for the outer header. */
static __always_inline enum lb_reason lb_forward_ipip(struct xdp_md *ctx, const struct lb_pkt *pkt,
						      const struct lb_config *cfg, const struct lb_backend *be,
						      struct lb_nexthop *nh, __u64 now)
{
	bool ipv4 = pkt->key.family == LB_FAMILY_IPV4;
	__u16 overhead = ipv4 ? LB_MSS_OVERHEAD_V4 : LB_MSS_OVERHEAD_V6;
	struct bpf_fib_lookup fib;
	enum lb_reason reason;

	/* lb_precheck let the packet through, so mtu >= ip_len + outer, which for any TCP packet
	 * is at least the overhead; the test keeps a misconfigured mtu from wrapping around. */
	if (pkt->key.proto == IPPROTO_TCP && (pkt->tcp_flags & LB_TCP_FLAG_SYN) && cfg->mtu > overhead)
		lb_tcp_clamp_mss(ctx, pkt->l4_off, cfg->mtu - overhead);
	reason = ipv4 ? lb4_encap(ctx, pkt, cfg, be) : lb6_encap(ctx, pkt, cfg, be);
	if (reason)
		return reason;
	/* The outer IPv6 header has the inner traffic class and flow label 0. */
	reason = lb_nexthop_send(ctx, nh, &be->addr, lb_fib_af(pkt), ipv4 ? IPPROTO_IPIP : IPPROTO_IPV6,
				 ipv4 ? pkt->tos : pkt->flowinfo & bpf_htonl(0x0ff00000),
				 pkt->ip_len + lb_encap_len(pkt->key.family), now);
	if (reason)
		return reason;
	lb_fib_init(&fib, ctx, pkt, lb_snat_addr(cfg, pkt->key.family), &be->addr,
		    ipv4 ? IPPROTO_IPIP : IPPROTO_IPV6, 0, 0, pkt->ip_len + lb_encap_len(pkt->key.family));
	fib.flowinfo &= bpf_htonl(0x0ff00000);
	return lb_fib_forward_cached(ctx, &fib, nh, now);
}

/* dsr-l2: the frame goes unchanged but for its MAC addresses, to the backend's MAC. The lookup
 * toward the backend comes first, so a failed one leaves the frame untouched. */
static __always_inline enum lb_reason lb_forward_l2(struct xdp_md *ctx, const struct lb_pkt *pkt,
						    const struct lb_backend *be, struct lb_nexthop *nh, __u64 now)
{
	struct bpf_fib_lookup fib;
	enum lb_reason reason;

	reason = lb_nexthop_send(ctx, nh, &be->addr, lb_fib_af(pkt), pkt->key.proto, lb_pkt_fib_tos(pkt),
				 pkt->ip_len, now);
	if (reason)
		return reason;
	lb_fib_init(&fib, ctx, pkt, &pkt->key.saddr, &be->addr, pkt->key.proto, pkt->key.sport,
		    pkt->key.dport, pkt->ip_len);
	return lb_fib_forward_cached(ctx, &fib, nh, now);
}

/* Whether a packet may be a backend's reply to a NAT flow, to be looked up in lb_rev_nat: with
 * SNAT every reply is addressed to Lb's own address of its family; only a keep-client nat service
 * (LB_CFG_F_KEEP_CLIENT_NAT) has replies addressed to clients, that is to anything. */
static __always_inline bool lb_maybe_reply(const struct lb_config *cfg, const struct lb_flow_key *key)
{
	const union lb_addr *snat = lb_snat_addr(cfg, key->family);
	__u32 diff = 0;

	if (cfg->flags & LB_CFG_F_KEEP_CLIENT_NAT)
		return true;
	if (key->family == LB_FAMILY_IPV4)
		return key->daddr.v4 == snat->v4;
#pragma unroll
	for (int i = 0; i < 4; i++)
		diff |= key->daddr.v6[i] ^ snat->v6[i];
	return diff == 0;
}

/* The packet path of DESIGN.md §3, step by step; returns the frame's reason. */
static __always_inline enum lb_reason lb_process(struct xdp_md *ctx)
{
	struct lb_backend *be = NULL;
	struct lb_nexthop *nh;
	struct lb_rev_nat *rev;
	struct lb_service *svc;
	struct lb_config *cfg;
	struct lb_pkt pkt;
	enum lb_reason reason;
	__be16 nat_port = 0;
	__u32 zero = 0, backend_id = 0;
	__u64 now;

	/* 1. Parse. */
	reason = lb_parse(ctx, &pkt);
	if (reason)
		return reason;
	cfg = bpf_map_lookup_elem(&lb_config, &zero);
	if (!cfg)
		return LB_PASS_NO_SERVICE; /* cannot happen: index 0 of a one-entry array */

	/* 2. A backend's reply to a NAT flow, before the service lookup: the SNAT address may
	 * itself be a frontend address. */
	if (lb_maybe_reply(cfg, &pkt.key)) {
		rev = bpf_map_lookup_elem(&lb_rev_nat, &pkt.key);
		if (rev)
			return lb_nat_reply(ctx, &pkt, rev);
	}

	/* 3. The service. */
	svc = lb_service_lookup(&pkt.key);
	if (!svc)
		return LB_PASS_NO_SERVICE;
	lb_count_service(svc->id, pkt.frame_len);

	/* 4. Source ranges. */
	if ((svc->flags & LB_SVC_F_SRC_RANGES) && !lb_src_range_allowed(svc->id, &pkt.key))
		return LB_DROP_SOURCE_RANGE;
	reason = lb_precheck(cfg, svc, &pkt);
	if (reason)
		return reason;

	/* 5. An established flow keeps its backend; 6-8 otherwise choose and record one. */
	now = lb_now();
	be = lb_flow_established(&pkt.key, cfg, svc, now, &nat_port, &backend_id);
	if (!be) {
		reason = lb_new_flow(cfg, svc, &pkt, now, &be, &nat_port, &backend_id);
		if (reason)
			return reason;
	}

	/* 8. Rewrite and send, by the backend's cached next hop when it still answers. */
	nh = lb_nexthop_slot(backend_id);
	if (svc->forwarding == LB_FWD_NAT)
		return lb_forward_nat(ctx, &pkt, cfg, svc, be, nat_port, nh, now);
	if (svc->forwarding == LB_FWD_DSR_IPIP)
		return lb_forward_ipip(ctx, &pkt, cfg, be, nh, now);
	return lb_forward_l2(ctx, &pkt, be, nh, now);
}

SEC("xdp")
int lb_xdp(struct xdp_md *ctx)
{
	enum lb_reason reason = lb_process(ctx);

	lb_count_reason(reason);
	return lb_reason_action(reason);
}
