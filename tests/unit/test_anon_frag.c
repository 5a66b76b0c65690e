/* Fragmented UDP datagrams: held in order, rewritten whole, split back into the same fragments with the checksum right; given up when incomplete. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anon_addr.h"
#include "anon_frag.h"
#include "anon_frame.h"
#include "frame_build.h"
#include "source.h"

#define ETH_HDR		14
#define MAX_FRAMES	8
#define MAX_OUT		(ANON_FRAG_MAX_PER_DATAGRAM + 8)
#define FRAG_PAYLOAD	64	/* UDP bytes per fragment: 200 bytes of payload make 4 fragments */

static const uint8_t test_key[ANON_KEY_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

struct frame {
	uint8_t		 data[512];
	size_t		 len;
	uint64_t	 number;
};

/* What the queue wrote, and what the payload rewriter saw. */
struct sink {
	struct frame	 out[MAX_OUT];
	size_t		 n;
	size_t		 payloads;
	size_t		 payload_len;
	uint64_t	 payload_frame;
	uint64_t	 frame;		/* set by anon_frag before each rewrite */
};

/* A stand-in for a protocol's rewriter: every payload byte flipped (lengths kept). */
static void
flip(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] ^= 0x5a;
}

static int
on_payload(void *ctx, const struct anon_udp *d)
{
	struct sink *s = ctx;

	s->payloads++;
	s->payload_len = d->len;
	s->payload_frame = s->frame;
	flip(d->payload, d->len);
	return 0;
}

static int
on_write(void *ctx, const struct source_frame *f, const uint8_t *data)
{
	struct sink *s = ctx;

	assert_true(s->n < MAX_OUT);
	assert_true(f->caplen <= sizeof(s->out[0].data));
	memcpy(s->out[s->n].data, data, f->caplen);
	s->out[s->n].len = f->caplen;
	s->out[s->n].number = f->number;
	s->n++;
	return 0;
}

static uint8_t payload[200];

static struct frame_spec
spec_of(int family)
{
	struct frame_spec sp = { .link = FRAME_LINK_EN10MB,
	    .l4proto = FRAME_IPPROTO_UDP, .sport = 40000, .dport = 4739,
	    .ip_id = 0x1234, .payload = payload, .payload_len = sizeof(payload) };

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(addr_parse(family == 4 ? "192.0.2.1" : "2001:db8::1",
	    &sp.src), 0);
	assert_int_equal(addr_parse(family == 4 ? "198.51.100.2" :
	    "2001:db8::2", &sp.dst), 0);
	return sp;
}

/* The fragments of sp, as a capture holds them. */
static size_t
fragments(const struct frame_spec *sp, struct frame *f)
{
	size_t n = frame_frag_count(sp, FRAG_PAYLOAD);

	assert_true(n >= 2 && n <= MAX_FRAMES - 1);
	for (size_t i = 0; i < n; i++) {
		ssize_t len = frame_build_frag(sp, FRAG_PAYLOAD, i, f[i].data,
		    sizeof(f[i].data));

		assert_true(len > 0);
		f[i].len = (size_t)len;
	}
	return n;
}

/* anon_frame on a frame with no payload rewriter: what a fragment whose datagram was given up becomes. */
static void
headers_only(struct anon_addr *a, struct frame *f)
{
	struct anon_frame_stats st = { 0 };

	assert_int_equal(anon_frame(a, frame_link_dlt(FRAME_LINK_EN10MB),
	    f->data, (uint32_t)f->len, &(struct anon_frame_at){
	    .l3_offset = ETH_HDR, .arp_offset = SOURCE_NO_L3 }, &st), 0);
}

static struct anon_frag *
queue_new(struct anon_addr *a, struct sink *s, struct anon_frame_stats *fst,
    struct anon_frag_stats *st)
{
	struct anon_frag *q = anon_frag_new(&(struct anon_frag_out){
	    .addr = a, .frame_stats = fst, .stats = st,
	    .udp_payload = on_payload, .frame = &s->frame, .write = on_write,
	    .ctx = s });

	assert_non_null(q);
	return q;
}

static void
feed_at(struct anon_frag *q, struct frame *f, uint64_t number, tr_ns ts)
{
	assert_int_equal(anon_frag_frame(q, &(struct source_frame){
	    .number = number, .linktype = frame_link_dlt(FRAME_LINK_EN10MB),
	    .ts = ts, .caplen = (uint32_t)f->len,
	    .len = (uint32_t)f->len, .l3_offset = ETH_HDR,
	    .arp_offset = SOURCE_NO_L3 }, f->data), 0);
}

static void
feed(struct anon_frag *q, struct frame *f, uint64_t number)
{
	feed_at(q, f, number, (tr_ns)number * 1000);
}

/*
 * The fragments fed in the order given (with an unfragmented frame after
 * the first), the frames come out in that same order, each what frame_build
 * makes for the rewritten payload with its headers anonymized: so the
 * payload was rewritten whole, split back at the same offsets, and the UDP
 * checksum is right.
 */
static void
check_datagram(struct anon_addr *a, int family, const size_t *order)
{
	struct frame_spec sp = spec_of(family);
	struct frame in[MAX_FRAMES], want[MAX_FRAMES], other, other_want;
	struct frame_spec osp = spec_of(family);
	struct anon_frame_stats fst = { 0 };
	struct anon_frag_stats st = { 0 };
	struct sink *s = calloc(1, sizeof(*s));
	struct anon_frag *q;
	uint8_t flipped[sizeof(payload)], small[16];
	size_t n = fragments(&sp, in), k = 0;
	ssize_t olen;

	assert_non_null(s);
	q = queue_new(a, s, &fst, &st);
	/* Expected: the datagram built with the rewritten payload, its headers anonymized. */
	memcpy(flipped, payload, sizeof(flipped));
	flip(flipped, sizeof(flipped));
	sp.payload = flipped;
	assert_int_equal(fragments(&sp, want), n);
	for (size_t i = 0; i < n; i++)
		headers_only(a, &want[i]);
	/* A small datagram, not fragmented, between the first fragment and the rest. */
	osp.payload_len = 16;
	olen = frame_build(&osp, other.data, sizeof(other.data));
	assert_true(olen > 0);
	other.len = (size_t)olen;
	memcpy(small, payload, sizeof(small));
	flip(small, sizeof(small));
	osp.payload = small;
	assert_true(frame_build(&osp, other_want.data,
	    sizeof(other_want.data)) == olen);
	other_want.len = other.len;
	headers_only(a, &other_want);

	for (size_t i = 0; i < n; i++) {
		feed(q, &in[order[i]], ++k);
		if (i == 0) {
			feed(q, &other, ++k);
			assert_int_equal(s->n, 0);	/* held behind the fragment */
		}
	}
	assert_int_equal(anon_frag_flush(q), 0);
	assert_int_equal(s->n, n + 1);
	assert_int_equal(s->payloads, 2);
	assert_int_equal(s->payload_len, sizeof(payload));
	assert_int_equal(st.datagrams, 1);
	assert_int_equal(st.fragments, n);
	assert_int_equal(st.given_up, 0);
	for (size_t i = 0, j = 0; i < n + 1; i++) {
		const struct frame *w = i == 1 ? &other_want : &want[order[j]];

		assert_int_equal(s->out[i].number, i + 1);	/* capture order */
		assert_int_equal(s->out[i].len, w->len);
		assert_memory_equal(s->out[i].data, w->data, w->len);
		if (i != 1)
			j++;
	}
	anon_frag_free(q);
	free(s);
}

static void
test_in_order(void **state)
{
	static const size_t order[] = { 0, 1, 2, 3 };

	check_datagram(*state, 4, order);
	check_datagram(*state, 6, order);
}

static void
test_out_of_order(void **state)
{
	static const size_t order[] = { 3, 1, 0, 2 };

	check_datagram(*state, 4, order);
	check_datagram(*state, 6, order);
}

/* A datagram missing a fragment: at the end its frames come out in order, headers anonymized, payload as captured. */
static void
test_incomplete(void **state)
{
	struct anon_addr *a = *state;

	for (int family = 4; family <= 6; family += 2) {
		struct frame_spec sp = spec_of(family);
		struct frame in[MAX_FRAMES], want[MAX_FRAMES];
		struct anon_frame_stats fst = { 0 };
		struct anon_frag_stats st = { 0 };
		struct sink *s = calloc(1, sizeof(*s));
		struct anon_frag *q;
		size_t n = fragments(&sp, in);

		assert_non_null(s);
		q = queue_new(a, s, &fst, &st);
		memcpy(want, in, sizeof(want));
		for (size_t i = 0; i + 1 < n; i++) {
			headers_only(a, &want[i]);
			feed(q, &in[i], i + 1);
		}
		assert_int_equal(s->n, 0);
		assert_int_equal(anon_frag_flush(q), 0);
		assert_int_equal(s->n, n - 1);
		assert_int_equal(s->payloads, 0);
		assert_int_equal(st.given_up, n - 1);
		for (size_t i = 0; i + 1 < n; i++)
			assert_memory_equal(s->out[i].data, want[i].data,
			    want[i].len);
		anon_frag_free(q);
		free(s);
	}
}

/* Hostile: a fragment sent twice overlaps; the datagram is given up, nothing crashes, every frame comes out. */
static void
test_overlap(void **state)
{
	struct frame_spec sp = spec_of(4);
	struct frame in[MAX_FRAMES];
	struct anon_frame_stats fst = { 0 };
	struct anon_frag_stats st = { 0 };
	struct sink *s = calloc(1, sizeof(*s));
	struct anon_frag *q;
	size_t n = fragments(&sp, in), k = 0;

	assert_non_null(s);
	q = queue_new(*state, s, &fst, &st);
	feed(q, &in[1], ++k);
	feed(q, &in[1], ++k);
	for (size_t i = 0; i < n; i++)
		if (i != 1)
			feed(q, &in[i], ++k);
	assert_int_equal(anon_frag_flush(q), 0);
	assert_int_equal(s->n, k);
	assert_int_equal(s->payloads, 0);
	assert_int_equal(st.datagrams, 0);
	assert_int_equal(st.given_up, k);
	anon_frag_free(q);
	free(s);
}

/* A datagram whose last fragment comes past the timeout: its first one went out on time, headers only, and the rest cannot complete it. */
static void
test_timeout(void **state)
{
	struct frame_spec sp = spec_of(4);
	struct frame in[MAX_FRAMES];
	struct anon_frame_stats fst = { 0 };
	struct anon_frag_stats st = { 0 };
	struct sink *s = calloc(1, sizeof(*s));
	struct anon_frag *q;
	size_t n = fragments(&sp, in);

	assert_non_null(s);
	q = queue_new(*state, s, &fst, &st);
	feed_at(q, &in[0], 1, 0);
	for (size_t i = 1; i < n; i++)
		feed_at(q, &in[i], i + 1, ANON_FRAG_TIMEOUT_NS + 1);
	assert_true(s->n >= 1);		/* the first, given up when the second came */
	assert_int_equal(anon_frag_flush(q), 0);
	assert_int_equal(s->n, n);
	assert_int_equal(s->payloads, 0);
	assert_int_equal(st.given_up, n);
	assert_int_equal(st.over_bounds, 0);
	anon_frag_free(q);
	free(s);
}

/* Hostile: one fragment repeated past the cap on fragments per datagram; given up as a bound, every frame out in order. */
static void
test_per_datagram_cap(void **state)
{
	struct frame_spec sp = spec_of(6);
	struct frame in[MAX_FRAMES];
	struct anon_frame_stats fst = { 0 };
	struct anon_frag_stats st = { 0 };
	struct sink *s = calloc(1, sizeof(*s));
	struct anon_frag *q;
	size_t k = ANON_FRAG_MAX_PER_DATAGRAM + 1;

	assert_non_null(s);
	fragments(&sp, in);
	q = queue_new(*state, s, &fst, &st);
	for (size_t i = 1; i <= k; i++)
		feed(q, &in[1], i);
	assert_int_equal(st.over_bounds, 1);
	assert_int_equal(s->n, ANON_FRAG_MAX_PER_DATAGRAM);
	assert_int_equal(anon_frag_flush(q), 0);
	assert_int_equal(s->n, k);
	for (size_t i = 0; i < k; i++)
		assert_int_equal(s->out[i].number, i + 1);
	assert_int_equal(st.given_up, k);
	anon_frag_free(q);
	free(s);
}

static int
setup(void **state)
{
	*state = anon_addr_new(test_key);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	anon_addr_free(*state);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_per_datagram_cap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
