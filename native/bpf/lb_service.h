/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The service side of the tables: which service a packet is for, whether its client may use it,
 * and which backends the service may send it to. */
#ifndef LB_SERVICE_H
#define LB_SERVICE_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb/lb_abi.h"
#include "lb_maps.h"

/* The service of a packet's destination: first the exact frontend (address, port, protocol,
 * family), then the NodePort wildcard with an all-zero address. NULL: no service. */
static __always_inline struct lb_service *lb_service_lookup(const struct lb_flow_key *tuple)
{
	struct lb_service_key key;
	struct lb_service *svc;

	__builtin_memset(&key, 0, sizeof(key));
	key.addr = tuple->daddr;
	key.port = tuple->dport;
	key.proto = tuple->proto;
	key.family = tuple->family;
	svc = bpf_map_lookup_elem(&lb_services, &key);
	if (svc)
		return svc;
	__builtin_memset(&key.addr, 0, sizeof(key.addr));
	return bpf_map_lookup_elem(&lb_services, &key);
}

/* Whether the client address falls in one of the service's source ranges. The LPM key puts the
 * service id and family first, so the 64 bits they take are always matched in full; the value is
 * not read (an entry is an allowed range). */
static __always_inline bool lb_src_range_allowed(__u32 service_id, const struct lb_flow_key *tuple)
{
	struct lb_src_range_key key;

	__builtin_memset(&key, 0, sizeof(key));
	key.prefixlen = 64 + (tuple->family == LB_FAMILY_IPV4 ? 32 : 128);
	key.service_id = service_id;
	key.family = tuple->family;
	key.addr = tuple->saddr;
	return bpf_map_lookup_elem(&lb_src_ranges, &key) != NULL;
}

/* The backend `id` if a packet of `family` for service `service_id` may go to it: it exists (its
 * entry is not the all-zero one of a free id, whose family 0 no packet has), the service owns it
 * (ids are recycled, so a stale reference must not reach another service's backend) and it has
 * the packet's family. NULL otherwise; id 0 is never a backend. */
static __always_inline struct lb_backend *lb_backend_get(__u32 id, __u32 service_id, __u8 family)
{
	struct lb_backend *be;

	if (id == 0)
		return NULL;
	be = bpf_map_lookup_elem(&lb_backends, &id);
	if (!be || be->service_id != service_id || be->family != family)
		return NULL;
	return be;
}

#endif /* LB_SERVICE_H */
