/*
 * A flow's key: the addresses and ports of one direction (src sends), with
 * its hash and equality.  The one key of the lookup tables of sessions and
 * connections (session, its BGP look-ahead, -p, --info) and of the sink's
 * exporters (the exporter's port and the sink's address left 0).
 */
#ifndef TR_FLOWKEY_H
#define TR_FLOWKEY_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "hash.h"
#include "packet.h"

struct flow_key {
	struct tr_addr	 src, dst;
	uint16_t	 sport, dport;
};

static inline struct flow_key
flow_key_of(const struct tr_packet *pkt)
{
	struct flow_key k = { .src = pkt->src, .dst = pkt->dst,
	    .sport = pkt->sport, .dport = pkt->dport };
	return k;
}

/* The other direction of the same flow. */
static inline struct flow_key
flow_key_reversed(const struct flow_key *k)
{
	struct flow_key r = { .src = k->dst, .dst = k->src,
	    .sport = k->dport, .dport = k->sport };
	return r;
}

static inline bool
flow_key_equal(const struct flow_key *a, const struct flow_key *b)
{
	return a->sport == b->sport && a->dport == b->dport &&
	    addr_equal(&a->src, &b->src) && addr_equal(&a->dst, &b->dst);
}

/* FNV-1a over the key, continuing from h (FNV1A_BASIS to start). */
static inline uint32_t
flow_key_hash(const struct flow_key *k, uint32_t h)
{
	h = addr_hash(&k->dst, addr_hash(&k->src, h));
	h = fnv1a(h, &k->sport, sizeof(k->sport));
	return fnv1a(h, &k->dport, sizeof(k->dport));
}

/* The same for both directions of a flow: they land in one bucket. */
static inline uint32_t
flow_key_hash_both_ways(const struct flow_key *k)
{
	struct flow_key r = flow_key_reversed(k);
	uint32_t a = flow_key_hash(k, FNV1A_BASIS);
	uint32_t b = flow_key_hash(&r, FNV1A_BASIS);

	return a < b ? a : b;
}

#endif
