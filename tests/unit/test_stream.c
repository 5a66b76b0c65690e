/* Unit tests of TCP reassembly: crafted segment sequences, zero copy, huge segments, randomized captures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stream.h"

#define S	TR_TCP_SYN
#define F	(TR_TCP_FIN | TR_TCP_ACK)
#define R	TR_TCP_RST
#define D	(TR_TCP_PSH | TR_TCP_ACK)
#define A	TR_TCP_ACK

struct seg {
	uint8_t		 flags;
	uint32_t	 seq;	/* relative to the case's base */
	const char	*data;	/* NULL: no payload */
};

struct expect_stats {
	uint64_t	bytes;
	uint64_t	retransmitted;
	uint64_t	out_of_order;
	uint64_t	gaps;
	uint64_t	gap_bytes;
	uint64_t	overlap_conflicts;
};

/*
 * `want` renders every chunk as "[gap N]" when gap_before is set, then its
 * data, then "|": chunk boundaries are part of what is checked, so a hole
 * that fills must come out as one chunk.
 */
struct stream_case {
	const char		*name;
	size_t			 max_held;
	bool			 finish;
	struct seg		 segs[12];
	const char		*want;
	struct expect_stats	 st;
	bool			 closed;
};

#define BIG	(1 << 20)

static const struct stream_case cases[] = {
	{ "in order, mid-stream", BIG, false,
	    { { D, 100, "hello" }, { D, 105, " world" } },
	    "hello| world|", { .bytes = 11 }, false },
	{ "SYN then data", BIG, false,
	    { { S, 0, NULL }, { A, 1, NULL }, { D, 1, "abc" }, { D, 4, "def" } },
	    "abc|def|", { .bytes = 6 }, false },
	{ "SYN retransmitted, before and after data", BIG, false,
	    { { S, 0, NULL }, { S, 0, NULL }, { D, 1, "ab" }, { S, 0, NULL } },
	    "ab|", { .bytes = 2 }, false },
	{ "SYN carrying data: data at the SYN's own seq", BIG, false,
	    { { S | D, 1, "abc" }, { D, 4, "def" }, { S | D, 1, "abc" } },
	    "abc|def|", { .bytes = 6, .retransmitted = 3 }, false },
	{ "mid-stream: pure ACKs before the first payload", BIG, false,
	    { { A, 50, NULL }, { A, 70, NULL }, { D, 100, "abc" }, { D, 103, "d" } },
	    "abc|d|", { .bytes = 4 }, false },
	{ "whole segment retransmitted", BIG, false,
	    { { D, 1, "abc" }, { D, 4, "def" }, { D, 1, "abc" }, { D, 4, "def" },
	      { D, 7, "g" } },
	    "abc|def|g|", { .bytes = 7, .retransmitted = 6 }, false },
	{ "partial overlap: only the new tail", BIG, false,
	    { { D, 1, "abc" }, { D, 2, "bcdef" }, { D, 1, "abcdefgh" } },
	    "abc|def|gh|", { .bytes = 8, .retransmitted = 8 }, false },
	{ "keep-alive probe with one stale byte", BIG, false,
	    { { D, 1, "abc" }, { A, 3, "x" }, { A, 3, "x" }, { D, 4, "def" } },
	    "abc|def|", { .bytes = 6, .retransmitted = 2 }, false },
	{ "keep-alive probe with no byte", BIG, false,
	    { { D, 1, "abc" }, { A, 3, "" }, { A, 3, NULL }, { D, 4, "d" } },
	    "abc|d|", { .bytes = 4 }, false },
	{ "zero-window probe carries the next byte, then it is resent", BIG, false,
	    { { D, 1, "abc" }, { A, 4, "d" }, { A, 4, "d" }, { D, 4, "def" } },
	    "abc|d|ef|", { .bytes = 6, .retransmitted = 2 }, false },
	{ "out of order 2-1: one chunk", BIG, false,
	    { { S, 0, NULL }, { D, 4, "def" }, { D, 1, "abc" } },
	    "abcdef|", { .bytes = 6, .out_of_order = 1 }, false },
	{ "out of order 3-1-2", BIG, false,
	    { { S, 0, NULL }, { D, 7, "ghi" }, { D, 1, "abc" }, { D, 4, "def" } },
	    "abc|defghi|", { .bytes = 9, .out_of_order = 1 }, false },
	{ "out of order after a start: 1-3-2", BIG, false,
	    { { D, 1, "abc" }, { D, 7, "ghi" }, { D, 4, "def" } },
	    "abc|defghi|", { .bytes = 9, .out_of_order = 1 }, false },
	{ "the filler overlaps both neighbours", BIG, false,
	    { { D, 1, "a" }, { D, 8, "hij" }, { D, 2, "bc" }, { D, 3, "cdefghi" } },
	    "a|bc|defghij|",
	    { .bytes = 10, .retransmitted = 3, .out_of_order = 1 }, false },
	{ "filler overlapping two held pieces", BIG, false,
	    { { D, 1, "ab" }, { D, 5, "ef" }, { D, 9, "ij" }, { D, 3, "cdefghijk" } },
	    "ab|cdefghijk|",
	    { .bytes = 11, .retransmitted = 4, .out_of_order = 2 }, false },
	{ "held pieces merge around a later overlapping one", BIG, false,
	    { { D, 1, "a" }, { D, 4, "d" }, { D, 8, "h" }, { D, 3, "cdefghi" },
	      { D, 6, "fg" }, { D, 2, "b" } },
	    "a|bcdefghi|",
	    { .bytes = 9, .retransmitted = 4, .out_of_order = 3 }, false },
	{ "conflict with held bytes: first copy wins", BIG, false,
	    { { D, 1, "a" }, { D, 3, "cd" }, { D, 3, "XY" }, { D, 4, "dZ" },
	      { D, 2, "b" } },
	    "a|bcdZ|",
	    { .bytes = 5, .retransmitted = 3, .out_of_order = 2,
	      .overlap_conflicts = 2 }, false },
	{ "conflict when the filler overlaps held bytes", BIG, false,
	    { { D, 1, "a" }, { D, 3, "cd" }, { D, 2, "bXd" } },
	    "a|bcd|",
	    { .bytes = 4, .retransmitted = 2, .out_of_order = 1,
	      .overlap_conflicts = 1 }, false },
	{ "delivered bytes are not kept: no conflict against them", BIG, false,
	    { { D, 1, "abc" }, { D, 1, "aXc" } },
	    "abc|", { .bytes = 3, .retransmitted = 3 }, false },
	{ "max_held overflow: gap chunk carries the run after the hole", 10, false,
	    { { D, 1, "aaaaa" }, { D, 11, "bbbbb" }, { D, 16, "ccccccc" },
	      { D, 6, "hole" }, { D, 23, "d" } },
	    "aaaaa|[gap 5]bbbbbccccccc|d|",
	    { .bytes = 18, .retransmitted = 4, .out_of_order = 2, .gaps = 1,
	      .gap_bytes = 5 }, false },
	{ "max_held overflow needing two gaps", 10, true,
	    { { D, 1, "aa" }, { D, 5, "x" }, { D, 9, "yyyyyyyy" }, { D, 21, "zzzzz" } },
	    "aa|[gap 2]x|[gap 3]yyyyyyyy|[gap 4]zzzzz|",
	    { .bytes = 16, .out_of_order = 3, .gaps = 3, .gap_bytes = 9 }, false },
	{ "max_held overflow discarding a small run between holes", 6, true,
	    { { D, 1, "aa" }, { D, 5, "x" }, { D, 9, "yy" }, { D, 13, "www" },
	      { D, 21, "zzzzzz" } },
	    "aa|[gap 2]x|[gap 7]www|[gap 5]zzzzzz|",
	    { .bytes = 12, .out_of_order = 4, .gaps = 3, .gap_bytes = 14 }, false },
	{ "max_held 0: every hole is a gap at once", 0, false,
	    { { D, 1, "a" }, { D, 3, "c" }, { D, 2, "b" }, { D, 4, "d" } },
	    "a|[gap 1]c|d|",
	    { .bytes = 3, .retransmitted = 1, .out_of_order = 1, .gaps = 1,
	      .gap_bytes = 1 }, false },
	{ "gap at finish: the hole never fills", BIG, true,
	    { { D, 1, "abc" }, { D, 7, "ghi" } },
	    "abc|[gap 3]ghi|",
	    { .bytes = 6, .out_of_order = 1, .gaps = 1, .gap_bytes = 3 }, false },
	{ "finish with three holes", BIG, true,
	    { { D, 1, "a" }, { D, 3, "c" }, { D, 5, "e" }, { D, 7, "gh" } },
	    "a|[gap 1]c|[gap 1]e|[gap 1]gh|",
	    { .bytes = 5, .out_of_order = 3, .gaps = 3, .gap_bytes = 3 }, false },
	{ "finish with nothing held", BIG, true,
	    { { D, 1, "abc" } }, "abc|", { .bytes = 3 }, false },
	{ "FIN with data", BIG, false,
	    { { D, 1, "abc" }, { F, 4, "def" } },
	    "abc|def|", { .bytes = 6 }, true },
	{ "data after FIN ignored", BIG, false,
	    { { D, 1, "abc" }, { F, 4, "de" }, { D, 6, "xyz" }, { D, 1, "abcdefg" } },
	    "abc|de|", { .bytes = 5 }, true },
	{ "FIN ahead of a hole closes when the hole fills", BIG, false,
	    { { D, 1, "a" }, { D, 5, "zz" }, { F, 3, "c" }, { D, 4, "q" },
	      { D, 2, "b" } },
	    "a|bc|", { .bytes = 3, .out_of_order = 2 }, true },
	{ "FIN trims a held piece that runs past it", BIG, false,
	    { { D, 1, "a" }, { D, 3, "cdef" }, { F, 4, "d" }, { D, 2, "b" } },
	    "a|bcd|", { .bytes = 4, .retransmitted = 1, .out_of_order = 1 }, true },
	{ "FIN trims a later segment that runs past it", BIG, false,
	    { { D, 1, "a" }, { F, 4, "d" }, { D, 2, "bcdefg" } },
	    "a|bcd|", { .bytes = 4, .retransmitted = 1, .out_of_order = 1 }, true },
	{ "FIN beyond a hole that never fills", BIG, true,
	    { { D, 1, "a" }, { F, 5, "e" } },
	    "a|[gap 3]e|",
	    { .bytes = 2, .out_of_order = 1, .gaps = 1, .gap_bytes = 3 }, true },
	{ "bare FIN beyond a hole: an empty gap chunk", BIG, true,
	    { { D, 1, "a" }, { F, 5, NULL } },
	    "a|[gap 3]|", { .bytes = 1, .gaps = 1, .gap_bytes = 3 }, true },
	{ "FIN retransmitted, in-order bare FIN", BIG, false,
	    { { D, 1, "ab" }, { F, 3, NULL }, { F, 3, NULL } },
	    "ab|", { .bytes = 2 }, true },
	{ "RST: its payload and later segments ignored", BIG, false,
	    { { D, 1, "ab" }, { R | A, 3, "xx" }, { D, 3, "cd" } },
	    "ab|", { .bytes = 2 }, true },
	{ "RST keeps held bytes for finish", BIG, true,
	    { { D, 1, "a" }, { D, 3, "c" }, { R, 4, NULL } },
	    "a|[gap 1]c|",
	    { .bytes = 2, .out_of_order = 1, .gaps = 1, .gap_bytes = 1 }, true },
	{ "nothing but ACKs", BIG, true,
	    { { A, 1, NULL }, { A, 1, NULL } }, "", { 0 }, false },
	{ "bare FIN before any data", BIG, true,
	    { { F, 1, NULL } }, "", { 0 }, true },
};

/* Every case runs at these bases: plain, across 2^32, across 2^31. */
static const uint32_t bases[] = { 0, 1000, 0xfffffff0u, 0xfffffffdu, 0x7ffffff8u };

static size_t
count_segs(const struct stream_case *c)
{
	size_t	n = 0;

	while (n < sizeof(c->segs) / sizeof(c->segs[0]) && c->segs[n].flags != 0)
		n++;
	return n;
}

static void
render(FILE *f, const struct stream_chunk *out, int n)
{
	assert_in_range(n, 0, 2);
	for (int i = 0; i < n; i++) {
		assert_non_null(out[i].data);
		if (out[i].gap_before)
			fprintf(f, "[gap %llu]", (unsigned long long)out[i].gap_bytes);
		else
			assert_int_equal(out[i].gap_bytes, 0);
		fwrite(out[i].data, 1, out[i].len, f);
		fputc('|', f);
	}
}

static void
run_case(const struct stream_case *c, uint32_t base)
{
	struct stream			*s = stream_new(c->max_held);
	const struct stream_stats	*st;
	struct stream_chunk		 out[2];
	struct tr_packet		 pkt;
	char				*got = NULL;
	size_t				 got_len = 0, n = count_segs(c);
	FILE				*f = open_memstream(&got, &got_len);
	int				 r, rounds = 0;

	assert_non_null(s);
	assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.frame = i + 1;
		pkt.l4proto = TR_IPPROTO_TCP;
		pkt.tcp_flags = c->segs[i].flags;
		pkt.tcp_seq = base + c->segs[i].seq;
		pkt.payload = (const uint8_t *)c->segs[i].data;
		pkt.payload_len = c->segs[i].data ? strlen(c->segs[i].data) : 0;
		r = stream_push(s, &pkt, out);
		assert_int_not_equal(r, -1);
		render(f, out, r);
	}
	if (c->finish) {
		while ((r = stream_finish(s, out)) > 0) {
			render(f, out, r);
			assert_true(++rounds < 100);
		}
		assert_int_equal(r, 0);
	}
	fclose(f);
	st = stream_stats(s);
	if (strcmp(got, c->want) != 0)
		fail_msg("%s (base %#x): got \"%s\", want \"%s\"", c->name,
		    base, got, c->want);
	if (st->segments != n || st->bytes != c->st.bytes ||
	    st->retransmitted != c->st.retransmitted ||
	    st->out_of_order != c->st.out_of_order ||
	    st->gaps != c->st.gaps || st->gap_bytes != c->st.gap_bytes ||
	    st->overlap_conflicts != c->st.overlap_conflicts ||
	    stream_closed(s) != c->closed)
		fail_msg("%s (base %#x): segments %llu bytes %llu retransmitted %llu "
		    "out_of_order %llu gaps %llu gap_bytes %llu conflicts %llu "
		    "closed %d", c->name, base,
		    (unsigned long long)st->segments,
		    (unsigned long long)st->bytes,
		    (unsigned long long)st->retransmitted,
		    (unsigned long long)st->out_of_order,
		    (unsigned long long)st->gaps,
		    (unsigned long long)st->gap_bytes,
		    (unsigned long long)st->overlap_conflicts,
		    stream_closed(s));
	free(got);
	stream_free(s);
}

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
			run_case(&cases[i], bases[b]);
}

static struct tr_packet
seg_pkt(uint8_t flags, uint32_t seq, const uint8_t *data, size_t len)
{
	return (struct tr_packet){ .l4proto = TR_IPPROTO_TCP, .tcp_flags = flags,
	    .tcp_seq = seq, .payload = data, .payload_len = len };
}

/* The common case hands out the packet's own payload: no copy. */
static void
test_zero_copy(void **state)
{
	static const uint8_t	 a[] = "abcdef", b[] = "cdefgh", c[] = "ijk";
	struct stream		*s = stream_new(BIG);
	struct stream_chunk	 out[2];
	struct tr_packet	 pkt;

	(void)state;
	pkt = seg_pkt(S, 0xffffffffu, NULL, 0);
	assert_int_equal(stream_push(s, &pkt, out), 0);
	pkt = seg_pkt(D, 0, a, 4);
	assert_int_equal(stream_push(s, &pkt, out), 1);
	assert_ptr_equal(out[0].data, a);
	assert_int_equal(out[0].len, 4);
	/* Partial overlap: a pointer into the payload past the old bytes. */
	pkt = seg_pkt(D, 2, b, 6);
	assert_int_equal(stream_push(s, &pkt, out), 1);
	assert_ptr_equal(out[0].data, b + 2);
	assert_int_equal(out[0].len, 4);
	assert_false(out[0].gap_before);
	/* Something held further on does not force a copy either. */
	pkt = seg_pkt(D, 20, c, 3);
	assert_int_equal(stream_push(s, &pkt, out), 0);
	pkt = seg_pkt(D, 8, c, 3);
	assert_int_equal(stream_push(s, &pkt, out), 1);
	assert_ptr_equal(out[0].data, c);
	stream_free(s);
}

static uint8_t *
pattern(size_t len, uint32_t salt)
{
	uint8_t	*p = malloc(len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 7 + salt) ^ (i >> 8));
	return p;
}

/* TSO/GRO captures: one 60 KB segment, in order and out of order. */
static void
test_big_segments(void **state)
{
	const size_t		 big = 60 * 1024;
	uint8_t			*p = pattern(2 * big, 3);
	struct stream		*s;
	struct stream_chunk	 out[2];
	struct tr_packet	 pkt;

	(void)state;
	/* In order across the wrap: zero copy, whole. */
	s = stream_new(4096);
	pkt = seg_pkt(D, 0xffff0000u, p, big);
	assert_int_equal(stream_push(s, &pkt, out), 1);
	assert_ptr_equal(out[0].data, p);
	assert_int_equal(out[0].len, big);
	pkt = seg_pkt(D, 0xffff0000u + (uint32_t)big, p + big, big);
	assert_int_equal(stream_push(s, &pkt, out), 1);
	assert_int_equal(out[0].len, big);
	assert_int_equal(stream_stats(s)->bytes, 2 * big);
	stream_free(s);

	/* Out of order with room to hold it: the hole fills into one chunk. */
	s = stream_new(2 * big);
	pkt = seg_pkt(S, 99, NULL, 0);
	assert_int_equal(stream_push(s, &pkt, out), 0);
	pkt = seg_pkt(D, 100 + 10, p + 10, big);
	assert_int_equal(stream_push(s, &pkt, out), 0);
	pkt = seg_pkt(D, 100, p, 20);
	assert_int_equal(stream_push(s, &pkt, out), 1);
	assert_int_equal(out[0].len, big + 10);
	assert_memory_equal(out[0].data, p, big + 10);
	assert_int_equal(stream_stats(s)->retransmitted, 10);
	stream_free(s);

	/* Larger than max_held on its own: a gap, then the segment, at once. */
	s = stream_new(1000);
	pkt = seg_pkt(D, 100, p, 10);
	assert_int_equal(stream_push(s, &pkt, out), 1);
	pkt = seg_pkt(D, 100 + 30, p + 30, big);
	assert_int_equal(stream_push(s, &pkt, out), 1);
	assert_true(out[0].gap_before);
	assert_int_equal(out[0].gap_bytes, 20);
	assert_int_equal(out[0].len, big);
	assert_memory_equal(out[0].data, p + 30, big);
	stream_free(s);
	free(p);
}

/* Hole filled while a gap chunk's buffer is handed out: pointers stay valid. */
static void
test_two_chunks_share_buffer(void **state)
{
	const size_t		 n = 5000;
	uint8_t			*p = pattern(n, 9);
	struct stream		*s = stream_new(3000);
	struct stream_chunk	 out[2];
	struct tr_packet	 pkt;

	(void)state;
	pkt = seg_pkt(D, 0, p, 1);
	assert_int_equal(stream_push(s, &pkt, out), 1);
	pkt = seg_pkt(D, 2, p + 2, 1);		/* run 1: one byte */
	assert_int_equal(stream_push(s, &pkt, out), 0);
	pkt = seg_pkt(D, 10, p + 10, 2500);	/* run 2 */
	assert_int_equal(stream_push(s, &pkt, out), 0);
	pkt = seg_pkt(D, 2600, p + 2600, 2000);	/* needs run 2 gone too */
	assert_int_equal(stream_push(s, &pkt, out), 2);
	assert_true(out[0].gap_before && out[1].gap_before);
	assert_int_equal(out[0].gap_bytes, 1);
	assert_int_equal(out[0].len, 1);
	assert_memory_equal(out[0].data, p + 2, 1);
	assert_int_equal(out[1].gap_bytes, 7);
	assert_int_equal(out[1].len, 2500);
	assert_memory_equal(out[1].data, p + 10, 2500);
	stream_free(s);
	free(p);
}

/* Small deterministic generator; the state is the caller's. */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

struct rseg {
	uint8_t		flags;
	uint32_t	off;	/* stream offset of the first payload byte */
	uint32_t	len;
	bool		probe;	/* payload is the one garbage byte below */
	uint8_t		garbage;
};

/*
 * A random capture of a 200 KB stream: random cuts (a few TSO-sized), local
 * reordering, retransmissions of random ranges already sent, keep-alive probes (stale
 * garbage byte or none) at the receiver's next byte minus one, SYN and FIN.
 * Each delivered chunk must sit at its place in the original (a gap chunk
 * advances the position by gap_bytes); with a large max_held there are no
 * gaps and the concatenation is the original exactly.
 */
static void
random_capture(uint64_t seed, uint32_t isn, size_t max_held)
{
	const size_t		 total = 200 * 1024;
	uint8_t			*orig = malloc(total);
	bool			*seen = calloc(total, 1);
	struct rseg		*cut, *segs, tmp;
	size_t			 ncut = 0, nseg = 0, pos, sim_next = 0, hi = 0;
	uint64_t		 x = seed * 0x9e3779b97f4a7c15ull + 1;
	struct stream		*s = stream_new(max_held);
	struct stream_chunk	 out[2];
	struct tr_packet	 pkt;
	int			 r;
	/* Odd seeds cut like an Ethernet sender, even ones in small pieces (many more segments). */
	size_t			 mss = seed % 2 ? 1460 : 200;
	/* Per mille of TSO/GRO-sized segments: many for every third seed. */
	uint64_t		 tso = seed % 3 == 0 ? 50 : 3;

	assert_non_null(orig);
	assert_non_null(seen);
	assert_non_null(s);
	for (size_t i = 0; i < total; i++)
		orig[i] = (uint8_t)rnd(&x);
	cut = calloc(total, sizeof(*cut));
	segs = calloc(total * 2, sizeof(*segs));
	assert_non_null(cut);
	assert_non_null(segs);

	for (pos = 0; pos < total; ncut++) {
		uint64_t	k = rnd(&x) % 1000;
		size_t		len = k < 950 - tso ? 1 + rnd(&x) % mss :
		    k < 1000 - tso ? 1 + rnd(&x) % (4 * mss) :
		    1 + rnd(&x) % 65000;

		if (len > total - pos)
			len = total - pos;
		cut[ncut] = (struct rseg){ .flags = D, .off = (uint32_t)pos,
		    .len = (uint32_t)len };
		pos += len;
	}
	/* Local reordering: each segment may swap with one a few places on. */
	for (size_t i = 0; i + 1 < ncut; i++) {
		size_t j = i + rnd(&x) % 5;

		if (j < ncut && rnd(&x) % 3 == 0) {
			tmp = cut[i];
			cut[i] = cut[j];
			cut[j] = tmp;
		}
	}
	segs[nseg++] = (struct rseg){ .flags = S };
	for (size_t i = 0; i < ncut; i++) {
		uint64_t	k = rnd(&x) % 100;

		if (k < 8 && hi > 0) {
			/*
			 * A retransmission starting in what was sent already,
			 * possibly repacketized longer.
			 */
			uint32_t off = (uint32_t)(rnd(&x) % hi);
			uint32_t len = (uint32_t)(1 + rnd(&x) % 3000);

			if (len > total - off)
				len = (uint32_t)(total - off);
			segs[nseg++] = (struct rseg){ .flags = D, .off = off,
			    .len = len };
		} else if (k < 12 && sim_next > 0) {
			/* A keep-alive probe: one stale byte, or none. */
			segs[nseg++] = (struct rseg){ .flags = A,
			    .off = (uint32_t)(sim_next - 1), .len = k & 1,
			    .probe = true, .garbage = (uint8_t)~orig[sim_next - 1] };
		} else if (k < 13) {
			segs[nseg++] = (struct rseg){ .flags = S };
		}
		segs[nseg++] = cut[i];
		if (k >= 95)
			segs[nseg++] = cut[i];	/* duplicated at once */
		if (cut[i].off + cut[i].len > hi)
			hi = cut[i].off + cut[i].len;
		for (size_t b = cut[i].off; b < cut[i].off + cut[i].len; b++)
			seen[b] = true;
		while (sim_next < total && seen[sim_next])
			sim_next++;
	}
	segs[nseg++] = (struct rseg){ .flags = F, .off = (uint32_t)total };

	pos = 0;
	for (size_t i = 0; i < nseg; i++) {
		const struct rseg *g = &segs[i];

		if (g->flags == S)
			pkt = seg_pkt(S, isn, NULL, 0);
		else
			pkt = seg_pkt(g->flags, isn + 1 + g->off,
			    g->probe ? &g->garbage : orig + g->off, g->len);
		r = stream_push(s, &pkt, out);
		assert_in_range(r, 0, 2);
		for (int c = 0; c < r; c++) {
			if (out[c].gap_before)
				pos += out[c].gap_bytes;
			assert_true(pos + out[c].len <= total);
			if (memcmp(out[c].data, orig + pos, out[c].len) != 0)
				fail_msg("seed %llu: chunk at %zu differs",
				    (unsigned long long)seed, pos);
			pos += out[c].len;
		}
	}
	while ((r = stream_finish(s, out)) > 0) {
		for (int c = 0; c < r; c++) {
			if (out[c].gap_before)
				pos += out[c].gap_bytes;
			assert_true(pos + out[c].len <= total);
			assert_memory_equal(out[c].data, orig + pos, out[c].len);
			pos += out[c].len;
		}
	}
	assert_int_equal(r, 0);
	assert_int_equal(pos, total);
	assert_true(stream_closed(s));
	assert_int_equal(stream_stats(s)->overlap_conflicts, 0);
	assert_int_equal(stream_stats(s)->segments, nseg);
	assert_int_equal(stream_stats(s)->bytes + stream_stats(s)->gap_bytes,
	    total);
	if (max_held >= total) {
		assert_int_equal(stream_stats(s)->gaps, 0);
		assert_int_equal(stream_stats(s)->bytes, total);
		assert_true(stream_stats(s)->retransmitted > 0);
		assert_true(stream_stats(s)->out_of_order > 0);
	}
	stream_free(s);
	free(segs);
	free(cut);
	free(seen);
	free(orig);
}

/*
 * Streams sharing a pool hold at most its max together: the second one's
 * hold, which its own max_held allows, passes the pool's, so its hole is
 * declared a gap and what it held comes out; the pool counts down again
 * as streams deliver and go.
 */
static void
test_pool(void **state)
{
	struct stream_pool pool = { .max = 10 };
	struct stream *a = stream_new(BIG), *b = stream_new(BIG);
	struct stream_chunk out[2];
	struct tr_packet p;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	stream_set_pool(a, &pool);
	stream_set_pool(b, &pool);
	p = seg_pkt(D, 1000, (const uint8_t *)"x", 1);
	assert_int_equal(stream_push(a, &p, out), 1);
	p = seg_pkt(D, 1000, (const uint8_t *)"y", 1);
	assert_int_equal(stream_push(b, &p, out), 1);
	/* a holds 8 bytes behind a hole: within the pool. */
	p = seg_pkt(D, 1011, (const uint8_t *)"aaaaaaaa", 8);
	assert_int_equal(stream_push(a, &p, out), 0);
	assert_int_equal(pool.held, 8);
	/* b would hold 8 more: past the pool's 10, so its hole is a gap now. */
	p = seg_pkt(D, 1011, (const uint8_t *)"bbbbbbbb", 8);
	assert_int_equal(stream_push(b, &p, out), 1);
	assert_true(out[0].gap_before);
	assert_int_equal(out[0].gap_bytes, 10);
	assert_int_equal(out[0].len, 8);
	assert_memory_equal(out[0].data, "bbbbbbbb", 8);
	assert_int_equal(pool.held, 8);
	/* a's hole fills: the pool is empty again. */
	p = seg_pkt(D, 1001, (const uint8_t *)"0123456789", 10);
	assert_int_equal(stream_push(a, &p, out), 1);
	assert_int_equal(out[0].len, 18);
	assert_int_equal(pool.held, 0);
	stream_free(a);
	stream_free(b);
	assert_int_equal(pool.held, 0);
}

static void
test_random_exact(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		uint64_t x = seed;

		random_capture(seed, (uint32_t)rnd(&x), BIG);
	}
	/* The stream crosses 2^32 and 2^31. */
	random_capture(100, 0xfffe8000u, BIG);
	random_capture(101, 0x7fffc000u, BIG);
}

/* Small max_held: gaps happen, but every delivered byte is at its place. */
static void
test_random_gaps(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++)
		random_capture(seed, 0xffff0000u + (uint32_t)seed * 977,
		    seed % 4 < 2 ? 4096 : 300);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_zero_copy),
		cmocka_unit_test(test_big_segments),
		cmocka_unit_test(test_two_chunks_share_buffer),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_random_exact),
		cmocka_unit_test(test_random_gaps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
