/* Unit tests for the byte buffer (cap, consume, sliding, giving memory back, reads into it) and grow_array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "bytebuf.h"
#include "grow.h"

/* Under ASan, an impossible allocation fails as it does in the shipped build instead of aborting. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* Bytes 0, 1, 2, ... from `from`, so that any byte out of place shows. */
static void
pattern(uint8_t *p, size_t n, size_t from)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(from + i);
}

static void
check_pattern(const struct bytebuf *b, size_t from)
{
	const uint8_t *p = bytebuf_data(b);

	for (size_t i = 0; i < bytebuf_len(b); i++)
		assert_int_equal(p[i], (uint8_t)(from + i));
}

static void
append_pattern(struct bytebuf *b, size_t n, size_t from)
{
	uint8_t *tmp = malloc(n);

	assert_non_null(tmp);
	pattern(tmp, n, from);
	assert_int_equal(bytebuf_append(b, tmp, n), 0);
	free(tmp);
}

static void
test_append_consume(void **state)
{
	struct bytebuf b;
	const uint8_t *before;

	(void)state;
	bytebuf_init(&b, SIZE_MAX);
	assert_int_equal(bytebuf_len(&b), 0);
	assert_null(bytebuf_data(&b));
	append_pattern(&b, 1000, 0);
	assert_int_equal(bytebuf_len(&b), 1000);
	assert_int_equal(b.cap, BYTEBUF_MIN);
	check_pattern(&b, 0);
	/* Consuming moves no byte: the data just starts further on. */
	before = bytebuf_data(&b);
	bytebuf_consume(&b, 300);
	assert_ptr_equal(bytebuf_data(&b), before + 300);
	assert_int_equal(bytebuf_len(&b), 700);
	check_pattern(&b, 300);
	/* More than there is takes everything, and the next bytes start at the front. */
	bytebuf_consume(&b, 5000);
	assert_int_equal(bytebuf_len(&b), 0);
	assert_int_equal(b.off, 0);
	assert_int_equal(b.cap, BYTEBUF_MIN);	/* small: kept */
	assert_int_equal(bytebuf_append(&b, NULL, 0), 0);
	assert_int_equal(bytebuf_len(&b), 0);
	bytebuf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.max, SIZE_MAX);
}

static void
test_cap(void **state)
{
	struct bytebuf b;

	(void)state;
	bytebuf_init(&b, 5000);
	append_pattern(&b, 4000, 0);
	/* Past the cap: refused, nothing changed. */
	errno = 0;
	assert_int_equal(bytebuf_reserve(&b, 1001), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(bytebuf_len(&b), 4000);
	check_pattern(&b, 0);
	errno = 0;
	assert_int_equal(bytebuf_reserve(&b, SIZE_MAX), -1);
	assert_int_equal(errno, ENOBUFS);
	/* Up to the cap exactly: the capacity stops at it, not at the next double. */
	append_pattern(&b, 1000, 4000);
	assert_int_equal(bytebuf_len(&b), 5000);
	assert_int_equal(b.cap, 5000);
	check_pattern(&b, 0);
	/* What was consumed makes room again. */
	bytebuf_consume(&b, 10);
	append_pattern(&b, 10, 5000);
	assert_int_equal(b.cap, 5000);
	check_pattern(&b, 10);
	bytebuf_free(&b);

	/* A cap of 0 takes nothing. */
	bytebuf_init(&b, 0);
	errno = 0;
	assert_int_equal(bytebuf_append(&b, "x", 1), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(bytebuf_reserve(&b, 0), 0);
}

static void
test_enomem(void **state)
{
	struct bytebuf b;

	(void)state;
	bytebuf_init(&b, SIZE_MAX);
	append_pattern(&b, 100, 0);
	errno = 0;
	assert_int_equal(bytebuf_reserve(&b, SIZE_MAX / 2), -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(bytebuf_len(&b), 100);
	check_pattern(&b, 0);
	bytebuf_free(&b);
}

static void
test_slide(void **state)
{
	struct bytebuf b;

	(void)state;
	/* Most of it consumed: the rest slides to the front instead of growing. */
	bytebuf_init(&b, SIZE_MAX);
	append_pattern(&b, BYTEBUF_MIN, 0);
	bytebuf_consume(&b, 3000);
	append_pattern(&b, 2000, BYTEBUF_MIN);
	assert_int_equal(b.cap, BYTEBUF_MIN);
	assert_int_equal(b.off, 0);
	assert_int_equal(bytebuf_len(&b), BYTEBUF_MIN - 3000 + 2000);
	check_pattern(&b, 3000);
	/* Little consumed: moving the rest would cost more than it frees, so it grows. */
	bytebuf_consume(&b, 100);
	append_pattern(&b, 2000, BYTEBUF_MIN + 2000);
	assert_int_equal(b.cap, 2 * BYTEBUF_MIN);
	check_pattern(&b, 3100);
	bytebuf_free(&b);

	/* At its cap a buffer slides whatever it moves. */
	bytebuf_init(&b, BYTEBUF_MIN);
	append_pattern(&b, BYTEBUF_MIN, 0);
	bytebuf_consume(&b, 10);
	append_pattern(&b, 10, BYTEBUF_MIN);
	assert_int_equal(b.cap, BYTEBUF_MIN);
	check_pattern(&b, 10);
	bytebuf_free(&b);
}

static void
test_give_back(void **state)
{
	struct bytebuf b;
	size_t big = 8 * BYTEBUF_KEEP;

	(void)state;
	/* Emptied after a burst: freed. */
	bytebuf_init(&b, SIZE_MAX);
	append_pattern(&b, big, 0);
	assert_true(b.cap >= big);
	bytebuf_consume(&b, big);
	assert_null(b.p);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, SIZE_MAX);

	/* Mostly empty: a quarter of the capacity, the bytes kept. */
	append_pattern(&b, big, 0);
	bytebuf_consume(&b, big - big / 8);
	assert_int_equal(b.cap, big / 4);
	assert_int_equal(b.off, 0);
	assert_int_equal(bytebuf_len(&b), big / 8);
	check_pattern(&b, big - big / 8);
	/* Not below what is kept anyway. */
	bytebuf_consume(&b, bytebuf_len(&b) - 10);
	assert_int_equal(b.cap, BYTEBUF_KEEP);
	check_pattern(&b, big - 10);
	/* At or under BYTEBUF_KEEP, an emptied buffer keeps its memory. */
	bytebuf_consume(&b, 10);
	assert_int_equal(b.cap, BYTEBUF_KEEP);
	assert_non_null(b.p);
	bytebuf_free(&b);
}

static void
test_read_into(void **state)
{
	struct bytebuf b;
	uint8_t *tail;

	(void)state;
	bytebuf_init(&b, 6000);
	assert_int_equal(bytebuf_reserve(&b, 100), 0);
	assert_true(bytebuf_room(&b) >= 100);
	tail = bytebuf_tail(&b);
	pattern(tail, 100, 0);
	bytebuf_commit(&b, 60);	/* a short read */
	assert_int_equal(bytebuf_len(&b), 60);
	check_pattern(&b, 0);
	/* The room never passes the cap. */
	assert_int_equal(bytebuf_reserve(&b, 5000), 0);
	assert_true(bytebuf_room(&b) >= 5000);
	assert_true(bytebuf_len(&b) + bytebuf_room(&b) <= 6000);
	pattern(bytebuf_tail(&b), bytebuf_room(&b), 60);
	bytebuf_commit(&b, SIZE_MAX);	/* no further than the room */
	assert_int_equal(bytebuf_len(&b), b.cap);
	check_pattern(&b, 0);
	errno = 0;
	assert_int_equal(bytebuf_reserve(&b, 6001 - bytebuf_len(&b)), -1);
	assert_int_equal(errno, ENOBUFS);
	bytebuf_free(&b);
}

static void
test_grow_array(void **state)
{
	int *a = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(grow_array(&a, &cap, sizeof(*a), 1, 100), 0);
	assert_int_equal(cap, 16);
	for (int i = 0; i < 16; i++)
		a[i] = i;
	assert_int_equal(grow_array(&a, &cap, sizeof(*a), 16, 100), 0);
	assert_int_equal(cap, 16);
	assert_int_equal(grow_array(&a, &cap, sizeof(*a), 17, 100), 0);
	assert_int_equal(cap, 32);
	for (int i = 0; i < 16; i++)
		assert_int_equal(a[i], i);
	/* Doubling stops at the cap; past it: ENOBUFS. */
	assert_int_equal(grow_array(&a, &cap, sizeof(*a), 90, 100), 0);
	assert_int_equal(cap, 100);
	errno = 0;
	assert_int_equal(grow_array(&a, &cap, sizeof(*a), 101, 100), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(cap, 100);
	/* A size that overflows fails instead of allocating too little. */
	errno = 0;
	assert_int_equal(grow_array(&a, &cap, SIZE_MAX / 64, 200, SIZE_MAX),
	    -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(cap, 100);
	for (int i = 0; i < 16; i++)
		assert_int_equal(a[i], i);
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_consume),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_enomem),
		cmocka_unit_test(test_slide),
		cmocka_unit_test(test_give_back),
		cmocka_unit_test(test_read_into),
		cmocka_unit_test(test_grow_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
