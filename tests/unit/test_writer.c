/* Unit tests for the writer: puts, the sticky overflow, patches in and out of range, the in-place helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cursor.h"
#include "writer.h"

/* Every put writes big-endian where the cursor reads it back. */
static void
test_puts(void **state)
{
	static const uint8_t want[] = {
		0x01,
		0x02, 0x03,
		0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		'a', 'b', 'c',
		0x00, 0x00,
	};
	uint8_t buf[sizeof(want)];
	struct writer w;
	struct cursor c;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	w = wr_init(buf, sizeof(buf));
	assert_true(wr_ok(&w));
	assert_int_equal(wr_len(&w), 0);
	put_u8(&w, 0x01);
	put_u16(&w, 0x0203);
	put_u32(&w, 0x04050607);
	put_u64(&w, 0x08090a0b0c0d0e0fULL);
	put_bytes(&w, "abc", 3);
	put_bytes(&w, NULL, 0);		/* nothing to copy, nothing read */
	put_zero(&w, 2);
	assert_true(wr_ok(&w));
	assert_int_equal(wr_len(&w), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	/* Exactly full is fine; a zero-length put still fits. */
	put_bytes(&w, "", 0);
	put_zero(&w, 0);
	assert_true(wr_ok(&w));

	c = cur_init(buf, sizeof(buf));
	assert_int_equal(cur_u8(&c), 0x01);
	assert_int_equal(cur_u16(&c), 0x0203);
	assert_int_equal(cur_u32(&c), 0x04050607);
	assert_int_equal(cur_u32(&c), 0x08090a0b);
	assert_true(cur_ok(&c));
}

/*
 * Each put that does not fit, one byte short: nothing of it is written, the
 * writer goes bad and stays bad, and later puts that would fit do nothing.
 */
static void
test_overflow_sticky(void **state)
{
	static const struct {
		const char	*name;
		size_t		 need;
	} cases[] = {
		{ "u8", 1 }, { "u16", 2 }, { "u32", 4 }, { "u64", 8 },
		{ "bytes", 5 }, { "zero", 3 }, { "reserve", 6 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[16], untouched[16];
		struct writer w;
		size_t room = 3 + cases[i].need - 1;

		memset(buf, 0xee, sizeof(buf));
		memcpy(untouched, buf, sizeof(buf));
		w = wr_init(buf, room);
		put_bytes(&w, "xyz", 3);
		switch (i) {
		case 0: put_u8(&w, 0x11); break;
		case 1: put_u16(&w, 0x1122); break;
		case 2: put_u32(&w, 0x11223344); break;
		case 3: put_u64(&w, 0x1122334455667788ULL); break;
		case 4: put_bytes(&w, "12345", 5); break;
		case 5: put_zero(&w, 3); break;
		default: assert_null(wr_reserve(&w, 6)); break;
		}
		if (wr_ok(&w))
			fail_msg("%s: a put one byte too big fit",
			    cases[i].name);
		assert_int_equal(wr_len(&w), 3);
		assert_memory_equal(buf + 3, untouched + 3, sizeof(buf) - 3);

		/* Sticky: a put that fits now does nothing. */
		put_u8(&w, 0x22);
		put_bytes(&w, "", 0);
		assert_null(wr_reserve(&w, 0));
		assert_false(wr_ok(&w));
		assert_int_equal(wr_len(&w), 3);
		assert_memory_equal(buf + 3, untouched + 3, sizeof(buf) - 3);

		/* So do patches and taking back. */
		patch_u8(&w, 0, 0x33);
		wr_truncate(&w, 1);
		assert_int_equal(buf[0], 'x');
		assert_int_equal(wr_len(&w), 3);
		assert_false(wr_ok(&w));
	}
}

/* A writer over no room at all fails its first put. */
static void
test_empty(void **state)
{
	uint8_t buf[1];
	struct writer w = wr_init(buf, 0);

	(void)state;
	put_bytes(&w, NULL, 0);
	assert_true(wr_ok(&w));
	put_u8(&w, 1);
	assert_false(wr_ok(&w));
	assert_int_equal(wr_len(&w), 0);
}

/* Patches inside what was written land there; those reaching past it mark the writer bad. */
static void
test_patches(void **state)
{
	static const struct {
		int	width;
		size_t	at;
		bool	ok;
	} cases[] = {
		{ 1, 0, true }, { 1, 7, true }, { 1, 8, false },
		{ 2, 0, true }, { 2, 6, true }, { 2, 7, false },
		{ 2, 8, false },
		{ 4, 0, true }, { 4, 4, true }, { 4, 5, false },
		{ 4, SIZE_MAX, false }, { 2, SIZE_MAX - 1, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[16], before[16];
		struct writer w = wr_init(buf, sizeof(buf));

		memset(buf, 0, sizeof(buf));
		put_zero(&w, 8);	/* 8 written, 8 more of room */
		memcpy(before, buf, sizeof(buf));
		switch (cases[i].width) {
		case 1: patch_u8(&w, cases[i].at, 0xa1); break;
		case 2: patch_u16(&w, cases[i].at, 0xa1b2); break;
		default: patch_u32(&w, cases[i].at, 0xa1b2c3d4); break;
		}
		if (wr_ok(&w) != cases[i].ok)
			fail_msg("patch_u%d at %zu: ok %d, want %d",
			    cases[i].width * 8, cases[i].at, wr_ok(&w),
			    cases[i].ok);
		assert_int_equal(wr_len(&w), 8);
		if (!cases[i].ok) {
			assert_memory_equal(buf, before, sizeof(buf));
			continue;
		}
		assert_int_equal(buf[cases[i].at], 0xa1);
		if (cases[i].width >= 2)
			assert_int_equal(buf[cases[i].at + 1], 0xb2);
		if (cases[i].width == 4) {
			assert_int_equal(buf[cases[i].at + 2], 0xc3);
			assert_int_equal(buf[cases[i].at + 3], 0xd4);
		}
	}
}

/* A length field written as 0 and patched once the message is complete. */
static void
test_patch_length(void **state)
{
	static const uint8_t want[] = { 0x00, 0x07, 0x00, 0x00, 0x00, 0x07,
	    0xff };
	uint8_t buf[32];
	struct writer w = wr_init(buf, sizeof(buf));
	size_t len_at;

	(void)state;
	len_at = wr_len(&w);
	put_u16(&w, 0);
	put_u32(&w, 0);
	put_u8(&w, 0xff);
	patch_u16(&w, len_at, (uint16_t)wr_len(&w));
	patch_u32(&w, len_at + 2, (uint32_t)wr_len(&w));
	assert_true(wr_ok(&w));
	assert_int_equal(wr_len(&w), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* Taking back shrinks; "taking back" to more than was written is a bug. */
static void
test_truncate(void **state)
{
	uint8_t buf[8];
	struct writer w = wr_init(buf, sizeof(buf));

	(void)state;
	put_u32(&w, 0x01020304);
	wr_truncate(&w, 4);
	assert_int_equal(wr_len(&w), 4);
	wr_truncate(&w, 1);
	assert_int_equal(wr_len(&w), 1);
	put_u8(&w, 0x09);		/* written over what was taken back */
	assert_int_equal(buf[1], 0x09);
	assert_true(wr_ok(&w));
	patch_u8(&w, 2, 0);		/* no longer written: out of range */
	assert_false(wr_ok(&w));

	w = wr_init(buf, sizeof(buf));
	put_u16(&w, 0);
	wr_truncate(&w, 3);
	assert_false(wr_ok(&w));
	assert_int_equal(wr_len(&w), 2);
}

/* wr_reserve hands out the next bytes to fill in place, counted as written. */
static void
test_reserve(void **state)
{
	uint8_t buf[8], *at;
	struct writer w = wr_init(buf, sizeof(buf));

	(void)state;
	put_u8(&w, 0x10);
	at = wr_reserve(&w, 3);
	assert_ptr_equal(at, buf + 1);
	at[0] = 1;
	at[1] = 2;
	at[2] = 3;
	put_u8(&w, 0x20);
	assert_int_equal(wr_len(&w), 5);
	assert_memory_equal(buf, ((const uint8_t[]){ 0x10, 1, 2, 3, 0x20 }),
	    5);
	assert_null(wr_reserve(&w, 4));
	assert_false(wr_ok(&w));
}

/* The in-place helpers agree with the puts and with each other. */
static void
test_in_place(void **state)
{
	uint8_t b[8];

	(void)state;
	be16_store(b, 0xfedc);
	assert_int_equal(b[0], 0xfe);
	assert_int_equal(b[1], 0xdc);
	assert_int_equal(be16_load(b), 0xfedc);
	be32_store(b, 0x89abcdef);
	assert_memory_equal(b, ((const uint8_t[]){ 0x89, 0xab, 0xcd, 0xef }),
	    4);
	assert_int_equal(be32_load(b), 0x89abcdef);
	be64_store(b, 0x8000000000000001ULL);
	assert_memory_equal(b, ((const uint8_t[]){ 0x80, 0, 0, 0, 0, 0, 0,
	    1 }), 8);
	assert_true(be64_load(b) == 0x8000000000000001ULL);
	be64_store(b, UINT64_MAX);
	assert_true(be64_load(b) == UINT64_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_puts),
		cmocka_unit_test(test_overflow_sticky),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_patches),
		cmocka_unit_test(test_patch_length),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
