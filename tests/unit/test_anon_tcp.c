/* anonymize's TCP: a BGP direction cut into segments (out of order, overlapping, retransmitted, past a sequence wrap) gets, in every segment, exactly the bytes of its messages as the rewriter makes them whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anon_addr.h"
#include "anon_proto.h"
#include "anon_tcp.h"
#include "anon_text.h"
#include "bgp.h"
#include "bgp_anon.h"

static const uint8_t key[ANON_KEY_LEN] = {
	5, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
	216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
};

/* An OPEN and an UPDATE (NEXT_HOP, three prefixes), back to back, some 100 times over. */
static size_t
build_stream(uint8_t *s, size_t cap)
{
	static const uint8_t open[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0, 29, BGP_OPEN, 4, 0xfb, 0xf0, 0, 90, 192, 0, 2, 1, 0,
	};
	static const uint8_t update[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0, 46, BGP_UPDATE, 0, 0, 0, 7, 0x40, 3, 4, 198, 51, 100, 1,
		24, 203, 0, 113, 16, 10, 1, 32, 192, 0, 2, 77, 0, 0, 0, 0,
	};
	size_t n = 0;

	memcpy(s, open, sizeof(open));
	n = sizeof(open);
	while (n + sizeof(update) <= cap) {
		memcpy(s + n, update, sizeof(update));
		s[n + 38] = (uint8_t)n;		/* prefixes that differ */
		n += sizeof(update);
	}
	return n;
}

/* What the rewriter makes of the stream's messages, one by one. */
static void
rewrite_whole(const struct anon_rewriter *rw, uint8_t *s, size_t n)
{
	void *state = bgp_anon.new();

	assert_non_null(state);
	for (size_t at = 0; at < n; ) {
		size_t len = (size_t)s[at + 16] << 8 | s[at + 17];

		assert_int_equal(bgp_anon.message(state, rw, &(struct anon_msg){
		    .data = s + at, .len = len, .from_exporter = true }),
		    ANON_MSG_REWRITTEN);
		at += len;
	}
	bgp_anon.free(state);
}

struct seg {
	size_t	off, len;
	uint8_t	flags;
};

static struct tr_packet
packet(uint32_t isn, const uint8_t *s, const struct seg *g)
{
	struct tr_packet p = { .l4proto = TR_IPPROTO_TCP, .sport = 50000,
	    .dport = 179, .tcp_flags = g->flags | TR_TCP_ACK,
	    .payload = s + g->off, .payload_len = g->len };

	addr_parse("192.0.2.1", &p.src);
	addr_parse("192.0.2.9", &p.dst);
	/* The SYN occupies the ISN: data starts at isn + 1. */
	p.tcp_seq = g->flags & TR_TCP_SYN ? isn : isn + 1 + (uint32_t)g->off;
	if (g->flags & TR_TCP_SYN)
		p.tcp_flags = TR_TCP_SYN;
	return p;
}

static void
run(uint32_t isn)
{
	static uint8_t s[6000], want[6000], buf[6000];
	size_t n = build_stream(s, sizeof(s));
	struct seg segs[] = {
		{ 0, 0, TR_TCP_SYN },
		{ 0, 10, 0 },
		{ 50, 1000, 0 },		/* ahead of a hole: held */
		{ 10, 60, 0 },			/* fills it, overlapping */
		{ 1050, 2000, 0 },
		{ 0, 10, 0 },			/* a retransmission */
		{ 1000, 500, 0 },		/* another, overlapping two segments */
		{ 3050, n - 3050, TR_TCP_FIN },
	};
	struct anon_tcp_stats st = { 0 };
	struct anon_addr *a = anon_addr_new(key);
	struct anon_text *text = anon_text_new(key);
	struct anon_counts counts = { 0 };
	struct anon_rewriter rw = { .addr = a, .counts = &counts, .text = text };
	struct anon_tcp *t = anon_tcp_new(&rw, NULL, &st);
	size_t nsegs = sizeof(segs) / sizeof(segs[0]);

	assert_non_null(a);
	assert_non_null(t);
	memcpy(want, s, n);
	rewrite_whole(&rw, want, n);
	for (size_t i = 0; i < nsegs; i++) {
		struct tr_packet p = packet(isn, s, &segs[i]);

		assert_int_equal(anon_tcp_learn(t, &p), 0);
	}
	assert_int_equal(anon_tcp_learn_end(t), 0);
	assert_int_equal(st.rewritten[SECTION_BGP], (n - 29) / 46 + 1);
	assert_int_equal(st.skipped_bytes + st.unfinished_bytes, 0);
	for (size_t i = 0; i < nsegs; i++) {
		struct tr_packet p = packet(isn, s, &segs[i]);

		memcpy(buf, p.payload, p.payload_len);
		anon_tcp_patch(t, &p, buf);
		assert_memory_equal(buf, want + segs[i].off, segs[i].len);
	}
	anon_tcp_free(t);
	anon_text_free(text);
	anon_addr_free(a);
}

/*
 * A stream whose rewritten bytes fill several of anon_tcp's blocks in its
 * temporary file: segments in order, then retransmissions of the first
 * (back along the chain to its start), of one in the middle, and one that
 * spans blocks (forward again), each with exactly its messages' bytes.
 */
static void
test_blocks(void **state)
{
	enum { N = 600000, SEG = 1000 };
	static uint8_t s[N], want[N], buf[N];
	size_t n = build_stream(s, sizeof(s));
	const struct seg late[] = {
		{ 0, SEG, 0 }, { n / 2, SEG, 0 }, { 0, n, 0 },
		{ n / 3, n / 3, 0 }, { n - SEG, SEG, 0 },
	};
	struct anon_tcp_stats st = { 0 };
	struct anon_addr *a = anon_addr_new(key);
	struct anon_text *text = anon_text_new(key);
	struct anon_counts counts = { 0 };
	struct anon_rewriter rw = { .addr = a, .counts = &counts, .text = text };
	struct anon_tcp *t = anon_tcp_new(&rw, NULL, &st);
	struct seg g = { 0, 0, TR_TCP_SYN };
	struct tr_packet p;

	(void)state;
	assert_non_null(a);
	assert_non_null(t);
	memcpy(want, s, n);
	rewrite_whole(&rw, want, n);
	/* Pass 1: the SYN, the stream in order, the late segments. */
	p = packet(7, s, &g);
	assert_int_equal(anon_tcp_learn(t, &p), 0);
	for (size_t off = 0; off < n; off += SEG) {
		g = (struct seg){ off, n - off < SEG ? n - off : SEG, 0 };
		p = packet(7, s, &g);
		assert_int_equal(anon_tcp_learn(t, &p), 0);
	}
	for (size_t i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
		p = packet(7, s, &late[i]);
		assert_int_equal(anon_tcp_learn(t, &p), 0);
	}
	assert_int_equal(anon_tcp_learn_end(t), 0);
	assert_int_equal(st.rewritten[SECTION_BGP], (n - 29) / 46 + 1);
	/* Pass 2: the same packets, each patched. */
	g = (struct seg){ 0, 0, TR_TCP_SYN };
	p = packet(7, s, &g);
	assert_int_equal(anon_tcp_patch(t, &p, buf), 0);
	for (size_t off = 0; off < n; off += SEG) {
		g = (struct seg){ off, n - off < SEG ? n - off : SEG, 0 };
		p = packet(7, s, &g);
		memcpy(buf, p.payload, p.payload_len);
		assert_int_equal(anon_tcp_patch(t, &p, buf), 0);
		assert_memory_equal(buf, want + off, g.len);
	}
	for (size_t i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
		p = packet(7, s, &late[i]);
		memcpy(buf, p.payload, p.payload_len);
		assert_int_equal(anon_tcp_patch(t, &p, buf), 0);
		assert_memory_equal(buf, want + late[i].off, late[i].len);
	}
	anon_tcp_free(t);
	anon_text_free(text);
	anon_addr_free(a);
}

static void
test_segments(void **state)
{
	(void)state;
	run(1000);
}

/* The same across the 2^32 wrap of sequence numbers. */
static void
test_wrap(void **state)
{
	(void)state;
	run(UINT32_MAX - 1500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
