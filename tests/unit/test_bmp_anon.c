/* BMP rewriting: per-peer headers, Peer Up, the BGP PDUs inside, strings as tokens; zero addresses stay zero; cut or lying messages never read past their end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anon_addr.h"
#include "anon_proto.h"
#include "anon_text.h"
#include "bgp.h"
#include "bmp.h"
#include "bmp_anon.h"

static const uint8_t key[ANON_KEY_LEN] = {
	9, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
	216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
};

struct fixture {
	struct anon_addr	*addr;
	struct anon_text	*text;
	struct anon_counts	 counts;
	struct anon_rewriter	 rw;
	struct bmp_anon_state	*s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->addr = anon_addr_new(key));
	assert_non_null(f->text = anon_text_new(key));
	assert_non_null(f->s = bmp_anon.new());
	f->rw.addr = f->addr;
	f->rw.text = f->text;
	f->rw.counts = &f->counts;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	bmp_anon.free(f->s);
	anon_text_free(f->text);
	anon_addr_free(f->addr);
	free(f);
	return 0;
}

struct msg {
	uint8_t	b[2048];
	uint8_t	want[2048];
	size_t	len;
	size_t	changed[32];	/* offsets of fields that must change (tokens: unknown values) */
	size_t	changed_len[32];
	size_t	nchanged;
};

static void
put(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->len, p, n);
	memcpy(m->want + m->len, p, n);
	m->len += n;
}

static void
put_u8(struct msg *m, uint8_t v)
{
	put(m, &v, 1);
}

static void
put_u16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(m, b, 2);
}

static void
put_u32(struct msg *m, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	put(m, b, 4);
}

static void
put_addr(struct fixture *f, struct msg *m, const uint8_t *a, size_t alen)
{
	size_t at = m->len;

	put(m, a, alen);
	assert_int_equal(anon_addr_map_bytes(f->addr, a, m->want + at, alen), 0);
}

static void
common(struct msg *m, uint8_t type)
{
	m->len = 0;
	m->nchanged = 0;
	put_u8(m, BMP_VERSION);
	put_u32(m, 0);
	put_u8(m, type);
}

static void
finish(struct msg *m)
{
	for (int i = 0; i < 4; i++)
		m->b[1 + i] = m->want[1 + i] = (uint8_t)(m->len >> (24 - 8 * i));
}

static const uint8_t peer4[4] = { 192, 0, 2, 9 }, id4[4] = { 10, 0, 0, 9 };
static const uint8_t local4[4] = { 192, 0, 2, 1 }, nh4[4] = { 198, 51, 100, 1 };

/* A per-peer header: IPv4 peer (in the last 4 of 16 bytes), or a Loc-RIB one whose address is zero. */
static void
peer_header(struct fixture *f, struct msg *m, uint8_t type, uint8_t flags)
{
	static const uint8_t zero[12];

	put_u8(m, type);
	put_u8(m, flags);
	put(m, zero, 8);
	put(m, zero, 12);
	if (type == BMP_PEER_LOC_RIB)
		put(m, zero, 4);
	else
		put_addr(f, m, peer4, 4);
	put_u32(m, 64496);
	put_addr(f, m, id4, 4);
	put_u32(m, 1700000000);
	put_u32(m, 0);
}

static void
bgp_header(struct msg *m, uint8_t type, size_t len)
{
	static const uint8_t marker[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};

	put(m, marker, 16);
	put_u16(m, (uint16_t)len);
	put_u8(m, type);
}

/* An OPEN without optional parameters: its BGP identifier changes. */
static void
bgp_open(struct fixture *f, struct msg *m, const uint8_t *id)
{
	bgp_header(m, BGP_OPEN, 29);
	put_u8(m, 4);
	put_u16(m, 64496);
	put_u16(m, 90);
	put_addr(f, m, id, 4);
	put_u8(m, 0);
}

/* An UPDATE announcing 203.0.113.0/24 with NEXT_HOP. */
static void
bgp_update(struct fixture *f, struct msg *m)
{
	static const uint8_t pfx[4] = { 203, 0, 113, 0 };
	uint8_t mapped[4];

	bgp_header(m, BGP_UPDATE, 19 + 2 + 2 + 7 + 4);
	put_u16(m, 0);
	put_u16(m, 7);
	put_u8(m, 0x40);
	put_u8(m, 3);
	put_u8(m, 4);
	put_addr(f, m, nh4, 4);
	put_u8(m, 24);
	put(m, pfx, 3);
	assert_int_equal(anon_addr_map_bytes(f->addr, pfx, mapped, 4), 0);
	memcpy(m->want + m->len - 3, mapped, 3);
}

/* A TLV of text, which must come out as a token of its length. */
static void
text_tlv(struct msg *m, uint16_t type, const char *s)
{
	put_u16(m, type);
	put_u16(m, (uint16_t)strlen(s));
	m->changed[m->nchanged] = m->len;
	m->changed_len[m->nchanged++] = strlen(s);
	put(m, s, strlen(s));
}

/* Rewrite a copy of exactly its length: the expected bytes, every token of its length in letters and digits, and differing. */
static void
check(struct fixture *f, struct msg *m, enum anon_msg_result want)
{
	uint8_t *copy = malloc(m->len);

	assert_non_null(copy);
	memcpy(copy, m->b, m->len);
	assert_int_equal(bmp_anon_message(f->s, &f->rw, copy, m->len), want);
	for (size_t i = 0; i < m->nchanged; i++) {
		uint8_t *p = copy + m->changed[i];

		assert_memory_not_equal(p, m->b + m->changed[i], m->changed_len[i]);
		for (size_t k = 0; k < m->changed_len[i]; k++)
			assert_true((p[k] >= 'a' && p[k] <= 'z') ||
			    (p[k] >= '0' && p[k] <= '9'));
		memcpy(p, m->want + m->changed[i], m->changed_len[i]);
	}
	assert_memory_equal(copy, m->want, m->len);
	free(copy);
}

static void
test_initiation(void **state)
{
	struct fixture *f = *state;
	struct msg m;

	common(&m, BMP_INITIATION);
	text_tlv(&m, BMP_INFO_SYS_DESCR, "Cisco IOS XR Software, Version 7.5.2");
	text_tlv(&m, BMP_INFO_SYS_NAME, "pe1.zrh.customer.example");
	text_tlv(&m, BMP_INFO_STRING, "x");
	finish(&m);
	check(f, &m, ANON_MSG_REWRITTEN);
	/* Termination: strings too, but its reason code stays. */
	common(&m, BMP_TERMINATION);
	text_tlv(&m, BMP_INFO_STRING, "shutting down");
	put_u16(&m, 1);
	put_u16(&m, 2);
	put_u16(&m, 3);
	finish(&m);
	check(f, &m, ANON_MSG_REWRITTEN);
}

static void
build_peer_up(struct fixture *f, struct msg *m)
{
	static const uint8_t zero[12];
	static const uint8_t remote_id[4] = { 10, 0, 0, 1 };

	common(m, BMP_PEER_UP);
	peer_header(f, m, BMP_PEER_GLOBAL, 0);
	put(m, zero, 12);
	put_addr(f, m, local4, 4);
	put_u16(m, 179);
	put_u16(m, 50000);
	bgp_open(f, m, remote_id);
	bgp_open(f, m, id4);
	text_tlv(m, BMP_INFO_STRING, "to-customer-ACME");
	finish(m);
}

static void
test_peer_up(void **state)
{
	struct fixture *f = *state;
	struct msg m;

	build_peer_up(f, &m);
	check(f, &m, ANON_MSG_REWRITTEN);
}

static void
build_route_monitoring(struct fixture *f, struct msg *m, uint8_t peer_type)
{
	common(m, BMP_ROUTE_MONITORING);
	peer_header(f, m, peer_type, 0);
	bgp_update(f, m);
	finish(m);
}

static void
test_route_monitoring(void **state)
{
	struct fixture *f = *state;
	struct msg m;

	build_route_monitoring(f, &m, BMP_PEER_GLOBAL);
	check(f, &m, ANON_MSG_REWRITTEN);
	/* Loc-RIB: its peer address is zero, and stays so. */
	build_route_monitoring(f, &m, BMP_PEER_LOC_RIB);
	check(f, &m, ANON_MSG_REWRITTEN);
	/* Statistics: the per-peer header only. */
	common(&m, BMP_STATISTICS);
	peer_header(f, &m, BMP_PEER_GLOBAL, 0);
	put_u32(&m, 1);
	put_u16(&m, 0);
	put_u16(&m, 4);
	put_u32(&m, 17);
	finish(&m);
	check(f, &m, ANON_MSG_REWRITTEN);
}

/* Every cut of each message kind, in a buffer of exactly that length: CUT or MALFORMED, never past its end. */
static void
test_cut(void **state)
{
	struct fixture *f = *state;
	struct msg m[3];

	build_peer_up(f, &m[0]);
	build_route_monitoring(f, &m[1], BMP_PEER_GLOBAL);
	common(&m[2], BMP_INITIATION);
	text_tlv(&m[2], BMP_INFO_SYS_NAME, "pe1");
	finish(&m[2]);
	for (int k = 0; k < 3; k++)
		for (size_t len = 0; len < m[k].len; len++) {
			uint8_t *copy = malloc(len ? len : 1);
			enum anon_msg_result r;

			assert_non_null(copy);
			memcpy(copy, m[k].b, len);
			r = bmp_anon_message(f->s, &f->rw, copy, len);
			assert_true(r == ANON_MSG_CUT || r == ANON_MSG_MALFORMED);
			free(copy);
		}
}

/* Inner lengths that lie inside a whole message: MALFORMED. */
static void
test_malformed(void **state)
{
	struct fixture *f = *state;
	struct msg m;

	build_route_monitoring(f, &m, BMP_PEER_GLOBAL);
	/* The UPDATE says it is longer than the BMP message holds. */
	m.b[6 + BMP_PEER_HDR_LEN + 17] += 40;
	assert_int_equal(bmp_anon_message(f->s, &f->rw, m.b, m.len),
	    ANON_MSG_MALFORMED);
	common(&m, BMP_INITIATION);
	put_u16(&m, BMP_INFO_SYS_NAME);
	put_u16(&m, 100);
	put(&m, "pe1", 3);
	finish(&m);
	assert_int_equal(bmp_anon_message(f->s, &f->rw, m.b, m.len),
	    ANON_MSG_MALFORMED);
	/* Not version 3. */
	m.b[0] = 1;
	assert_int_equal(bmp_anon_message(f->s, &f->rw, m.b, m.len),
	    ANON_MSG_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_monitoring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
