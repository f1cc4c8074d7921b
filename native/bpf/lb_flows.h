/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The flow table: a client 5-tuple stays with its backend while the flow is alive, whatever
 * happens to the Maglev table or the backend's state meanwhile. */
#ifndef LB_FLOWS_H
#define LB_FLOWS_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb/lb_abi.h"
#include "lb_maps.h"
#include "lb_service.h"

/* The packet path's clock: CLOCK_MONOTONIC_COARSE in ns (the last timer tick; its resolution is
 * one tick, 1 to 10 ms). Every timestamp the program writes and compares comes from here. It costs
 * a few ns where bpf_ktime_get_ns reads the clock source (about 40 ns on a VM). */
static __always_inline __u64 lb_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

/* Whether a timestamp is younger than `timeout` at `now` (lb_now ns). A stamp at or
 * after `now` counts as fresh: another CPU, or the managed engine, may have written it a moment
 * after this CPU read the clock. */
static __always_inline bool lb_fresh(__u64 now, __u64 stamp, __u64 timeout)
{
	return stamp >= now || now - stamp < timeout;
}

/* Whether a service SNATs its NAT flows (and so needs a port in every flow entry). */
static __always_inline bool lb_svc_snat(const struct lb_service *svc)
{
	return svc->forwarding == LB_FWD_NAT && !(svc->flags & LB_SVC_F_KEEP_CLIENT);
}

/* The backend of an established flow, or NULL for a new one. An entry is used when it is younger
 * than cfg->flow_timeout_ns, its backend is still usable for this service (lb_backend_get; the
 * backend's state does not matter, so terminating and maintenance backends keep their flows) and,
 * for a service that SNATs, it carries a NAT port (an entry written while the service forwarded
 * otherwise has none). A used entry is refreshed and its NAT port and backend id stored in
 * *nat_port and *backend_id. */
static __always_inline struct lb_backend *lb_flow_established(const struct lb_flow_key *tuple,
							      const struct lb_config *cfg,
							      const struct lb_service *svc, __u64 now,
							      __be16 *nat_port, __u32 *backend_id)
{
	struct lb_flow *flow = bpf_map_lookup_elem(&lb_flows, tuple);
	struct lb_backend *be;

	if (!flow || !lb_fresh(now, flow->last_seen_ns, cfg->flow_timeout_ns))
		return NULL;
	if (lb_svc_snat(svc) && flow->nat_port == 0)
		return NULL;
	be = lb_backend_get(flow->backend_id, svc->id, tuple->family);
	if (!be)
		return NULL;
	/* The clock moves once a tick: most packets of a busy flow find the stamp current and leave
	 * the entry's cache line clean. */
	if (flow->last_seen_ns != now)
		flow->last_seen_ns = now;
	*nat_port = flow->nat_port;
	*backend_id = flow->backend_id;
	return be;
}

/* Writes (or overwrites) the flow entry of a new flow. Returns 0, or the helper's error when the
 * table refuses the entry. */
static __always_inline long lb_flow_record(const struct lb_flow_key *tuple, __u32 service_id,
					   __u32 backend_id, __be16 nat_port, __u64 now)
{
	struct lb_flow flow;

	__builtin_memset(&flow, 0, sizeof(flow));
	flow.last_seen_ns = now;
	flow.backend_id = backend_id;
	flow.service_id = service_id;
	flow.nat_port = nat_port;
	return bpf_map_update_elem(&lb_flows, tuple, &flow, BPF_ANY);
}

#endif /* LB_FLOWS_H */
