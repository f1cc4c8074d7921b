// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Benchmark floor for lb_xdp's dsr-ipip mode: parses a frame with lb_xdp's own parser, prepends the
 * outer IPv4 / IPv6 header with lb_xdp's own encapsulation and returns XDP_TX (no lookups, no FIB).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lb/lb_abi.h"
#include "lb_encap.h"
#include "lb_parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Outer addresses: what lb_xdp reads from lb_config and lb_backends. The values do not change the
 * cost, so these are fixed documentation addresses rather than maps (a map lookup is not "floor"). */
static const struct lb_config floor_cfg = {
	.snat_v4 = { .v4 = bpf_htonl(0xc0000201) },                      /* 192.0.2.1 */
	.snat_v6 = { .v6 = { bpf_htonl(0x20010db8), 0, 0, bpf_htonl(1) } }, /* 2001:db8::1 */
};
static const struct lb_backend floor_backend_v4 = {
	.addr = { .v4 = bpf_htonl(0xc0000202) },                          /* 192.0.2.2 */
	.family = LB_FAMILY_IPV4,
};
static const struct lb_backend floor_backend_v6 = {
	.addr = { .v6 = { bpf_htonl(0x20010db8), 0, 0, bpf_htonl(2) } }, /* 2001:db8::2 */
	.family = LB_FAMILY_IPV6,
};

SEC("xdp")
int xdp_floor_ipip(struct xdp_md *ctx)
{
	struct lb_pkt pkt;
	enum lb_reason reason;

	if (lb_parse(ctx, &pkt))
		return XDP_PASS;
	if (pkt.key.family == LB_FAMILY_IPV4)
		reason = lb4_encap(ctx, &pkt, &floor_cfg, &floor_backend_v4);
	else
		reason = lb6_encap(ctx, &pkt, &floor_cfg, &floor_backend_v6);
	return reason ? XDP_DROP : XDP_TX;
}
