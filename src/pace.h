/* Rate pacing (--pps, --mbps): each packet's deadline from a shared token bucket instead of the capture's timing. */
#ifndef TR_PACE_H
#define TR_PACE_H

#include <stdbool.h>
#include <stddef.h>

#include "monotime.h"

/*
 * Packets due within one tick share its start as their deadline, so at
 * high rates the replay sends them in one batch (sendmmsg) after one wait,
 * instead of sleeping per packet: 1 M pps is 100 packets a tick.
 */
#define PACE_TICK	(100 * TR_NS_PER_US)

/*
 * How far behind the rate the sender may fall and still catch up (a
 * burst at full speed): time lost beyond this (a stalled collector, a
 * machine busy for longer) is not made up, so a long stall does not flood
 * the collector afterwards.  A second: on a shared machine the replay can
 * lose the CPU for hundreds of milliseconds, and with 50 ms such a stall
 * cost 2.6 % of a 60 s run at 100,000 pps (bench/README.md, part 10).
 */
#define PACE_BURST	(1 * TR_NS_PER_SEC)

/*
 * A virtual-time token bucket (GCRA): `next` is when the next packet would
 * be due at the rate, as an offset from the first packet; each packet
 * moves it on by its cost, the longer of 1/pps and its bytes at the byte
 * rate.  Offsets are computed from the start, never summed from wall
 * clock readings, so no error accumulates over a long run.
 */
struct pace {
	double	ns_per_packet;	/* 1e9 / pps; 0 without --pps */
	double	ns_per_byte;	/* 8e9 / (mbps * 1e6); 0 without --mbps */
	double	next;		/* ns after start when the next packet is due */
	tr_ns	start;		/* CLOCK_MONOTONIC of the first packet */
	bool	started;
};

/* pps and mbps: 0 for no limit of that kind; both 0 paces nothing (pace_enabled false). */
void	pace_init(struct pace *, double pps, double mbps);
bool	pace_enabled(const struct pace *);

/*
 * The deadline of the next packet of `bytes` payload bytes, on
 * CLOCK_MONOTONIC, given the time now (the first call starts the bucket
 * at now).  Rounded down to its PACE_TICK.  The packet is counted as sent.
 */
tr_ns	pace_deadline(struct pace *, size_t bytes, tr_ns now);

#endif
