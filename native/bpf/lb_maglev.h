/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Choosing a backend for a new flow: the flow hash (flow_hash.h) or a random number indexes the
 * service's Maglev table for the packet's family, which the control plane computed. */
#ifndef LB_MAGLEV_H
#define LB_MAGLEV_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb/lb_abi.h"
#include "lb/flow_hash.h"
#include "lb_maps.h"

_Static_assert(__builtin_offsetof(struct lb_flow_key, dport) ==
		       __builtin_offsetof(struct lb_flow_key, sport) + 2,
	       "w8 takes sport and dport as one word, in packet order");

/* The flow-hash words of a 5-tuple (layout in flow_hash.h). `client_only` gives the ClientIP
 * affinity variant: the source address alone, w4..w9 zero. */
static __always_inline void lb_hash_input(const struct lb_flow_key *tuple, bool client_only,
					  struct lb_flow_hash_input *in)
{
	__builtin_memset(in, 0, sizeof(*in));
	__builtin_memcpy(&in->w[0], tuple->saddr.bytes, 16);
	if (client_only)
		return;
	__builtin_memcpy(&in->w[4], tuple->daddr.bytes, 16);
	__builtin_memcpy(&in->w[8], &tuple->sport, 4);
	in->w[9] = tuple->proto;
}

/* The backend id in the slot of the service's table that this packet hashes to, or 0 when the
 * service has no backends of any kind: backend_count 0, M not configured, no table for the
 * family, or a slot outside the table. The table is trusted as the control plane built it (it
 * already holds terminating backends when no active one is left). */
static __always_inline __u32 lb_maglev_pick(const struct lb_config *cfg, const struct lb_service *svc,
					    const struct lb_flow_key *tuple)
{
	struct lb_flow_hash_input in;
	__u32 key, slot, *backend_id;
	void *table;

	if (svc->backend_count == 0 || cfg->maglev_size == 0)
		return 0;
	key = lb_maglev_key(svc->id, tuple->family);
	table = bpf_map_lookup_elem(&lb_maglev, &key);
	if (!table)
		return 0;
	if (svc->flags & LB_SVC_F_SCHED_RANDOM) {
		slot = bpf_get_prandom_u32() % cfg->maglev_size;
	} else {
		lb_hash_input(tuple, svc->flags & LB_SVC_F_AFFINITY, &in);
		slot = lb_flow_hash(&in, cfg->flow_hash_seed) % cfg->maglev_size;
	}
	backend_id = bpf_map_lookup_elem(table, &slot);
	return backend_id ? *backend_id : 0;
}

#endif /* LB_MAGLEV_H */
