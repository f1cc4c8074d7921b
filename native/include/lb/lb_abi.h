/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The boundary between Lb's XDP program and user space: every map name, key and value struct,
 * enum, flag and limit that both sides read. It is mirrored once in C# (src/Lb.Datapath/Abi),
 * and a test compiles _Static_asserts generated from that mirror against this file.
 *
 * Rules: fixed-width types only; padding is written out as named fields (hash keys compare every
 * byte, so padding must be zeroed and visible); network byte order is __be16/__be32 and is
 * never converted inside a struct. Numbers in enums are stable and never reused.
 */
#ifndef LB_ABI_H
#define LB_ABI_H

#include <linux/types.h>

#define LB_PIN_ROOT "/sys/fs/bpf/lb"

/* Map names: as declared in the object and as pinned under LB_PIN_ROOT. BPF object names are
 * limited to 15 characters. */
#define LB_MAP_CONFIG     "lb_config"
#define LB_MAP_SERVICES   "lb_services"
#define LB_MAP_BACKENDS   "lb_backends"
#define LB_MAP_MAGLEV     "lb_maglev"
#define LB_MAP_FLOWS      "lb_flows"
#define LB_MAP_AFFINITY   "lb_affinity"
#define LB_MAP_REV_NAT    "lb_rev_nat"
#define LB_MAP_SRC_RANGES "lb_src_ranges"
#define LB_MAP_SVC_STATS  "lb_svc_stats"
#define LB_MAP_REASONS    "lb_reasons"
#define LB_MAP_NAMES      "lb_names"   /* user space only: see struct lb_name */

/* Limits. Ids are dense small integers chosen by the control plane; 0 means "none". */
#define LB_MAX_SERVICES        65536   /* service ids 1 .. LB_MAX_SERVICES-1 */
#define LB_MAX_FRONTENDS       131072
#define LB_MAX_BACKENDS        262144  /* backend ids 1 .. LB_MAX_BACKENDS-1 */
#define LB_MAX_SRC_RANGES      65536
#define LB_DEFAULT_FLOWS       1000000 /* lb_flows and lb_rev_nat; the loader may change it */
#define LB_DEFAULT_AFFINITY    262144
#define LB_MAGLEV_DEFAULT_SIZE 16381   /* the loader sets the inner map size to the configured M */
#define LB_NAT_PORT_TRIES      8       /* candidate SNAT ports tried before the flow is handed over */
#define LB_NAME_MAX            256     /* bytes of UTF-8 in one lb_names record (service names are <= 253) */
#define LB_MAX_NAMES           (LB_MAX_SERVICES + LB_MAX_BACKENDS) /* lb_names: every id, and the cursors */

/* Constants of the packet path that both engines must apply identically (docs/xdp-datapath.md). */
#define LB_NAT_PORT_HASH_XOR   0x9e3779b9U /* SNAT port base: lb_flow_hash(5-tuple, seed ^ this) */
#define LB_ENCAP_TTL           64      /* outer IPv4 TTL / IPv6 hop limit of dsr-ipip */
#define LB_MSS_OVERHEAD_V4     60      /* dsr-ipip SYN: MSS <= mtu - (outer 20 + inner 20 + TCP 20) */
#define LB_MSS_OVERHEAD_V6     100     /* dsr-ipip SYN: MSS <= mtu - (outer 40 + inner 40 + TCP 20) */

enum lb_family {
	LB_FAMILY_IPV4 = 4,
	LB_FAMILY_IPV6 = 6,
};

enum lb_forwarding {
	LB_FWD_NAT = 0,
	LB_FWD_DSR_IPIP = 1,
	LB_FWD_DSR_L2 = 2,
};

enum lb_backend_state {
	LB_BACKEND_ACTIVE = 0,
	LB_BACKEND_TERMINATING = 1,
	LB_BACKEND_MAINTENANCE = 2,
};

/* lb_service.flags */
#define LB_SVC_F_AFFINITY      (1U << 0) /* ClientIP affinity: hash the client address only */
#define LB_SVC_F_SRC_RANGES    (1U << 1) /* consult lb_src_ranges for this service */
#define LB_SVC_F_SCHED_RANDOM  (1U << 2) /* random scheduler instead of the flow hash */
#define LB_SVC_F_KEEP_CLIENT   (1U << 3) /* nat without SNAT (traffic policy local, or snat: false) */

/* Why a frame was dropped or passed to the kernel. Stable numbers: a retired reason keeps its
 * number, marked unused. The XDP program and the managed engine count into the same reasons.
 * The number says the verdict: below LB_REASON_FIRST_DROP pass, from it drop, from
 * LB_REASON_FIRST_FWD on the frame was forwarded. */
#define LB_REASON_FIRST_DROP 32
#define LB_REASON_FIRST_FWD  64
enum lb_reason {
	LB_REASON_UNUSED_0 = 0,
	/* passed to the kernel (or, later, to the AF_XDP worker) */
	LB_PASS_NOT_IP = 1,
	LB_PASS_NO_SERVICE = 2,
	LB_PASS_FRAGMENT = 3,
	LB_PASS_IPV4_OPTIONS = 4,
	LB_PASS_IPV6_EXTENSION = 5,
	LB_PASS_ICMP = 6,              /* ICMP not handled by the fast path (errors, echo) */
	LB_PASS_NO_BACKEND = 7,
	LB_PASS_FIB_NO_NEIGHBOUR = 8,
	LB_PASS_FIB_FAILED = 9,
	LB_PASS_NAT_PORTS_EXHAUSTED = 10,
	LB_PASS_FLOW_TABLE_FULL = 11,
	LB_PASS_TTL_EXPIRED = 12,
	/* dropped */
	LB_DROP_SOURCE_RANGE = 32,
	LB_DROP_MALFORMED_ETHERNET = 33,
	LB_DROP_MALFORMED_IPV4 = 34,
	LB_DROP_MALFORMED_IPV6 = 35,
	LB_DROP_MALFORMED_TCP = 36,
	LB_DROP_MALFORMED_UDP = 37,
	LB_DROP_ENCAP_FAILED = 38,
	LB_DROP_FRAME_TOO_BIG = 39,
	/* forwarded (counted so every frame the program saw lands in exactly one reason) */
	LB_FWD_TX = 64,
	LB_FWD_REDIRECT = 65,
	LB_REASON_MAX = 96,
};

/* An address of either family: IPv4 in v4 (ip6[1..3] zero), IPv6 in all 16 bytes. */
union lb_addr {
	__be32 v4;
	__be32 v6[4];
	__u8 bytes[16];
};

/* lb_config[0]: datapath settings the agent writes before attaching. */
struct lb_config {
	__u32 flow_hash_seed;     /* jhash initval for the flow hash */
	__u32 maglev_size;        /* M, prime; every inner table has M entries */
	__u16 nat_port_min;       /* SNAT source ports, host order, inclusive */
	__u16 nat_port_max;
	__u16 mtu;                /* egress MTU used for the DSR MSS clamp */
	__u16 flags;              /* LB_CFG_F_* */
	__u64 flow_timeout_ns;    /* an idle flow older than this is chosen again */
	union lb_addr snat_v4;    /* Lb's own IPv4 address: NAT source, IPIP outer source */
	union lb_addr snat_v6;    /* Lb's own IPv6 address */
};

/* lb_config.flags */
#define LB_CFG_F_KEEP_CLIENT_NAT (1U << 0) /* a nat service keeps client addresses: every packet may be a reply */

/* lb_services: one entry per frontend. NodePorts that match any local address use an all-zero
 * address. */
struct lb_service_key {
	union lb_addr addr;
	__be16 port;
	__u8 proto;                /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family;               /* enum lb_family */
};

struct lb_service {
	__u32 id;
	__u32 flags;               /* LB_SVC_F_* */
	__u32 affinity_timeout_s;
	__u8 forwarding;           /* enum lb_forwarding */
	__u8 pad[3];
	__u32 backend_count;       /* schedulable backends of this family; 0: no-backend path */
};

/* lb_backends (ARRAY): key __u32 backend id; a free id holds all zeros (family 0). */
struct lb_backend {
	union lb_addr addr;
	__be16 port;
	__u8 family;
	__u8 state;                /* enum lb_backend_state */
	__u32 service_id;          /* owner: a flow of another service never uses a recycled id */
};

/* lb_maglev: array of maps, key (service_id << 1) | (family == IPv6), inner array of M __u32
 * backend ids. Tables are per family because a packet can only go to a backend of its family. */
static inline __u32 lb_maglev_key(__u32 service_id, __u8 family)
{
	return (service_id << 1) | (family == LB_FAMILY_IPV6 ? 1 : 0);
}

/* lb_flows (LRU) key, and lb_rev_nat (LRU) key for replies: the 5-tuple as the packet carries it. */
struct lb_flow_key {
	union lb_addr saddr;
	union lb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

struct lb_flow {
	__u64 last_seen_ns;        /* CLOCK_MONOTONIC_COARSE ns (lb_now) */
	__u32 backend_id;
	__u32 service_id;
	__be16 nat_port;           /* nat: the SNAT source port; 0 otherwise */
	__u16 pad0;
	__u32 pad1;
};

/* lb_affinity (LRU): (service, client address) -> backend. */
struct lb_affinity_key {
	union lb_addr client;
	__u32 service_id;
	__u8 family;
	__u8 pad[3];
};

struct lb_affinity {
	__u64 last_used_ns;
	__u32 backend_id;
	__u32 pad;
};

/* lb_rev_nat value: how to turn a reply (backend -> Lb:nat_port) back into VIP -> client. */
struct lb_rev_nat {
	union lb_addr client;
	union lb_addr vip;
	__be16 client_port;
	__be16 vip_port;
	__u32 service_id;
	__u64 last_seen_ns;
};

/* lb_src_ranges (LPM trie): prefixlen counts service_id and family (64 bits) plus the CIDR's
 * prefix; value __u32 1 = allowed. */
struct lb_src_range_key {
	__u32 prefixlen;
	__u32 service_id;
	__u32 family;
	union lb_addr addr;
};

/* lb_svc_stats (per-CPU array): key service id. */
struct lb_service_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
};

/* lb_names (HASH, BPF_F_NO_PREALLOC): user space only, never read by a BPF program. The maps hold
 * ids, not names; this record lets a restarted agent give every service and backend the id it had,
 * so flows recorded with an id keep meeting the same backend. Pinned beside the other maps and
 * versioned with them by this header, because one agent build writes it and the next one reads it.
 * Key (LB_NAME_SERVICE, service id) -> the service's name; (LB_NAME_BACKEND, backend id) -> the
 * backend's identity ("address:port") and its owner in service_id; (LB_NAME_CURSORS, 0) -> the
 * last service and backend ids handed out, len 0. */
enum lb_name_kind {
	LB_NAME_CURSORS = 0,
	LB_NAME_SERVICE = 1,
	LB_NAME_BACKEND = 2,
};

struct lb_name_key {
	__u32 kind;                /* enum lb_name_kind */
	__u32 id;
};

struct lb_name {
	__u32 service_id;          /* LB_NAME_BACKEND: the owner; LB_NAME_CURSORS: last service id */
	__u32 backend_id;          /* LB_NAME_CURSORS: last backend id; otherwise 0 */
	__u32 len;                 /* bytes of name in use, <= LB_NAME_MAX */
	__u8 name[LB_NAME_MAX];    /* UTF-8, not NUL-terminated; the rest zero */
};

#endif /* LB_ABI_H */
