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
#include "lb_time.h"
#include "lb_service.h"

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
