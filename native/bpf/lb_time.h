/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The packet path's clock and the one way it compares timestamps. */
#ifndef LB_TIME_H
#define LB_TIME_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The packet path's clock is CLOCK_MONOTONIC_COARSE in ns (the time of the last timer tick, so
 * its resolution is one tick, 1 to 10 ms), read through a per-CPU copy: lb_now in lb_maps.h. */

/* Whether a timestamp is younger than `timeout` at `now` (lb_now ns). A stamp at or
 * after `now` counts as fresh: another CPU, or the managed engine, may have written it a moment
 * after this CPU read the clock. */
static __always_inline bool lb_fresh(__u64 now, __u64 stamp, __u64 timeout)
{
	return stamp >= now || now - stamp < timeout;
}

#endif /* LB_TIME_H */
