/* Unit tests for the NetFlow/IPFIX, BMP and BGP header decoders on hand-built bytes. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bgp.h"
#include "bmp.h"
#include "netflow.h"

#define FF16 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
	     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

/* ---- NetFlow v5 / v9 / IPFIX ------------------------------------------ */

static const uint8_t v5_hdr[24] = {
	0x00, 0x05, 0x00, 0x02,			/* version 5, count 2 */
	0x00, 0x00, 0x10, 0x00,			/* sysUptime 4096 */
	0x60, 0x00, 0x00, 0x00,			/* unix secs */
	0x00, 0x00, 0x00, 0x01,			/* unix nsecs */
	0x00, 0x00, 0x00, 0x2a,			/* flow sequence 42 */
	0x01, 0x02,				/* engine type 1, id 2 */
	0x00, 0x00,				/* sampling */
};

static const uint8_t v9_msg[] = {
	0x00, 0x09, 0x00, 0x01,			/* version 9, count 1 */
	0x00, 0x00, 0x00, 0x64,			/* sysUptime 100 */
	0x60, 0x00, 0x00, 0x01,			/* unix secs */
	0x00, 0x00, 0x00, 0x07,			/* sequence 7 */
	0x00, 0x00, 0x01, 0x00,			/* source id 256 */
	/* template FlowSet: template 300 with one 4-byte field */
	0x00, 0x00, 0x00, 0x0c, 0x01, 0x2c, 0x00, 0x01, 0x00, 0x08, 0x00, 0x04,
	/* data FlowSet 300: one record */
	0x01, 0x2c, 0x00, 0x08, 0x0a, 0x00, 0x00, 0x01,
};

/* IPFIX: template set (id 256: sourceIPv4Address + enterprise field) and a data set. */
static const uint8_t ipfix_msg[] = {
	0x00, 0x0a, 0x00, 0x34,			/* version 10, length 52 */
	0x60, 0x00, 0x00, 0x02,			/* export time */
	0x00, 0x00, 0x00, 0x05,			/* sequence 5 */
	0x00, 0x00, 0x00, 0x09,			/* domain 9 */
	0x00, 0x02, 0x00, 0x14,			/* template set, 20 bytes */
	0x01, 0x00, 0x00, 0x02,			/* template 256, 2 fields */
	0x00, 0x08, 0x00, 0x04,			/* sourceIPv4Address, 4 */
	0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x63,	/* enterprise 99 field 1, 2 */
	0x01, 0x00, 0x00, 0x10,			/* data set 256, 16 bytes */
	0x0a, 0x00, 0x00, 0x01, 0x00, 0x01,	/* record 1 */
	0x0a, 0x00, 0x00, 0x02, 0x00, 0x02,	/* record 2 */
};

/* Which headers parse, and as what version. */
static void
test_ipfix_version(void **state)
{
	static const struct {
		const uint8_t	*p;
		size_t		 len;
		int		 want;
	} cases[] = {
		{ v5_hdr, sizeof(v5_hdr), 5 },
		{ v5_hdr, sizeof(v5_hdr) - 1, -1 },	/* header does not fit */
		{ v9_msg, 20, 9 },
		{ v9_msg, 19, -1 },
		{ ipfix_msg, 16, 10 },
		{ ipfix_msg, 15, -1 },
		{ ipfix_msg, 1, -1 },
		{ ipfix_msg, 0, -1 },
		{ (const uint8_t *)"\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00"
		  "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
		  24, -1 },				/* version 7 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nf_header h;
		int rc = nf_parse_header(cases[i].p, cases[i].len, &h);

		assert_int_equal(rc == -1 ? -1 : h.version, cases[i].want);
	}
}

static void
test_ipfix_header_v5(void **state)
{
	struct nf_header h;

	(void)state;
	assert_int_equal(nf_parse_header(v5_hdr, sizeof(v5_hdr), &h), 0);
	assert_int_equal(h.version, 5);
	assert_int_equal(h.count, 2);
	assert_int_equal(h.length, 0);
	assert_int_equal(h.uptime_ms, 4096);
	assert_int_equal(h.export_secs, 0x60000000);
	assert_int_equal(h.sequence, 42);
	assert_int_equal(h.domain, 0x0102);
	assert_int_equal(h.header_len, 24);
	assert_int_equal(nf_parse_header(v5_hdr, 23, &h), -1);
}

static void
test_ipfix_header_v9(void **state)
{
	struct nf_header h;

	(void)state;
	assert_int_equal(nf_parse_header(v9_msg, sizeof(v9_msg), &h), 0);
	assert_int_equal(h.version, 9);
	assert_int_equal(h.count, 1);
	assert_int_equal(h.uptime_ms, 100);
	assert_int_equal(h.export_secs, 0x60000001);
	assert_int_equal(h.sequence, 7);
	assert_int_equal(h.domain, 256);
	assert_int_equal(h.header_len, 20);
	assert_int_equal(nf_parse_header(v9_msg, 19, &h), -1);
}

static void
test_ipfix_header_ipfix(void **state)
{
	uint8_t bad[16];
	struct nf_header h;

	(void)state;
	assert_int_equal(nf_parse_header(ipfix_msg, sizeof(ipfix_msg), &h),
	    0);
	assert_int_equal(h.version, 10);
	assert_int_equal(h.length, 52);
	assert_int_equal(h.count, 0);
	assert_int_equal(h.uptime_ms, 0);
	assert_int_equal(h.export_secs, 0x60000002);
	assert_int_equal(h.sequence, 5);
	assert_int_equal(h.domain, 9);
	assert_int_equal(h.header_len, 16);
	assert_int_equal(nf_parse_header(ipfix_msg, 15, &h), -1);
	/* A message length shorter than the header itself is impossible. */
	memcpy(bad, ipfix_msg, sizeof(bad));
	bad[3] = 15;
	assert_int_equal(nf_parse_header(bad, sizeof(bad), &h), -1);
}

static void
test_ipfix_set_ids(void **state)
{
	uint16_t ids[4];

	(void)state;
	assert_int_equal(nf_set_ids(ipfix_msg, sizeof(ipfix_msg), ids, 4),
	    2);
	assert_int_equal(ids[0], IPFIX_TEMPLATE_SET);
	assert_int_equal(ids[1], 256);
	assert_int_equal(nf_set_ids(v9_msg, sizeof(v9_msg), ids, 4), 2);
	assert_int_equal(ids[0], NF9_TEMPLATE_SET);
	assert_int_equal(ids[1], 300);
	/* More sets than room: the count is still whole, only max are stored. */
	ids[1] = 0xbeef;
	assert_int_equal(nf_set_ids(ipfix_msg, sizeof(ipfix_msg), ids, 1),
	    2);
	assert_int_equal(ids[1], 0xbeef);
	assert_int_equal(nf_set_ids(ipfix_msg, sizeof(ipfix_msg), NULL, 0),
	    2);
	/* A header alone has no sets. */
	assert_int_equal(nf_set_ids(v9_msg, 20, ids, 4), 0);
	/* v5 has no sets. */
	assert_int_equal(nf_set_ids(v5_hdr, sizeof(v5_hdr), ids, 4), -1);
}

static void
test_ipfix_set_ids_bad(void **state)
{
	uint8_t m[sizeof(ipfix_msg) + 8];
	uint16_t ids[4];

	(void)state;
	/* IPFIX length running past the datagram (truncated capture). */
	assert_int_equal(nf_set_ids(ipfix_msg, sizeof(ipfix_msg) - 1, ids,
	    4), -1);
	/* A set shorter than its own header. */
	memcpy(m, ipfix_msg, sizeof(ipfix_msg));
	m[19] = 3;
	assert_int_equal(nf_set_ids(m, sizeof(ipfix_msg), ids, 4), -1);
	/* A set running past the message. */
	memcpy(m, ipfix_msg, sizeof(ipfix_msg));
	m[39] = 17;
	assert_int_equal(nf_set_ids(m, sizeof(ipfix_msg), ids, 4), -1);
	/* Bytes after the IPFIX message length are not walked. */
	memcpy(m, ipfix_msg, sizeof(ipfix_msg));
	memset(m + sizeof(ipfix_msg), 0xee, 8);
	assert_int_equal(nf_set_ids(m, sizeof(m), ids, 4), 2);
	/* v9: a stub shorter than a set header is padding only if zero. */
	memcpy(m, v9_msg, sizeof(v9_msg));
	memset(m + sizeof(v9_msg), 0, 3);
	assert_int_equal(nf_set_ids(m, sizeof(v9_msg) + 3, ids, 4), 2);
	m[sizeof(v9_msg) + 1] = 1;
	assert_int_equal(nf_set_ids(m, sizeof(v9_msg) + 3, ids, 4), -1);
	/* v9: a truncated last FlowSet. */
	assert_int_equal(nf_set_ids(v9_msg, sizeof(v9_msg) - 1, ids, 4),
	    -1);
}

static void
test_ipfix_set_iter(void **state)
{
	struct nf_set_iter it;
	struct nf_set set;

	(void)state;
	assert_int_equal(nf_sets_begin(ipfix_msg, sizeof(ipfix_msg), &it),
	    0);
	assert_int_equal(nf_set_next(&it, &set), 1);
	assert_int_equal(set.id, 2);
	assert_int_equal(set.length, 20);
	assert_int_equal(set.offset, 16);
	assert_ptr_equal(set.body, ipfix_msg + 20);
	assert_int_equal(set.body_len, 16);
	assert_true(nf_is_template_set(10, set.id));
	assert_int_equal(nf_set_next(&it, &set), 1);
	assert_int_equal(set.id, 256);
	assert_int_equal(set.offset, 36);
	assert_false(nf_is_template_set(10, set.id));
	assert_int_equal(nf_set_next(&it, &set), 0);
	assert_true(nf_is_template_set(9, 0));
	assert_true(nf_is_template_set(9, 1));
	assert_false(nf_is_template_set(9, 2));
	assert_false(nf_is_template_set(10, 0));
}

static void
test_ipfix_template(void **state)
{
	/* IPFIX options template 257: scope 1 field, one variable-length field. */
	static const uint8_t opt_varlen[] = {
		0x01, 0x01, 0x00, 0x02, 0x00, 0x01,
		0x00, 0x95, 0x00, 0x04, 0x00, 0x52, 0xff, 0xff,
	};
	/* v9 options template 260: 4 bytes of scope, 8 of options. */
	static const uint8_t v9_opt[] = {
		0x01, 0x04, 0x00, 0x04, 0x00, 0x08,
		0x00, 0x01, 0x00, 0x04, 0x00, 0x22, 0x00, 0x04,
		0x00, 0x23, 0x00, 0x01,
	};
	static const uint8_t withdraw_all[] = { 0x00, 0x02, 0x00, 0x00 };
	static const uint8_t low_id[] = { 0x00, 0x10, 0x00, 0x00 };
	struct nf_template t;

	(void)state;
	assert_int_equal(nf_template_parse(10, 2, ipfix_msg + 20, 16, &t),
	    0);
	assert_int_equal(t.id, 256);
	assert_int_equal(t.field_count, 2);
	assert_int_equal(t.record_len, 6);
	assert_int_equal(t.consumed, 16);
	/* Truncated inside the enterprise number. */
	assert_int_equal(nf_template_parse(10, 2, ipfix_msg + 20, 14, &t),
	    -1);
	assert_int_equal(nf_template_parse(10, 3, opt_varlen,
	    sizeof(opt_varlen), &t), 0);
	assert_int_equal(t.id, 257);
	assert_int_equal(t.record_len, 0);
	assert_int_equal(t.consumed, sizeof(opt_varlen));
	assert_int_equal(nf_template_parse(9, 1, v9_opt, sizeof(v9_opt),
	    &t), 0);
	assert_int_equal(t.id, 260);
	assert_int_equal(t.field_count, 3);
	assert_int_equal(t.record_len, 9);
	assert_int_equal(t.consumed, sizeof(v9_opt));
	assert_int_equal(nf_template_parse(10, 2, withdraw_all,
	    sizeof(withdraw_all), &t), 0);
	assert_int_equal(t.field_count, 0);
	assert_int_equal(nf_template_parse(10, 2, low_id, sizeof(low_id),
	    &t), -1);
}

/* ---- BMP ---------------------------------------------------------------- */

static void
test_bmp_frame(void **state)
{
	static const struct {
		uint8_t		hdr[6];
		size_t		len;
		int		want;
		uint8_t		type;
		uint32_t	msg_len;
	} cases[] = {
		{ { 3, 0, 0, 0, 14, 4 }, 6, 1, BMP_INITIATION, 14 },
		{ { 3, 0, 0, 0, 6, 5 }, 6, 1, BMP_TERMINATION, 6 },
		{ { 3, 0, 0, 0, 100, 0 }, 6, 1, BMP_ROUTE_MONITORING, 100 },
		{ { 3, 0, 0, 0, 48, 6 }, 6, 1, BMP_ROUTE_MIRRORING, 48 },
		{ { 3, 1, 0, 0, 0, 0 }, 6, 1, 0, BMP_MAX_MSG_LEN },
		{ { 3, 0, 0, 0, 14, 4 }, 5, 0, 0, 0 },	/* partial header */
		{ { 3, 0, 0, 0, 14, 4 }, 0, 0, 0, 0 },
		{ { 2, 0, 0, 0, 14, 4 }, 6, -1, 0, 0 },	/* BMP v2 */
		/* Types past RFC 7854 are framed by their length (RPAT is 100). */
		{ { 3, 0, 0, 0, 14, 7 }, 6, 1, 7, 14 },
		{ { 3, 0, 0, 0, 99, BMP_RPAT }, 6, 1, BMP_RPAT, 99 },
		{ { 3, 0, 0, 0, 14, 255 }, 6, 1, 255, 14 },
		{ { 3, 0, 0, 0, 5, 4 }, 6, -1, 0, 0 },	/* shorter than header */
		{ { 3, 1, 0, 0, 1, 0 }, 6, -1, 0, 0 },	/* over the cap */
		{ { 3, 0xff, 0xff, 0xff, 0xff, 0 }, 6, -1, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t type = 0xee;
		size_t len = 0xeeee;
		int rc = bmp_frame(cases[i].hdr, cases[i].len, &type, &len);

		assert_int_equal(rc, cases[i].want);
		if (rc == 1) {
			assert_int_equal(type, cases[i].type);
			assert_int_equal(len, cases[i].msg_len);
		}
	}
	assert_string_equal(bmp_type_names[BMP_PEER_UP], "peer_up");
	assert_true(bmp_type_known(BMP_ROUTE_MIRRORING));
	assert_true(bmp_type_known(BMP_RPAT));
	assert_false(bmp_type_known(7));
}

/* A header alone is enough to frame: the caller waits for msg_len bytes. */
static void
test_bmp_frame_stream(void **state)
{
	static const uint8_t two[] = {
		3, 0, 0, 0, 14, 4, 0, 2, 0, 4, 't', 'e', 's', 't',
		3, 0, 0, 0, 6, 5,
	};
	uint8_t type;
	size_t len;

	(void)state;
	assert_int_equal(bmp_frame(two, 7, &type, &len), 1);
	assert_int_equal(len, 14);
	assert_int_equal(bmp_frame(two + 14, sizeof(two) - 14, &type, &len),
	    1);
	assert_int_equal(type, BMP_TERMINATION);
	assert_int_equal(len, 6);
}

/* ---- BGP ---------------------------------------------------------------- */

static void
make_bgp(uint8_t *buf, uint16_t len, uint8_t type)
{
	memset(buf, 0xff, 16);
	buf[16] = (uint8_t)(len >> 8);
	buf[17] = (uint8_t)len;
	buf[18] = type;
}

static void
test_bgp_frame_lengths(void **state)
{
	static const struct {
		uint8_t		type;
		uint16_t	len;
		int		want;
	} cases[] = {
		{ BGP_OPEN, 28, -1 }, { BGP_OPEN, 29, 1 }, { BGP_OPEN, 4096, 1 },
		{ BGP_UPDATE, 22, -1 }, { BGP_UPDATE, 23, 1 },
		{ BGP_UPDATE, 65535, 1 },
		{ BGP_NOTIFICATION, 20, -1 }, { BGP_NOTIFICATION, 21, 1 },
		{ BGP_KEEPALIVE, 19, 1 }, { BGP_KEEPALIVE, 20, -1 },
		{ BGP_ROUTE_REFRESH, 22, -1 }, { BGP_ROUTE_REFRESH, 23, 1 },
		{ BGP_ROUTE_REFRESH, 24, -1 },
		{ 0, 19, -1 }, { 6, 19, -1 }, { 255, 100, -1 },	/* types */
		{ BGP_KEEPALIVE, 18, -1 }, { BGP_UPDATE, 0, -1 },
	};
	uint8_t buf[BGP_HDR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t type = 0;
		size_t len = 0;
		int rc;

		make_bgp(buf, cases[i].len, cases[i].type);
		rc = bgp_frame(buf, sizeof(buf), &type, &len);
		assert_int_equal(rc, cases[i].want);
		if (rc == 1) {
			assert_int_equal(type, cases[i].type);
			assert_int_equal(len, cases[i].len);
		}
	}
}

static void
test_bgp_frame_header(void **state)
{
	static const uint8_t keepalive[] = { FF16, 0x00, 0x13, 0x04 };
	uint8_t buf[sizeof(keepalive)];
	uint8_t type;
	size_t len;

	(void)state;
	assert_int_equal(bgp_frame(keepalive, sizeof(keepalive), &type, &len),
	    1);
	assert_int_equal(type, BGP_KEEPALIVE);
	assert_int_equal(len, 19);
	/* Fewer than 19 bytes: wait, whatever they are. */
	assert_int_equal(bgp_frame(keepalive, 18, &type, &len), 0);
	assert_int_equal(bgp_frame(keepalive, 0, &type, &len), 0);
	/* Any byte of the marker wrong. */
	for (size_t i = 0; i < 16; i++) {
		memcpy(buf, keepalive, sizeof(buf));
		buf[i] = 0xfe;
		assert_int_equal(bgp_frame(buf, sizeof(buf), &type, &len), -1);
	}
	assert_string_equal(bgp_type_names[0], "unknown");
	assert_string_equal(bgp_type_names[BGP_ROUTE_REFRESH], "route_refresh");
}

/* OPEN: AS 65001, hold 90, id 10.0.0.1, MP IPv4 unicast + AS4 in one parameter. */
static const uint8_t bgp_open_msg[] = {
	FF16, 0x00, 0x2b, 0x01,
	0x04, 0xfd, 0xe9, 0x00, 0x5a, 0x0a, 0x00, 0x00, 0x01,
	0x0e, 0x02, 0x0c,
	0x01, 0x04, 0x00, 0x01, 0x00, 0x01,
	0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9,
};

static void
test_bgp_open_parse(void **state)
{
	uint8_t m[sizeof(bgp_open_msg) + 1];
	struct bgp_open o;

	(void)state;
	assert_int_equal(bgp_open_parse(bgp_open_msg, sizeof(bgp_open_msg),
	    &o), 0);
	assert_int_equal(o.version, 4);
	assert_int_equal(o.my_as, 65001);
	assert_int_equal(o.hold_time, 90);
	assert_int_equal(o.bgp_id, 0x0a000001);
	assert_true(o.has_as4);
	assert_int_equal(o.as4, 65001);
	assert_int_equal(o.ncaps, 2);
	assert_int_equal(o.caps[0].code, BGP_CAP_MP);
	assert_int_equal(o.caps[0].len, 4);
	assert_ptr_equal(o.caps[0].value, bgp_open_msg + 33);
	/* Truncated, and a capability running past its parameter. */
	assert_int_equal(bgp_open_parse(bgp_open_msg, sizeof(bgp_open_msg) - 1,
	    &o), -1);
	memcpy(m, bgp_open_msg, sizeof(bgp_open_msg));
	m[38] = 5;
	assert_int_equal(bgp_open_parse(m, sizeof(bgp_open_msg), &o), -1);
	/* A byte after the parameters: not consumed exactly. */
	memcpy(m, bgp_open_msg, sizeof(bgp_open_msg));
	m[17] = sizeof(m);
	m[sizeof(m) - 1] = 0;
	assert_int_equal(bgp_open_parse(m, sizeof(m), &o), -1);
	/* Not an OPEN. */
	memcpy(m, bgp_open_msg, sizeof(bgp_open_msg));
	m[18] = BGP_UPDATE;
	assert_int_equal(bgp_open_parse(m, sizeof(bgp_open_msg), &o), -1);
}

/* RFC 9072: optional parameter length 255, type 255, then 2-byte lengths. */
static void
test_bgp_open_extended(void **state)
{
	static const uint8_t ext[] = {
		FF16, 0x00, 0x29, 0x01,
		0x04, 0x5b, 0xa0, 0x00, 0xb4, 0x0a, 0x00, 0x00, 0x02,
		0xff, 0xff, 0x00, 0x09,
		0x02, 0x00, 0x06, 0x41, 0x04, 0xfa, 0x56, 0xea, 0x01,
	};
	struct bgp_open o;

	(void)state;
	assert_int_equal(bgp_open_parse(ext, sizeof(ext), &o), 0);
	assert_int_equal(o.my_as, BGP_AS_TRANS);
	assert_int_equal(o.hold_time, 180);
	assert_true(o.has_as4);
	assert_int_equal(o.as4, 4200000001u);
}

static void
test_bgp_build(void **state)
{
	static const uint8_t mp[] = { 0x00, 0x02, 0x00, 0x01 };
	struct bgp_open o = {
		.version = 4, .my_as = 64512, .hold_time = 90,
		.bgp_id = 0x7f000002, .ncaps = 1,
		.caps = { { BGP_CAP_MP, sizeof(mp), mp } },
	};
	uint8_t buf[128], small[30];
	struct bgp_open back;
	uint8_t type;
	size_t len;
	int n;

	(void)state;
	n = bgp_open_build(buf, sizeof(buf), &o);
	assert_int_equal(n, 29 + 8);
	assert_int_equal(bgp_frame(buf, (size_t)n, &type, &len), 1);
	assert_int_equal(type, BGP_OPEN);
	assert_int_equal(len, n);
	assert_int_equal(bgp_open_parse(buf, (size_t)n, &back), 0);
	assert_int_equal(back.my_as, 64512);
	assert_int_equal(back.hold_time, 90);
	assert_int_equal(back.bgp_id, 0x7f000002);
	assert_int_equal(back.ncaps, 1);
	assert_memory_equal(back.caps[0].value, mp, sizeof(mp));
	assert_int_equal(bgp_open_build(small, sizeof(small), &o), -1);
	n = bgp_keepalive_build(buf, sizeof(buf));
	assert_int_equal(n, 19);
	assert_int_equal(bgp_frame(buf, (size_t)n, &type, &len), 1);
	assert_int_equal(type, BGP_KEEPALIVE);
	assert_int_equal(bgp_keepalive_build(buf, 18), -1);
}

/*
 * An exporter's OPEN for trimming: one parameter with MP IPv4 and IPv6
 * unicast, 4-byte AS and ADD-PATH (IPv4 send/receive, IPv6 send), one with
 * route refresh, and a non-capability parameter that must pass untouched.
 */
static const uint8_t trim_ours[] = {
	FF16, 0x00, 0x43, 0x01,
	0x04, 0xfd, 0xe9, 0x00, 0x5a, 0x0a, 0x00, 0x00, 0x01,
	0x26,
	0x02, 0x1c,
	0x01, 0x04, 0x00, 0x01, 0x00, 0x01,
	0x01, 0x04, 0x00, 0x02, 0x00, 0x01,
	0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9,
	0x45, 0x08, 0x00, 0x01, 0x01, 0x03, 0x00, 0x02, 0x01, 0x02,
	0x02, 0x02, 0x02, 0x00,
	0x01, 0x02, 0xaa, 0xbb,
};

/* Its capabilities decoded once: 4-byte AS, and per family multiprotocol and ADD-PATH. */
static void
test_bgp_open_families(void **state)
{
	struct bgp_open o;

	(void)state;
	assert_int_equal(bgp_open_parse(trim_ours, sizeof(trim_ours), &o), 0);
	assert_true(o.has_as4);
	assert_int_equal(o.as4, 65001);
	assert_int_equal(o.nfamilies, 2);
	assert_int_equal(o.families[0].afi, BGP_AFI_IPV4);
	assert_int_equal(o.families[0].safi, BGP_SAFI_UNICAST);
	assert_true(o.families[0].multiprotocol);
	assert_int_equal(o.families[0].add_path, 3);
	assert_int_equal(o.families[1].afi, BGP_AFI_IPV6);
	assert_true(o.families[1].multiprotocol);
	assert_int_equal(o.families[1].add_path, 2);
	assert_true(bgp_open_has_family(&o, BGP_AFI_IPV6, BGP_SAFI_UNICAST));
	assert_false(bgp_open_has_family(&o, BGP_AFI_IPV6, 2));
	assert_int_equal(bgp_open_add_path_mode(&o, BGP_AFI_IPV4,
	    BGP_SAFI_UNICAST), 3);
	assert_int_equal(bgp_open_add_path_mode(&o, BGP_AFI_IPV4, 2), 0);
	/* Made by hand: nothing decoded until asked. */
	memset(&o, 0, sizeof(o));
	o.caps[o.ncaps++] = (struct bgp_cap){ BGP_CAP_ADD_PATH, 4,
	    (const uint8_t[]){ 0x00, 0x02, 0x01, 0x01 } };
	assert_int_equal(bgp_open_add_path_mode(&o, BGP_AFI_IPV6, 1), 0);
	bgp_open_decode_caps(&o);
	assert_int_equal(o.nfamilies, 1);
	assert_false(o.families[0].multiprotocol);
	assert_int_equal(bgp_open_add_path_mode(&o, BGP_AFI_IPV6, 1), 1);
	assert_false(o.has_as4);
}

static const uint8_t cap_mp4[] = { 0x00, 0x01, 0x00, 0x01 };
static const uint8_t cap_mp6[] = { 0x00, 0x02, 0x00, 0x01 };
static const uint8_t cap_as4[] = { 0x00, 0x00, 0xfb, 0xf0 };
static const uint8_t cap_ap_both[] = { 0x00, 0x01, 0x01, 0x03, 0x00, 0x02, 0x01, 0x03 };
static const uint8_t cap_ap_rx4[] = { 0x00, 0x01, 0x01, 0x01 };

/* The whole table: what the collector offered, what the OPEN becomes, what the log names. */
static void
test_bgp_open_trim(void **state)
{
	/* Collector: IPv4 unicast only, 4-byte AS, ADD-PATH receive for IPv4 only, no route refresh. */
	static const uint8_t partial[] = {
		FF16, 0x00, 0x35, 0x01,
		0x04, 0xfd, 0xe9, 0x00, 0x5a, 0x0a, 0x00, 0x00, 0x01,
		0x18,
		0x02, 0x12,
		0x01, 0x04, 0x00, 0x01, 0x00, 0x01,
		0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9,
		0x45, 0x04, 0x00, 0x01, 0x01, 0x02,
		0x01, 0x02, 0xaa, 0xbb,
	};
	/* Collector with no capability: only the other parameter is left. */
	static const uint8_t bare[] = {
		FF16, 0x00, 0x21, 0x01,
		0x04, 0xfd, 0xe9, 0x00, 0x5a, 0x0a, 0x00, 0x00, 0x01,
		0x04,
		0x01, 0x02, 0xaa, 0xbb,
	};
	const struct {
		const char	*name;
		struct bgp_open	 peer;
		const uint8_t	*want;
		size_t		 want_len;
		const char	*removed;
	} cases[] = {
		{ "everything offered", { .ncaps = 5, .caps = {
		    { BGP_CAP_MP, 4, cap_mp4 }, { BGP_CAP_MP, 4, cap_mp6 },
		    { BGP_CAP_AS4, 4, cap_as4 },
		    { BGP_CAP_ADD_PATH, 8, cap_ap_both },
		    { BGP_CAP_ROUTE_REFRESH, 0, NULL } } },
		    trim_ours, sizeof(trim_ours), "" },
		{ "partial", { .ncaps = 3, .caps = {
		    { BGP_CAP_MP, 4, cap_mp4 }, { BGP_CAP_AS4, 4, cap_as4 },
		    { BGP_CAP_ADD_PATH, 4, cap_ap_rx4 } } },
		    partial, sizeof(partial),
		    "multiprotocol (1) AFI 2 SAFI 1, ADD-PATH (69) AFI 1 SAFI 1 "
		    "receive, ADD-PATH (69) AFI 2 SAFI 1 send, route refresh (2)" },
		{ "bare", { .ncaps = 0 }, bare, sizeof(bare),
		    "multiprotocol (1), multiprotocol (1), 4-byte AS (65), "
		    "ADD-PATH (69), route refresh (2)" },
	};
	uint8_t out[sizeof(trim_ours)];
	char removed[256];
	struct bgp_open back;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bgp_open peer = cases[i].peer;
		int n;

		bgp_open_decode_caps(&peer);
		n = bgp_open_trim(trim_ours, sizeof(trim_ours), &peer, out,
		    sizeof(out), removed, sizeof(removed));

		print_message("case %s\n", cases[i].name);
		assert_int_equal(n, cases[i].want_len);
		assert_memory_equal(out, cases[i].want, cases[i].want_len);
		assert_string_equal(removed, cases[i].removed);
		assert_int_equal(bgp_open_parse(out, (size_t)n, &back), 0);
	}
	/* Too small a buffer, and not an OPEN. */
	assert_int_equal(bgp_open_trim(trim_ours, sizeof(trim_ours),
	    &cases[0].peer, out, 40, removed, sizeof(removed)), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(bgp_open_trim(trim_ours, sizeof(trim_ours) - 1,
	    &cases[0].peer, out, sizeof(out), removed, sizeof(removed)), -1);
	assert_int_equal(errno, EBADMSG);
}

/* RFC 9072 extended parameters stay extended, with their two-byte lengths recomputed. */
static void
test_bgp_open_trim_extended(void **state)
{
	static const uint8_t ext[] = {
		FF16, 0x00, 0x2f, 0x01,
		0x04, 0x5b, 0xa0, 0x00, 0xb4, 0x0a, 0x00, 0x00, 0x02,
		0xff, 0xff, 0x00, 0x0f,
		0x02, 0x00, 0x0c,
		0x01, 0x04, 0x00, 0x01, 0x00, 0x01,
		0x41, 0x04, 0xfa, 0x56, 0xea, 0x01,
	};
	static const uint8_t want[] = {
		FF16, 0x00, 0x29, 0x01,
		0x04, 0x5b, 0xa0, 0x00, 0xb4, 0x0a, 0x00, 0x00, 0x02,
		0xff, 0xff, 0x00, 0x09,
		0x02, 0x00, 0x06,
		0x41, 0x04, 0xfa, 0x56, 0xea, 0x01,
	};
	struct bgp_open peer = { .ncaps = 2, .caps = {
		{ BGP_CAP_MP, 4, cap_mp6 }, { BGP_CAP_AS4, 4, cap_as4 } } };
	uint8_t out[sizeof(ext)];
	char removed[128];
	int n;

	(void)state;
	n = bgp_open_trim(ext, sizeof(ext), &peer, out, sizeof(out), removed,
	    sizeof(removed));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_string_equal(removed, "multiprotocol (1) AFI 1 SAFI 1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipfix_version),
		cmocka_unit_test(test_ipfix_header_v5),
		cmocka_unit_test(test_ipfix_header_v9),
		cmocka_unit_test(test_ipfix_header_ipfix),
		cmocka_unit_test(test_ipfix_set_ids),
		cmocka_unit_test(test_ipfix_set_ids_bad),
		cmocka_unit_test(test_ipfix_set_iter),
		cmocka_unit_test(test_ipfix_template),
		cmocka_unit_test(test_bmp_frame),
		cmocka_unit_test(test_bmp_frame_stream),
		cmocka_unit_test(test_bgp_frame_lengths),
		cmocka_unit_test(test_bgp_frame_header),
		cmocka_unit_test(test_bgp_open_parse),
		cmocka_unit_test(test_bgp_open_extended),
		cmocka_unit_test(test_bgp_build),
		cmocka_unit_test(test_bgp_open_families),
		cmocka_unit_test(test_bgp_open_trim),
		cmocka_unit_test(test_bgp_open_trim_extended),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
