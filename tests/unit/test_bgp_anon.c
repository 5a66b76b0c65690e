/* BGP rewriting: exactly the addresses, prefixes and (when asked) ASes change, to their pseudonyms; lengths, labels, RDs and path identifiers stay; cut or lying messages never read past their end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anon_addr.h"
#include "anon_as.h"
#include "anon_proto.h"
#include "anon_text.h"
#include "bgp.h"
#include "bgp_anon.h"

static const uint8_t key[ANON_KEY_LEN] = {
	7, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
	216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
};

struct fixture {
	struct anon_addr	*addr;
	struct anon_as		*as;
	struct anon_text	*text;
	struct anon_counts	 counts;
	struct anon_rewriter	 rw;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->addr = anon_addr_new(key));
	assert_non_null(f->as = anon_as_new(key));
	assert_non_null(f->text = anon_text_new(key));
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

	anon_addr_free(f->addr);
	anon_as_free(f->as);
	anon_text_free(f->text);
	free(f);
	return 0;
}

/* A message being built, and the bytes expected after the rewrite. */
struct msg {
	uint8_t	b[4096];
	uint8_t	want[4096];
	size_t	len;
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
set_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An address of alen bytes, expected as its pseudonym. */
static void
put_addr(struct fixture *f, struct msg *m, const uint8_t *a, size_t alen)
{
	size_t at = m->len;

	put(m, a, alen);
	assert_int_equal(anon_addr_map_bytes(f->addr, a, m->want + at, alen), 0);
}

/* A prefix (bits long, of an alen-byte family), expected as its address's pseudonym cut to bits, the rest zero. */
static void
put_prefix(struct fixture *f, struct msg *m, const uint8_t *a, unsigned bits,
    size_t alen)
{
	uint8_t full[16] = { 0 }, out[16];
	size_t n = (bits + 7) / 8, at = m->len;

	memcpy(full, a, n);
	put(m, full, n);
	assert_int_equal(anon_addr_map_bytes(f->addr, full, out, alen), 0);
	if (bits % 8)
		out[n - 1] &= (uint8_t)(0xff << (8 - bits % 8));
	memcpy(m->want + at, out, n);
}

/* An AS of size bytes, expected mapped when map is set. */
static void
put_as(struct fixture *f, struct msg *m, uint32_t as, size_t size, bool map)
{
	uint32_t out = as;

	if (map)
		assert_int_equal(anon_as_map(f->as, as, &out), 0);
	if (size == 2) {
		put_u16(m, (uint16_t)as);
		set_u16(m->want + m->len - 2, (uint16_t)out);
	} else {
		put_u32(m, as);
		m->want[m->len - 4] = (uint8_t)(out >> 24);
		m->want[m->len - 3] = (uint8_t)(out >> 16);
		m->want[m->len - 2] = (uint8_t)(out >> 8);
		m->want[m->len - 1] = (uint8_t)out;
	}
}

static void
header(struct msg *m, uint8_t type)
{
	static const uint8_t marker[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};

	m->len = 0;
	put(m, marker, 16);
	put_u16(m, 0);
	put_u8(m, type);
}

static void
finish(struct msg *m)
{
	set_u16(m->b + 16, (uint16_t)m->len);
	set_u16(m->want + 16, (uint16_t)m->len);
}

/* An attribute's header; its length patched by attr_end. */
static size_t
attr_begin(struct msg *m, uint8_t flags, uint8_t code)
{
	put_u8(m, flags | 0x10);
	put_u8(m, code);
	put_u16(m, 0);
	return m->len;
}

static void
attr_end(struct msg *m, size_t at)
{
	set_u16(m->b + at - 2, (uint16_t)(m->len - at));
	set_u16(m->want + at - 2, (uint16_t)(m->len - at));
}

static const uint8_t v4a[4] = { 192, 0, 2, 1 }, v4b[4] = { 198, 51, 100, 7 };
static const uint8_t v4c[4] = { 10, 1, 2, 0 }, v4d[4] = { 203, 0, 113, 128 };
static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t v6ll[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 };
static const uint8_t v6p[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xbb };

static void
build_open(struct fixture *f, struct msg *m, uint16_t my_as, uint32_t as4,
    bool map, bool add_path)
{
	size_t plen_at;

	header(m, BGP_OPEN);
	put_u8(m, 4);
	put_as(f, m, my_as, 2, map);
	put_u16(m, 90);
	put_addr(f, m, v4a, 4);
	plen_at = m->len;
	put_u8(m, 0);
	put_u8(m, 2);			/* capabilities */
	put_u8(m, add_path ? 18 : 12);
	put_u8(m, BGP_CAP_MP);
	put_u8(m, 4);
	put_u16(m, 1);
	put_u8(m, 0);
	put_u8(m, 1);
	put_u8(m, BGP_CAP_AS4);
	put_u8(m, 4);
	put_as(f, m, as4, 4, map);
	if (add_path) {
		put_u8(m, BGP_CAP_ADD_PATH);
		put_u8(m, 4);
		put_u16(m, 1);
		put_u8(m, 1);
		put_u8(m, 3);		/* send and receive */
	}
	m->b[plen_at] = m->want[plen_at] = (uint8_t)(m->len - plen_at - 1);
	finish(m);
}

static void
check(struct fixture *f, struct msg *m, const struct bgp_anon_view *v,
    enum anon_msg_result want)
{
	uint8_t *copy = malloc(m->len);

	assert_non_null(copy);
	memcpy(copy, m->b, m->len);
	assert_int_equal(bgp_anon_pdu(&f->rw, copy, m->len, v), want);
	assert_memory_equal(copy, m->want, m->len);
	free(copy);
}

static void
test_open(void **state)
{
	struct fixture *f = *state;
	struct bgp_anon_view v = { .as4 = -1 };
	struct msg m;

	build_open(f, &m, BGP_AS_TRANS, 4200000123u, false, false);
	check(f, &m, &v, ANON_MSG_REWRITTEN);
	f->rw.as = f->as;
	build_open(f, &m, 64512, 4200000123u, true, false);
	check(f, &m, &v, ANON_MSG_REWRITTEN);
	/* AS_TRANS is reserved: kept while the 4-byte AS is mapped. */
	build_open(f, &m, BGP_AS_TRANS, 196608, true, false);
	assert_int_equal(m.want[20], m.b[20]);
	check(f, &m, &v, ANON_MSG_REWRITTEN);
}

/* Text expected as its token (the same key makes the same one). */
static void
put_token(struct fixture *f, struct msg *m, const char *text)
{
	size_t n = strlen(text), at = m->len;

	put(m, text, n);
	assert_int_equal(anon_text_token(f->text, m->want + at, n), 0);
	assert_memory_not_equal(m->want + at, text, n);
}

/* Names: the OPEN's FQDN capability, a Cease's shutdown communication. */
static void
test_names(void **state)
{
	struct fixture *f = *state;
	struct bgp_anon_view v = { .as4 = -1 };
	struct msg m;
	size_t plen_at;

	header(&m, BGP_OPEN);
	put_u8(&m, 4);
	put_u16(&m, 64496);
	put_u16(&m, 90);
	put_addr(f, &m, v4a, 4);
	plen_at = m.len;
	put_u8(&m, 0);
	put_u8(&m, 2);
	put_u8(&m, 2 + 1 + 3 + 1 + 11);
	put_u8(&m, 73);
	put_u8(&m, 1 + 3 + 1 + 11);
	put_u8(&m, 3);
	put_token(f, &m, "pe1");
	put_u8(&m, 11);
	put_token(f, &m, "example.net");
	m.b[plen_at] = m.want[plen_at] = (uint8_t)(m.len - plen_at - 1);
	finish(&m);
	check(f, &m, &v, ANON_MSG_REWRITTEN);

	header(&m, BGP_NOTIFICATION);
	put_u8(&m, BGP_CEASE);
	put_u8(&m, BGP_CEASE_ADMIN_SHUTDOWN);
	put_u8(&m, 20);
	put_token(f, &m, "maintenance, ticket9");
	finish(&m);
	check(f, &m, &v, ANON_MSG_REWRITTEN);
}

/* An IPv4 UPDATE with every attribute the rewriter knows; path ids before each prefix when add_path. */
static void
build_update(struct fixture *f, struct msg *m, bool map, bool add_path)
{
	size_t wd_at, attrs_at, a;

	header(m, BGP_UPDATE);
	wd_at = m->len;
	put_u16(m, 0);
	if (add_path)
		put_u32(m, 7);
	put_u8(m, 24);
	put_prefix(f, m, v4c, 24, 4);
	set_u16(m->b + wd_at, (uint16_t)(m->len - wd_at - 2));
	set_u16(m->want + wd_at, (uint16_t)(m->len - wd_at - 2));
	attrs_at = m->len;
	put_u16(m, 0);
	a = attr_begin(m, 0x40, 2);		/* AS_PATH: one sequence of 4-byte ASes */
	put_u8(m, 2);
	put_u8(m, 3);
	put_as(f, m, 64512, 4, map);
	put_as(f, m, 3356, 4, map);
	put_as(f, m, 65535, 4, map);
	attr_end(m, a);
	a = attr_begin(m, 0x40, 3);		/* NEXT_HOP */
	put_addr(f, m, v4b, 4);
	attr_end(m, a);
	a = attr_begin(m, 0xc0, 7);		/* AGGREGATOR, 4-byte AS */
	put_as(f, m, 4200000001u, 4, map);
	put_addr(f, m, v4a, 4);
	attr_end(m, a);
	a = attr_begin(m, 0x80, 9);		/* ORIGINATOR_ID */
	put_addr(f, m, v4d, 4);
	attr_end(m, a);
	a = attr_begin(m, 0x80, 10);		/* CLUSTER_LIST */
	put_addr(f, m, v4a, 4);
	put_addr(f, m, v4b, 4);
	attr_end(m, a);
	a = attr_begin(m, 0xc0, 8);		/* COMMUNITIES: kept */
	put_u32(m, 0xfde80001);
	attr_end(m, a);
	set_u16(m->b + attrs_at, (uint16_t)(m->len - attrs_at - 2));
	set_u16(m->want + attrs_at, (uint16_t)(m->len - attrs_at - 2));
	if (add_path)
		put_u32(m, 1);
	put_u8(m, 25);
	put_prefix(f, m, v4d, 25, 4);
	if (add_path)
		put_u32(m, 2);
	put_u8(m, 32);
	put_prefix(f, m, v4b, 32, 4);
	if (add_path)
		put_u32(m, 3);
	put_u8(m, 0);				/* the default route */
	finish(m);
}

static void
test_update_ipv4(void **state)
{
	struct fixture *f = *state;
	struct bgp_anon_view v = { .as4 = 1 };
	struct msg m;

	build_update(f, &m, false, false);
	check(f, &m, &v, ANON_MSG_REWRITTEN);
	f->rw.as = f->as;
	build_update(f, &m, true, false);
	check(f, &m, &v, ANON_MSG_REWRITTEN);
	/* 4-byte AS not known: the AS_PATH size that reads is taken. */
	v.as4 = -1;
	check(f, &m, &v, ANON_MSG_REWRITTEN);
}

static void
test_update_add_path(void **state)
{
	struct fixture *f = *state;
	struct bgp_addpath ap = { .n = 1, .fam = { { 1, 1 } } };
	struct bgp_anon_view v = { .as4 = 1, .addpath = &ap };
	struct msg m;

	build_update(f, &m, false, true);
	check(f, &m, &v, ANON_MSG_REWRITTEN);
	/* Not negotiated: read with them only because they alone read cleanly. */
	v.addpath = NULL;
	check(f, &m, &v, ANON_MSG_REWRITTEN);
}

/* The session hook: ADD-PATH learned from both OPENs, then an UPDATE with path ids. */
static void
test_session_learns_add_path(void **state)
{
	struct fixture *f = *state;
	void *s = bgp_anon.new();
	struct msg m;
	uint8_t *copy;

	assert_non_null(s);
	for (int side = 0; side < 2; side++) {
		build_open(f, &m, 64496, 64496, false, true);
		assert_int_equal(bgp_anon.message(s, &f->rw, &(struct anon_msg){
		    .data = m.b, .len = m.len, .from_exporter = side == 0 }),
		    ANON_MSG_REWRITTEN);
		assert_memory_equal(m.b, m.want, m.len);
	}
	build_update(f, &m, false, true);
	copy = malloc(m.len);
	assert_non_null(copy);
	memcpy(copy, m.b, m.len);
	assert_int_equal(bgp_anon.message(s, &f->rw, &(struct anon_msg){
	    .data = copy, .len = m.len, .from_exporter = true }),
	    ANON_MSG_REWRITTEN);
	assert_memory_equal(copy, m.want, m.len);
	free(copy);
	bgp_anon.free(s);
}

/* MP_REACH (IPv6, global + link-local next hop), MP_UNREACH, and IPv4 VPN with its label and RD kept. */
static void
test_mp(void **state)
{
	struct fixture *f = *state;
	struct bgp_anon_view v = { .as4 = 1 };
	struct msg m;
	size_t a;
	static const uint8_t rd[8] = { 0, 0, 0xfd, 0xe8, 0, 0, 0, 7 };
	static const uint8_t label[3] = { 0x0b, 0xbd, 0x81 };

	header(&m, BGP_UPDATE);
	put_u16(&m, 0);
	put_u16(&m, 0);
	a = attr_begin(&m, 0x80, 14);
	put_u16(&m, 2);
	put_u8(&m, 1);
	put_u8(&m, 32);
	put_addr(f, &m, v6a, 16);
	put_addr(f, &m, v6ll, 16);
	put_u8(&m, 0);
	put_u8(&m, 48);
	put_prefix(f, &m, v6p, 48, 16);
	put_u8(&m, 37);
	put_prefix(f, &m, v6a, 37, 16);
	attr_end(&m, a);
	a = attr_begin(&m, 0x80, 15);
	put_u16(&m, 2);
	put_u8(&m, 1);
	put_u8(&m, 64);
	put_prefix(f, &m, v6a, 64, 16);
	attr_end(&m, a);
	a = attr_begin(&m, 0x80, 14);		/* a second family: VPN IPv4 */
	put_u16(&m, 1);
	put_u8(&m, 128);
	put_u8(&m, 12);
	put(&m, rd, 8);
	put_addr(f, &m, v4b, 4);
	put_u8(&m, 0);
	put_u8(&m, 24 + 64 + 24);
	put(&m, label, 3);
	put(&m, rd, 8);
	put_prefix(f, &m, v4c, 24, 4);
	attr_end(&m, a);
	/* The attributes' total length. */
	set_u16(m.b + 21, (uint16_t)(m.len - 23));
	set_u16(m.want + 21, (uint16_t)(m.len - 23));
	finish(&m);
	check(f, &m, &v, ANON_MSG_REWRITTEN);
}

/*
 * Every cut of an UPDATE, each in a buffer of exactly its length (ASan
 * catches a read past it): never REWRITTEN, never FAILED.
 */
static void
test_cut(void **state)
{
	struct fixture *f = *state;
	struct bgp_anon_view v = { .as4 = -1 };
	struct msg m;

	f->rw.as = f->as;
	build_update(f, &m, true, true);
	for (size_t len = 0; len < m.len; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		enum anon_msg_result r;

		assert_non_null(copy);
		memcpy(copy, m.b, len);
		r = bgp_anon_pdu(&f->rw, copy, len, &v);
		assert_true(r == ANON_MSG_CUT || r == ANON_MSG_MALFORMED);
		free(copy);
	}
}

/* A length that lies: MALFORMED, and what came before it still mapped. */
static void
test_malformed(void **state)
{
	struct fixture *f = *state;
	struct bgp_anon_view v = { .as4 = 1 };
	struct msg m;
	uint8_t *copy;
	int found = 0;

	build_update(f, &m, false, false);
	copy = malloc(m.len);
	assert_non_null(copy);
	/* The NEXT_HOP's length (a 2-byte one after flags and code) made 200. */
	for (size_t i = 23; i + 4 < m.len; i++)
		if (m.b[i] == 0x50 && m.b[i + 1] == 3) {
			memcpy(copy, m.b, m.len);
			set_u16(copy + i + 2, 200);
			assert_int_equal(bgp_anon_pdu(&f->rw, copy, m.len, &v),
			    ANON_MSG_MALFORMED);
			/* The withdrawn route before it was mapped. */
			assert_memory_equal(copy + 21, m.want + 21, 4);
			found++;
		}
	assert_int_equal(found, 1);
	free(copy);
	/* A header shorter than a header. */
	memcpy(m.b + 16, "\x00\x05", 2);
	assert_int_equal(bgp_anon_pdu(&f->rw, m.b, m.len, &v),
	    ANON_MSG_MALFORMED);
}

/* The AS permutation: within each range, reversible, reserved values kept. */
static void
test_as_ranges(void **state)
{
	struct fixture *f = *state;
	static const uint32_t reserved[] = { 0, 23456, 64496, 64511, 65535,
	    65536, 131071, 4294967295u };
	static const struct { uint32_t lo, hi; } ranges[] = {
		{ 1, 64495 }, { 64512, 65534 }, { 131072, 4199999999u },
		{ 4200000000u, 4294967294u },
	};
	uint32_t out, back;

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		assert_int_equal(anon_as_map(f->as, reserved[i], &out), 0);
		assert_int_equal(out, reserved[i]);
	}
	for (size_t r = 0; r < 4; r++)
		for (uint32_t k = 0; k < 200; k++) {
			uint32_t as = ranges[r].lo + k * ((ranges[r].hi - ranges[r].lo) / 200);

			if (as == 23456)
				continue;
			assert_int_equal(anon_as_map(f->as, as, &out), 0);
			assert_true(out >= ranges[r].lo && out <= ranges[r].hi);
			assert_int_not_equal(out, 23456);
			assert_int_equal(anon_as_unmap(f->as, out, &back), 0);
			assert_int_equal(back, as);
		}
}

/* Text tokens: same length, letters and digits, the same for the same text, another for another. */
static void
test_text(void **state)
{
	struct anon_text *t = anon_text_new(key);
	uint8_t a[70] = "router-1.example.net", b[70] = "router-1.example.net";
	uint8_t c[70] = "router-2.example.net";

	(void)state;
	assert_non_null(t);
	assert_int_equal(anon_text_token(t, a, 70), 0);
	assert_int_equal(anon_text_token(t, b, 70), 0);
	assert_int_equal(anon_text_token(t, c, 70), 0);
	assert_memory_equal(a, b, 70);
	assert_memory_not_equal(a, c, 70);
	for (size_t i = 0; i < 70; i++)
		assert_true((a[i] >= 'a' && a[i] <= 'z') ||
		    (a[i] >= '0' && a[i] <= '9'));
	anon_text_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_ipv4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_add_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_learns_add_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_as_ranges, setup, teardown),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
