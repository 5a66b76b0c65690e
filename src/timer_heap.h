/*
 * A binary min-heap of timers by due time, for thousands of sessions: the
 * earliest in O(1), arming, moving and removing one in O(log n).  Each item
 * has at most one timer; its `pos` (index + 1 in the heap, 0: none), kept
 * by the heap, lets it be found.
 */
#ifndef TR_TIMER_HEAP_H
#define TR_TIMER_HEAP_H

#include <stddef.h>

#include "monotime.h"

struct timer_entry {
	tr_ns	 due;
	void	*item;
	size_t	*pos;		/* the item's: index + 1 here, 0 when not armed */
};

struct timer_heap {
	struct timer_entry	*e;
	size_t			 n, cap;
};

void	timer_heap_free(struct timer_heap *);
/* Arm the item's timer at `due`, or move it there; -1 when out of memory. */
int	timer_heap_set(struct timer_heap *, void *item, size_t *pos, tr_ns due);
/* Disarm it (nothing when not armed). */
void	timer_heap_remove(struct timer_heap *, size_t *pos);
/* When the earliest timer is due; INT64_MAX when none is armed. */
tr_ns	timer_heap_next(const struct timer_heap *);
/* The item of the earliest timer due at or before `now`, disarmed; NULL when none is. */
void	*timer_heap_pop_due(struct timer_heap *, tr_ns now);

#endif
