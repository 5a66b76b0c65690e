/* The frame rewriter: every link type and family gives the frame frame_build makes for the mapped addresses (checksums included); fragments, cut and hostile frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anon_addr.h"
#include "anon_frame.h"
#include "frame_build.h"
#include "source.h"

static const uint8_t test_key[ANON_KEY_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

static const uint8_t payload[] = "0123456789abcdefghijklmnopqrstuvwxyz"
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuv";

/* An IP header at off and no ARP body. */
#define AT_IP(off)	(&(struct anon_frame_at){ .l3_offset = (off), \
			    .arp_offset = SOURCE_NO_L3 })

static void
note_frame(void *ctx, const struct source_frame *f)
{
	*(struct anon_frame_at *)ctx = (struct anon_frame_at){
		.l3_offset = f->l3_offset, .arp_offset = f->arp_offset };
}

/* Where the source finds the frame's IP header or ARP body: what anon_pcap hands over. */
static struct anon_frame_at
at_of(int dlt, const uint8_t *frame, size_t len)
{
	struct source *s = source_new_decoder(dlt);
	struct tr_packet pkt;
	struct anon_frame_at at = { .l3_offset = SOURCE_NO_L3,
	    .arp_offset = SOURCE_NO_L3 };

	assert_non_null(s);
	source_on_frame(s, note_frame, &at);
	source_feed(s, frame, (uint32_t)len, (uint32_t)len, 0, &pkt);
	source_close(s);
	return at;
}

static size_t
l3_of(int dlt, const uint8_t *frame, size_t len)
{
	return at_of(dlt, frame, len).l3_offset;
}

static struct frame_spec
spec_of(enum frame_link link, int family, uint8_t l4proto)
{
	struct frame_spec s = {
		.link = link, .l4proto = l4proto, .sport = 50000, .dport = 4739,
		.seq = 1000, .ack = 2000, .tcp_flags = 0x18, .ip_id = 77,
		.payload = payload, .payload_len = sizeof(payload) - 1,
	};

	assert_int_equal(addr_parse(family == 4 ? "192.0.2.1" : "2001:db8::1",
	    &s.src), 0);
	assert_int_equal(addr_parse(family == 4 ? "198.51.100.7" :
	    "2001:db8:ffff::7", &s.dst), 0);
	return s;
}

static struct frame_spec
mapped(struct anon_addr *a, struct frame_spec s)
{
	assert_int_equal(anon_addr_map(a, &s.src, &s.src), 0);
	assert_int_equal(anon_addr_map(a, &s.dst, &s.dst), 0);
	return s;
}

/*
 * The rewritten frame from its IP header on must be what frame_build makes
 * for the mapped addresses: same bytes, checksums the builder computed.
 * The link header's MACs are the keyed mapping's, not the builder's.
 */
static void
check_rewrite(struct anon_addr *a, const struct frame_spec *spec,
    ssize_t (*build)(const struct frame_spec *, size_t, uint8_t *, size_t),
    size_t index)
{
	uint8_t frame[2048], want[2048], mac[6];
	struct frame_spec ms = mapped(a, *spec);
	struct anon_frame_stats st = { 0 };
	int dlt = frame_link_dlt(spec->link);
	ssize_t n, m;
	size_t l3;

	assert_true((n = build(spec, index, frame, sizeof(frame))) > 0);
	assert_true((m = build(&ms, index, want, sizeof(want))) == n);
	l3 = l3_of(dlt, frame, (size_t)n);
	assert_true(l3 != SOURCE_NO_L3);
	if (spec->link == FRAME_LINK_EN10MB) {
		assert_int_equal(anon_mac_map(a, frame + 6, mac), 0);
	}
	assert_int_equal(anon_frame(a, dlt, frame, (uint32_t)n, AT_IP(l3), &st),
	    0);
	assert_memory_equal(frame + l3, want + l3, (size_t)n - l3);
	if (spec->link == FRAME_LINK_EN10MB)
		assert_memory_equal(frame + 6, mac, 6);
	assert_int_equal(st.ip_headers, 1);
}

static ssize_t
build_whole(const struct frame_spec *s, size_t index, uint8_t *buf, size_t cap)
{
	(void)index;
	return frame_build(s, buf, cap);
}

/* Fragments of at most 32 payload bytes: the first carries the UDP checksum over the whole datagram. */
static ssize_t
build_fragment(const struct frame_spec *s, size_t index, uint8_t *buf,
    size_t cap)
{
	return frame_build_frag(s, 32, index, buf, cap);
}

static void
test_every_link_and_family(void **state)
{
	static const uint8_t protos[] = { FRAME_IPPROTO_UDP, FRAME_IPPROTO_TCP };

	for (int link = 0; link < FRAME_LINK_COUNT; link++)
		for (int fam = 4; fam <= 6; fam += 2)
			for (size_t p = 0; p < sizeof(protos); p++) {
				struct frame_spec s = spec_of(link, fam,
				    protos[p]);

				check_rewrite(*state, &s, build_whole, 0);
			}
}

static void
test_vlan_mpls(void **state)
{
	struct frame_spec s = spec_of(FRAME_LINK_EN10MB, 6, FRAME_IPPROTO_TCP);

	s.n_vlan = 2;
	s.vlan[0] = 10;
	s.vlan[1] = 20;
	check_rewrite(*state, &s, build_whole, 0);
	s = spec_of(FRAME_LINK_SLL2, 4, FRAME_IPPROTO_UDP);
	s.n_mpls = 2;
	s.mpls[0] = 100;
	s.mpls[1] = 200;
	check_rewrite(*state, &s, build_whole, 0);
}

static void
test_fragments(void **state)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		struct frame_spec s = spec_of(FRAME_LINK_EN10MB, fam,
		    FRAME_IPPROTO_UDP);
		size_t n = frame_frag_count(&s, 32);

		assert_true(n > 2);
		for (size_t i = 0; i < n; i++)
			check_rewrite(*state, &s, build_fragment, i);
	}
}

/*
 * An ICMP error quoting the start of a UDP datagram (IP header, UDP
 * header and 16 bytes): the quoted header's addresses are mapped too, its checksums and
 * the error's made right, as frame_build makes them from mapped addresses.
 */
static size_t
quote_of(const struct frame_spec *inner, uint8_t icmp_type, uint8_t *msg)
{
	struct frame_spec raw = *inner;
	uint8_t dgram[2048];
	ssize_t n;
	size_t hlen = inner->src.family == AF_INET ? 20 : 40;

	raw.link = FRAME_LINK_RAW;
	assert_true((n = frame_build(&raw, dgram, sizeof(dgram))) > 0);
	memset(msg, 0, 8);
	msg[0] = icmp_type;
	msg[1] = 3;
	/* Past the UDP header: payload bytes that a cut may lose. */
	memcpy(msg + 8, dgram, hlen + 24);
	return 8 + hlen + 24;
}

static void
test_icmp_errors(void **state)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		struct frame_spec inner = spec_of(FRAME_LINK_RAW, fam,
		    FRAME_IPPROTO_UDP);
		struct frame_spec outer = spec_of(FRAME_LINK_EN10MB, fam,
		    fam == 4 ? FRAME_IPPROTO_ICMP : FRAME_IPPROTO_ICMPV6);
		struct frame_spec minner = mapped(*state, inner);
		struct frame_spec mouter;
		uint8_t msg[256], mmsg[256], frame[512], want[512];
		uint8_t type = fam == 4 ? 3 : 1;	/* destination unreachable */
		struct anon_frame_stats st = { 0 };
		ssize_t n;
		size_t l3;

		/* The error goes back from the collector to the exporter. */
		outer.src = inner.dst;
		outer.dst = inner.src;
		mouter = mapped(*state, outer);
		outer.payload = msg;
		outer.payload_len = quote_of(&inner, type, msg);
		mouter.payload = mmsg;
		mouter.payload_len = quote_of(&minner, type, mmsg);
		assert_true((n = frame_build(&outer, frame, sizeof(frame))) > 0);
		assert_true(frame_build(&mouter, want, sizeof(want)) == n);
		l3 = l3_of(frame_link_dlt(FRAME_LINK_EN10MB), frame, (size_t)n);
		assert_int_equal(anon_frame(*state, frame_link_dlt(
		    FRAME_LINK_EN10MB), frame, (uint32_t)n, AT_IP(l3), &st), 0);
		assert_memory_equal(frame + l3, want + l3, (size_t)n - l3);
		assert_int_equal(st.ip_headers, 2);

		/*
		 * Cut inside the quote's payload: the error's checksum is
		 * adjusted, not computed.  (A cut that loses a rewritten byte,
		 * the quoted UDP checksum, leaves it unknowable.)
		 */
		assert_true(frame_build(&outer, frame, sizeof(frame)) == n);
		assert_int_equal(anon_frame(*state, frame_link_dlt(
		    FRAME_LINK_EN10MB), frame, (uint32_t)n - 4, AT_IP(l3), &st), 0);
		assert_memory_equal(frame + l3, want + l3, (size_t)n - 4 - l3);
	}
}

/*
 * A frame cut anywhere: no read past the cut, and what the capture kept of
 * the addresses is the prefix of their pseudonyms.
 */
static void
test_cut_frames(void **state)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		struct frame_spec s = spec_of(FRAME_LINK_RAW, fam,
		    FRAME_IPPROTO_TCP);
		struct frame_spec ms = mapped(*state, s);
		uint8_t whole[2048], want[2048];
		size_t alen = fam == 4 ? 4 : 16, aoff = fam == 4 ? 12 : 8;
		ssize_t n = frame_build(&s, whole, sizeof(whole));

		assert_true(n > 0);
		assert_true(frame_build(&ms, want, sizeof(want)) == n);
		for (size_t cut = 1; cut < (size_t)n; cut++) {
			struct anon_frame_stats st = { 0 };
			uint8_t *frame = malloc(cut);	/* ASan sees any read past it */
			size_t addr_end = aoff + 2 * alen;

			assert_non_null(frame);
			memcpy(frame, whole, cut);
			assert_int_equal(anon_frame(*state, frame_link_dlt(
			    FRAME_LINK_RAW), frame, (uint32_t)cut, AT_IP(0), &st),
			    0);
			if (cut > aoff)
				assert_memory_equal(frame + aoff, want + aoff,
				    (cut < addr_end ? cut : addr_end) - aoff);
			free(frame);
		}
	}
}

/* An ARP request behind a VLAN tag: MACs and IPv4 addresses mapped as in IP frames, the unset target MAC kept; cut anywhere. */
static void
test_arp(void **state)
{
	struct frame_spec s = spec_of(FRAME_LINK_EN10MB, 4, FRAME_IPPROTO_UDP);
	uint8_t body[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };	/* Ethernet, IPv4, request */
	uint8_t frame[128], want_ip[2][4], want_mac[6];
	struct anon_frame_at at;
	ssize_t n;

	s.n_vlan = 1;
	s.vlan[0] = 7;
	frame_mac(&s.src, body + 8);
	memcpy(body + 14, &s.src.v4, 4);
	memcpy(body + 24, &s.dst.v4, 4);	/* target MAC: zero, unknown */
	assert_int_equal(anon_mac_map(*state, body + 8, want_mac), 0);
	assert_int_equal(anon_addr_map_bytes(*state, body + 14, want_ip[0], 4), 0);
	assert_int_equal(anon_addr_map_bytes(*state, body + 24, want_ip[1], 4), 0);
	assert_true((n = frame_build_nonip(&s, 0x0806, body, sizeof(body),
	    frame, sizeof(frame))) > 0);
	at = at_of(frame_link_dlt(FRAME_LINK_EN10MB), frame, (size_t)n);
	assert_int_equal(at.l3_offset, SOURCE_NO_L3);
	assert_int_equal(at.arp_offset, 18);
	for (size_t cut = 1; cut <= (size_t)n; cut++) {
		struct anon_frame_stats st = { 0 };
		uint8_t *f = malloc(cut);

		assert_non_null(f);
		assert_true(frame_build_nonip(&s, 0x0806, body, sizeof(body),
		    frame, sizeof(frame)) == n);
		memcpy(f, frame, cut);
		assert_int_equal(anon_frame(*state, frame_link_dlt(
		    FRAME_LINK_EN10MB), f, (uint32_t)cut, &at, &st), 0);
		if (cut == (size_t)n) {
			uint8_t *arp = f + at.arp_offset;

			assert_memory_equal(arp + 8, want_mac, 6);
			assert_memory_equal(arp + 14, want_ip[0], 4);
			assert_memory_equal(arp + 18, body + 18, 6);
			assert_memory_equal(arp + 24, want_ip[1], 4);
			assert_int_equal(st.arp, 1);
		}
		free(f);
	}
}

/* Random bytes at random IP offsets, every link type: nothing but bounded writes. */
static void
test_hostile(void **state)
{
	static const int links[] = { FRAME_LINK_EN10MB, FRAME_LINK_SLL,
	    FRAME_LINK_SLL2, FRAME_LINK_RAW, FRAME_LINK_NULL };
	struct anon_frame_stats st = { 0 };

	srandom(3);
	for (int n = 0; n < 20000; n++) {
		size_t len = 1 + (size_t)random() % 120;
		uint8_t *frame = malloc(len);
		size_t l3 = (size_t)random() % (len + 2);

		assert_non_null(frame);
		for (size_t i = 0; i < len; i++)
			frame[i] = (uint8_t)random();
		if (n % 2)	/* make it look like IP more often */
			frame[l3 < len ? l3 : 0] = n % 4 == 1 ? 0x45 : 0x60;
		assert_int_equal(anon_frame(*state,
		    frame_link_dlt(links[n % 5]), frame, (uint32_t)len,
		    &(struct anon_frame_at){
		    .l3_offset = n % 7 == 0 ? SOURCE_NO_L3 : l3,
		    .arp_offset = n % 3 == 0 ? l3 : SOURCE_NO_L3 }, &st), 0);
		free(frame);
	}
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
		cmocka_unit_test(test_every_link_and_family),
		cmocka_unit_test(test_vlan_mpls),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_icmp_errors),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_cut_frames),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
