// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Benchmark floor for lb_xdp: parses a frame with lb_xdp's own parser and returns XDP_TX, the least
 * per-packet work any XDP load balancer does (perf/Lb.XdpBench subtracts it to get "above floor").
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb/lb_abi.h"
#include "lb_parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xdp_floor(struct xdp_md *ctx)
{
	struct lb_pkt pkt;

	if (lb_parse(ctx, &pkt))
		return XDP_PASS;
	/* Nothing reads pkt, so clang would drop the stores of the 5-tuple and lengths that the real
	 * program keeps; letting pkt escape into an empty asm keeps them, and the floor honest. */
	asm volatile("" : : "r"(&pkt) : "memory");
	return XDP_TX;
}
