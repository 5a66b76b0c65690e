/* Unit tests for the timeline: play order, deadline arithmetic, minute sync, precise waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sched.h"

static void
check_playlist(bool repeat, enum repeat_pattern pattern, uint32_t *counts,
    size_t n_pcaps, const size_t *want, size_t n_want)
{
	struct config cfg;
	size_t *order, n;

	memset(&cfg, 0, sizeof(cfg));
	cfg.n_pcaps = n_pcaps;
	cfg.has_repeat = repeat;
	cfg.repeat_count = counts;
	cfg.repeat_pattern = pattern;
	assert_int_equal(sched_playlist(&cfg, &order, &n), 0);
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(order[i], want[i]);
	free(order);
}

static void
test_playlist_patterns(void **state)
{
	(void)state;
	/* The README's example: counts [1,5,5,4,4]. */
	uint32_t c1[] = { 1, 5, 5, 4, 4 };
	const size_t rr[] = { 0, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3,
	    4, 1, 2 };
	const size_t bulk[] = { 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3,
	    4, 4, 4, 4 };
	uint32_t c2[] = { 0, 2 };
	const size_t zero_first[] = { 1, 1 };
	uint32_t c3[] = { 0, 0 };
	const size_t once[] = { 0, 1, 2 };

	check_playlist(true, REPEAT_ROUND_ROBIN, c1, 5, rr, 19);
	check_playlist(true, REPEAT_BULK, c1, 5, bulk, 19);
	check_playlist(true, REPEAT_ROUND_ROBIN, c2, 2, zero_first, 2);
	check_playlist(true, REPEAT_BULK, c3, 2, NULL, 0);
	check_playlist(false, REPEAT_ROUND_ROBIN, NULL, 3, once, 3);
}

static void
test_deadlines(void **state)
{
	struct timeline tl;
	const tr_ns t0 = INT64_C(1700000000) * TR_NS_PER_SEC + 123456789;
	const tr_ns start = 5 * TR_NS_PER_SEC;

	(void)state;
	timeline_init(&tl, 1.0);
	assert_false(tl.started);
	timeline_start(&tl, t0, start);
	assert_int_equal(timeline_deadline(&tl, t0), start);
	assert_int_equal(timeline_deadline(&tl, t0 + 1500 * TR_NS_PER_US),
	    start + 1500 * TR_NS_PER_US);

	/* Ten hours into the capture: still exact to the nanosecond. */
	assert_int_equal(timeline_deadline(&tl, t0 + 36000 * TR_NS_PER_SEC + 7),
	    start + 36000 * TR_NS_PER_SEC + 7);

	/* Time factors scale the offset from the first packet, not between packets. */
	tl.factor = 0.01;
	assert_int_equal(timeline_deadline(&tl, t0 + 100 * TR_NS_PER_SEC),
	    start + 1 * TR_NS_PER_SEC);
	tl.factor = 2;
	assert_int_equal(timeline_deadline(&tl, t0 + 3 * TR_NS_PER_MS),
	    start + 6 * TR_NS_PER_MS);

	/* 0 means as fast as possible; packets stamped before the first are due at once. */
	tl.factor = 0;
	assert_int_equal(timeline_deadline(&tl, t0 + 100 * TR_NS_PER_SEC),
	    start);
	tl.factor = 1;
	assert_int_equal(timeline_deadline(&tl, t0 - TR_NS_PER_SEC), start);

	/*
	 * The largest time_factor on a capture of ten years: due centuries
	 * away, clamped, never overflowing into the past (which would send
	 * everything at once).  A minute of it at 1e6 still counts exactly.
	 */
	tl.factor = CFG_TIME_FACTOR_MAX;
	assert_int_equal(timeline_deadline(&tl, t0 + INT64_C(315360000) *
	    TR_NS_PER_SEC), start + TIMELINE_MAX_OFFSET);
	assert_int_equal(timeline_deadline(&tl, t0 + 60 * TR_NS_PER_SEC),
	    start + INT64_C(60000000) * TR_NS_PER_SEC);
}

static void
test_minute_sync(void **state)
{
	const tr_ns min = 60 * TR_NS_PER_SEC;
	const tr_ns base = INT64_C(29000000) * min;	/* some whole minute */

	(void)state;
	/* Capture at second 30.5, now at second 10: wait 20.5 s. */
	assert_int_equal(sched_minute_sync_delay(base + 10 * TR_NS_PER_SEC,
	    base - 7 * min + 30500 * TR_NS_PER_MS), 20500 * TR_NS_PER_MS);
	/* Capture at second 5, now at second 50: wait into the next minute. */
	assert_int_equal(sched_minute_sync_delay(base + 50 * TR_NS_PER_SEC,
	    base + 5 * TR_NS_PER_SEC), 15 * TR_NS_PER_SEC);
	/* Already there: no wait. */
	assert_int_equal(sched_minute_sync_delay(base + 42 * TR_NS_PER_SEC,
	    base + 3 * min + 42 * TR_NS_PER_SEC), 0);
}

static void
test_oversleep_margin(void **state)
{
	struct sched_waiter w;

	(void)state;
	sched_waiter_init(&w);
	assert_int_equal(w.margin, SCHED_MARGIN_MIN);
	/* A sleep 200 us late: the margin covers it at once, with room. */
	sched_learn_oversleep(&w, 0, 200 * TR_NS_PER_US);
	assert_int_equal(w.margin, 300 * TR_NS_PER_US);
	/* An outlier is capped: spinning that long would burn a core. */
	sched_learn_oversleep(&w, 0, 50 * TR_NS_PER_MS);
	assert_int_equal(w.margin, SCHED_MARGIN_MAX);
	/* Punctual wake-ups bring it back down slowly, never below the floor. */
	for (int i = 0; i < 1000; i++)
		sched_learn_oversleep(&w, 0, 1 * TR_NS_PER_US);
	assert_int_equal(w.margin, SCHED_MARGIN_MIN);
	sched_learn_oversleep(&w, 0, 60 * TR_NS_PER_US);
	assert_int_equal(w.margin, 90 * TR_NS_PER_US);
	sched_learn_oversleep(&w, 0, 60 * TR_NS_PER_US);
	assert_int_equal(w.margin, 90 * TR_NS_PER_US);
}

static void
test_spin_until(void **state)
{
	volatile sig_atomic_t stop = 0;
	tr_ns deadline = tr_mono_now() + 300 * TR_NS_PER_US;

	(void)state;
	assert_int_equal(sched_spin_until(deadline, &stop), 0);
	/* Never early (being late is what a loaded machine does; it is not asserted). */
	assert_true(tr_mono_now() >= deadline);
	stop = 1;
	assert_int_equal(sched_spin_until(tr_mono_now() + 10 * TR_NS_PER_SEC,
	    &stop), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_playlist_patterns),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_minute_sync),
		cmocka_unit_test(test_oversleep_margin),
		cmocka_unit_test(test_spin_until),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
