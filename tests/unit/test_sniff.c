/* The sniff window (sniff.c): what decides a TCP direction's protocol, and that every byte goes on once, in order, or is counted as passed over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"
#include "sniff.h"

/* What the hooks saw. */
struct seen {
	int	 decided;	/* -2: not yet */
	int	 decisions;
	int	 fail_decide;
	uint8_t	 out[3 * SNIFF_WINDOW];
	size_t	 out_len;
	int	 deliveries, gaps_delivered;
	size_t	 skipped;
};

static bool
any(int id)
{
	(void)id;
	return true;
}

static int
decide(void *ctx, int id)
{
	struct seen *s = ctx;

	s->decided = id;
	s->decisions++;
	return s->fail_decide ? -1 : 0;
}

static int
deliver(void *ctx, const struct stream_chunk *ch)
{
	struct seen *s = ctx;

	assert_int_not_equal(s->decided, -2);
	assert_true(s->out_len + ch->len <= sizeof(s->out));
	memcpy(s->out + s->out_len, ch->data, ch->len);
	s->out_len += ch->len;
	s->deliveries++;
	s->gaps_delivered += ch->gap_before;
	return 0;
}

static void
skipped(void *ctx, size_t n)
{
	((struct seen *)ctx)->skipped += n;
}

static const struct sniff_ops ops = {
	.wanted = any, .decide = decide, .deliver = deliver, .skipped = skipped,
};

static const uint8_t keepalive[19] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 19, 4,
};

static struct stream_chunk
chunk(const uint8_t *p, size_t len, bool gap)
{
	return (struct stream_chunk){ .data = p, .len = len, .gap_before = gap,
	    .gap_bytes = gap ? 100 : 0 };
}

/* A short direction decides when it ends, on what it held. */
static void
test_decides_at_the_end(void **state)
{
	struct seen s = { .decided = -2 };
	struct sniff sn = { 0 };
	struct stream_chunk ch = chunk(keepalive, sizeof(keepalive), false);
	(void)state;

	assert_int_equal(sniff_feed(&sn, &ops, &s, &ch), 0);
	assert_int_equal(sniff_feed(&sn, &ops, &s, &ch), 0);
	assert_int_equal(s.decisions, 0);
	assert_int_equal(sniff_finish(&sn, &ops, &s), 0);
	assert_int_equal(s.decisions, 1);
	assert_int_equal(s.decided, SECTION_BGP);
	assert_int_equal(s.out_len, 2 * sizeof(keepalive));
	assert_int_equal(s.deliveries, 1);
	assert_null(sn.held);
	/* Nothing held: nothing is called. */
	assert_int_equal(sniff_finish(&sn, &ops, &s), 0);
	assert_int_equal(s.decisions, 1);
}

/* A full window decides; the rest of the chunk that filled it follows, every byte once and in order. */
static void
test_full_window(void **state)
{
	struct seen s = { .decided = -2 };
	struct sniff sn = { 0 };
	static uint8_t bytes[SNIFF_WINDOW + 1000];
	struct stream_chunk a, b;
	(void)state;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 7 + 1);
	a = chunk(bytes, SNIFF_WINDOW - 10, false);
	b = chunk(bytes + SNIFF_WINDOW - 10, 1010, false);
	assert_int_equal(sniff_feed(&sn, &ops, &s, &a), 0);
	assert_int_equal(s.decisions, 0);
	assert_int_equal(sniff_feed(&sn, &ops, &s, &b), 0);
	assert_int_equal(s.decisions, 1);
	assert_int_equal(s.deliveries, 2);
	assert_int_equal(s.out_len, sizeof(bytes));
	assert_memory_equal(s.out, bytes, sizeof(bytes));
	assert_null(sn.held);
}

/* Bytes before a gap that frame as nothing are passed over; the window starts afresh after it. */
static void
test_gap_skips(void **state)
{
	struct seen s = { .decided = -2 };
	struct sniff sn = { 0 };
	static const uint8_t junk[7] = { 1, 2, 1, 2, 1, 2, 1 };
	struct stream_chunk a = chunk(junk, sizeof(junk), false);
	struct stream_chunk b = chunk(keepalive, sizeof(keepalive), true);
	(void)state;

	assert_int_equal(sniff_feed(&sn, &ops, &s, &a), 0);
	assert_int_equal(sniff_feed(&sn, &ops, &s, &b), 0);
	assert_int_equal(s.skipped, sizeof(junk));
	assert_int_equal(s.decisions, 0);
	assert_int_equal(sniff_finish(&sn, &ops, &s), 0);
	assert_int_equal(s.decided, SECTION_BGP);
	assert_int_equal(s.out_len, sizeof(keepalive));
	assert_int_equal(s.gaps_delivered, 1);	/* the held bytes follow the gap */
}

/* Messages before a gap decide at once; the chunk after the gap follows with its gap. */
static void
test_gap_decides(void **state)
{
	struct seen s = { .decided = -2 };
	struct sniff sn = { 0 };
	struct stream_chunk a = chunk(keepalive, sizeof(keepalive), false);
	struct stream_chunk b = chunk(keepalive, sizeof(keepalive), true);
	(void)state;

	assert_int_equal(sniff_feed(&sn, &ops, &s, &a), 0);
	assert_int_equal(sniff_feed(&sn, &ops, &s, &b), 0);
	assert_int_equal(s.decisions, 1);
	assert_int_equal(s.decided, SECTION_BGP);
	assert_int_equal(s.skipped, 0);
	assert_int_equal(s.deliveries, 2);
	assert_int_equal(s.gaps_delivered, 1);
	assert_null(sn.held);
}

/* Empty chunks change nothing; a decide hook's failure is the feed's. */
static void
test_empty_and_failure(void **state)
{
	struct seen s = { .decided = -2, .fail_decide = 1 };
	struct sniff sn = { 0 };
	struct stream_chunk e = chunk(keepalive, 0, true);
	struct stream_chunk a = chunk(keepalive, sizeof(keepalive), false);
	(void)state;

	assert_int_equal(sniff_feed(&sn, &ops, &s, &e), 0);
	assert_null(sn.held);
	assert_int_equal(sniff_feed(&sn, &ops, &s, &a), 0);
	assert_int_equal(sniff_finish(&sn, &ops, &s), -1);
	assert_int_equal(s.deliveries, 0);
	assert_null(sn.held);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decides_at_the_end),
		cmocka_unit_test(test_full_window),
		cmocka_unit_test(test_gap_skips),
		cmocka_unit_test(test_gap_decides),
		cmocka_unit_test(test_empty_and_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
