/* Unit tests for the timer heap: order, moving and removing timers, pops only of what is due. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "timer_heap.h"

#define ITEMS	1000

struct item {
	tr_ns	 due;
	size_t	 pos;
};

/* Every item comes out once, in order of due time, and none before it is due. */
static void
expect_in_order(struct timer_heap *h, size_t armed)
{
	tr_ns last = INT64_MIN;
	size_t popped = 0;
	struct item *it;

	assert_null(timer_heap_pop_due(h, timer_heap_next(h) - 1));
	while ((it = timer_heap_pop_due(h, INT64_MAX - 1)) != NULL) {
		assert_true(it->due >= last);
		assert_int_equal(it->pos, 0);
		last = it->due;
		popped++;
	}
	assert_int_equal(popped, armed);
	assert_true(timer_heap_next(h) == INT64_MAX);
}

static void
test_order(void **state)
{
	struct timer_heap h = { 0 };
	struct item items[ITEMS] = { 0 };

	(void)state;
	srand(14);
	for (size_t i = 0; i < ITEMS; i++) {
		items[i].due = rand() % 5000;
		assert_int_equal(timer_heap_set(&h, &items[i], &items[i].pos,
		    items[i].due), 0);
	}
	expect_in_order(&h, ITEMS);
	timer_heap_free(&h);
}

/* Timers moved earlier and later, and removed, leave a heap in order. */
static void
test_move_and_remove(void **state)
{
	struct timer_heap h = { 0 };
	struct item items[ITEMS] = { 0 };
	size_t armed = ITEMS;

	(void)state;
	srand(41);
	for (size_t i = 0; i < ITEMS; i++) {
		items[i].due = rand() % 5000;
		assert_int_equal(timer_heap_set(&h, &items[i], &items[i].pos,
		    items[i].due), 0);
	}
	for (size_t i = 0; i < ITEMS; i += 3) {
		items[i].due = rand() % 10000;
		assert_int_equal(timer_heap_set(&h, &items[i], &items[i].pos,
		    items[i].due), 0);
	}
	for (size_t i = 1; i < ITEMS; i += 7) {
		timer_heap_remove(&h, &items[i].pos);
		assert_int_equal(items[i].pos, 0);
		timer_heap_remove(&h, &items[i].pos);	/* not armed: nothing */
		armed--;
	}
	expect_in_order(&h, armed);
	timer_heap_free(&h);
}

/* Only what is due pops; the next due time is the earliest. */
static void
test_pop_due(void **state)
{
	struct timer_heap h = { 0 };
	struct item a = { .due = 30 }, b = { .due = 10 }, c = { .due = 20 };

	(void)state;
	assert_true(timer_heap_next(&h) == INT64_MAX);
	assert_null(timer_heap_pop_due(&h, 100));
	assert_int_equal(timer_heap_set(&h, &a, &a.pos, a.due), 0);
	assert_int_equal(timer_heap_set(&h, &b, &b.pos, b.due), 0);
	assert_int_equal(timer_heap_set(&h, &c, &c.pos, c.due), 0);
	assert_true(timer_heap_next(&h) == 10);
	assert_ptr_equal(timer_heap_pop_due(&h, 15), &b);
	assert_null(timer_heap_pop_due(&h, 15));
	assert_true(timer_heap_next(&h) == 20);
	assert_int_equal(timer_heap_set(&h, &a, &a.pos, 5), 0);
	assert_ptr_equal(timer_heap_pop_due(&h, 15), &a);
	assert_ptr_equal(timer_heap_pop_due(&h, 20), &c);
	assert_null(timer_heap_pop_due(&h, INT64_MAX - 1));
	timer_heap_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_move_and_remove),
		cmocka_unit_test(test_pop_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
