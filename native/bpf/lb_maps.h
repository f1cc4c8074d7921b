/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The BPF maps of lb_xdp, declared as BTF-defined maps with the names and types of lb_abi.h.
 *
 * Every map of lb_abi.h is pinned by name: the loader opens the object with pin_root_path
 * LB_PIN_ROOT, so an agent that restarts adopts the maps (and the flows in them) instead of
 * creating new ones. The program's own per-CPU caches at the end (lb_clock, lb_nexthops) are not
 * pinned: each loaded program starts with empty ones.
 * Sizes here are defaults; the loader may change max_entries before load (lb_flows, lb_rev_nat,
 * lb_affinity, and the inner Maglev table to the configured M).
 */
#ifndef LB_MAPS_H
#define LB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb/lb_abi.h"
#include "lb_fib.h"

/* lb_config[0]: written by the agent before it attaches the program. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_config SEC(".maps");

/* One entry per frontend (address, port, protocol, family). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_FRONTENDS);
	__type(key, struct lb_service_key);
	__type(value, struct lb_service);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_services SEC(".maps");

/* An array, looked up inline by the JIT (a hash lookup costs about 20 ns more). A backend id
 * without a backend is an all-zero entry: family 0 matches no packet, so lb_backend_get refuses it
 * as it would a missing one. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_backends SEC(".maps");

/* The inner Maglev table: M backend ids. BPF_F_INNER_MAP lets inner maps of another size be
 * stored in the outer map (kernel 5.10, array_map_meta_equal), so a pinned lb_maglev survives a
 * change of M. The kernel compares map_flags exactly, so every inner map that user space creates
 * must carry BPF_F_INNER_MAP too. */
struct lb_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAGLEV_DEFAULT_SIZE);
	__uint(map_flags, BPF_F_INNER_MAP);
	__type(key, __u32);
	__type(value, __u32);
};

/* Key lb_maglev_key(service id, family): two tables per service id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2 * LB_MAX_SERVICES);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct lb_maglev_inner); /* a flexible array member: it must come last */
} lb_maglev SEC(".maps");

/* Client 5-tuple -> backend. LRU: a full table forgets the idlest flow instead of refusing one. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_DEFAULT_FLOWS);
	__type(key, struct lb_flow_key);
	__type(value, struct lb_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_flows SEC(".maps");

/* (client address, service) -> backend, for ClientIP affinity. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_DEFAULT_AFFINITY);
	__type(key, struct lb_affinity_key);
	__type(value, struct lb_affinity);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_affinity SEC(".maps");

/* Reply 5-tuple (backend -> Lb or client) -> how to rewrite it back to VIP -> client. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_DEFAULT_FLOWS);
	__type(key, struct lb_flow_key);
	__type(value, struct lb_rev_nat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_rev_nat SEC(".maps");

/* Allowed client CIDRs per service. LPM tries must be created with BPF_F_NO_PREALLOC. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, LB_MAX_SRC_RANGES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lb_src_range_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_src_ranges SEC(".maps");

/* Per-CPU so counting needs no atomics; user space sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct lb_service_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_svc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_REASON_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_reasons SEC(".maps");

/* The next-hop cache (lb_fib.h): LB_NEXTHOP_SLOTS slots for backends (by id), as many for the
 * clients of NAT replies (by a hash of the address). Per-CPU, so an entry is never read while
 * another CPU rewrites it. Not pinned: it is a cache, and a newly loaded program starts with an
 * empty one. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * LB_NEXTHOP_SLOTS);
	__type(key, __u32);
	__type(value, struct lb_nexthop);
} lb_nexthops SEC(".maps");

/* The cache entry of a backend on this CPU (never NULL in practice: an index below the size of a
 * per-CPU array). */
static __always_inline struct lb_nexthop *lb_nexthop_slot(__u32 backend_id)
{
	__u32 slot = backend_id & (LB_NEXTHOP_SLOTS - 1);

	return bpf_map_lookup_elem(&lb_nexthops, &slot);
}

/* The cache entry for replies toward a client address on this CPU: slot LB_NEXTHOP_SLOTS +
 * (the Fibonacci hash of the XOR of the address's four words) >> 18. */
static __always_inline struct lb_nexthop *lb_nexthop_client_slot(const union lb_addr *client)
{
	__u32 folded = client->v6[0] ^ client->v6[1] ^ client->v6[2] ^ client->v6[3];
	__u32 slot = LB_NEXTHOP_SLOTS + ((folded * 0x9e3779b1U) >> 18);

	return bpf_map_lookup_elem(&lb_nexthops, &slot);
}

/* The per-CPU copy of the clock behind lb_now. Not pinned. */
struct lb_clock {
	__u64 jiffies; /* bpf_jiffies64 when `ns` was read */
	__u64 ns;      /* bpf_ktime_get_coarse_ns */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_clock);
} lb_clock SEC(".maps");

/* The packet path's clock: CLOCK_MONOTONIC_COARSE in ns. Every timestamp the program writes and
 * compares comes from here. The coarse clock moves once a tick, with jiffies, so each CPU reads it
 * at its first packet of a tick and keeps the value for the tick: bpf_jiffies64 is one load
 * (inlined by the verifier), where bpf_ktime_get_coarse_ns is a helper call of 20-30 ns on a VM.
 * A read that falls between the tick's jiffies update and its clock update keeps the previous
 * tick's value until the next tick, so `now` lags the coarse clock by at most one more tick. */
static __always_inline __u64 lb_now(void)
{
	__u64 jiffies = bpf_jiffies64();
	struct lb_clock *clock;
	__u32 zero = 0;

	clock = bpf_map_lookup_elem(&lb_clock, &zero);
	if (!clock)
		return bpf_ktime_get_coarse_ns(); /* cannot happen: index 0 of a per-CPU array */
	if (clock->jiffies != jiffies || clock->ns == 0) {
		clock->ns = bpf_ktime_get_coarse_ns();
		clock->jiffies = jiffies;
	}
	return clock->ns;
}

#endif /* LB_MAPS_H */
