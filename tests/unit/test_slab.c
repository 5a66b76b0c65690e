/* Unit tests for the slab: blocks per class, reuse, resize keeping bytes, slabs unmapped once empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bytebuf.h"
#include "slab.h"

#define MANY	600	/* more 4 KiB blocks than one slab holds (255) */

/* Blocks of every class are distinct, aligned to their size and writable whole. */
static void
test_classes(void **state)
{
	struct slab sl = { 0 };
	static const size_t sizes[] = { 1, 4096, 4097, 8192, 20000, 65536 };
	void *p[6];

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		size_t cls = 4096;

		while (cls < sizes[i])
			cls *= 2;
		assert_non_null(p[i] = slab_alloc(&sl, sizes[i]));
		assert_int_equal((uintptr_t)p[i] % cls, 0);
		memset(p[i], (int)i, sizes[i]);
	}
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(((uint8_t *)p[i])[sizes[i] - 1], i);
	for (size_t i = 0; i < 6; i++)
		slab_free(&sl, p[i], sizes[i]);
	assert_int_equal(sl.in_use, 0);
	slab_trim(&sl);
	assert_int_equal(sl.mapped, 0);
	slab_destroy(&sl);
}

/*
 * Many blocks over several slabs: all freed, only the one spare per class
 * stays mapped, and slab_trim gives it back too.
 */
static void
test_given_back(void **state)
{
	struct slab sl = { 0 };
	void **p = calloc(MANY, sizeof(*p));

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i < MANY; i++) {
		assert_non_null(p[i] = slab_alloc(&sl, 4096));
		memset(p[i], 0xa5, 4096);
		for (size_t j = 0; j < i; j += 97)
			assert_ptr_not_equal(p[i], p[j]);
	}
	assert_true(sl.mapped >= 3 * SLAB_BYTES);
	assert_int_equal(sl.in_use, (size_t)MANY * 4096);
	/* Freed in a scattered order, then taken again: the free blocks are reused. */
	for (size_t i = 0; i < MANY; i += 2)
		slab_free(&sl, p[i], 4096);
	size_t mapped = sl.mapped;
	for (size_t i = 0; i < MANY; i += 2)
		assert_non_null(p[i] = slab_alloc(&sl, 4096));
	assert_int_equal(sl.mapped, mapped);
	for (size_t i = 0; i < MANY; i++)
		slab_free(&sl, p[i], 4096);
	assert_int_equal(sl.in_use, 0);
	assert_int_equal(sl.mapped, SLAB_BYTES);	/* the spare */
	slab_trim(&sl);
	assert_int_equal(sl.mapped, 0);
	slab_destroy(&sl);
	free(p);
}

/* Resizing keeps the bytes across classes and to malloc's sizes and back. */
static void
test_resize(void **state)
{
	struct slab sl = { 0 };
	uint8_t *p = NULL;
	size_t size = 0;
	static const size_t steps[] = { 100, 4096, 8192, 65536, 131072, 262144,
	    131072, 16384, 4096 };

	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		size_t keep = size < steps[i] ? size : steps[i];

		assert_non_null(p = slab_resize(&sl, p, size, steps[i]));
		for (size_t j = 0; j < keep; j++)
			assert_int_equal(p[j], (uint8_t)(j * 7));
		for (size_t j = 0; j < steps[i]; j++)
			p[j] = (uint8_t)(j * 7);
		size = steps[i];
	}
	assert_null(slab_resize(&sl, p, size, 0));
	assert_int_equal(sl.in_use, 0);
	slab_destroy(&sl);
	assert_int_equal(sl.mapped, 0);
}

/* A bytebuf on a slab grows, consumes and frees through it. */
static void
test_bytebuf_on_slab(void **state)
{
	struct slab sl = { 0 };
	struct bytebuf b;
	uint8_t chunk[1000];
	size_t total = 0;

	(void)state;
	bytebuf_init(&b, SIZE_MAX);
	b.slab = &sl;
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	for (int i = 0; i < 300; i++, total += sizeof(chunk))
		assert_int_equal(bytebuf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(bytebuf_len(&b), total);
	assert_int_equal(bytebuf_data(&b)[total - 1], (uint8_t)(sizeof(chunk) - 1));
	bytebuf_consume(&b, total - 10);
	bytebuf_consume(&b, 10);	/* empty past BYTEBUF_KEEP: freed */
	assert_int_equal(bytebuf_append(&b, chunk, 10), 0);
	bytebuf_free(&b);
	assert_ptr_equal(b.slab, &sl);	/* stays on its slab */
	assert_int_equal(sl.in_use, 0);
	slab_destroy(&sl);
	assert_int_equal(sl.mapped, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_given_back),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_bytebuf_on_slab),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
