/* Unit tests for the info summary's parsers: BGP UPDATE prefix counts, BMP per-peer headers, Peer Up and Initiation text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bgp.h"
#include "bmp.h"
#include "info.h"

/* ---- builders ----------------------------------------------------------- */

struct buf {
	uint8_t	b[4096];
	size_t	len;
};

static void
put(struct buf *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof(m->b));
	if (n > 0)
		memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void
put8(struct buf *m, uint8_t v)
{
	put(m, &v, 1);
}

static void
put16(struct buf *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

static void
put32(struct buf *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void
set16(struct buf *m, size_t at, size_t v)
{
	m->b[at] = (uint8_t)(v >> 8);
	m->b[at + 1] = (uint8_t)v;
}

static void
set32(struct buf *m, size_t at, size_t v)
{
	set16(m, at, v >> 16);
	set16(m, at + 2, v & 0xffff);
}

static size_t
bgp_start(struct buf *m, uint8_t type)
{
	size_t at = m->len;

	for (int i = 0; i < 16; i++)
		put8(m, 0xff);
	put16(m, 0);
	put8(m, type);
	return at;
}

static void
bgp_end(struct buf *m, size_t at)
{
	set16(m, at + 16, m->len - at);
}

/* An UPDATE from its three parts, as raw bytes. */
static size_t
update(struct buf *m, const uint8_t *wd, size_t wdlen, const uint8_t *attrs,
    size_t alen, const uint8_t *nlri, size_t nlen)
{
	size_t at = bgp_start(m, BGP_UPDATE);

	put16(m, (uint16_t)wdlen);
	put(m, wd, wdlen);
	put16(m, (uint16_t)alen);
	put(m, attrs, alen);
	put(m, nlri, nlen);
	bgp_end(m, at);
	return at;
}

/* An OPEN with 4-byte AS and, per family given, multiprotocol and ADD-PATH with `mode`. */
static size_t
open_msg(struct buf *m, uint32_t as, uint32_t id, const uint16_t *afi,
    const uint8_t *safi, size_t nfam, uint8_t mode)
{
	uint8_t mp[8][4], ap[32], as4[4] = { (uint8_t)(as >> 24),
	    (uint8_t)(as >> 16), (uint8_t)(as >> 8), (uint8_t)as };
	struct bgp_open o = { .version = 4, .my_as = 23456, .hold_time = 90,
	    .bgp_id = id };
	int n;

	for (size_t i = 0; i < nfam; i++) {
		mp[i][0] = (uint8_t)(afi[i] >> 8);
		mp[i][1] = (uint8_t)afi[i];
		mp[i][2] = 0;
		mp[i][3] = safi[i];
		o.caps[o.ncaps++] = (struct bgp_cap){ BGP_CAP_MP, 4, mp[i] };
		memcpy(ap + 4 * i, mp[i], 4);
		ap[4 * i + 2] = safi[i];
		ap[4 * i + 3] = mode;
	}
	o.caps[o.ncaps++] = (struct bgp_cap){ BGP_CAP_AS4, 4, as4 };
	if (mode != 0)
		o.caps[o.ncaps++] = (struct bgp_cap){ BGP_CAP_ADD_PATH,
		    (uint8_t)(4 * nfam), ap };
	n = bgp_open_build(m->b + m->len, sizeof(m->b) - m->len, &o);
	assert_true(n > 0);
	m->len += (size_t)n;
	return m->len - (size_t)n;
}

static const struct bgp_family_count *
fam(const struct bgp_update_counts *uc, uint16_t afi, uint8_t safi)
{
	for (size_t i = 0; i < uc->n; i++)
		if (uc->fam[i].afi == afi && uc->fam[i].safi == safi)
			return &uc->fam[i];
	fail_msg("family %u/%u not counted", afi, safi);
	return NULL;
}

/* ---- BGP UPDATE prefix counting --------------------------------------------- */

static const uint8_t origin_attr[] = { 0x40, 1, 1, 0 };

static void
test_update_classic(void **state)
{
	/* Withdrawn: 10.0.0.0/8, 192.168.1.0/24; NLRI: 0/0, 100.64.1.0/24, 100.64.1.128/25. */
	static const uint8_t wd[] = { 8, 10, 24, 192, 168, 1 };
	static const uint8_t nlri[] = { 0, 24, 100, 64, 1, 25, 100, 64, 1, 128 };
	struct bgp_update_counts uc;
	struct buf m = { .len = 0 };

	(void)state;
	update(&m, wd, sizeof(wd), origin_attr, sizeof(origin_attr), nlri,
	    sizeof(nlri));
	assert_int_equal(bgp_update_count(m.b, m.len, NULL, &uc), 0);
	assert_int_equal(uc.n, 1);
	assert_int_equal(fam(&uc, 1, 1)->withdrawn, 2);
	assert_int_equal(fam(&uc, 1, 1)->announced, 3);
	assert_false(fam(&uc, 1, 1)->end_of_rib);
}

static void
test_update_mp(void **state)
{
	/*
	 * MP_REACH IPv6 unicast (next hop 16 bytes): 2001:db8::/32 and ::/0;
	 * MP_UNREACH IPv4 VPN: one label + RD + /24 = 112 bits.
	 */
	struct buf a = { .len = 0 }, m = { .len = 0 };
	struct bgp_update_counts uc;
	static const uint8_t nh[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	(void)state;
	put8(&a, 0x90);			/* optional, extended length */
	put8(&a, BGP_ATTR_MP_REACH);
	put16(&a, 2 + 1 + 1 + 16 + 1 + 5 + 1);
	put16(&a, 2);
	put8(&a, 1);
	put8(&a, 16);
	put(&a, nh, 16);
	put8(&a, 0);			/* reserved */
	put8(&a, 32);
	put32(&a, 0x20010db8);
	put8(&a, 0);
	put8(&a, 0x80);
	put8(&a, BGP_ATTR_MP_UNREACH);
	put8(&a, 3 + 1 + 14);
	put16(&a, 1);
	put8(&a, 128);
	put8(&a, 112);
	for (int i = 0; i < 14; i++)
		put8(&a, (uint8_t)i);
	update(&m, NULL, 0, a.b, a.len, NULL, 0);
	assert_int_equal(bgp_update_count(m.b, m.len, NULL, &uc), 0);
	assert_int_equal(uc.n, 2);
	assert_int_equal(fam(&uc, 2, 1)->announced, 2);
	assert_int_equal(fam(&uc, 2, 1)->withdrawn, 0);
	assert_int_equal(fam(&uc, 1, 128)->withdrawn, 1);
	assert_string_equal(bgp_family_name(1, 128), "ipv4-vpn");
	assert_null(bgp_family_name(1, 200));
}

static void
test_update_add_path(void **state)
{
	/* Two paths for 100.64.1.0/24, each with its path identifier (RFC 7911); 10.0.0.0/8 withdrawn as path 7. */
	static const uint8_t nlri[] = { 0, 0, 0, 1, 24, 100, 64, 1,
	    0, 0, 0, 2, 24, 100, 64, 1 };
	static const uint8_t wd[] = { 0, 0, 0, 7, 8, 10 };
	struct bgp_addpath ap = { .n = 1, .fam = { { 1, 1 } } };
	struct bgp_update_counts uc;
	struct buf m = { .len = 0 };

	(void)state;
	update(&m, wd, sizeof(wd), origin_attr, sizeof(origin_attr), nlri,
	    sizeof(nlri));
	assert_int_equal(bgp_update_count(m.b, m.len, &ap, &uc), 0);
	assert_int_equal(fam(&uc, 1, 1)->announced, 2);
	assert_int_equal(fam(&uc, 1, 1)->withdrawn, 1);
	assert_false(fam(&uc, 1, 1)->add_path_guessed);
	/*
	 * With no OPEN to say so, the same bytes read without path identifiers
	 * are nonsense (a /1 with bits past it, then a length past 32; the
	 * withdrawn field runs past its end), and read exactly with them.
	 */
	assert_int_equal(bgp_update_count(m.b, m.len, NULL, &uc), 0);
	assert_int_equal(fam(&uc, 1, 1)->announced, 2);
	assert_int_equal(fam(&uc, 1, 1)->withdrawn, 1);
	assert_true(fam(&uc, 1, 1)->add_path_guessed);
}

/* MP_REACH IPv4 labelled unicast (RFC 8277) with path identifiers that no OPEN announced. */
static void
test_update_add_path_guess_labelled(void **state)
{
	/* Path id, 56 bits: label 24067 (bottom of stack), 90.0.0.1/32; twice, paths 1 and 2. */
	static const uint8_t lu[] = { 0, 0, 0, 1, 56, 0x05, 0xe0, 0x31, 90, 0, 0, 1,
	    0, 0, 0, 2, 56, 0x05, 0xe0, 0x31, 90, 0, 0, 1 };
	struct bgp_addpath ap = { .n = 1, .fam = { { 1, 1 } } };
	struct buf a = { .len = 0 }, m = { .len = 0 };
	struct bgp_update_counts uc;

	(void)state;
	put8(&a, 0x90);
	put8(&a, BGP_ATTR_MP_REACH);
	put16(&a, 2 + 1 + 1 + 4 + 1 + sizeof(lu));
	put16(&a, 1);
	put8(&a, 4);
	put8(&a, 4);
	put32(&a, 0xcb00715a);		/* next hop 203.0.113.90 */
	put8(&a, 0);
	put(&a, lu, sizeof(lu));
	update(&m, NULL, 0, a.b, a.len, NULL, 0);
	/* Without path ids the field reads (lengths 0, 0, 0, 1, ...) but not cleanly: a labelled NLRI has a label. */
	assert_int_equal(bgp_update_count(m.b, m.len, NULL, &uc), 0);
	assert_int_equal(uc.n, 1);
	assert_int_equal(fam(&uc, 1, 4)->announced, 2);
	assert_true(fam(&uc, 1, 4)->add_path_guessed);
	/* ADD-PATH negotiated for another family only: the guess still applies to this one. */
	assert_int_equal(bgp_update_count(m.b, m.len, &ap, &uc), 0);
	assert_int_equal(fam(&uc, 1, 4)->announced, 2);
	assert_true(fam(&uc, 1, 4)->add_path_guessed);
}

/* A field that reads cleanly both with and without path identifiers is read without them. */
static void
test_update_add_path_ambiguous(void **state)
{
	/* Without: 10.1.2.0/24 and 192.168.0.0/16.  With: path 0x180a0102, then 192.168.0.0/16. */
	static const uint8_t nlri[] = { 24, 10, 1, 2, 16, 192, 168 };
	struct bgp_addpath ap = { .n = 1, .fam = { { 1, 1 } } };
	struct bgp_update_counts uc;
	struct buf m = { .len = 0 };

	(void)state;
	update(&m, NULL, 0, origin_attr, sizeof(origin_attr), nlri,
	    sizeof(nlri));
	assert_int_equal(bgp_update_count(m.b, m.len, NULL, &uc), 0);
	assert_int_equal(fam(&uc, 1, 1)->announced, 2);
	assert_false(fam(&uc, 1, 1)->add_path_guessed);
	/* Where the OPENs negotiated ADD-PATH, they decide. */
	assert_int_equal(bgp_update_count(m.b, m.len, &ap, &uc), 0);
	assert_int_equal(fam(&uc, 1, 1)->announced, 1);
	assert_false(fam(&uc, 1, 1)->add_path_guessed);
}

static void
test_update_end_of_rib(void **state)
{
	static const uint8_t mp_eor[] = { 0x80, BGP_ATTR_MP_UNREACH, 3, 0, 2, 1 };
	struct bgp_update_counts uc;
	struct buf m = { .len = 0 };

	(void)state;
	update(&m, NULL, 0, NULL, 0, NULL, 0);
	assert_int_equal(bgp_update_count(m.b, m.len, NULL, &uc), 0);
	assert_true(fam(&uc, 1, 1)->end_of_rib);
	m.len = 0;
	update(&m, NULL, 0, mp_eor, sizeof(mp_eor), NULL, 0);
	assert_int_equal(bgp_update_count(m.b, m.len, NULL, &uc), 0);
	assert_int_equal(uc.n, 1);
	assert_true(fam(&uc, 2, 1)->end_of_rib);
}

static void
test_update_malformed(void **state)
{
	static const uint8_t short_attr[] = { 0x40, 1, 5, 0 };	/* says 5, has 1 */
	static const uint8_t long_prefix[] = { 33, 1, 2, 3, 4, 5 };
	static const uint8_t cut_prefix[] = { 24, 100, 64 };
	static const uint8_t short_mp[] = { 0x80, BGP_ATTR_MP_REACH, 4, 0, 2,
	    1, 16 };
	const struct {
		const uint8_t	*attrs, *nlri;
		size_t		 alen, nlen;
	} cases[] = {
		{ short_attr, NULL, sizeof(short_attr), 0 },
		{ origin_attr, long_prefix, sizeof(origin_attr),
		  sizeof(long_prefix) },
		{ origin_attr, cut_prefix, sizeof(origin_attr),
		  sizeof(cut_prefix) },
		{ short_mp, NULL, sizeof(short_mp), 0 },
	};
	struct bgp_update_counts uc;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf m = { .len = 0 };

		update(&m, NULL, 0, cases[i].attrs, cases[i].alen,
		    cases[i].nlri, cases[i].nlen);
		assert_int_equal(bgp_update_count(m.b, m.len, NULL, &uc), -1);
		assert_non_null(uc.error);
		/* A cut message is never read past its end. */
		assert_int_equal(bgp_update_count(m.b, m.len - 1, NULL, &uc),
		    -1);
	}
}

static void
test_addpath_negotiation(void **state)
{
	static const uint16_t afi[] = { 1, 2 };
	static const uint8_t safi[] = { 1, 1 };
	struct buf a = { .len = 0 }, b = { .len = 0 };
	struct bgp_open send_both, recv_only, none;
	struct bgp_addpath ap;

	(void)state;
	open_msg(&a, 65001, 1, afi, safi, 2, 3);
	assert_int_equal(bgp_open_parse(a.b, a.len, &send_both), 0);
	open_msg(&b, 65002, 2, afi, safi, 1, 1);
	assert_int_equal(bgp_open_parse(b.b, b.len, &recv_only), 0);
	bgp_addpath_from_opens(&send_both, &recv_only, &ap);
	assert_int_equal(ap.n, 1);
	assert_true(bgp_addpath_has(&ap, 1, 1));
	assert_false(bgp_addpath_has(&ap, 2, 1));
	/* Without the other side's OPEN, the sender's offer stands. */
	bgp_addpath_from_opens(&send_both, NULL, &ap);
	assert_int_equal(ap.n, 2);
	/* The receiver cannot send: its UPDATEs carry no path identifiers. */
	bgp_addpath_from_opens(&recv_only, &send_both, &ap);
	assert_int_equal(ap.n, 0);
	b.len = 0;
	open_msg(&b, 65002, 2, afi, safi, 2, 0);
	assert_int_equal(bgp_open_parse(b.b, b.len, &none), 0);
	bgp_addpath_from_opens(&send_both, &none, &ap);
	assert_int_equal(ap.n, 0);
	assert_string_equal(bgp_cap_name(BGP_CAP_ADD_PATH), "add-path");
}

/* ---- BMP ------------------------------------------------------------------ */

static size_t
bmp_start(struct buf *m, uint8_t type)
{
	size_t at = m->len;

	put8(m, 3);
	put32(m, 0);
	put8(m, type);
	return at;
}

static void
bmp_end(struct buf *m, size_t at)
{
	set32(m, at + 1, m->len - at);
}

static void
peer_header(struct buf *m, uint8_t type, uint8_t flags, const uint8_t *addr16,
    uint32_t as, uint32_t id)
{
	static const uint8_t zero[16];

	put8(m, type);
	put8(m, flags);
	put(m, zero, 8);
	put(m, addr16 ? addr16 : zero, 16);
	put32(m, as);
	put32(m, id);
	put32(m, 1700000000);
	put32(m, 0);
}

static void
test_bmp_peer_header(void **state)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v4[16] = { [12] = 203, 0, 113, 7 };
	struct bmp_peer_hdr h;
	struct buf m = { .len = 0 };
	struct cursor c;

	(void)state;
	peer_header(&m, BMP_PEER_GLOBAL, BMP_PEER_FLAG_V | BMP_PEER_FLAG_A,
	    v6, 65001, 0xc0000201);
	c = cur_init(m.b, m.len);
	assert_int_equal(bmp_peer_header_parse(&c, &h), 0);
	assert_int_equal(cur_left(&c), 0);
	assert_int_equal(h.addr.family, AF_INET6);
	assert_memory_equal(&h.addr.v6, v6, 16);
	assert_int_equal(h.as, 65001);
	assert_int_equal(h.bgp_id, 0xc0000201);
	assert_true(h.flags & BMP_PEER_FLAG_A);

	m.len = 0;
	peer_header(&m, BMP_PEER_GLOBAL, 0, v4, 65002, 1);
	c = cur_init(m.b, m.len);
	assert_int_equal(bmp_peer_header_parse(&c, &h), 0);
	assert_int_equal(h.addr.family, AF_INET);
	assert_memory_equal(&h.addr.v4, v4 + 12, 4);

	/* Loc-RIB (RFC 9069): its flag 0x80 is F, not V; there is no peer address. */
	m.len = 0;
	peer_header(&m, BMP_PEER_LOC_RIB, BMP_LOC_RIB_FLAG_F, NULL, 65003, 2);
	c = cur_init(m.b, m.len);
	assert_int_equal(bmp_peer_header_parse(&c, &h), 0);
	assert_int_equal(h.addr.family, AF_INET);

	c = cur_init(m.b, BMP_PEER_HDR_LEN - 1);
	assert_int_equal(bmp_peer_header_parse(&c, &h), -1);
}

static void
test_bmp_tlvs(void **state)
{
	struct buf m = { .len = 0 };
	struct cursor c, v;
	uint16_t type;

	(void)state;
	put16(&m, BMP_INFO_SYS_NAME);
	put16(&m, 2);
	put(&m, "r1", 2);
	put16(&m, BMP_INFO_SYS_DESCR);
	put16(&m, 9);			/* runs past the end */
	put(&m, "abc", 3);
	c = cur_init(m.b, m.len);
	assert_int_equal(bmp_tlv_next(&c, &type, &v), 1);
	assert_int_equal(type, BMP_INFO_SYS_NAME);
	assert_int_equal(cur_left(&v), 2);
	assert_int_equal(bmp_tlv_next(&c, &type, &v), -1);
}

/* ---- the summary, through info_packet ----------------------------------- */

struct feed {
	struct info	*inf;
	struct tr_packet pkt;
	uint32_t	 seq;
};

static void
feed_start(struct feed *f, struct info *inf, uint16_t dport)
{
	memset(f, 0, sizeof(*f));
	f->inf = inf;
	addr_parse("192.0.2.9", &f->pkt.src);
	addr_parse("198.51.100.1", &f->pkt.dst);
	f->pkt.l4proto = TR_IPPROTO_TCP;
	f->pkt.sport = 40000;
	f->pkt.dport = dport;
	f->pkt.tcp_flags = TR_TCP_SYN;
	f->pkt.tcp_seq = 1000;
	f->pkt.ts = 1700000000 * TR_NS_PER_SEC;
	info_begin_capture(inf, "unit");
	assert_int_equal(info_packet(inf, &f->pkt), 0);
	f->seq = 1001;
}

static void
feed_bytes(struct feed *f, const uint8_t *p, size_t len)
{
	f->pkt.frame++;
	f->pkt.tcp_flags = TR_TCP_ACK | TR_TCP_PSH;
	f->pkt.tcp_seq = f->seq;
	f->pkt.payload = p;
	f->pkt.payload_len = len;
	f->pkt.ts += TR_NS_PER_MS;
	assert_int_equal(info_packet(f->inf, &f->pkt), 0);
	f->seq += (uint32_t)len;
}

/* The summary as text and back, so what is checked is what a user's JSON parser gets. */
static json_t *
summary(struct info *inf)
{
	json_t *j = info_json(inf), *back;
	json_error_t err;
	char *text;

	assert_non_null(j);
	text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	assert_non_null(text);
	/* A NUL in router text comes out as \u0000: valid JSON, which jansson reads only when told. */
	back = json_loads(text, JSON_ALLOW_NUL, &err);
	assert_non_null(back);
	free(text);
	json_decref(j);
	return back;
}

static void
test_info_initiation_text(void **state)
{
	/* Quotes, a backslash, control characters, a NUL, a lone continuation byte and a cut sequence. */
	static const uint8_t descr[] = "say \"hi\"\\\n\t\x01\x00\x80ok\xc3";
	struct buf m = { .len = 0 };
	struct info *inf = info_new(NULL);
	struct feed f;
	json_t *j, *s;
	size_t at;

	(void)state;
	at = bmp_start(&m, BMP_INITIATION);
	put16(&m, BMP_INFO_SYS_DESCR);
	put16(&m, sizeof(descr) - 1);
	put(&m, descr, sizeof(descr) - 1);
	put16(&m, BMP_INFO_SYS_NAME);
	put16(&m, 6);
	put(&m, "r\xc3\xa9seau", 6);	/* "réseau" cut to 6 bytes: still whole characters */
	bmp_end(&m, at);
	at = bmp_start(&m, BMP_TERMINATION);
	bmp_end(&m, at);
	feed_start(&f, inf, 1790);
	feed_bytes(&f, m.b, m.len);
	info_end_capture(inf);
	j = summary(inf);
	s = json_object_get(json_array_get(json_object_get(json_array_get(
	    json_object_get(j, "exporters"), 0), "bmp"), 0), "sys_descr");
	assert_non_null(s);
	assert_int_equal(json_string_length(s), 13 + 3 + 2 + 3);
	assert_memory_equal(json_string_value(s),
	    "say \"hi\"\\\n\t\x01\x00\xef\xbf\xbdok\xef\xbf\xbd", 21);
	s = json_object_get(json_array_get(json_object_get(json_array_get(
	    json_object_get(j, "exporters"), 0), "bmp"), 0), "sys_name");
	assert_string_equal(json_string_value(s), "r\xc3\xa9sea");
	json_decref(j);
	info_free(inf);
}

static json_t *
path(json_t *j, const char *const *keys)
{
	for (; *keys != NULL; keys++)
		j = (*keys)[0] == '#' ? json_array_get(j, (size_t)atoi(*keys + 1)) :
		    json_object_get(j, *keys);
	return j;
}

static void
test_info_bmp_peer_add_path(void **state)
{
	static const uint16_t afi[] = { 1 };
	static const uint8_t safi[] = { 1 };
	static const uint8_t v4[16] = { [12] = 203, 0, 113, 7 };
	static const uint8_t nlri[] = { 0, 0, 0, 1, 24, 100, 64, 1,
	    0, 0, 0, 2, 24, 100, 64, 1 };
	static const uint8_t wd[] = { 0, 0, 0, 3, 16, 10, 1 };
	static const char *const peer0[] = { "exporters", "#0", "bmp", "#0",
	    "peers", "#0", NULL };
	static const char *const ipv4[] = { "prefixes", "#0", NULL };
	struct buf m = { .len = 0 };
	struct info *inf = info_new(NULL);
	struct feed f;
	json_t *j, *p, *fam0;
	size_t at;

	(void)state;
	at = bmp_start(&m, BMP_PEER_UP);
	peer_header(&m, BMP_PEER_GLOBAL, 0, v4, 65001, 0xcb007107);
	put(&m, v4, 16);
	put16(&m, 179);
	put16(&m, 40000);
	open_msg(&m, 64512, 1, afi, safi, 1, 1);	/* the router receives paths */
	open_msg(&m, 65001, 0xcb007107, afi, safi, 1, 2);	/* the peer sends them */
	bmp_end(&m, at);
	for (int i = 0; i < 3; i++) {
		at = bmp_start(&m, BMP_ROUTE_MONITORING);
		peer_header(&m, BMP_PEER_GLOBAL, 0, v4, 65001, 0xcb007107);
		update(&m, wd, sizeof(wd), origin_attr, sizeof(origin_attr),
		    nlri, sizeof(nlri));
		bmp_end(&m, at);
	}
	feed_start(&f, inf, 1790);
	/* In two segments cut mid-message: reassembly and framing put them together. */
	feed_bytes(&f, m.b, 100);
	feed_bytes(&f, m.b + 100, m.len - 100);
	info_end_capture(inf);
	j = summary(inf);
	p = path(j, peer0);
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "address")),
	    "203.0.113.7");
	assert_int_equal(json_integer_value(json_object_get(p, "as")), 65001);
	assert_string_equal(json_string_value(json_object_get(p, "bgp_id")),
	    "203.0.113.7");
	assert_false(json_is_true(json_object_get(p, "loc_rib")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(p,
	    "messages"), "route_monitoring")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(p,
	    "messages"), "peer_up")), 1);
	fam0 = path(p, ipv4);
	assert_string_equal(json_string_value(json_object_get(fam0, "family")),
	    "ipv4-unicast");
	assert_int_equal(json_integer_value(json_object_get(fam0, "announced")),
	    6);
	assert_int_equal(json_integer_value(json_object_get(fam0, "withdrawn")),
	    3);
	assert_true(json_is_true(json_object_get(fam0, "add_path")));
	assert_int_equal(json_array_size(json_object_get(p, "malformed")), 0);
	json_decref(j);
	info_free(inf);
}

static void
test_info_bgp_session(void **state)
{
	static const uint16_t afi[] = { 1 };
	static const uint8_t safi[] = { 1 };
	static const uint8_t nlri[] = { 24, 100, 64, 1 };
	static const char *const s0[] = { "exporters", "#0", "bgp", "#0", NULL };
	struct buf m = { .len = 0 };
	struct info *inf = info_new(NULL);
	struct feed f;
	json_t *j, *s;
	size_t at;

	(void)state;
	open_msg(&m, 65001, 0xc0000209, afi, safi, 1, 0);
	update(&m, NULL, 0, origin_attr, sizeof(origin_attr), nlri,
	    sizeof(nlri));
	/* Garbage between messages is skipped and counted, and framing resumes. */
	put(&m, "\x01\x02\x03", 3);
	update(&m, NULL, 0, origin_attr, sizeof(origin_attr), nlri,
	    sizeof(nlri));
	at = bgp_start(&m, BGP_NOTIFICATION);
	put8(&m, 6);
	put8(&m, 2);
	bgp_end(&m, at);
	feed_start(&f, inf, 179);
	feed_bytes(&f, m.b, m.len);
	/* A retransmission of the last 30 bytes does not count twice. */
	f.seq -= 30;
	feed_bytes(&f, m.b + m.len - 30, 30);
	info_end_capture(inf);
	j = summary(inf);
	s = path(j, s0);
	assert_non_null(s);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s,
	    "open"), "as")), 65001);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    s, "open"), "bgp_id")), "192.0.2.9");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s,
	    "messages"), "update")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(s, "prefixes"), 0), "announced")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(s, "notifications"), 0), "text")),
	    "Cease: Administrative Shutdown (code 6, subcode 2)");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s,
	    "reassembly"), "retransmitted_bytes")), 30);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s,
	    "reassembly"), "skipped_bytes")), 3);
	json_decref(j);
	info_free(inf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_classic),
		cmocka_unit_test(test_update_mp),
		cmocka_unit_test(test_update_add_path),
		cmocka_unit_test(test_update_add_path_guess_labelled),
		cmocka_unit_test(test_update_add_path_ambiguous),
		cmocka_unit_test(test_update_end_of_rib),
		cmocka_unit_test(test_update_malformed),
		cmocka_unit_test(test_addpath_negotiation),
		cmocka_unit_test(test_bmp_peer_header),
		cmocka_unit_test(test_bmp_tlvs),
		cmocka_unit_test(test_info_initiation_text),
		cmocka_unit_test(test_info_bmp_peer_add_path),
		cmocka_unit_test(test_info_bgp_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
