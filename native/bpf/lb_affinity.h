/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* ClientIP session affinity: a client address keeps its backend for a service across flows, for
 * the service's timeout since the last new flow that used it. */
#ifndef LB_AFFINITY_H
#define LB_AFFINITY_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb/lb_abi.h"
#include "lb_flows.h"
#include "lb_maps.h"
#include "lb_service.h"

#define LB_NSEC_PER_SEC 1000000000ULL

static __always_inline void lb_affinity_key_of(const struct lb_flow_key *tuple, __u32 service_id,
					       struct lb_affinity_key *key)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->client = tuple->saddr;
	key->service_id = service_id;
	key->family = tuple->family;
}

/* The client's affine backend, or NULL. An entry is used when it is younger than the service's
 * affinity timeout and its backend is usable for the service (lb_backend_get) and ACTIVE: a
 * terminating or maintenance backend keeps its flows but attracts no new ones. A used entry is
 * refreshed, and its backend id stored in *backend_id. */
static __always_inline struct lb_backend *lb_affinity_lookup(const struct lb_flow_key *tuple,
							     const struct lb_service *svc, __u64 now,
							     __u32 *backend_id)
{
	struct lb_affinity_key key;
	struct lb_affinity *aff;
	struct lb_backend *be;

	lb_affinity_key_of(tuple, svc->id, &key);
	aff = bpf_map_lookup_elem(&lb_affinity, &key);
	if (!aff || !lb_fresh(now, aff->last_used_ns, (__u64)svc->affinity_timeout_s * LB_NSEC_PER_SEC))
		return NULL;
	be = lb_backend_get(aff->backend_id, svc->id, tuple->family);
	if (!be || be->state != LB_BACKEND_ACTIVE)
		return NULL;
	aff->last_used_ns = now;
	*backend_id = aff->backend_id;
	return be;
}

/* Remembers the backend chosen for the client. A refused update is not an error: affinity is a
 * preference, and the flow itself is recorded in lb_flows. */
static __always_inline void lb_affinity_record(const struct lb_flow_key *tuple, __u32 service_id,
					       __u32 backend_id, __u64 now)
{
	struct lb_affinity_key key;
	struct lb_affinity aff;

	lb_affinity_key_of(tuple, service_id, &key);
	__builtin_memset(&aff, 0, sizeof(aff));
	aff.last_used_ns = now;
	aff.backend_id = backend_id;
	bpf_map_update_elem(&lb_affinity, &key, &aff, BPF_ANY);
}

#endif /* LB_AFFINITY_H */
