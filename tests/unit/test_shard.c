/* Unit tests for --shard and --start-at: K/N parsing, the stable hash's split, RFC 3339 and Unix seconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "shard.h"

static void
test_shard_parse(void **state)
{
	static const char *const bad[] = {
		"0/3", "4/3", "1/0", "0/0", "x", "", "/", "1/", "/3", "1/3x",
		"-1/3", "+1/3", " 1/3", "1/ 3", "1//3", "1/65537",
		"99999999999/3",
	};
	struct shard s = { 0, 0 };

	(void)state;
	assert_int_equal(shard_parse("1/4", &s), 0);
	assert_int_equal(s.k, 1);
	assert_int_equal(s.n, 4);
	assert_int_equal(shard_parse("4/4", &s), 0);
	assert_int_equal(s.k, 4);
	assert_int_equal(shard_parse("1/1", &s), 0);
	assert_int_equal(shard_parse("65536/65536", &s), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = (struct shard){ 7, 7 };
		assert_int_equal(shard_parse(bad[i], &s), -1);
		assert_int_equal(s.k, 7);	/* nothing written */
	}
}

static struct tr_addr
v6(const char *text)
{
	struct tr_addr a = { .family = AF_INET6 };

	assert_int_equal(inet_pton(AF_INET6, text, &a.v6), 1);
	return a;
}

/* Every exporter is in exactly one shard, the split is even, and not sharded keeps all. */
static void
test_shard_split(void **state)
{
	struct shard all = { 0, 0 }, one;
	unsigned count[4] = { 0 };

	(void)state;
	for (uint32_t i = 0; i < 10000; i++) {
		struct tr_addr a = addr_v4(0x0a000000u + i);	/* 10.0.0.0 on: nearby addresses */
		uint32_t k = shard_of(&a, 4), in = 0;

		assert_true(k >= 1 && k <= 4);
		count[k - 1]++;
		assert_true(shard_keeps(&all, &a));
		for (one.n = 4, one.k = 1; one.k <= 4; one.k++)
			in += shard_keeps(&one, &a);
		assert_int_equal(in, 1);
	}
	/* 2,500 each; a hash that kept nearby addresses together would miss by far more. */
	for (int k = 0; k < 4; k++)
		assert_true(count[k] > 2250 && count[k] < 2750);
	/* One shard of one takes everything. */
	one = (struct shard){ 1, 1 };
	{
		struct tr_addr a = v6("2001:db8::1");

		assert_true(shard_keeps(&one, &a));
		assert_int_equal(shard_of(&a, 1), 1);
	}
}

/*
 * The split must not change between versions: shards started from two
 * builds would overlap and miss exporters.  These values pin it.
 */
static void
test_shard_stable(void **state)
{
	struct tr_addr a = addr_v4(0xc0000201u);	/* 192.0.2.1 */
	struct tr_addr b = v6("2001:db8::1");

	(void)state;
	assert_int_equal(shard_of(&a, 1000), 997);
	assert_int_equal(shard_of(&b, 1000), 232);
}

static void
test_start_at_parse(void **state)
{
	static const char *const bad[] = {
		"", "garbage", "2026-12-03", "2026-12-03T20:00:00",
		"2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
		"2026-12-03T24:00:00Z", "2026-12-03T20:60:00Z",
		"2026-12-03T20:00:00Zx", "2026-12-03T20:00:00+2500",
		"2026-12-03T20:00:00+25:00", "2026-12-03T20:00:00.Z",
		"1.5.5", "-5", "1e9", "12 ", "0x10", "99999999999999",
		"1969-12-31T23:59:59Z",
	};
	tr_ns t;

	(void)state;
	assert_int_equal(start_at_parse("2026-12-03T20:00:00Z", &t), 0);
	assert_true(t == INT64_C(1796328000) * TR_NS_PER_SEC);
	assert_int_equal(start_at_parse("2026-12-03t20:00:00z", &t), 0);
	assert_true(t == INT64_C(1796328000) * TR_NS_PER_SEC);
	assert_int_equal(start_at_parse("2026-12-03T21:30:00+01:30", &t), 0);
	assert_true(t == INT64_C(1796328000) * TR_NS_PER_SEC);
	assert_int_equal(start_at_parse("2024-02-29T12:34:56.25Z", &t), 0);
	assert_true(t == INT64_C(1709210096) * TR_NS_PER_SEC + 250000000);
	assert_int_equal(start_at_parse("1796328000", &t), 0);
	assert_true(t == INT64_C(1796328000) * TR_NS_PER_SEC);
	assert_int_equal(start_at_parse("1796328000.5", &t), 0);
	assert_true(t == INT64_C(1796328000) * TR_NS_PER_SEC + 500000000);
	/* Digits past nanoseconds are dropped, not rounded into the next second. */
	assert_int_equal(start_at_parse("1796328000.9999999999", &t), 0);
	assert_true(t == INT64_C(1796328000) * TR_NS_PER_SEC + 999999999);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(start_at_parse(bad[i], &t), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shard_parse),
		cmocka_unit_test(test_shard_split),
		cmocka_unit_test(test_shard_stable),
		cmocka_unit_test(test_start_at_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
