/* Unit tests of the framer: BMP and BGP messages cut at every chunk boundary, resynchronisation after garbage and gaps, oversize headers, strict streams, the BGP OPEN finder. */
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bgp.h"
#include "bmp.h"
#include "framer.h"

#define MAX_SEEN	32

/* What the framer handed on, for the checks. */
struct seen {
	size_t	 n;
	uint8_t	 type[MAX_SEEN];
	size_t	 len[MAX_SEEN];
	uint8_t	 bytes[4096];	/* every message, back to back */
	size_t	 n_bytes;
	size_t	 skipped, skipped_said;	/* bytes passed over; of those, with a reason */
	size_t	 bad_at;		/* bad_header: bytes framed before it */
	size_t	 bad_len;
	int	 n_bad;
	int	 stop_at_type;	/* message returns -1 for this type (-1: never) */
};

static int
on_message(void *ctx, const uint8_t *msg, size_t len, uint8_t type)
{
	struct seen *s = ctx;

	assert_true(s->n < MAX_SEEN);
	s->type[s->n] = type;
	s->len[s->n++] = len;
	if (s->n_bytes + len <= sizeof(s->bytes)) {
		memcpy(s->bytes + s->n_bytes, msg, len);
		s->n_bytes += len;
	}
	return type == s->stop_at_type ? -1 : 0;
}

static void
on_skipped(void *ctx, size_t n, const char *why)
{
	struct seen *s = ctx;

	s->skipped += n;
	if (why != NULL)
		s->skipped_said += n;
}

static void
on_bad_header(void *ctx, const uint8_t *p, size_t len)
{
	struct seen *s = ctx;

	(void)p;
	s->n_bad++;
	s->bad_at = s->n_bytes;
	s->bad_len = len;
}

static const struct framer_ops resync_ops = {
	.message = on_message,
	.skipped = on_skipped,
};

static const struct framer_ops strict_ops = {
	.message = on_message,
	.skipped = on_skipped,
	.bad_header = on_bad_header,
};

/* ---- messages built by hand ---- */

static size_t
bmp_msg(uint8_t *p, uint8_t type, uint32_t len)
{
	p[0] = BMP_VERSION;
	p[1] = (uint8_t)(len >> 24);
	p[2] = (uint8_t)(len >> 16);
	p[3] = (uint8_t)(len >> 8);
	p[4] = (uint8_t)len;
	p[5] = type;
	for (uint32_t i = BMP_COMMON_HDR_LEN; i < len; i++)
		p[i] = (uint8_t)(i * 7 + type);	/* body bytes that are no header */
	return len;
}

static void
bgp_hdr(uint8_t *p, uint8_t type, uint16_t len)
{
	memset(p, 0xff, 16);
	p[16] = (uint8_t)(len >> 8);
	p[17] = (uint8_t)len;
	p[18] = type;
}

static size_t
bgp_msg(uint8_t *p, uint8_t type, uint16_t len)
{
	bgp_hdr(p, type, len);
	for (uint16_t i = BGP_HDR_LEN; i < len; i++)
		p[i] = (uint8_t)(i + type);
	return len;
}

/* BMP: Initiation, Peer Up, route monitoring, RPAT (a type past RFC 7854 goes by its length), Termination. */
static size_t
bmp_stream(uint8_t *p, uint8_t *types, size_t *lens)
{
	static const struct { uint8_t type; uint32_t len; } m[] = {
		{ BMP_INITIATION, 30 }, { BMP_PEER_UP, 120 },
		{ BMP_ROUTE_MONITORING, 90 }, { BMP_RPAT, 40 },
		{ BMP_TERMINATION, 6 },
	};
	size_t off = 0;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		types[i] = m[i].type;
		lens[i] = m[i].len;
		off += bmp_msg(p + off, m[i].type, m[i].len);
	}
	return off;
}

/* BGP: OPEN, KEEPALIVE, UPDATE, NOTIFICATION. */
static size_t
bgp_stream(uint8_t *p, uint8_t *types, size_t *lens)
{
	static const struct { uint8_t type; uint16_t len; } m[] = {
		{ BGP_OPEN, 45 }, { BGP_KEEPALIVE, 19 }, { BGP_UPDATE, 60 },
		{ BGP_NOTIFICATION, 21 },
	};
	size_t off = 0;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		types[i] = m[i].type;
		lens[i] = m[i].len;
		off += bgp_msg(p + off, m[i].type, m[i].len);
	}
	return off;
}

/* Feed p in chunks of `step` bytes (the last one shorter). */
static void
feed_in_steps(struct framer *f, const uint8_t *p, size_t len, size_t step)
{
	for (size_t off = 0; off < len; off += step) {
		struct stream_chunk c = { .data = p + off,
		    .len = len - off < step ? len - off : step };

		assert_int_equal(framer_feed(f, &c), 0);
	}
}

static void
feed_all(struct framer *f, const uint8_t *p, size_t len)
{
	feed_in_steps(f, p, len, len);
}

/* Every chunk size from 1 byte to the whole stream gives the same messages, and nothing is skipped. */
static void
check_every_split(const struct proto_framing *framing, const uint8_t *p,
    size_t len, const uint8_t *types, const size_t *lens, size_t n)
{
	for (size_t step = 1; step <= len; step++) {
		struct seen s = { .stop_at_type = -1 };
		struct framer f;

		framer_init(&f, framing, &resync_ops, &s);
		feed_in_steps(&f, p, len, step);
		assert_int_equal(s.n, n);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(s.type[i], types[i]);
			assert_int_equal(s.len[i], lens[i]);
		}
		assert_int_equal(s.n_bytes, len);
		assert_memory_equal(s.bytes, p, len);
		assert_int_equal(s.skipped, 0);
		assert_int_equal(framer_pending(&f), 0);
		framer_free(&f);
	}
}

static void
test_bmp_split_everywhere(void **state)
{
	uint8_t p[512], types[8];
	size_t lens[8], len = bmp_stream(p, types, lens);

	(void)state;
	check_every_split(bmp_proto.framing, p, len, types, lens, 5);
}

static void
test_bgp_split_everywhere(void **state)
{
	uint8_t p[512], types[8];
	size_t lens[8], len = bgp_stream(p, types, lens);

	(void)state;
	check_every_split(bgp_proto.framing, p, len, types, lens, 4);
}

/* A partial message waits; the end of the captures leaves it pending. */
static void
test_partial_pending(void **state)
{
	uint8_t p[64];
	size_t len = bgp_msg(p, BGP_UPDATE, 40);
	struct seen s = { .stop_at_type = -1 };
	struct framer f;

	(void)state;
	framer_init(&f, bgp_proto.framing, &resync_ops, &s);
	feed_all(&f, p, len - 1);
	assert_int_equal(s.n, 0);
	assert_int_equal(framer_pending(&f), len - 1);
	framer_discard(&f);
	assert_int_equal(framer_pending(&f), 0);
	framer_free(&f);
}

/* A stream that starts mid-message: the bytes before the first plausible header are passed over, with a reason. */
static void
test_resync_at_start(void **state)
{
	uint8_t p[600], types[8];
	size_t lens[8], len;
	struct seen s = { .stop_at_type = -1 };
	struct framer f;

	(void)state;
	memset(p, 0x42, 25);	/* neither a BMP version nor a BGP marker */
	len = 25 + bmp_stream(p + 25, types, lens);
	framer_init(&f, bmp_proto.framing, &resync_ops, &s);
	feed_in_steps(&f, p, len, 7);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.skipped, 25);
	assert_int_equal(s.skipped_said, 25);
	assert_memory_equal(s.bytes, p + 25, len - 25);
	framer_free(&f);
}

/* Garbage between messages: an impossible header is counted byte by byte, then the next message is found. */
static void
test_resync_after_garbage(void **state)
{
	uint8_t p[128];
	size_t len = 0;
	struct seen s = { .stop_at_type = -1 };
	struct framer f;

	(void)state;
	len += bgp_msg(p + len, BGP_KEEPALIVE, 19);
	memcpy(p + len, "\x00\x01\x02\x03\x04", 5);
	len += 5;
	len += bgp_msg(p + len, BGP_UPDATE, 30);
	framer_init(&f, bgp_proto.framing, &resync_ops, &s);
	feed_all(&f, p, len);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.type[0], BGP_KEEPALIVE);
	assert_int_equal(s.type[1], BGP_UPDATE);
	assert_int_equal(s.skipped, 5);
	assert_int_equal(s.skipped - s.skipped_said, 1);	/* the first byte: a bad header, counted */
	framer_free(&f);
}

/* A gap drops the message it cut, said with a reason; framing resumes at the next header. */
static void
test_gap_drops_partial(void **state)
{
	uint8_t a[64], b[64];
	size_t blen = bmp_msg(b, BMP_STATISTICS, 20);
	struct seen s = { .stop_at_type = -1 };
	struct framer f;
	struct stream_chunk c = { .data = b, .len = blen, .gap_before = true,
	    .gap_bytes = 100 };

	(void)state;
	(void)bmp_msg(a, BMP_ROUTE_MONITORING, 50);
	framer_init(&f, bmp_proto.framing, &resync_ops, &s);
	feed_all(&f, a, 30);	/* the first 30 of its 50 bytes */
	assert_int_equal(framer_pending(&f), 30);
	assert_int_equal(framer_feed(&f, &c), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.type[0], BMP_STATISTICS);
	assert_int_equal(s.skipped_said, 30);
	assert_int_equal(framer_pending(&f), 0);
	framer_free(&f);
}

/* A BMP length past the cap is no header: framing does not wait for 16 MiB, it resynchronises. */
static void
test_oversize_header(void **state)
{
	uint8_t p[64];
	size_t len = 0;
	struct seen s = { .stop_at_type = -1 };
	struct framer f;

	(void)state;
	len += bmp_msg(p, BMP_INITIATION, 10);
	p[len] = BMP_VERSION;	/* length 0x7f000000: past BMP_MAX_MSG_LEN */
	p[len + 1] = 0x7f;
	memset(p + len + 2, 0, 3);
	p[len + 5] = BMP_ROUTE_MONITORING;
	len += 6;
	len += bmp_msg(p + len, BMP_TERMINATION, 6);
	framer_init(&f, bmp_proto.framing, &resync_ops, &s);
	feed_all(&f, p, len);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.type[1], BMP_TERMINATION);
	assert_int_equal(s.skipped, 6);
	assert_int_equal(framer_pending(&f), 0);
	framer_free(&f);
}

/* A partial message that cannot be (more bytes than the largest message and the slack): dropped, with a reason. */
static void
test_longer_than_possible(void **state)
{
	size_t big = BGP_MAX_MSG_LEN + 70000;
	uint8_t *p = calloc(1, big), hdr[BGP_HDR_LEN];
	struct seen s = { .stop_at_type = -1 };
	struct framer f;
	struct stream_chunk c = { .data = p, .len = big };

	(void)state;
	assert_non_null(p);
	framer_init(&f, bgp_proto.framing, &resync_ops, &s);
	bgp_hdr(hdr, BGP_UPDATE, BGP_MAX_MSG_LEN);
	feed_all(&f, hdr, sizeof(hdr));
	assert_int_equal(framer_pending(&f), sizeof(hdr));
	assert_int_equal(framer_feed(&f, &c), 0);	/* zeros: no header anywhere */
	assert_int_equal(s.n, 0);
	assert_int_equal(s.skipped, sizeof(hdr) + big);
	assert_int_equal(s.skipped_said, sizeof(hdr) + big);
	assert_int_equal(framer_pending(&f), 0);
	framer_free(&f);
	free(p);
}

/* Strict (the sink): the stream starts at a message; the first bad header gets the rest, and nothing more is framed. */
static void
test_strict_stops(void **state)
{
	uint8_t p[128];
	size_t len = 0, at;
	struct seen s = { .stop_at_type = -1 };
	struct framer f;

	(void)state;
	len += bgp_msg(p + len, BGP_OPEN, 29);
	len += bgp_msg(p + len, BGP_KEEPALIVE, 19);
	at = len;
	memcpy(p + len, "\xff\x00garbage", 9);
	len += 9;
	len += bgp_msg(p + len, BGP_KEEPALIVE, 19);
	framer_init(&f, bgp_proto.framing, &strict_ops, &s);
	feed_in_steps(&f, p, len, 10);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.n_bad, 1);
	assert_int_equal(s.bad_at, at);
	/* Fed 10 bytes at a time: the bad header was judged once 19 bytes were there. */
	assert_true(s.bad_len >= BGP_HDR_LEN);
	assert_int_equal(s.skipped, 0);
	assert_int_equal(framer_pending(&f), 0);
	feed_all(&f, p, at);	/* later bytes are not framed */
	assert_int_equal(s.n, 2);
	framer_free(&f);
}

/* A strict stream does not look for a boundary: its first bytes must be a header. */
static void
test_strict_bad_start(void **state)
{
	uint8_t p[64];
	size_t len;
	struct seen s = { .stop_at_type = -1 };
	struct framer f;

	(void)state;
	p[0] = 0x42;
	len = 1 + bmp_msg(p + 1, BMP_INITIATION, 20);
	framer_init(&f, bmp_proto.framing, &strict_ops, &s);
	feed_all(&f, p, len);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.n_bad, 1);
	assert_int_equal(s.bad_len, len);
	framer_free(&f);
}

/* A message hook that returns -1 stops framing: framer_feed says so, and the message stays pending. */
static void
test_message_stops(void **state)
{
	uint8_t p[256], types[8];
	size_t lens[8], len = bgp_stream(p, types, lens);
	struct seen s = { .stop_at_type = BGP_KEEPALIVE };
	struct framer f;
	struct stream_chunk c = { .data = p, .len = len };

	(void)state;
	framer_init(&f, bgp_proto.framing, &resync_ops, &s);
	assert_int_equal(framer_feed(&f, &c), -1);
	assert_int_equal(s.n, 2);
	assert_int_equal(framer_pending(&f), len - lens[0]);
	framer_free(&f);
}

/* The first OPEN of a captured direction, after a KEEPALIVE, split over segments. */
static void
test_open_finder(void **state)
{
	uint8_t p[128];
	size_t len = 0, open_at;
	struct bgp_open_finder finder;
	struct tr_packet pkt;

	(void)state;
	memset(&finder, 0, sizeof(finder));
	len += bgp_msg(p + len, BGP_KEEPALIVE, 19);
	open_at = len;
	len += bgp_msg(p + len, BGP_OPEN, 40);
	len += bgp_msg(p + len, BGP_UPDATE, 30);
	for (size_t off = 0; off < len; off += 16) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.src.family = pkt.dst.family = AF_INET;
		pkt.sport = 179;
		pkt.dport = 40000;
		pkt.l4proto = TR_IPPROTO_TCP;
		pkt.tcp_seq = 1000 + (uint32_t)off;
		pkt.tcp_flags = TR_TCP_ACK;
		pkt.payload = p + off;
		pkt.payload_len = len - off < 16 ? len - off : 16;
		bgp_open_finder_push(&finder, &pkt);
	}
	assert_non_null(finder.open);
	assert_int_equal(finder.open_len, 40);
	assert_memory_equal(finder.open, p + open_at, 40);
	assert_null(finder.stream);	/* nothing more is read */
	bgp_open_finder_free(&finder);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bmp_split_everywhere),
		cmocka_unit_test(test_bgp_split_everywhere),
		cmocka_unit_test(test_partial_pending),
		cmocka_unit_test(test_resync_at_start),
		cmocka_unit_test(test_resync_after_garbage),
		cmocka_unit_test(test_gap_drops_partial),
		cmocka_unit_test(test_oversize_header),
		cmocka_unit_test(test_longer_than_possible),
		cmocka_unit_test(test_strict_stops),
		cmocka_unit_test(test_strict_bad_start),
		cmocka_unit_test(test_message_stops),
		cmocka_unit_test(test_open_finder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
