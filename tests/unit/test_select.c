/* Unit tests for selection: section order, ip/udp/tcp selectors, ipfix_h, exporter lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>

#include "select.h"

static struct tr_addr
A(const char *text)
{
	struct tr_addr a;

	assert_int_equal(addr_parse(text, &a), 0);
	return a;
}

static struct tr_packet
P(const char *src, const char *dst, uint8_t l4, uint16_t sport,
    uint16_t dport)
{
	struct tr_packet p;

	memset(&p, 0, sizeof(p));
	p.src = A(src);
	p.dst = A(dst);
	p.l4proto = l4;
	p.sport = sport;
	p.dport = dport;
	return p;
}

static uint32_t ports_9991[] = { 9991 };
static uint32_t ports_1790[] = { 1790 };
static uint32_t ports_any_udp[] = { 10003, 10004 };
static uint32_t versions_9_10[] = { 9, 10 };

static void
test_section_choice(void **state)
{
	struct config cfg;
	struct tr_addr srcs[] = { A("2001:db8:90::1"), A("198.51.100.44") };
	struct selector *sel;
	struct tr_packet p;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	/* ipfix: udp dport 9991 from two sources; bmp: tcp 1790; udp_generic: no select. */
	cfg.section[SECTION_IPFIX].enabled = true;
	cfg.section[SECTION_IPFIX].select = (struct cfg_select){
		.set = true, .udp = true,
		.ip_src = { .set = true, .v = srcs, .n = 2 },
		.udp_dport = { .set = true, .v = ports_9991, .n = 1 },
	};
	cfg.section[SECTION_BMP].enabled = true;
	cfg.section[SECTION_BMP].select = (struct cfg_select){
		.set = true, .tcp = true,
		.tcp_dport = { .set = true, .v = ports_1790, .n = 1 },
	};
	cfg.section[SECTION_UDP_GENERIC].enabled = true;
	assert_non_null(sel = selector_new(&cfg));

	p = P("198.51.100.44", "192.0.2.9", TR_IPPROTO_UDP, 40000, 9991);
	assert_int_equal(select_section(sel, &p), SECTION_IPFIX);
	/* Same port, source not listed: falls through to the catch-all UDP section. */
	p = P("198.51.100.45", "192.0.2.9", TR_IPPROTO_UDP, 40000, 9991);
	assert_int_equal(select_section(sel, &p), SECTION_UDP_GENERIC);
	/* IPv6 source in the list. */
	p = P("2001:db8:90::1", "2001:db8::9", TR_IPPROTO_UDP, 1, 9991);
	assert_int_equal(select_section(sel, &p), SECTION_IPFIX);
	p = P("192.0.2.1", "192.0.2.9", TR_IPPROTO_TCP, 50000, 1790);
	assert_int_equal(select_section(sel, &p), SECTION_BMP);
	/* TCP to another port: no TCP section matches. */
	p = P("192.0.2.1", "192.0.2.9", TR_IPPROTO_TCP, 1790, 50000);
	assert_int_equal(select_section(sel, &p), -1);
	selector_free(sel);
}

/*
 * Only enabled sections of the packet's transport, in table order: a
 * disabled section's select is never asked, and a later catch-all of the
 * same transport takes what the earlier ones leave.
 */
static void
test_section_lists(void **state)
{
	struct config cfg;
	struct selector *sel;
	struct tr_packet p;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	/* bgp would take port 1790 first, but it is disabled. */
	cfg.section[SECTION_BGP].select = (struct cfg_select){
		.set = true, .tcp = true,
		.tcp_dport = { .set = true, .v = ports_1790, .n = 1 },
	};
	cfg.section[SECTION_BMP].enabled = true;
	cfg.section[SECTION_BMP].select = cfg.section[SECTION_BGP].select;
	cfg.section[SECTION_TCP_GENERIC].enabled = true;
	assert_non_null(sel = selector_new(&cfg));
	p = P("192.0.2.1", "192.0.2.9", TR_IPPROTO_TCP, 50000, 1790);
	assert_int_equal(select_section(sel, &p), SECTION_BMP);
	p = P("192.0.2.1", "192.0.2.9", TR_IPPROTO_TCP, 50000, 179);
	assert_int_equal(select_section(sel, &p), SECTION_TCP_GENERIC);
	/* No UDP section enabled, and no other transport. */
	p = P("192.0.2.1", "192.0.2.9", TR_IPPROTO_UDP, 50000, 1790);
	assert_int_equal(select_section(sel, &p), -1);
	p = P("192.0.2.1", "192.0.2.9", 1, 0, 0);
	assert_int_equal(select_section(sel, &p), -1);
	selector_free(sel);
	/* Enabled later in the table than a catch-all of the other transport. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.section[SECTION_UDP_GENERIC].enabled = true;
	cfg.section[SECTION_TCP_GENERIC].enabled = true;
	assert_non_null(sel = selector_new(&cfg));
	p = P("192.0.2.1", "192.0.2.9", TR_IPPROTO_UDP, 50000, 1790);
	assert_int_equal(select_section(sel, &p), SECTION_UDP_GENERIC);
	p = P("192.0.2.1", "192.0.2.9", TR_IPPROTO_TCP, 50000, 1790);
	assert_int_equal(select_section(sel, &p), SECTION_TCP_GENERIC);
	selector_free(sel);
}

static void
test_udp_selector_keys(void **state)
{
	struct config cfg;
	struct selector *sel;
	struct tr_packet p;
	struct tr_addr dsts[] = { A("192.168.100.100") };

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.section[SECTION_UDP_GENERIC].enabled = true;
	cfg.section[SECTION_UDP_GENERIC].select = (struct cfg_select){
		.set = true, .udp = true,
		.ip_dst = { .set = true, .v = dsts, .n = 1 },
		.udp_dport = { .set = true, .v = ports_any_udp, .n = 2 },
	};
	assert_non_null(sel = selector_new(&cfg));
	p = P("203.0.113.21", "192.168.100.100", TR_IPPROTO_UDP, 5, 10004);
	assert_int_equal(select_section(sel, &p), SECTION_UDP_GENERIC);
	p = P("203.0.113.21", "192.168.100.101", TR_IPPROTO_UDP, 5, 10004);
	assert_int_equal(select_section(sel, &p), -1);
	p = P("203.0.113.21", "192.168.100.100", TR_IPPROTO_UDP, 5, 10005);
	assert_int_equal(select_section(sel, &p), -1);
	selector_free(sel);
}

static void
test_ipfix_version_filter(void **state)
{
	struct cfg_section s = { .select = {
		.set = true,
		.header = { { .set = true, .v = versions_9_10, .n = 2 } },
	} };
	struct cfg_section none = { .select = { .set = false } };
	uint8_t v9[20] = { 0, 9, 0, 1 };
	uint8_t v5[24] = { 0, 5, 0, 0 };
	uint8_t ipfix[16] = { 0, 10, 0, 16 };
	uint8_t junk[3] = { 0, 10, 0 };

	(void)state;
	assert_true(select_datagram(&s, SECTION_IPFIX, v9, sizeof(v9)));
	assert_true(select_datagram(&s, SECTION_IPFIX, ipfix, sizeof(ipfix)));
	assert_false(select_datagram(&s, SECTION_IPFIX, v5, sizeof(v5)));
	assert_false(select_datagram(&s, SECTION_IPFIX, junk, sizeof(junk)));
	assert_true(select_datagram(&none, SECTION_IPFIX, v5, sizeof(v5)));
}

static void
test_exporter_lookup(void **state)
{
	const char *srcs[] = { "203.0.113.91", "2001:db8:53::1", "10.0.0.1",
	    "2001:db8:91::1", "203.0.113.53", "192.0.2.61" };
	struct cfg_map_entry map[6];
	struct config cfg;
	struct selector *sel;
	struct tr_addr a;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(map, 0, sizeof(map));
	for (size_t i = 0; i < 6; i++) {
		map[i].src_ip = A(srcs[i]);
		map[i].repro_ip = A("127.0.0.1");
	}
	cfg.map = map;
	cfg.n_map = 6;
	assert_non_null(sel = selector_new(&cfg));
	for (size_t i = 0; i < 6; i++) {
		a = A(srcs[i]);
		assert_int_equal(select_exporter(sel, &a), (int)i);
	}
	a = A("203.0.113.92");
	assert_int_equal(select_exporter(sel, &a), -1);
	/* The same 4 bytes in an IPv6 address are another address. */
	a = A("::ffff:203.0.113.91");
	assert_int_equal(select_exporter(sel, &a), -1);
	selector_free(sel);
}

/*
 * Many exporters whose addresses differ in every byte position, the top
 * bit of each byte included (the search compares them as unsigned
 * numbers): each is found, and its neighbours that are not mapped are not.
 */
static void
test_exporter_lookup_many(void **state)
{
	enum { N = 2 * 16 * 8 };
	struct cfg_map_entry map[N];
	struct config cfg;
	struct selector *sel;
	struct tr_addr a;
	char text[64];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(map, 0, sizeof(map));
	for (size_t i = 0; i < N; i++) {
		size_t byte = i / 16 % 8, bits = i % 16;	/* values 0x00, 0x11 .. 0xff */
		uint8_t b[16];

		memset(b, 0x20, sizeof(b));
		if (i < N / 2) {
			b[byte % 4] = (uint8_t)(bits * 0x11);
			snprintf(text, sizeof(text), "%u.%u.%u.%u", b[0], b[1],
			    b[2], b[3]);
		} else {
			b[byte * 2] = (uint8_t)(bits * 0x11);
			b[15 - byte] = (uint8_t)(bits * 0x11);
			snprintf(text, sizeof(text),
			    "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x",
			    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8],
			    b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
		}
		map[i].src_ip = A(text);
		map[i].repro_ip = A("127.0.0.1");
	}
	cfg.map = map;
	cfg.n_map = N;
	assert_non_null(sel = selector_new(&cfg));
	for (size_t i = 0; i < N; i++) {
		int got = select_exporter(sel, &map[i].src_ip);

		/* Duplicates (the same byte value at two positions) map to either entry. */
		assert_true(got >= 0);
		assert_true(addr_equal(&map[got].src_ip, &map[i].src_ip));
		/* One more in the last byte: mapped only when that is another entry. */
		a = map[i].src_ip;
		if (a.family == AF_INET)
			a.v4.s_addr ^= htonl(1);
		else
			a.v6.s6_addr[15] ^= 1;
		got = select_exporter(sel, &a);
		for (size_t j = 0; got < 0 && j < N; j++)
			assert_false(addr_equal(&map[j].src_ip, &a));
		if (got >= 0)
			assert_true(addr_equal(&map[got].src_ip, &a));
	}
	selector_free(sel);
}

struct side {
	enum select_side side;
	int section, exporter;
};

/*
 * select_side remembers its answers per flow direction: asked in any order,
 * over more flows than it holds, with flows that differ in one field only
 * (port, direction, protocol, an IPv4 address and the IPv6 address holding
 * its bytes), it answers as a fresh selector does.
 */
static void
test_side_memo(void **state)
{
	enum { NEXP = 400, NPKT = NEXP * 6 + 2 };
	static struct cfg_map_entry map[NEXP];
	static struct tr_packet pkts[NPKT];
	static struct side want[NPKT];
	struct config cfg;
	struct selector *sel;
	char a[64], b[64];
	size_t n = 0;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.section[SECTION_IPFIX].enabled = true;
	cfg.section[SECTION_IPFIX].select = (struct cfg_select){
		.set = true, .udp = true,
		.udp_dport = { .set = true, .v = ports_9991, .n = 1 },
	};
	cfg.section[SECTION_BMP].enabled = true;
	cfg.section[SECTION_BMP].select = (struct cfg_select){
		.set = true, .tcp = true,
		.tcp_dport = { .set = true, .v = ports_1790, .n = 1 },
	};
	for (int i = 0; i < NEXP; i++) {
		snprintf(a, sizeof(a), "10.9.%d.%d", i / 200, i % 200 + 1);
		map[i].src_ip = A(a);
		map[i].repro_ip = A("127.0.0.1");
	}
	cfg.map = map;
	cfg.n_map = NEXP;
	for (int i = 0; i < NEXP; i++) {
		uint16_t port = (uint16_t)(50000 + i % 7);

		snprintf(a, sizeof(a), "10.9.%d.%d", i / 200, i % 200 + 1);
		snprintf(b, sizeof(b), "10.8.%d.%d", i / 200, i % 200 + 1);
		pkts[n++] = P(a, "192.0.2.1", TR_IPPROTO_TCP, port, 1790);
		pkts[n++] = P("192.0.2.1", a, TR_IPPROTO_TCP, 1790, port);
		pkts[n++] = P(a, "192.0.2.1", TR_IPPROTO_UDP, port, 1790);
		pkts[n++] = P(a, "192.0.2.1", TR_IPPROTO_UDP, port, 9991);
		pkts[n++] = P(b, "192.0.2.1", TR_IPPROTO_TCP, port, 1790);
		pkts[n++] = P(a, "192.0.2.1", TR_IPPROTO_TCP, port, 1791);
	}
	/* The IPv6 address that folds to the same bits as an exporter's IPv4 one. */
	pkts[n++] = P("::10.9.0.1", "192.0.2.1", TR_IPPROTO_TCP, 50000, 1790);
	pkts[n++] = P("10.9.0.1", "192.0.2.1", TR_IPPROTO_TCP, 50000, 1790);
	assert_int_equal(n, NPKT);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(sel = selector_new(&cfg));
		want[i].side = select_side(sel, &pkts[i], &want[i].section,
		    &want[i].exporter);
		selector_free(sel);
	}
	assert_int_equal(want[0].side, SELECT_EXPORTER);
	assert_int_equal(want[1].side, SELECT_COLLECTOR);
	assert_int_equal(want[4].side, SELECT_UNKNOWN_EXPORTER);
	assert_int_equal(want[5].side, SELECT_NONE);
	assert_int_equal(want[NPKT - 2].side, SELECT_UNKNOWN_EXPORTER);
	assert_int_equal(want[NPKT - 1].side, SELECT_EXPORTER);

	assert_non_null(sel = selector_new(&cfg));
	/* In order, backwards, and by strides that interleave the flows. */
	for (size_t stride = 1; stride < 64; stride += 7)
		for (size_t k = 0; k < n; k++) {
			size_t i = stride == 8 ? n - 1 - k : k * stride % n;
			struct side got;

			got.side = select_side(sel, &pkts[i], &got.section,
			    &got.exporter);
			assert_int_equal(got.side, want[i].side);
			assert_int_equal(got.section, want[i].section);
			assert_int_equal(got.exporter, want[i].exporter);
		}
	selector_free(sel);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_section_choice),
		cmocka_unit_test(test_section_lists),
		cmocka_unit_test(test_udp_selector_keys),
		cmocka_unit_test(test_ipfix_version_filter),
		cmocka_unit_test(test_exporter_lookup),
		cmocka_unit_test(test_exporter_lookup_many),
		cmocka_unit_test(test_side_memo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
