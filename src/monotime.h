/* Monotonic and wall-clock time as signed 64-bit nanoseconds, so units cannot mix. */
#ifndef TR_MONOTIME_H
#define TR_MONOTIME_H

#include <stdint.h>
#include <time.h>

typedef int64_t tr_ns;	/* nanoseconds; a duration or a point on one clock */

#define TR_NS_PER_US	INT64_C(1000)
#define TR_NS_PER_MS	INT64_C(1000000)
#define TR_NS_PER_SEC	INT64_C(1000000000)

static inline tr_ns
tr_ns_from_timespec(const struct timespec *ts)
{
	return (tr_ns)ts->tv_sec * TR_NS_PER_SEC + ts->tv_nsec;
}

static inline struct timespec
tr_ns_to_timespec(tr_ns ns)
{
	struct timespec ts = {
		.tv_sec = ns / TR_NS_PER_SEC,
		.tv_nsec = ns % TR_NS_PER_SEC,
	};
	return ts;
}

/* CLOCK_MONOTONIC: deadlines and lag; never jumps with NTP steps. */
static inline tr_ns
tr_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return tr_ns_from_timespec(&ts);
}

/* CLOCK_REALTIME: only for the minute sync, which is about the wall clock. */
static inline tr_ns
tr_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return tr_ns_from_timespec(&ts);
}

static inline double
tr_ns_to_sec(tr_ns ns)
{
	return (double)ns / (double)TR_NS_PER_SEC;
}

static inline tr_ns
tr_ns_from_sec(double sec)
{
	return (tr_ns)(sec * (double)TR_NS_PER_SEC);
}

#endif
