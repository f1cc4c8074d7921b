// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reference points for the XDP benchmark: the floor's parse plus one helper that lb_xdp calls on every
 * forwarded packet or did (bpf_fib_lookup toward a backend, bpf_ktime_get_ns, bpf_ktime_get_coarse_ns), so perf/Lb.XdpBench can
 * show how much of lb_xdp's cost above the floor those helpers alone take on the machine at hand.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lb/lb_abi.h"
#include "lb_fib.h"
#include "lb_parse.h"

/* bpf_fib_lookup is a GPL-only helper. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Parse, bpf_fib_lookup and the MAC rewrite (lb_fib_forward) for the lookup lb_xdp makes for a nat
 * packet of the benchmark: from the balancer's address (198.18.1.1) to the first backend
 * (198.18.10.2), both on the ingress interface. XDP_ABORTED unless the lookup found that next hop,
 * so a failed lookup cannot pass for a fast one. (The addresses are locals: as file-scope constants
 * clang folds them away and leaves an empty .rodata, which libbpf 1.1 refuses to open.) */
SEC("xdp")
int xdp_ref_fib(struct xdp_md *ctx)
{
	union lb_addr src = { .v4 = bpf_htonl(0xc6120101) };
	union lb_addr dst = { .v4 = bpf_htonl(0xc6120a02) };
	struct bpf_fib_lookup fib;
	struct lb_pkt pkt;

	if (lb_parse(ctx, &pkt))
		return XDP_PASS;
	lb_fib_init(&fib, ctx, &pkt, &src, &dst, pkt.key.proto, pkt.key.sport, pkt.key.dport, pkt.ip_len);
	return lb_fib_forward(ctx, &fib) == LB_FWD_TX ? XDP_TX : XDP_ABORTED;
}

/* Parse and read the clock once, as lb_xdp does for flow and reverse-NAT timestamps. */
SEC("xdp")
int xdp_ref_ktime(struct xdp_md *ctx)
{
	struct lb_pkt pkt;

	if (lb_parse(ctx, &pkt))
		return XDP_PASS;
	asm volatile("" : : "r"(&pkt) : "memory");
	return bpf_ktime_get_ns() ? XDP_TX : XDP_ABORTED;
}

/* Parse and read the coarse clock once, as lb_xdp does now (lb_now). */
SEC("xdp")
int xdp_ref_ktime_coarse(struct xdp_md *ctx)
{
	struct lb_pkt pkt;

	if (lb_parse(ctx, &pkt))
		return XDP_PASS;
	asm volatile("" : : "r"(&pkt) : "memory");
	return bpf_ktime_get_coarse_ns() ? XDP_TX : XDP_ABORTED;
}
