/* The timeline: capture play order, deadlines from one start point, minute sync, precise waits. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "sched.h"

int
sched_playlist(const struct config *cfg, size_t **order, size_t *n)
{
	size_t total = 0, k = 0;
	uint32_t *left;

	*order = NULL;
	*n = 0;
	if (!cfg->has_repeat) {
		if ((*order = calloc(cfg->n_pcaps, sizeof(**order))) == NULL)
			return -1;
		for (size_t i = 0; i < cfg->n_pcaps; i++)
			(*order)[i] = i;
		*n = cfg->n_pcaps;
		return 0;
	}

	for (size_t i = 0; i < cfg->n_pcaps; i++)
		total += cfg->repeat_count[i];
	if (total == 0)
		return 0;
	if ((*order = calloc(total, sizeof(**order))) == NULL)
		return -1;

	if (cfg->repeat_pattern == REPEAT_BULK) {
		for (size_t i = 0; i < cfg->n_pcaps; i++)
			for (uint32_t r = 0; r < cfg->repeat_count[i]; r++)
				(*order)[k++] = i;
		*n = k;
		return 0;
	}

	/* Round-robin: pass over the list, taking each capture that still has plays left. */
	if ((left = calloc(cfg->n_pcaps, sizeof(*left))) == NULL) {
		free(*order);
		*order = NULL;
		return -1;
	}
	for (size_t i = 0; i < cfg->n_pcaps; i++)
		left[i] = cfg->repeat_count[i];
	while (k < total) {
		for (size_t i = 0; i < cfg->n_pcaps; i++) {
			if (left[i] > 0) {
				(*order)[k++] = i;
				left[i]--;
			}
		}
	}
	free(left);
	*n = k;
	return 0;
}

void
timeline_init(struct timeline *tl, double factor)
{
	tl->start = 0;
	tl->t0 = 0;
	tl->factor = factor;
	tl->started = false;
}

void
timeline_start(struct timeline *tl, tr_ns capture_ts, tr_ns mono_now)
{
	tl->start = mono_now;
	tl->t0 = capture_ts;
	tl->started = true;
}

tr_ns
timeline_deadline(const struct timeline *tl, tr_ns capture_ts)
{
	tr_ns offset = capture_ts - tl->t0;
	double scaled;

	/* A packet stamped before the first one (clock steps in the capture) is due at once. */
	if (offset <= 0 || tl->factor <= 0)
		return tl->start;
	/* A double keeps nanosecond precision for offsets up to about 100 days. */
	scaled = (double)offset * tl->factor;
	/*
	 * A long capture slowed down a lot (time_factor up to 1e6) can be due
	 * centuries from now, past what tr_ns holds: clamp it there, as good as
	 * never, rather than overflow into the past.
	 */
	if (scaled > (double)TIMELINE_MAX_OFFSET)
		return tl->start + TIMELINE_MAX_OFFSET;
	return tl->start + (tr_ns)scaled;
}

tr_ns
sched_minute_sync_delay(tr_ns now, tr_ns ts)
{
	const tr_ns minute = 60 * TR_NS_PER_SEC;
	tr_ns want = ts % minute, have = now % minute;
	tr_ns delay = (want - have) % minute;

	if (delay < 0)
		delay += minute;
	return delay;
}

void
sched_waiter_init(struct sched_waiter *w)
{
	w->margin = SCHED_MARGIN_MIN;
}

void
sched_learn_oversleep(struct sched_waiter *w, tr_ns target, tr_ns woke)
{
	tr_ns late = woke - target, want = late + late / 2;

	if (want > w->margin)
		w->margin = want < SCHED_MARGIN_MAX ? want : SCHED_MARGIN_MAX;
	else
		w->margin -= (w->margin - want) / 16;
	if (w->margin < SCHED_MARGIN_MIN)
		w->margin = SCHED_MARGIN_MIN;
}

int
sched_spin_until(tr_ns deadline, volatile sig_atomic_t *stop)
{
	while (tr_mono_now() < deadline) {
		if (stop != NULL && *stop)
			return -1;
	}
	return (stop != NULL && *stop) ? -1 : 0;
}
