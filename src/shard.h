/* Beyond one machine (issue 15): --shard K/N picks exporters by a stable hash; --start-at parses a wall-clock start. */
#ifndef TR_SHARD_H
#define TR_SHARD_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "monotime.h"

/* The most shards a run may be cut into: more would leave most of them empty. */
#define SHARD_MAX	65536u

/* Shard k (1-based, as "shard 1/4") of n; n 0 = not sharded. */
struct shard {
	uint32_t	k, n;
};

/* "K/N" with 1 <= K <= N <= SHARD_MAX: 0, or -1 (nothing written). */
int		 shard_parse(const char *arg, struct shard *out);

/*
 * The 1-based shard of an exporter, by a hash of its captured source
 * address (network.map's src_ip): the same on every machine and in every
 * process, whatever the repro_ip.
 */
uint32_t	 shard_of(const struct tr_addr *src_ip, uint32_t n);

/* Whether this process replays the exporter: always when not sharded. */
bool		 shard_keeps(const struct shard *, const struct tr_addr *src_ip);

/*
 * --start-at: RFC 3339 ("2026-12-03T20:00:00Z", fractions and a +HH:MM
 * offset allowed) or Unix seconds ("1796328000.5"), as CLOCK_REALTIME
 * nanoseconds: 0, or -1.
 */
int		 start_at_parse(const char *arg, tr_ns *out);

#endif
