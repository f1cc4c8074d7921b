/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Counters: the verdict of every frame in lb_reasons, and per-service packets, bytes and new flows
 * in lb_svc_stats. Both maps are per-CPU arrays, so a plain increment is exact. */
#ifndef LB_STATS_H
#define LB_STATS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb/lb_abi.h"
#include "lb_maps.h"

/* The XDP action a reason stands for: its number range decides (lb_abi.h). */
static __always_inline int lb_reason_action(enum lb_reason reason)
{
	if (reason == LB_FWD_TX)
		return XDP_TX;
	if (reason == LB_FWD_REDIRECT)
		return XDP_REDIRECT;
	if (reason >= LB_REASON_FIRST_DROP && reason < LB_REASON_FIRST_FWD)
		return XDP_DROP;
	return XDP_PASS;
}

/* Every frame the program sees is counted here exactly once, by its final reason. */
static __always_inline void lb_count_reason(enum lb_reason reason)
{
	__u32 key = reason;
	__u64 *count = bpf_map_lookup_elem(&lb_reasons, &key);

	if (count)
		*count += 1;
}

/* A frame that matched one of the service's frontends, whatever its verdict. */
static __always_inline void lb_count_service(__u32 service_id, __u32 frame_len)
{
	struct lb_service_stats *stats = bpf_map_lookup_elem(&lb_svc_stats, &service_id);

	if (stats) {
		stats->packets += 1;
		stats->bytes += frame_len;
	}
}

/* A flow written to lb_flows as new (a miss, or a hit that could not be used). */
static __always_inline void lb_count_new_flow(__u32 service_id)
{
	struct lb_service_stats *stats = bpf_map_lookup_elem(&lb_svc_stats, &service_id);

	if (stats)
		stats->new_flows += 1;
}

#endif /* LB_STATS_H */
