/* The timeline: play order of captures, absolute deadlines on CLOCK_MONOTONIC, minute sync, precise waits. */
#ifndef TR_SCHED_H
#define TR_SCHED_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "monotime.h"

/*
 * The order in which captures play, as indices into cfg->pcaps: with
 * repeat, round-robin gives 1-2-3-2-3-3 for counts [1,2,3] and bulk gives
 * 1-2-2-3-3-3; without it, each capture once.  Returns 0 and a malloc'ed
 * array (*n may be 0 when every count is 0), or -1 on allocation failure.
 */
int	sched_playlist(const struct config *cfg, size_t **order, size_t *n);

/*
 * One capture's timeline: the packet captured at ts is due at
 * start + (ts - t0) * factor.  Deadlines are computed from the start, never
 * from the previous packet, so no error accumulates over hours.
 */
struct timeline {
	tr_ns	start;		/* CLOCK_MONOTONIC time of the first packet */
	tr_ns	t0;		/* capture time of the first packet */
	double	factor;		/* time_factor; 0 = every deadline is the start */
	bool	started;
};

void	timeline_init(struct timeline *, double factor);
void	timeline_start(struct timeline *, tr_ns capture_ts, tr_ns mono_now);
tr_ns	timeline_deadline(const struct timeline *, tr_ns capture_ts);

/*
 * The latest a deadline can be after its timeline's start: about 95 years,
 * so that start (CLOCK_MONOTONIC, the time since boot) plus it stays far
 * from overflow.
 */
#define TIMELINE_MAX_OFFSET	(INT64_C(3000000000) * TR_NS_PER_SEC)

/*
 * How long to wait from wall-clock time `now` until the wall clock's
 * position within its minute equals that of capture time `ts` (both ns since
 * the epoch): collectors such as pmacct bucket flows per minute, so the
 * replayed flows must fall where the captured ones did.  In [0, 60 s).
 */
tr_ns	sched_minute_sync_delay(tr_ns now, tr_ns ts);

/*
 * Waits that end on time: sleep (the replay sleeps in the transport's poll)
 * until `margin` before the deadline, then spin.  A sleep wakes up late by an
 * amount that depends on the machine (tens of microseconds on a quiet host,
 * more in a VM), so the margin learns it: it grows at once to cover the
 * latest oversleep seen and shrinks slowly back, between SCHED_MARGIN_MIN
 * and SCHED_MARGIN_MAX (spinning costs CPU, so it stays as small as works).
 */
#define SCHED_MARGIN_MIN	(50 * TR_NS_PER_US)
#define SCHED_MARGIN_MAX	(500 * TR_NS_PER_US)

struct sched_waiter {
	tr_ns	margin;
};

void	sched_waiter_init(struct sched_waiter *);

/* A sleep meant to end at `target` ended at `woke`: adjust the margin. */
void	sched_learn_oversleep(struct sched_waiter *, tr_ns target, tr_ns woke);

/* Spin until CLOCK_MONOTONIC reaches deadline: 0, or -1 as soon as *stop is set. */
int	sched_spin_until(tr_ns deadline, volatile sig_atomic_t *stop);


#endif
