/* Unit tests for the rate pacer: deadlines computed for a rate, ticks, bursts and byte rates (no wall clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pace.h"

#define T0	(INT64_C(1000) * TR_NS_PER_SEC)	/* an arbitrary CLOCK_MONOTONIC start */

static void
test_disabled(void **state)
{
	struct pace p;

	(void)state;
	pace_init(&p, 0, 0);
	assert_false(pace_enabled(&p));
	pace_init(&p, 10, 0);
	assert_true(pace_enabled(&p));
	pace_init(&p, 0, 1);
	assert_true(pace_enabled(&p));
}

/* 1000 pps, a sender always on time: packet k is due at k ms. */
static void
test_pps_on_time(void **state)
{
	struct pace p;

	(void)state;
	pace_init(&p, 1000, 0);
	for (int k = 0; k < 5000; k++) {
		tr_ns want = T0 + k * TR_NS_PER_MS;

		assert_int_equal(pace_deadline(&p, 1400, want), want);
	}
}

/* A sender that is never late (asks far ahead) gets deadlines that only depend on the count. */
static void
test_pps_ahead_no_drift(void **state)
{
	struct pace p;
	tr_ns d = 0;

	(void)state;
	/* 3 pps: 333,333,333.3 ns apart; after 3e6 packets exactly 1e6 s, to a tick. */
	pace_init(&p, 3, 0);
	for (int k = 0; k <= 3000000; k++)
		d = pace_deadline(&p, 100, T0);
	assert_true(d <= T0 + 1000000 * TR_NS_PER_SEC);
	assert_true(d > T0 + 1000000 * TR_NS_PER_SEC - PACE_TICK);
}

/* 1 M pps: 100 packets share each 100 us tick, so they go in one batch after one wait. */
static void
test_high_rate_ticks(void **state)
{
	struct pace p;

	(void)state;
	pace_init(&p, 1e6, 0);
	for (int k = 0; k < 1000; k++) {
		tr_ns d = pace_deadline(&p, 64, T0);

		assert_int_equal(d, T0 + (k / 100) * PACE_TICK);
	}
}

/* --mbps counts payload bytes: 8 Mbit/s is 1 byte per us; a 1000-byte packet costs 1 ms. */
static void
test_byte_rate(void **state)
{
	struct pace p;

	(void)state;
	pace_init(&p, 0, 8);
	assert_int_equal(pace_deadline(&p, 1000, T0), T0);
	assert_int_equal(pace_deadline(&p, 500, T0), T0 + TR_NS_PER_MS);
	assert_int_equal(pace_deadline(&p, 2000, T0), T0 + 1500 * TR_NS_PER_US);
	assert_int_equal(pace_deadline(&p, 0, T0), T0 + 3500 * TR_NS_PER_US);
	/* An empty packet costs nothing at a byte rate alone. */
	assert_int_equal(pace_deadline(&p, 10, T0), T0 + 3500 * TR_NS_PER_US);
}

/* Both rates: each packet costs the longer of the two. */
static void
test_both_rates(void **state)
{
	struct pace p;

	(void)state;
	pace_init(&p, 1000, 8);	/* 1 ms per packet, 1 us per byte */
	assert_int_equal(pace_deadline(&p, 100, T0), T0);
	/* 100 bytes: 0.1 ms at the byte rate, the packet rate's 1 ms wins. */
	assert_int_equal(pace_deadline(&p, 5000, T0), T0 + TR_NS_PER_MS);
	/* 5000 bytes: 5 ms at the byte rate. */
	assert_int_equal(pace_deadline(&p, 100, T0), T0 + 6 * TR_NS_PER_MS);
}

/*
 * A sender 20 ms late (within PACE_BURST) catches up: the packets it owes
 * are due at once.  One 5 s late forgets all but PACE_BURST of its debt.
 */
static void
test_bursts(void **state)
{
	struct pace p;
	tr_ns late = T0 + 20 * TR_NS_PER_MS, now;
	int owed = 0;

	(void)state;
	pace_init(&p, 1000, 0);
	assert_int_equal(pace_deadline(&p, 1, T0), T0);
	/* At 20 ms, packets 1..20 are due (the 20th right now). */
	while (pace_deadline(&p, 1, late) <= late)
		owed++;
	assert_int_equal(owed, 20);

	pace_init(&p, 1000, 0);
	assert_int_equal(pace_deadline(&p, 1, T0), T0);
	now = T0 + 5 * TR_NS_PER_SEC;
	owed = 0;
	while (pace_deadline(&p, 1, now) < now)
		owed++;
	assert_int_equal(owed, PACE_BURST / TR_NS_PER_MS);
	/* Then the rate again, from now. */
	assert_int_equal(pace_deadline(&p, 1, now), now + TR_NS_PER_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_pps_on_time),
		cmocka_unit_test(test_pps_ahead_no_drift),
		cmocka_unit_test(test_high_rate_ticks),
		cmocka_unit_test(test_byte_rate),
		cmocka_unit_test(test_both_rates),
		cmocka_unit_test(test_bursts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
