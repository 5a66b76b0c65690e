/* Unit tests for the capture source: link types, tunnels, IP options/extensions, reassembly, truncation, files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include "frame_build.h"
#include "source.h"

/* ---- frame builder ---- */

struct fb {
	uint8_t	 b[4096];
	size_t	 n;
};

static void
put(struct fb *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	if (n == 0)
		return;
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void
put8(struct fb *f, uint8_t v)
{
	put(f, &v, 1);
}

static void
put16(struct fb *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(f, b, 2);
}

static void
put32(struct fb *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void
patch16(struct fb *f, size_t off, size_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

static const uint8_t SRC4[4] = { 192, 0, 2, 1 };
static const uint8_t DST4[4] = { 198, 51, 100, 7 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 0x07 };
static const char PAYLOAD[] = "IPFIX-message-bytes";
#define PAYLOAD_LEN	(sizeof(PAYLOAD) - 1)

enum { ET_IPV4 = 0x0800, ET_IPV6 = 0x86dd, ET_ARP = 0x0806 };

/* IPv4 header with optlen bytes of options (NOPs then EOL); total length patched by ip4_end. */
static size_t
ip4_begin(struct fb *f, uint8_t proto, uint16_t id, uint16_t fragw,
    size_t optlen)
{
	size_t off = f->n;

	put8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(f, 0);
	put16(f, 0);
	put16(f, id);
	put16(f, fragw);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put(f, SRC4, 4);
	put(f, DST4, 4);
	for (size_t i = 0; i < optlen; i++)
		put8(f, i + 1 == optlen ? 0 : 1);
	return off;
}

static void
ip4_end(struct fb *f, size_t off)
{
	patch16(f, off + 2, f->n - off);
}

static size_t
ip6_begin(struct fb *f, uint8_t nh)
{
	size_t off = f->n;

	put32(f, 0x60000000);
	put16(f, 0);
	put8(f, nh);
	put8(f, 64);
	put(f, SRC6, 16);
	put(f, DST6, 16);
	return off;
}

static void
ip6_end(struct fb *f, size_t off)
{
	patch16(f, off + 4, f->n - off - 40);
}

/* A generic extension header of 8 * (units + 1) bytes, padded with PadN-like bytes. */
static void
ext6(struct fb *f, uint8_t nh, uint8_t units)
{
	put8(f, nh);
	put8(f, units);
	for (size_t i = 2; i < ((size_t)units + 1) * 8; i++)
		put8(f, 0);
}

static void
udp(struct fb *f, uint16_t sport, uint16_t dport, const void *pl, size_t n)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + n));
	put16(f, 0);
	put(f, pl, n);
}

static void
tcp(struct fb *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
    uint8_t flags, size_t optlen, const void *pl, size_t n)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, seq);
	put32(f, ack);
	put16(f, (uint16_t)(((5 + optlen / 4) << 12) | flags));
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
	for (size_t i = 0; i < optlen; i++)
		put8(f, 1);		/* NOP */
	put(f, pl, n);
}

static void
eth(struct fb *f, uint16_t type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	put(f, macs, 12);
	put16(f, type);
}

static void
vlan(struct fb *f, uint16_t tpid_next, uint16_t vid)
{
	put16(f, vid);
	put16(f, tpid_next);
}

static void
mpls(struct fb *f, uint32_t label, bool bottom)
{
	put32(f, label << 12 | (bottom ? 0x100 : 0) | 64);
}

static void
sll(struct fb *f, uint16_t proto)
{
	static const uint8_t mac[8] = { 2, 0, 0, 0, 0, 1 };

	put16(f, 0);		/* to us */
	put16(f, 1);		/* ARPHRD_ETHER */
	put16(f, 6);
	put(f, mac, 8);
	put16(f, proto);
}

static void
sll2(struct fb *f, uint16_t proto)
{
	static const uint8_t mac[8] = { 2, 0, 0, 0, 0, 1 };

	put16(f, proto);
	put16(f, 0);
	put32(f, 3);		/* ifindex */
	put16(f, 1);		/* ARPHRD_ETHER */
	put8(f, 0);
	put8(f, 6);
	put(f, mac, 8);
}

static void
ip_udp(struct fb *f, int ipver, uint16_t sport, uint16_t dport)
{
	size_t o;

	if (ipver == 4) {
		o = ip4_begin(f, 17, 0x1234, 0x4000, 0);	/* DF */
		udp(f, sport, dport, PAYLOAD, PAYLOAD_LEN);
		ip4_end(f, o);
	} else {
		o = ip6_begin(f, 17);
		udp(f, sport, dport, PAYLOAD, PAYLOAD_LEN);
		ip6_end(f, o);
	}
}

/* ---- assertions ---- */

static void
assert_accounting(const struct source *s)
{
	const struct source_stats *st = source_stats(s);

	assert_int_equal(st->frames, st->packets - st->reassembled +
	    st->truncated + st->not_ip + st->other_l4 + st->malformed +
	    st->fragments);
}

static void
assert_addrs(const struct tr_packet *p, int ipver)
{
	if (ipver == 4) {
		assert_int_equal(p->src.family, AF_INET);
		assert_memory_equal(&p->src.v4, SRC4, 4);
		assert_memory_equal(&p->dst.v4, DST4, 4);
	} else {
		assert_int_equal(p->src.family, AF_INET6);
		assert_memory_equal(&p->src.v6, SRC6, 16);
		assert_memory_equal(&p->dst.v6, DST6, 16);
	}
}

static void
assert_udp(const struct tr_packet *p, int ipver, uint16_t sport,
    uint16_t dport, const void *pl, size_t n)
{
	assert_addrs(p, ipver);
	assert_int_equal(p->l4proto, 17);
	assert_int_equal(p->sport, sport);
	assert_int_equal(p->dport, dport);
	assert_int_equal(p->payload_len, n);
	assert_memory_equal(p->payload, pl, n);
}

static int
feed(struct source *s, const struct fb *f, tr_ns ts, struct tr_packet *p)
{
	return source_feed(s, f->b, (uint32_t)f->n, (uint32_t)f->n, ts, p);
}

/* ---- link types, tags and labels ---- */

static void
pre_eth(struct fb *f, int v)
{
	eth(f, v == 4 ? ET_IPV4 : ET_IPV6);
}

static void
pre_eth_vlan(struct fb *f, int v)
{
	eth(f, 0x8100);
	vlan(f, v == 4 ? ET_IPV4 : ET_IPV6, 100);
}

static void
pre_eth_qinq(struct fb *f, int v)
{
	eth(f, 0x88a8);
	vlan(f, 0x8100, 10);
	vlan(f, v == 4 ? ET_IPV4 : ET_IPV6, 200);
}

static void
pre_eth_9100_deep(struct fb *f, int v)
{
	eth(f, 0x9100);
	vlan(f, 0x88a8, 1);
	vlan(f, 0x8100, 2);
	vlan(f, 0x8100, 3);
	vlan(f, v == 4 ? ET_IPV4 : ET_IPV6, 4);
}

static void
pre_eth_mpls(struct fb *f, int v)
{
	(void)v;
	eth(f, 0x8847);
	mpls(f, 16001, false);
	mpls(f, 24005, false);
	mpls(f, 3000, true);
}

static void
pre_eth_vlan_mpls_mcast(struct fb *f, int v)
{
	(void)v;
	eth(f, 0x8100);
	vlan(f, 0x8848, 7);
	mpls(f, 299776, true);
}

static void
pre_sll(struct fb *f, int v)
{
	sll(f, v == 4 ? ET_IPV4 : ET_IPV6);
}

static void
pre_sll_vlan(struct fb *f, int v)
{
	sll(f, 0x8100);
	vlan(f, v == 4 ? ET_IPV4 : ET_IPV6, 42);
}

static void
pre_sll2(struct fb *f, int v)
{
	sll2(f, v == 4 ? ET_IPV4 : ET_IPV6);
}

static void
pre_sll2_mpls(struct fb *f, int v)
{
	(void)v;
	sll2(f, 0x8847);
	mpls(f, 100, true);
}

static void
pre_none(struct fb *f, int v)
{
	(void)f;
	(void)v;
}

/* DLT_NULL: the family in the writer's byte order (this host's here). */
static void
pre_null(struct fb *f, int v)
{
	uint32_t af = v == 4 ? 2 : 24;

	put(f, &af, 4);
}

/* DLT_NULL written on a host of the other byte order. */
static void
pre_null_swapped(struct fb *f, int v)
{
	uint32_t af = __builtin_bswap32(v == 4 ? 2u : 28u);

	put(f, &af, 4);
}

static void
pre_loop(struct fb *f, int v)
{
	put32(f, v == 4 ? 2 : 30);
}

struct link_case {
	const char	*name;
	int		 linktype;
	int		 ipver;
	void		(*prefix)(struct fb *, int);
};

static const struct link_case link_cases[] = {
	{ "ethernet v4", DLT_EN10MB, 4, pre_eth },
	{ "ethernet v6", DLT_EN10MB, 6, pre_eth },
	{ "802.1Q v4", DLT_EN10MB, 4, pre_eth_vlan },
	{ "802.1Q v6", DLT_EN10MB, 6, pre_eth_vlan },
	{ "QinQ 88a8+8100 v4", DLT_EN10MB, 4, pre_eth_qinq },
	{ "QinQ 88a8+8100 v6", DLT_EN10MB, 6, pre_eth_qinq },
	{ "9100 five tags v4", DLT_EN10MB, 4, pre_eth_9100_deep },
	{ "MPLS 3 labels v4", DLT_EN10MB, 4, pre_eth_mpls },
	{ "MPLS 3 labels v6", DLT_EN10MB, 6, pre_eth_mpls },
	{ "VLAN+MPLS multicast v6", DLT_EN10MB, 6, pre_eth_vlan_mpls_mcast },
	{ "SLL v4", DLT_LINUX_SLL, 4, pre_sll },
	{ "SLL v6", DLT_LINUX_SLL, 6, pre_sll },
	{ "SLL VLAN v4", DLT_LINUX_SLL, 4, pre_sll_vlan },
	{ "SLL2 v4", DLT_LINUX_SLL2, 4, pre_sll2 },
	{ "SLL2 v6", DLT_LINUX_SLL2, 6, pre_sll2 },
	{ "SLL2 MPLS v4", DLT_LINUX_SLL2, 4, pre_sll2_mpls },
	{ "DLT_RAW v4", DLT_RAW, 4, pre_none },
	{ "DLT_RAW v6", DLT_RAW, 6, pre_none },
	{ "LINKTYPE_RAW v4", 101, 4, pre_none },
	{ "LINKTYPE_RAW v6", 101, 6, pre_none },
	{ "DLT_IPV4", DLT_IPV4, 4, pre_none },
	{ "DLT_IPV6", DLT_IPV6, 6, pre_none },
	{ "NULL v4", DLT_NULL, 4, pre_null },
	{ "NULL v6 (24)", DLT_NULL, 6, pre_null },
	{ "NULL swapped v4", DLT_NULL, 4, pre_null_swapped },
	{ "NULL swapped v6 (28)", DLT_NULL, 6, pre_null_swapped },
	{ "LOOP v4", DLT_LOOP, 4, pre_loop },
	{ "LOOP v6 (30)", DLT_LOOP, 6, pre_loop },
};

static void
test_link_types(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(link_cases) / sizeof(link_cases[0]); i++) {
		const struct link_case *lc = &link_cases[i];
		struct source *s = source_new_decoder(lc->linktype);
		struct tr_packet p;
		struct fb f = { .n = 0 };

		print_message("link case: %s\n", lc->name);
		assert_non_null(s);
		lc->prefix(&f, lc->ipver);
		ip_udp(&f, lc->ipver, 50000, 4739);
		assert_int_equal(feed(s, &f, 42, &p), 1);
		assert_udp(&p, lc->ipver, 50000, 4739, PAYLOAD, PAYLOAD_LEN);
		assert_int_equal(p.ts, 42);
		assert_int_equal(p.frame, 1);
		assert_int_equal(source_stats(s)->packets, 1);
		assert_int_equal(source_stats(s)->frames, 1);
		assert_accounting(s);
		source_close(s);
	}
}

static void
test_unsupported_decoder(void **state)
{
	(void)state;
	assert_null(source_new_decoder(DLT_IEEE802_11));
}

/* ---- IP options and extension headers, TCP ---- */

static void
test_ipv4_options(void **state)
{
	static const size_t optlens[] = { 4, 12, 40 };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct source *s = source_new_decoder(DLT_EN10MB);
		struct tr_packet p;
		struct fb f = { .n = 0 };
		size_t o;

		eth(&f, ET_IPV4);
		o = ip4_begin(&f, 17, 7, 0, optlens[i]);
		udp(&f, 1000, 2055, PAYLOAD, PAYLOAD_LEN);
		ip4_end(&f, o);
		assert_int_equal(feed(s, &f, 1, &p), 1);
		assert_udp(&p, 4, 1000, 2055, PAYLOAD, PAYLOAD_LEN);
		source_close(s);
	}
}

static void
test_ipv6_extension_headers(void **state)
{
	struct source *s = source_new_decoder(DLT_EN10MB);
	struct tr_packet p;
	struct fb f = { .n = 0 };
	size_t o;

	(void)state;
	eth(&f, ET_IPV6);
	o = ip6_begin(&f, 0);		/* hop-by-hop */
	ext6(&f, 43, 0);		/* -> routing */
	ext6(&f, 60, 1);		/* -> destination options, 16 bytes */
	ext6(&f, 51, 0);		/* -> AH */
	put8(&f, 17);			/* AH: next header UDP, length 4 (24 bytes) */
	put8(&f, 4);
	for (int i = 0; i < 22; i++)
		put8(&f, 0xaa);
	udp(&f, 4000, 1790, PAYLOAD, PAYLOAD_LEN);
	ip6_end(&f, o);
	assert_int_equal(feed(s, &f, 1, &p), 1);
	assert_udp(&p, 6, 4000, 1790, PAYLOAD, PAYLOAD_LEN);
	assert_accounting(s);
	source_close(s);
}

static void
test_tcp_fields(void **state)
{
	static const int versions[] = { 4, 6 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct source *s = source_new_decoder(DLT_EN10MB);
		struct tr_packet p;
		struct fb f = { .n = 0 };
		size_t o;

		eth(&f, versions[i] == 4 ? ET_IPV4 : ET_IPV6);
		o = versions[i] == 4 ? ip4_begin(&f, 6, 1, 0, 0) : ip6_begin(&f, 6);
		tcp(&f, 179, 40123, 0xdeadbeef, 0x01020304,
		    TR_TCP_PSH | TR_TCP_ACK, 12, PAYLOAD, PAYLOAD_LEN);
		if (versions[i] == 4)
			ip4_end(&f, o);
		else
			ip6_end(&f, o);
		assert_int_equal(feed(s, &f, 5, &p), 1);
		assert_addrs(&p, versions[i]);
		assert_int_equal(p.l4proto, 6);
		assert_int_equal(p.sport, 179);
		assert_int_equal(p.dport, 40123);
		assert_int_equal(p.tcp_seq, 0xdeadbeef);
		assert_int_equal(p.tcp_ack, 0x01020304);
		assert_int_equal(p.tcp_flags, TR_TCP_PSH | TR_TCP_ACK);
		assert_int_equal(p.payload_len, PAYLOAD_LEN);
		assert_memory_equal(p.payload, PAYLOAD, PAYLOAD_LEN);
		source_close(s);
	}
}

/* frame_tcp_segment: a handshake and data from both sides, built and decoded back. */
static void
test_frame_tcp_segment(void **state)
{
	static const struct { bool from_a; uint8_t flags; size_t len;
	    uint32_t seq, ack; } want[] = {
		{ true, TR_TCP_SYN, 0, 1000, 0 },
		{ false, TR_TCP_SYN | TR_TCP_ACK, 0, 5000, 1001 },
		{ true, TR_TCP_ACK, 0, 1001, 5001 },
		{ true, TR_TCP_PSH | TR_TCP_ACK, 7, 1001, 5001 },
		{ false, TR_TCP_ACK, 0, 5001, 1008 },
		{ true, TR_TCP_FIN | TR_TCP_ACK, 0, 1008, 5001 },
	};
	static const uint8_t data[7] = "abcdefg";
	struct frame_tcp c = { .aport = 40000, .bport = 179, .a_nxt = 1000,
	    .b_nxt = 5000 };
	struct source *s = source_new_decoder(DLT_EN10MB);
	uint8_t buf[256];

	(void)state;
	assert_int_equal(addr_parse("192.0.2.1", &c.a), 0);
	assert_int_equal(addr_parse("198.51.100.1", &c.b), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct frame_spec spec = { .link = FRAME_LINK_EN10MB };
		struct tr_packet p;
		ssize_t n;

		frame_tcp_segment(&c, want[i].from_a, want[i].flags,
		    want[i].len > 0 ? data : NULL, want[i].len, &spec);
		assert_true((n = frame_build(&spec, buf, sizeof(buf))) > 0);
		assert_int_equal(source_feed(s, buf, (uint32_t)n, (uint32_t)n,
		    1, &p), 1);
		assert_int_equal(p.sport, want[i].from_a ? 40000 : 179);
		assert_true(addr_equal(&p.src, want[i].from_a ? &c.a : &c.b));
		assert_int_equal(p.tcp_flags, want[i].flags);
		assert_int_equal(p.tcp_seq, want[i].seq);
		assert_int_equal(p.tcp_ack, want[i].ack);
		assert_int_equal(p.payload_len, want[i].len);
	}
	assert_int_equal(c.a_nxt, 1009);
	source_close(s);
}

static void
test_tcp_syn_no_payload(void **state)
{
	struct source *s = source_new_decoder(DLT_RAW);
	struct tr_packet p;
	struct fb f = { .n = 0 };
	size_t o;

	(void)state;
	o = ip4_begin(&f, 6, 1, 0, 0);
	tcp(&f, 40000, 1790, 100, 0, TR_TCP_SYN, 20, NULL, 0);
	ip4_end(&f, o);
	assert_int_equal(feed(s, &f, 5, &p), 1);
	assert_int_equal(p.tcp_flags, TR_TCP_SYN);
	assert_int_equal(p.payload_len, 0);
	source_close(s);
}

/* Ethernet pads short frames to 60 bytes: the IP total length ends the packet. */
static void
test_ethernet_padding(void **state)
{
	struct source *s = source_new_decoder(DLT_EN10MB);
	struct tr_packet p;
	struct fb f = { .n = 0 };
	size_t o, iplen_end;

	(void)state;
	eth(&f, ET_IPV4);
	o = ip4_begin(&f, 17, 9, 0, 0);
	udp(&f, 5, 6, "ab", 2);
	ip4_end(&f, o);
	iplen_end = f.n;
	while (f.n < 60)
		put8(&f, 0xee);
	assert_int_equal(feed(s, &f, 1, &p), 1);
	assert_udp(&p, 4, 5, 6, "ab", 2);

	/* Cut by the snaplen inside the padding only: still whole. */
	assert_int_equal(source_feed(s, f.b, (uint32_t)iplen_end, 60, 2, &p), 1);
	assert_udp(&p, 4, 5, 6, "ab", 2);
	assert_int_equal(source_stats(s)->packets, 2);
	assert_int_equal(source_stats(s)->truncated, 0);
	assert_accounting(s);
	source_close(s);
}

/* The UDP length, not the IP payload length, ends the UDP payload. */
static void
test_udp_length_shorter_than_ip(void **state)
{
	struct source *s = source_new_decoder(DLT_RAW);
	struct tr_packet p;
	struct fb f = { .n = 0 };
	size_t o;

	(void)state;
	o = ip4_begin(&f, 17, 9, 0, 0);
	udp(&f, 5, 6, "abcd", 4);
	patch16(&f, o + 20 + 4, 8 + 2);
	ip4_end(&f, o);
	assert_int_equal(feed(s, &f, 1, &p), 1);
	assert_int_equal(p.payload_len, 2);
	assert_memory_equal(p.payload, "ab", 2);
	source_close(s);
}

/* Captures on a TSO sender show IPv4 total length 0: the frame length rules. */
static void
test_ipv4_tso_zero_length(void **state)
{
	struct source *s = source_new_decoder(DLT_EN10MB);
	struct tr_packet p;
	struct fb f = { .n = 0 };

	(void)state;
	eth(&f, ET_IPV4);
	ip4_begin(&f, 6, 9, 0, 0);
	tcp(&f, 1, 179, 7, 8, TR_TCP_ACK, 0, PAYLOAD, PAYLOAD_LEN);
	assert_int_equal(feed(s, &f, 1, &p), 1);
	assert_int_equal(p.payload_len, PAYLOAD_LEN);
	source_close(s);
}

/* ---- frames that do not become packets ---- */

struct drop_case {
	const char	*name;
	int		 linktype;
	void		(*build)(struct fb *, uint32_t *caplen);
	size_t		 bucket;	/* offsetof(struct source_stats, ...) */
};

#define BUCKET(field)	offsetof(struct source_stats, field)

static void
b_arp(struct fb *f, uint32_t *caplen)
{
	(void)caplen;
	eth(f, ET_ARP);
	for (int i = 0; i < 28; i++)
		put8(f, 0);
}

static void
b_llc(struct fb *f, uint32_t *caplen)
{
	(void)caplen;
	eth(f, 38);			/* 802.3 length */
	put8(f, 0x42);
	put8(f, 0x42);
	put8(f, 3);
	for (int i = 0; i < 35; i++)
		put8(f, 0);
}

static void
b_icmp(struct fb *f, uint32_t *caplen)
{
	size_t o;

	(void)caplen;
	eth(f, ET_IPV4);
	o = ip4_begin(f, 1, 1, 0, 0);
	put32(f, 0x08000000);
	put32(f, 0x00010001);
	ip4_end(f, o);
}

static void
b_icmpv6(struct fb *f, uint32_t *caplen)
{
	size_t o;

	(void)caplen;
	eth(f, ET_IPV6);
	o = ip6_begin(f, 58);
	put32(f, 0x80000000);
	put32(f, 0x00010001);
	ip6_end(f, o);
}

static void
b_esp(struct fb *f, uint32_t *caplen)
{
	size_t o;

	(void)caplen;
	eth(f, ET_IPV6);
	o = ip6_begin(f, 0);
	ext6(f, 50, 0);
	put32(f, 0x1000);
	put32(f, 1);
	ip6_end(f, o);
}

static void
b_no_next(struct fb *f, uint32_t *caplen)
{
	size_t o;

	(void)caplen;
	eth(f, ET_IPV6);
	o = ip6_begin(f, 60);
	ext6(f, 59, 0);
	ip6_end(f, o);
}

static void
b_mpls_pw(struct fb *f, uint32_t *caplen)
{
	(void)caplen;
	eth(f, 0x8847);
	mpls(f, 100, true);
	put32(f, 0);			/* pseudowire control word */
	eth(f, ET_IPV4);
	ip_udp(f, 4, 1, 2);
}

static void
b_null_unknown_af(struct fb *f, uint32_t *caplen)
{
	uint32_t af = 7;

	(void)caplen;
	put(f, &af, 4);
	ip_udp(f, 4, 1, 2);
}

static void
b_cut_udp_payload(struct fb *f, uint32_t *caplen)
{
	eth(f, ET_IPV4);
	ip_udp(f, 4, 1, 2);
	*caplen = (uint32_t)f->n - 5;
}

static void
b_cut_tcp_payload_v6(struct fb *f, uint32_t *caplen)
{
	size_t o;

	eth(f, ET_IPV6);
	o = ip6_begin(f, 6);
	tcp(f, 1, 2, 3, 4, TR_TCP_ACK, 0, PAYLOAD, PAYLOAD_LEN);
	ip6_end(f, o);
	*caplen = (uint32_t)f->n - 1;
}

static void
b_cut_ethernet(struct fb *f, uint32_t *caplen)
{
	eth(f, ET_IPV4);
	ip_udp(f, 4, 1, 2);
	*caplen = 10;
}

static void
b_cut_ipv4_header(struct fb *f, uint32_t *caplen)
{
	eth(f, ET_IPV4);
	ip_udp(f, 4, 1, 2);
	*caplen = 14 + 12;
}

static void
b_cut_ipv4_options(struct fb *f, uint32_t *caplen)
{
	size_t o;

	eth(f, ET_IPV4);
	o = ip4_begin(f, 17, 1, 0, 24);
	udp(f, 1, 2, PAYLOAD, PAYLOAD_LEN);
	ip4_end(f, o);
	*caplen = 14 + 30;
}

static void
b_cut_vlan(struct fb *f, uint32_t *caplen)
{
	eth(f, 0x8100);
	vlan(f, ET_IPV4, 5);
	ip_udp(f, 4, 1, 2);
	*caplen = 16;
}

static void
b_cut_mpls(struct fb *f, uint32_t *caplen)
{
	pre_eth_mpls(f, 4);
	ip_udp(f, 4, 1, 2);
	*caplen = 20;
}

static void
b_cut_fragment(struct fb *f, uint32_t *caplen)
{
	size_t o;

	eth(f, ET_IPV4);
	o = ip4_begin(f, 17, 1, 0x2000, 0);
	for (int i = 0; i < 64; i++)
		put8(f, (uint8_t)i);
	ip4_end(f, o);
	*caplen = (uint32_t)f->n - 8;
}

static void
b_ip_total_beyond_frame(struct fb *f, uint32_t *caplen)
{
	size_t o;

	(void)caplen;
	eth(f, ET_IPV4);
	o = ip4_begin(f, 17, 1, 0, 0);
	udp(f, 1, 2, PAYLOAD, PAYLOAD_LEN);
	ip4_end(f, o);
	patch16(f, o + 2, f->n - o + 10);
}

/* Cut by the snaplen, but the IP length claims more than the wire frame had. */
static void
b_ip_total_beyond_wire(struct fb *f, uint32_t *caplen)
{
	b_ip_total_beyond_frame(f, caplen);
	*caplen = (uint32_t)f->n - 4;
}

static void
b_ihl_too_small(struct fb *f, uint32_t *caplen)
{
	eth(f, ET_IPV4);
	ip_udp(f, 4, 1, 2);
	f->b[14] = 0x44;
	(void)caplen;
}

static void
b_total_below_ihl(struct fb *f, uint32_t *caplen)
{
	eth(f, ET_IPV4);
	ip_udp(f, 4, 1, 2);
	patch16(f, 14 + 2, 16);
	(void)caplen;
}

static void
b_udp_len_too_long(struct fb *f, uint32_t *caplen)
{
	eth(f, ET_IPV4);
	ip_udp(f, 4, 1, 2);
	patch16(f, 14 + 20 + 4, 8 + PAYLOAD_LEN + 1);
	(void)caplen;
}

static void
b_udp_len_too_short(struct fb *f, uint32_t *caplen)
{
	eth(f, ET_IPV6);
	ip_udp(f, 6, 1, 2);
	patch16(f, 14 + 40 + 4, 7);
	(void)caplen;
}

static void
b_tcp_doff_small(struct fb *f, uint32_t *caplen)
{
	size_t o;

	(void)caplen;
	eth(f, ET_IPV4);
	o = ip4_begin(f, 6, 1, 0, 0);
	tcp(f, 1, 2, 3, 4, TR_TCP_ACK, 0, NULL, 0);
	ip4_end(f, o);
	f->b[14 + 20 + 12] = 0x40;
}

static void
b_tcp_doff_beyond(struct fb *f, uint32_t *caplen)
{
	size_t o;

	(void)caplen;
	eth(f, ET_IPV4);
	o = ip4_begin(f, 6, 1, 0, 0);
	tcp(f, 1, 2, 3, 4, TR_TCP_ACK, 0, "xy", 2);
	ip4_end(f, o);
	f->b[14 + 20 + 12] = 0xf0;
}

static void
b_ethertype_v4_holds_v6(struct fb *f, uint32_t *caplen)
{
	(void)caplen;
	eth(f, ET_IPV4);
	ip_udp(f, 6, 1, 2);
}

static void
b_raw_version5(struct fb *f, uint32_t *caplen)
{
	(void)caplen;
	ip_udp(f, 4, 1, 2);
	f->b[0] = 0x55;
}

static void
b_nine_vlans(struct fb *f, uint32_t *caplen)
{
	(void)caplen;
	eth(f, 0x8100);
	for (int i = 0; i < 8; i++)
		vlan(f, 0x8100, (uint16_t)i);
	vlan(f, ET_IPV4, 9);
	ip_udp(f, 4, 1, 2);
}

static void
b_ext_beyond_payload(struct fb *f, uint32_t *caplen)
{
	size_t o;

	(void)caplen;
	eth(f, ET_IPV6);
	o = ip6_begin(f, 60);
	put8(f, 17);
	put8(f, 10);			/* 88 bytes claimed */
	for (int i = 0; i < 14; i++)
		put8(f, 0);
	ip6_end(f, o);
}

static void
b_tiny_frame(struct fb *f, uint32_t *caplen)
{
	(void)caplen;
	put32(f, 0);
	put32(f, 0);
}

static void
b_fragment_odd_length(struct fb *f, uint32_t *caplen)
{
	size_t o;

	(void)caplen;
	eth(f, ET_IPV4);
	o = ip4_begin(f, 17, 1, 0x2000, 0);
	for (int i = 0; i < 13; i++)
		put8(f, 0);
	ip4_end(f, o);
}

static void
b_fragment_too_far(struct fb *f, uint32_t *caplen)
{
	size_t o;

	(void)caplen;
	eth(f, ET_IPV4);
	o = ip4_begin(f, 17, 1, 0x1fff, 0);	/* offset 65528 */
	for (int i = 0; i < 16; i++)
		put8(f, 0);
	ip4_end(f, o);
}

static const struct drop_case drop_cases[] = {
	{ "ARP", DLT_EN10MB, b_arp, BUCKET(not_ip) },
	{ "802.3 LLC", DLT_EN10MB, b_llc, BUCKET(not_ip) },
	{ "MPLS pseudowire", DLT_EN10MB, b_mpls_pw, BUCKET(not_ip) },
	{ "NULL unknown family", DLT_NULL, b_null_unknown_af, BUCKET(not_ip) },
	{ "ICMP", DLT_EN10MB, b_icmp, BUCKET(other_l4) },
	{ "ICMPv6", DLT_EN10MB, b_icmpv6, BUCKET(other_l4) },
	{ "ESP after hop-by-hop", DLT_EN10MB, b_esp, BUCKET(other_l4) },
	{ "IPv6 no next header", DLT_EN10MB, b_no_next, BUCKET(other_l4) },
	{ "cut in UDP payload", DLT_EN10MB, b_cut_udp_payload, BUCKET(truncated) },
	{ "cut in TCP payload v6", DLT_EN10MB, b_cut_tcp_payload_v6, BUCKET(truncated) },
	{ "cut in Ethernet header", DLT_EN10MB, b_cut_ethernet, BUCKET(truncated) },
	{ "cut in IPv4 header", DLT_EN10MB, b_cut_ipv4_header, BUCKET(truncated) },
	{ "cut in IPv4 options", DLT_EN10MB, b_cut_ipv4_options, BUCKET(truncated) },
	{ "cut in VLAN tag", DLT_EN10MB, b_cut_vlan, BUCKET(truncated) },
	{ "cut in MPLS stack", DLT_EN10MB, b_cut_mpls, BUCKET(truncated) },
	{ "cut fragment", DLT_EN10MB, b_cut_fragment, BUCKET(truncated) },
	{ "IP length beyond frame", DLT_EN10MB, b_ip_total_beyond_frame, BUCKET(malformed) },
	{ "IP length beyond wire", DLT_EN10MB, b_ip_total_beyond_wire, BUCKET(malformed) },
	{ "IHL 4", DLT_EN10MB, b_ihl_too_small, BUCKET(malformed) },
	{ "total below IHL", DLT_EN10MB, b_total_below_ihl, BUCKET(malformed) },
	{ "UDP length too long", DLT_EN10MB, b_udp_len_too_long, BUCKET(malformed) },
	{ "UDP length below 8", DLT_EN10MB, b_udp_len_too_short, BUCKET(malformed) },
	{ "TCP offset 4", DLT_EN10MB, b_tcp_doff_small, BUCKET(malformed) },
	{ "TCP offset beyond", DLT_EN10MB, b_tcp_doff_beyond, BUCKET(malformed) },
	{ "IPv6 in 0x0800", DLT_EN10MB, b_ethertype_v4_holds_v6, BUCKET(malformed) },
	{ "raw version 5", DLT_RAW, b_raw_version5, BUCKET(malformed) },
	{ "nine VLAN tags", DLT_EN10MB, b_nine_vlans, BUCKET(malformed) },
	{ "IPv6 ext beyond payload", DLT_EN10MB, b_ext_beyond_payload, BUCKET(malformed) },
	{ "8-byte Ethernet frame", DLT_EN10MB, b_tiny_frame, BUCKET(malformed) },
	{ "fragment not 8-aligned", DLT_EN10MB, b_fragment_odd_length, BUCKET(malformed) },
	{ "fragment past 64k", DLT_EN10MB, b_fragment_too_far, BUCKET(malformed) },
};

static void
test_dropped_frames(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(drop_cases) / sizeof(drop_cases[0]); i++) {
		const struct drop_case *dc = &drop_cases[i];
		struct source *s = source_new_decoder(dc->linktype);
		const struct source_stats *st = source_stats(s);
		struct tr_packet p;
		struct fb f = { .n = 0 };
		uint32_t caplen = 0;
		uint64_t count;

		print_message("drop case: %s\n", dc->name);
		dc->build(&f, &caplen);
		if (caplen == 0)
			caplen = (uint32_t)f.n;
		/* Exactly the captured bytes, so ASan catches any over-read. */
		uint8_t *copy = malloc(caplen);
		assert_non_null(copy);
		memcpy(copy, f.b, caplen);
		assert_int_equal(source_feed(s, copy, caplen, (uint32_t)f.n, 1,
		    &p), 0);
		free(copy);
		memcpy(&count, (const uint8_t *)st + dc->bucket, sizeof(count));
		assert_int_equal(count, 1);
		assert_int_equal(st->frames, 1);
		assert_int_equal(st->packets, 0);
		assert_accounting(s);
		source_close(s);
	}
}

/* ---- IPv4 fragments ---- */

/* The datagram all IPv4 fragment tests cut up: UDP header + 100 bytes. */
static size_t
frag_datagram(uint8_t *out)
{
	struct fb f = { .n = 0 };
	uint8_t pl[100];

	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7 + 3);
	udp(&f, 40000, 4739, pl, sizeof(pl));
	memcpy(out, f.b, f.n);
	return f.n;
}

static void
frag4_frame(struct fb *f, uint16_t id, uint8_t proto, const uint8_t *dg,
    size_t off, size_t len, bool more)
{
	size_t o;

	f->n = 0;
	eth(f, ET_IPV4);
	o = ip4_begin(f, proto, id, (uint16_t)((more ? 0x2000 : 0) | off / 8), 0);
	put(f, dg + off, len);
	ip4_end(f, o);
}

/* Feed fragments given as (offset, length) pairs in order; return the packets delivered. */
struct frag_piece {
	size_t	 off;
	size_t	 len;
};

static int
feed_pieces(struct source *s, const uint8_t *dg, size_t dglen, uint16_t id,
    const struct frag_piece *pieces, size_t n, tr_ns ts0, struct tr_packet *p)
{
	int delivered = 0;

	for (size_t i = 0; i < n; i++) {
		struct fb f;
		bool more = pieces[i].off + pieces[i].len < dglen;

		frag4_frame(&f, id, 17, dg, pieces[i].off, pieces[i].len, more);
		delivered += feed(s, &f, ts0 + (tr_ns)i, p);
	}
	return delivered;
}

static void
assert_frag_datagram(const struct tr_packet *p, const uint8_t *dg, size_t dglen)
{
	assert_udp(p, 4, 40000, 4739, dg + 8, dglen - 8);
}

struct frag_order_case {
	const char		*name;
	struct frag_piece	 pieces[6];
	size_t			 n;
	uint64_t		 last_frame;
};

static const struct frag_order_case frag_order_cases[] = {
	{ "in order", { { 0, 48 }, { 48, 48 }, { 96, 12 } }, 3, 3 },
	{ "reverse", { { 96, 12 }, { 48, 48 }, { 0, 48 } }, 3, 3 },
	{ "middle first", { { 48, 24 }, { 0, 48 }, { 96, 12 }, { 72, 24 } }, 4, 4 },
	{ "duplicate", { { 0, 48 }, { 0, 48 }, { 48, 48 }, { 96, 12 } }, 4, 4 },
	{ "agreeing overlap", { { 0, 56 }, { 48, 56 }, { 96, 12 } }, 3, 3 },
	{ "contained", { { 0, 108 - 12 }, { 16, 32 }, { 96, 12 } }, 3, 3 },
};

static void
test_ipv4_fragments(void **state)
{
	uint8_t dg[256];
	size_t dglen = frag_datagram(dg);

	(void)state;
	for (size_t i = 0; i < sizeof(frag_order_cases) / sizeof(frag_order_cases[0]); i++) {
		const struct frag_order_case *fc = &frag_order_cases[i];
		struct source *s = source_new_decoder(DLT_EN10MB);
		const struct source_stats *st = source_stats(s);
		struct tr_packet p;

		print_message("fragment case: %s\n", fc->name);
		memset(&p, 0, sizeof(p));
		assert_int_equal(feed_pieces(s, dg, dglen, 77, fc->pieces, fc->n,
		    1000, &p), 1);
		assert_frag_datagram(&p, dg, dglen);
		/* The fragment that completed it gives the time and frame number. */
		assert_int_equal(p.frame, fc->last_frame);
		assert_int_equal(p.ts, 1000 + (tr_ns)fc->n - 1);
		assert_int_equal(st->fragments, fc->n);
		assert_int_equal(st->reassembled, 1);
		assert_int_equal(st->packets, 1);
		assert_int_equal(st->frag_dropped, 0);
		assert_accounting(s);
		source_close(s);
	}
}

static void
test_ipv4_fragment_conflict(void **state)
{
	uint8_t dg[256], bad[256];
	size_t dglen = frag_datagram(dg);
	struct source *s = source_new_decoder(DLT_EN10MB);
	const struct source_stats *st = source_stats(s);
	struct tr_packet p;
	struct fb f;

	(void)state;
	(void)dglen;
	memcpy(bad, dg, sizeof(bad));
	bad[50] ^= 0xff;
	frag4_frame(&f, 5, 17, dg, 0, 56, true);
	assert_int_equal(feed(s, &f, 1, &p), 0);
	frag4_frame(&f, 5, 17, bad, 48, 56, true);	/* disagrees at byte 50 */
	assert_int_equal(feed(s, &f, 2, &p), 0);
	assert_int_equal(st->frag_dropped, 2);
	/* The rest of the datagram starts a new reassembly that never completes. */
	frag4_frame(&f, 5, 17, dg, 96, 12, false);
	assert_int_equal(feed(s, &f, 3, &p), 0);
	source_flush(s);
	assert_int_equal(st->frag_dropped, 3);
	assert_int_equal(st->fragments, 3);
	assert_int_equal(st->packets, 0);
	assert_accounting(s);
	source_close(s);
}

static void
test_ipv4_fragment_conflicting_ends(void **state)
{
	uint8_t dg[256];
	size_t dglen = frag_datagram(dg);
	struct source *s = source_new_decoder(DLT_EN10MB);
	const struct source_stats *st = source_stats(s);
	struct tr_packet p;
	struct fb f;

	(void)state;
	(void)dglen;
	frag4_frame(&f, 6, 17, dg, 96, 12, false);	/* ends at 108 */
	assert_int_equal(feed(s, &f, 1, &p), 0);
	frag4_frame(&f, 6, 17, dg, 48, 8, false);	/* ends at 56 */
	assert_int_equal(feed(s, &f, 2, &p), 0);
	assert_int_equal(st->frag_dropped, 2);

	frag4_frame(&f, 7, 17, dg, 48, 8, false);	/* ends at 56 */
	assert_int_equal(feed(s, &f, 3, &p), 0);
	frag4_frame(&f, 7, 17, dg, 56, 16, true);	/* reaches past the end */
	assert_int_equal(feed(s, &f, 4, &p), 0);
	assert_int_equal(st->frag_dropped, 4);
	assert_accounting(s);
	source_close(s);
}

static void
test_ipv4_fragment_timeout(void **state)
{
	uint8_t dg[256];
	size_t dglen = frag_datagram(dg);
	struct source *s = source_new_decoder(DLT_EN10MB);
	const struct source_stats *st = source_stats(s);
	struct tr_packet p;
	struct fb f, other = { .n = 0 };
	tr_ns t0 = 1700000000 * TR_NS_PER_SEC;

	(void)state;
	eth(&other, ET_IPV4);
	ip_udp(&other, 4, 1, 2);

	frag4_frame(&f, 9, 17, dg, 0, 48, true);
	assert_int_equal(feed(s, &f, t0, &p), 0);
	frag4_frame(&f, 9, 17, dg, 48, 48, true);
	assert_int_equal(feed(s, &f, t0 + 10 * TR_NS_PER_SEC, &p), 0);
	/* 29 s after the first fragment: still waiting. */
	assert_int_equal(feed(s, &other, t0 + 29 * TR_NS_PER_SEC, &p), 1);
	assert_int_equal(st->frag_dropped, 0);
	/* 31 s: given up, both fragments counted. */
	assert_int_equal(feed(s, &other, t0 + 31 * TR_NS_PER_SEC, &p), 1);
	assert_int_equal(st->frag_dropped, 2);
	/* The late last fragment cannot complete anything. */
	frag4_frame(&f, 9, 17, dg, 96, dglen - 96, false);
	assert_int_equal(feed(s, &f, t0 + 32 * TR_NS_PER_SEC, &p), 0);
	source_flush(s);
	assert_int_equal(st->frag_dropped, 3);
	assert_int_equal(st->reassembled, 0);
	assert_accounting(s);
	source_close(s);
}

static void
test_ipv4_fragment_eviction(void **state)
{
	uint8_t dg[256];
	size_t dglen = frag_datagram(dg);
	struct source *s = source_new_decoder(DLT_EN10MB);
	const struct source_stats *st = source_stats(s);
	struct tr_packet p;
	struct fb f;

	(void)state;
	/* One more incomplete datagram than the table holds: the oldest goes. */
	for (uint16_t id = 0; id <= 1024; id++) {
		frag4_frame(&f, id, 17, dg, 0, 48, true);
		assert_int_equal(feed(s, &f, id, &p), 0);
	}
	assert_int_equal(st->frag_dropped, 1);
	frag4_frame(&f, 0, 17, dg, 48, dglen - 48, false);	/* id 0 was evicted */
	assert_int_equal(feed(s, &f, 2000, &p), 0);
	frag4_frame(&f, 1024, 17, dg, 48, dglen - 48, false);
	assert_int_equal(feed(s, &f, 2001, &p), 1);
	assert_frag_datagram(&p, dg, dglen);
	source_flush(s);
	assert_int_equal(st->frag_dropped, 1024 + 1);
	assert_int_equal(st->reassembled, 1);
	assert_accounting(s);
	source_close(s);
}

/* Same id from two sources, interleaved: the key keeps them apart. */
static void
test_ipv4_fragment_interleaved(void **state)
{
	uint8_t dg[256];
	size_t dglen = frag_datagram(dg);
	struct source *s = source_new_decoder(DLT_EN10MB);
	struct tr_packet p;
	struct fb a1, a2, b1, b2;

	(void)state;
	frag4_frame(&a1, 3, 17, dg, 0, 48, true);
	frag4_frame(&a2, 3, 17, dg, 48, dglen - 48, false);
	frag4_frame(&b1, 3, 17, dg, 0, 48, true);
	frag4_frame(&b2, 3, 17, dg, 48, dglen - 48, false);
	b1.b[14 + 15] = 99;		/* another source address */
	b2.b[14 + 15] = 99;
	assert_int_equal(feed(s, &a1, 1, &p), 0);
	assert_int_equal(feed(s, &b1, 2, &p), 0);
	assert_int_equal(feed(s, &a2, 3, &p), 1);
	assert_frag_datagram(&p, dg, dglen);
	assert_int_equal(feed(s, &b2, 4, &p), 1);
	assert_int_equal(((const uint8_t *)&p.src.v4)[3], 99);
	assert_int_equal(source_stats(s)->reassembled, 2);
	assert_accounting(s);
	source_close(s);
}

/* A fragmented ping completes but is not UDP/TCP. */
static void
test_ipv4_fragmented_icmp(void **state)
{
	uint8_t dg[256];
	size_t dglen = frag_datagram(dg);
	struct source *s = source_new_decoder(DLT_EN10MB);
	const struct source_stats *st = source_stats(s);
	struct tr_packet p;
	struct fb f;

	(void)state;
	frag4_frame(&f, 4, 1, dg, 0, 48, true);
	assert_int_equal(feed(s, &f, 1, &p), 0);
	frag4_frame(&f, 4, 1, dg, 48, dglen - 48, false);
	assert_int_equal(feed(s, &f, 2, &p), 0);
	assert_int_equal(st->reassembled_other, 1);
	assert_int_equal(st->reassembled, 0);
	assert_int_equal(st->fragments, 2);
	assert_accounting(s);
	source_close(s);
}

/* A reassembled IPFIX datagram bigger than any MTU. */
static void
test_ipv4_fragments_large(void **state)
{
	static uint8_t dg[9000];
	struct source *s = source_new_decoder(DLT_EN10MB);
	struct tr_packet p;
	struct fb ff = { .n = 0 };
	uint8_t *pl = malloc(8900);
	int delivered = 0;

	(void)state;
	for (size_t i = 0; i < 8900; i++)
		pl[i] = (uint8_t)(i ^ (i >> 8));
	{
		/* UDP header by hand: the frame builder is smaller than this datagram. */
		dg[0] = 0x9c; dg[1] = 0x40; dg[2] = 0x12; dg[3] = 0x83;
		dg[4] = (uint8_t)((8 + 8900) >> 8); dg[5] = (uint8_t)(8 + 8900);
		dg[6] = dg[7] = 0;
		memcpy(dg + 8, pl, 8900);
	}
	for (size_t off = 0; off < 8908; off += 1480) {
		size_t len = 8908 - off < 1480 ? 8908 - off : 1480;

		frag4_frame(&ff, 11, 17, dg, off, len, off + len < 8908);
		delivered += feed(s, &ff, (tr_ns)off, &p);
	}
	assert_int_equal(delivered, 1);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 4739);
	assert_int_equal(p.payload_len, 8900);
	assert_memory_equal(p.payload, pl, 8900);
	assert_accounting(s);
	free(pl);
	source_close(s);
}

/* ---- IPv6 fragments ---- */

static void
frag6_frame(struct fb *f, uint32_t id, const uint8_t *dg, size_t off,
    size_t len, bool more, uint8_t first_nh)
{
	size_t o;

	f->n = 0;
	eth(f, ET_IPV6);
	o = ip6_begin(f, 0);		/* hop-by-hop stays outside the fragments */
	ext6(f, 44, 0);
	put8(f, first_nh);
	put8(f, 0);
	put16(f, (uint16_t)(off | (more ? 1 : 0)));
	put32(f, id);
	put(f, dg + off, len);
	ip6_end(f, o);
}

static void
test_ipv6_fragments(void **state)
{
	struct fb inner = { .n = 0 };
	struct source *s = source_new_decoder(DLT_EN10MB);
	const struct source_stats *st = source_stats(s);
	struct tr_packet p;
	struct fb f;
	uint8_t pl[100];

	(void)state;
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(255 - i);
	/* The fragmentable part: destination options, then UDP. */
	ext6(&inner, 17, 0);
	udp(&inner, 9995, 9996, pl, sizeof(pl));	/* 8 + 8 + 100 = 116 bytes */

	frag6_frame(&f, 0x80000001u, inner.b, 64, inner.n - 64, false, 60);
	assert_int_equal(feed(s, &f, 10, &p), 0);
	frag6_frame(&f, 0x80000001u, inner.b, 0, 32, true, 60);
	assert_int_equal(feed(s, &f, 11, &p), 0);
	frag6_frame(&f, 0x80000001u, inner.b, 32, 32, true, 60);
	assert_int_equal(feed(s, &f, 12, &p), 1);
	assert_udp(&p, 6, 9995, 9996, pl, sizeof(pl));
	assert_int_equal(p.ts, 12);
	assert_int_equal(st->fragments, 3);
	assert_int_equal(st->reassembled, 1);

	/* An atomic fragment (offset 0, no more) is a plain packet. */
	frag6_frame(&f, 2, inner.b, 0, inner.n, false, 60);
	assert_int_equal(feed(s, &f, 13, &p), 1);
	assert_udp(&p, 6, 9995, 9996, pl, sizeof(pl));
	assert_int_equal(st->fragments, 3);
	assert_int_equal(st->packets, 2);
	assert_accounting(s);
	source_close(s);
}

static void
test_ipv6_fragment_conflict(void **state)
{
	struct fb inner = { .n = 0 };
	struct source *s = source_new_decoder(DLT_EN10MB);
	const struct source_stats *st = source_stats(s);
	struct tr_packet p;
	struct fb f;
	uint8_t pl[56] = { 0 };

	(void)state;
	udp(&inner, 1, 2, pl, sizeof(pl));
	frag6_frame(&f, 7, inner.b, 0, 48, true, 17);
	assert_int_equal(feed(s, &f, 1, &p), 0);
	inner.b[40] = 1;
	frag6_frame(&f, 7, inner.b, 40, 24, false, 17);
	assert_int_equal(feed(s, &f, 2, &p), 0);
	assert_int_equal(st->frag_dropped, 2);
	assert_int_equal(st->packets, 0);
	assert_accounting(s);
	source_close(s);
}

/* ---- capture files ---- */

struct rec {
	uint32_t	 sec;
	uint32_t	 frac;		/* us or ns, as the magic says */
	struct fb	 frame;
	uint32_t	 caplen;	/* 0: the whole frame */
};

static void
write_u32(FILE *fp, uint32_t v)
{
	assert_int_equal(fwrite(&v, 4, 1, fp), 1);
}

static void
write_u16(FILE *fp, uint16_t v)
{
	assert_int_equal(fwrite(&v, 2, 1, fp), 1);
}

static char *
temp_path(void)
{
	char *path = strdup("/tmp/test_source_XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return path;
}

/* A classic pcap in this host's byte order; returns the offset where each record starts. */
static void
write_pcap(const char *path, uint32_t magic, uint32_t linktype,
    const struct rec *recs, size_t n, long *starts)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	write_u32(fp, magic);
	write_u16(fp, 2);
	write_u16(fp, 4);
	write_u32(fp, 0);
	write_u32(fp, 0);
	write_u32(fp, 65535);
	write_u32(fp, linktype);
	for (size_t i = 0; i < n; i++) {
		uint32_t cap = recs[i].caplen ? recs[i].caplen : (uint32_t)recs[i].frame.n;

		if (starts != NULL)
			starts[i] = ftell(fp);
		write_u32(fp, recs[i].sec);
		write_u32(fp, recs[i].frac);
		write_u32(fp, cap);
		write_u32(fp, (uint32_t)recs[i].frame.n);
		assert_int_equal(fwrite(recs[i].frame.b, 1, cap, fp), cap);
	}
	if (starts != NULL)
		starts[n] = ftell(fp);
	assert_int_equal(fclose(fp), 0);
}

/* Three records one second apart; the fraction is frac0 + i in the file's unit. */
static void
three_records(struct rec *recs, uint32_t frac0)
{
	memset(recs, 0, 3 * sizeof(*recs));
	for (int i = 0; i < 3; i++) {
		recs[i].sec = 1700000000 + (uint32_t)i;
		recs[i].frac = frac0 + (uint32_t)i;
		eth(&recs[i].frame, ET_IPV4);
		ip_udp(&recs[i].frame, 4, (uint16_t)(1000 + i), 4739);
	}
	/* The middle frame is ARP: read and counted, never handed out. */
	recs[1].frame.n = 0;
	b_arp(&recs[1].frame, NULL);
}

static tr_ns
record_ns(int i, uint32_t frac0, tr_ns unit_ns)
{
	return (1700000000 + (tr_ns)i) * TR_NS_PER_SEC +
	    ((tr_ns)frac0 + i) * unit_ns;
}

static void
check_read_all(const char *path, uint32_t frac0, tr_ns unit_ns)
{
	char err[512] = "";
	struct source *s = source_open(path, err, sizeof(err));
	struct tr_packet p;
	uint64_t off, size;

	assert_non_null(s);
	assert_int_equal(source_next(s, &p), 1);
	assert_int_equal(p.frame, 1);
	assert_int_equal(p.sport, 1000);
	assert_int_equal(p.ts, record_ns(0, frac0, unit_ns));
	assert_int_equal(source_next(s, &p), 1);
	assert_int_equal(p.frame, 3);
	assert_int_equal(p.ts, record_ns(2, frac0, unit_ns));
	assert_udp(&p, 4, 1002, 4739, PAYLOAD, PAYLOAD_LEN);
	assert_int_equal(source_next(s, &p), 0);
	assert_int_equal(source_next(s, &p), 0);
	assert_int_equal(source_stats(s)->frames, 3);
	assert_int_equal(source_stats(s)->not_ip, 1);
	assert_accounting(s);
	source_progress(s, &off, &size);
	assert_int_equal(off, size);
	assert_string_equal(source_error(s), "");
	source_close(s);
}

static void
test_file_microseconds(void **state)
{
	struct rec recs[3];
	char *path = temp_path();

	(void)state;
	three_records(recs, 123456);
	write_pcap(path, 0xa1b2c3d4, DLT_EN10MB, recs, 3, NULL);
	check_read_all(path, 123456, TR_NS_PER_US);
	unlink(path);
	free(path);
}

static void
test_file_nanoseconds(void **state)
{
	struct rec recs[3];
	char *path = temp_path();

	(void)state;
	three_records(recs, 123456789);
	write_pcap(path, 0xa1b23c4d, DLT_EN10MB, recs, 3, NULL);
	check_read_all(path, 123456789, 1);
	unlink(path);
	free(path);
}

/* Cut the file at `cut` bytes into record 3 (counting its 16-byte header). */
static void
check_cut_last_record(long cut_into_last)
{
	struct rec recs[3];
	long starts[4];
	char *path = temp_path();
	char err[512] = "", want[128];
	struct source *s;
	struct tr_packet p;

	three_records(recs, 0);
	write_pcap(path, 0xa1b2c3d4, DLT_EN10MB, recs, 3, starts);
	assert_int_equal(truncate(path, starts[2] + cut_into_last), 0);
	s = source_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(source_next(s, &p), 1);
	assert_int_equal(source_next(s, &p), -1);
	print_message("damage message: %s\n", source_error(s));
	assert_non_null(strstr(source_error(s), path));
	snprintf(want, sizeof(want), "damaged after frame 2 (byte offset %ld)",
	    starts[2]);
	assert_non_null(strstr(source_error(s), want));
	assert_non_null(strstr(source_error(s), "truncated"));
	assert_non_null(strstr(source_error(s), "the 2 frames before it were read"));
	assert_int_equal(source_next(s, &p), -1);
	assert_int_equal(source_stats(s)->frames, 2);
	source_close(s);
	unlink(path);
	free(path);
}

static void
test_file_cut_in_record_data(void **state)
{
	(void)state;
	check_cut_last_record(16 + 10);
}

static void
test_file_cut_in_record_header(void **state)
{
	(void)state;
	check_cut_last_record(7);
}

/* A file that ends exactly between records is complete, not damaged. */
static void
test_file_cut_at_record_boundary(void **state)
{
	struct rec recs[3];
	long starts[4];
	char *path = temp_path();
	char err[512] = "";
	struct source *s;
	struct tr_packet p;

	(void)state;
	three_records(recs, 0);
	write_pcap(path, 0xa1b2c3d4, DLT_EN10MB, recs, 3, starts);
	assert_int_equal(truncate(path, starts[2]), 0);
	s = source_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(source_next(s, &p), 1);
	assert_int_equal(source_next(s, &p), 0);
	source_close(s);
	unlink(path);
	free(path);
}

/* A record cut by the snaplen is counted as truncated, never handed out. */
static void
test_file_snaplen_cut(void **state)
{
	struct rec recs[3];
	char *path = temp_path();
	char err[512] = "";
	struct source *s;
	struct tr_packet p;

	(void)state;
	three_records(recs, 0);
	recs[0].caplen = (uint32_t)recs[0].frame.n - 3;
	write_pcap(path, 0xa1b2c3d4, DLT_EN10MB, recs, 3, NULL);
	s = source_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(source_next(s, &p), 1);
	assert_int_equal(p.frame, 3);
	assert_int_equal(source_next(s, &p), 0);
	assert_int_equal(source_stats(s)->truncated, 1);
	assert_accounting(s);
	source_close(s);
	unlink(path);
	free(path);
}

static void
test_file_raw_linktype(void **state)
{
	struct rec rec;
	char *path = temp_path();
	char err[512] = "";
	struct source *s;
	struct tr_packet p;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.sec = 5;
	ip_udp(&rec.frame, 6, 7, 8);
	write_pcap(path, 0xa1b2c3d4, 101, &rec, 1, NULL);	/* LINKTYPE_RAW */
	s = source_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(source_next(s, &p), 1);
	assert_udp(&p, 6, 7, 8, PAYLOAD, PAYLOAD_LEN);
	assert_int_equal(p.ts, 5 * TR_NS_PER_SEC);
	source_close(s);
	unlink(path);
	free(path);
}

/* pcapng: section header, one interface (default microsecond resolution), one enhanced packet. */
static void
test_file_pcapng(void **state)
{
	struct fb frame = { .n = 0 };
	char *path = temp_path();
	char err[512] = "";
	FILE *fp = fopen(path, "wb");
	uint64_t ts_us = UINT64_C(1700000000) * 1000000 + 654321;
	uint32_t padded;
	struct source *s;
	struct tr_packet p;

	(void)state;
	eth(&frame, ET_IPV4);
	ip_udp(&frame, 4, 2000, 6343);
	padded = (uint32_t)((frame.n + 3) & ~(size_t)3);
	assert_non_null(fp);
	write_u32(fp, 0x0a0d0d0a);		/* SHB */
	write_u32(fp, 28);
	write_u32(fp, 0x1a2b3c4d);
	write_u16(fp, 1);
	write_u16(fp, 0);
	write_u32(fp, 0xffffffff);		/* section length unknown */
	write_u32(fp, 0xffffffff);
	write_u32(fp, 28);
	write_u32(fp, 1);			/* IDB */
	write_u32(fp, 20);
	write_u16(fp, DLT_EN10MB);
	write_u16(fp, 0);
	write_u32(fp, 65535);
	write_u32(fp, 20);
	write_u32(fp, 6);			/* EPB */
	write_u32(fp, 32 + padded);
	write_u32(fp, 0);
	write_u32(fp, (uint32_t)(ts_us >> 32));
	write_u32(fp, (uint32_t)ts_us);
	write_u32(fp, (uint32_t)frame.n);
	write_u32(fp, (uint32_t)frame.n);
	assert_int_equal(fwrite(frame.b, 1, frame.n, fp), frame.n);
	for (size_t i = frame.n; i < padded; i++)
		fputc(0, fp);
	write_u32(fp, 32 + padded);
	assert_int_equal(fclose(fp), 0);

	s = source_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(source_next(s, &p), 1);
	assert_udp(&p, 4, 2000, 6343, PAYLOAD, PAYLOAD_LEN);
	assert_int_equal(p.ts, (tr_ns)ts_us * 1000);
	assert_int_equal(source_next(s, &p), 0);
	source_close(s);
	unlink(path);
	free(path);
}

static void
test_open_missing_file(void **state)
{
	char err[512] = "";

	(void)state;
	assert_null(source_open("/nonexistent/dir/capture.pcap", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/dir/capture.pcap"));
	assert_non_null(strstr(err, "No such file"));
}

static void
test_open_directory(void **state)
{
	char err[512] = "";

	(void)state;
	assert_null(source_open("/tmp", err, sizeof(err)));
	assert_non_null(strstr(err, "/tmp"));
	assert_non_null(strstr(err, "directory"));
}

static void
test_open_not_a_capture(void **state)
{
	char *path = temp_path();
	char err[512] = "";
	FILE *fp = fopen(path, "w");

	(void)state;
	fputs("select:\n  udp: true\n", fp);
	fclose(fp);
	assert_null(source_open(path, err, sizeof(err)));
	print_message("not a capture: %s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a pcap or pcapng"));
	unlink(path);
	free(path);
}

static void
test_open_empty_file(void **state)
{
	char *path = temp_path();
	char err[512] = "";

	(void)state;
	assert_null(source_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "empty"));
	unlink(path);
	free(path);
}

static void
test_open_unsupported_linktype(void **state)
{
	struct rec rec;
	char *path = temp_path();
	char err[512] = "";

	(void)state;
	memset(&rec, 0, sizeof(rec));
	put32(&rec.frame, 0);
	write_pcap(path, 0xa1b2c3d4, DLT_IEEE802_11, &rec, 1, NULL);
	assert_null(source_open(path, err, sizeof(err)));
	print_message("unsupported: %s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "IEEE802_11"));
	assert_non_null(strstr(err, "supported: EN10MB"));
	assert_non_null(strstr(err, "LINUX_SLL2"));
	unlink(path);
	free(path);
}

/*
 * ---- the mapped reader against libpcap ----
 *
 * A classic pcap in a regular file is read in place (mapped); the same
 * bytes through a pipe can only be read by libpcap.  Every file here must
 * give the same packets, counters, end and message both ways: crafted
 * files whose oddities the mapped reader hands to libpcap mid-file.
 */
struct pcap_spec {
	bool		 swap;		/* written in the other byte order */
	bool		 nano;
	uint16_t	 minor;		/* 4, unless a test says */
	uint32_t	 snaplen;
	uint32_t	 linktype;
};

struct mem {
	uint8_t		 b[16384];
	size_t		 n;
};

static void
mem_u32(struct mem *m, const struct pcap_spec *sp, uint32_t v)
{
	if (sp->swap)
		v = __builtin_bswap32(v);
	assert_true(m->n + 4 <= sizeof(m->b));
	memcpy(m->b + m->n, &v, 4);
	m->n += 4;
}

static void
mem_u16(struct mem *m, const struct pcap_spec *sp, uint16_t v)
{
	if (sp->swap)
		v = __builtin_bswap16(v);
	assert_true(m->n + 2 <= sizeof(m->b));
	memcpy(m->b + m->n, &v, 2);
	m->n += 2;
}

static void
mem_header(struct mem *m, const struct pcap_spec *sp)
{
	m->n = 0;
	mem_u32(m, sp, sp->nano ? 0xa1b23c4d : 0xa1b2c3d4);
	mem_u16(m, sp, 2);
	mem_u16(m, sp, sp->minor ? sp->minor : 4);
	mem_u32(m, sp, 0);
	mem_u32(m, sp, 0);
	mem_u32(m, sp, sp->snaplen ? sp->snaplen : 65535);
	mem_u32(m, sp, sp->linktype ? sp->linktype : DLT_EN10MB);
}

/* A record: caplen bytes of the frame (padded with zeros past it), len on the wire. */
static void
mem_record(struct mem *m, const struct pcap_spec *sp, uint32_t sec,
    uint32_t frac, const struct fb *f, uint32_t caplen, uint32_t len)
{
	mem_u32(m, sp, sec);
	mem_u32(m, sp, frac);
	mem_u32(m, sp, caplen);
	mem_u32(m, sp, len);
	assert_true(m->n + caplen <= sizeof(m->b));
	memset(m->b + m->n, 0, caplen);
	memcpy(m->b + m->n, f->b, caplen < f->n ? caplen : f->n);
	m->n += caplen;
}

/* Everything a reader gives for a file, as text (the path replaced by FILE). */
static void
transcript(const char *path, char *out, size_t outlen)
{
	char err[512] = "", msg[1024];
	struct source *s = source_open(path, err, sizeof(err));
	struct tr_packet p;
	size_t n = 0;
	uint64_t off, size;
	const char *e, *at;
	int rc;

	out[0] = '\0';
	if (s == NULL) {
		snprintf(out, outlen, "open failed");
		return;
	}
	while ((rc = source_next(s, &p)) == 1) {
		uint32_t h = 0;

		for (size_t i = 0; i < p.payload_len; i++)
			h = h * 31 + p.payload[i];
		n += (size_t)snprintf(out + n, outlen - n, "%llu %lld %u>%u %zu "
		    "%08x\n", (unsigned long long)p.frame, (long long)p.ts,
		    p.sport, p.dport, p.payload_len, h);
		assert_true(n < outlen);
	}
	e = source_error(s);
	msg[0] = '\0';
	if ((at = strstr(e, path)) != NULL)
		snprintf(msg, sizeof(msg), "%.*sFILE%s", (int)(at - e), e,
		    at + strlen(path));
	else
		snprintf(msg, sizeof(msg), "%s", e);
	source_progress(s, &off, &size);
	n += (size_t)snprintf(out + n, outlen - n, "end %d frames %llu "
	    "packets %llu truncated %llu malformed %llu not_ip %llu offset "
	    "%llu: %s\n", rc, (unsigned long long)source_stats(s)->frames,
	    (unsigned long long)source_stats(s)->packets,
	    (unsigned long long)source_stats(s)->truncated,
	    (unsigned long long)source_stats(s)->malformed,
	    (unsigned long long)source_stats(s)->not_ip,
	    (unsigned long long)off, msg);
	assert_true(n < outlen);
	assert_int_equal(source_next(s, &p), rc);	/* the end stays the end */
	source_close(s);
}

/* The file's bytes read mapped, then through a pipe: the same transcript; returns it. */
static void
check_mapped_as_libpcap(const struct mem *m, char *mapped, size_t len)
{
	static char piped[16384];
	char *path = temp_path(), pipe_path[64];
	int fds[2];
	FILE *fp;

	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(m->b, 1, m->n, fp), m->n);
	assert_int_equal(fclose(fp), 0);
	transcript(path, mapped, len);

	/* Small enough to sit in the pipe's buffer: no writer needed while it is read. */
	assert_true(m->n < 65536);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], m->b, m->n), (ssize_t)m->n);
	close(fds[1]);
	snprintf(pipe_path, sizeof(pipe_path), "/proc/self/fd/%d", fds[0]);
	transcript(pipe_path, piped, sizeof(piped));
	close(fds[0]);

	/* Only the path differs in messages. */
	print_message("%s", mapped);
	assert_string_equal(mapped, piped);
	unlink(path);
	free(path);
}

/* Three UDP frames with an ARP frame between the first two. */
static void
four_frames(struct fb f[4])
{
	memset(f, 0, 4 * sizeof(*f));
	for (int i = 0; i < 4; i++) {
		if (i == 1) {
			b_arp(&f[i], NULL);
			continue;
		}
		eth(&f[i], ET_IPV4);
		ip_udp(&f[i], 4, (uint16_t)(1000 + i), 4739);
	}
}

static void
mem_four(struct mem *m, const struct pcap_spec *sp, const struct fb f[4])
{
	mem_header(m, sp);
	for (int i = 0; i < 4; i++)
		mem_record(m, sp, 1700000000 + (uint32_t)i, 5 + (uint32_t)i,
		    &f[i], (uint32_t)f[i].n, (uint32_t)f[i].n);
}

static void
test_mapped_byte_orders(void **state)
{
	static char out[16384];
	struct fb f[4];
	struct mem m;

	(void)state;
	four_frames(f);
	for (int swap = 0; swap < 2; swap++)
		for (int nano = 0; nano < 2; nano++) {
			struct pcap_spec sp = { .swap = swap, .nano = nano };

			mem_four(&m, &sp, f);
			check_mapped_as_libpcap(&m, out, sizeof(out));
			assert_non_null(strstr(out, "end 0 frames 4 packets 3"));
			/* The fraction in the file's unit, made ns. */
			assert_non_null(strstr(out, nano ? "1700000000000000005 " :
			    "1700000000000005000 "));
		}
}

/* Each oddity in record 2 (of 4) hands the rest to libpcap, which must see what it always saw. */
static void
test_mapped_hands_over(void **state)
{
	static char out[16384];
	struct fb f[4];
	struct mem m;

	(void)state;
	four_frames(f);
	for (int swap = 0; swap < 2; swap++) {
		struct pcap_spec sp = { .swap = swap };
		uint32_t n2 = (uint32_t)f[2].n;

		/* Past the snaplen (libpcap cuts it to the snaplen and reads on). */
		sp.snaplen = n2 - 4;
		mem_header(&m, &sp);
		mem_record(&m, &sp, 1700000000, 0, &f[0], (uint32_t)f[0].n - 8,
		    (uint32_t)f[0].n);
		mem_record(&m, &sp, 1700000001, 0, &f[2], n2, n2);
		mem_record(&m, &sp, 1700000002, 0, &f[3], (uint32_t)f[3].n - 8,
		    (uint32_t)f[3].n);
		check_mapped_as_libpcap(&m, out, sizeof(out));
		sp.snaplen = 0;

		/* A sub-second part of a second or more, and one that is negative as a signed field. */
		for (int big = 0; big < 2; big++) {
			mem_header(&m, &sp);
			mem_record(&m, &sp, 1700000000, 0, &f[0],
			    (uint32_t)f[0].n, (uint32_t)f[0].n);
			mem_record(&m, &sp, 1700000001, big ? 0xffffffffu :
			    1000000, &f[2], n2, n2);
			mem_record(&m, &sp, 1700000002, 0, &f[3],
			    (uint32_t)f[3].n, (uint32_t)f[3].n);
			check_mapped_as_libpcap(&m, out, sizeof(out));
			assert_non_null(strstr(out, "end -1 frames 1 "));
		}

		/* Seconds past 2038 (negative as a signed field), caplen above len, an empty record. */
		mem_header(&m, &sp);
		mem_record(&m, &sp, 0x90000000u, 7, &f[0], (uint32_t)f[0].n,
		    (uint32_t)f[0].n - 10);
		mem_record(&m, &sp, 1700000001, 0, &f[2], 0, 60);
		mem_record(&m, &sp, 1700000002, 0, &f[3], (uint32_t)f[3].n,
		    (uint32_t)f[3].n);
		check_mapped_as_libpcap(&m, out, sizeof(out));
		assert_non_null(strstr(out, "end 0 frames 3 "));

		/* Cut in the last record's data, in its header, and between records. */
		for (size_t cut = 0; cut < 3; cut++) {
			mem_four(&m, &sp, f);
			m.n -= cut == 0 ? 5 : cut == 1 ? f[3].n + 9 : f[3].n + 16;
			check_mapped_as_libpcap(&m, out, sizeof(out));
			assert_non_null(strstr(out, cut == 2 ? "end 0 frames 3 " :
			    "end -1 frames 3 "));
		}
	}
}

/* A capture cut while it is read in place: libpcap reports the cut, nothing faults. */
static void
test_mapped_file_cut_while_read(void **state)
{
	struct pcap_spec sp = { 0 };
	struct mem m;
	struct fb f;
	char *path = temp_path(), err[512];
	struct source *s;
	struct tr_packet p;
	FILE *fp = fopen(path, "wb");
	int rc, n = 0;

	(void)state;
	assert_non_null(fp);
	memset(&f, 0, sizeof(f));
	eth(&f, ET_IPV4);
	ip_udp(&f, 4, 1000, 4739);
	f.n = 1400;	/* Ethernet padding after the datagram */
	mem_header(&m, &sp);
	assert_int_equal(fwrite(m.b, 1, m.n, fp), m.n);
	for (int i = 0; i < 8000; i++) {	/* 11.3 MB, checked every 256 KiB */
		mem_header(&m, &sp);
		m.n = 0;
		mem_record(&m, &sp, 1700000000, (uint32_t)i, &f, 1400, 1400);
		assert_int_equal(fwrite(m.b, 1, m.n, fp), m.n);
	}
	assert_int_equal(fclose(fp), 0);
	s = source_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(source_next(s, &p), 1);
	/* Cut in the middle of a record past 9 MB. */
	assert_int_equal(truncate(path, 24 + 6500 * 1416 + 700), 0);
	while ((rc = source_next(s, &p)) == 1)
		n++;
	print_message("after the cut: %d packets, %s\n", n, source_error(s));
	assert_int_equal(rc, -1);
	assert_int_equal(n, 6499);
	assert_non_null(strstr(source_error(s), "truncated"));
	source_close(s);
	unlink(path);
	free(path);
}

/* Files the mapped reader leaves to libpcap from the start: version 2.3, Linux cooked of the other byte order. */
static void
test_mapped_declines(void **state)
{
	static char out[16384];
	struct fb f[4];
	struct mem m;
	struct pcap_spec v23 = { .minor = 3 };
	struct pcap_spec sll = { .swap = true, .linktype = DLT_LINUX_SLL };

	(void)state;
	four_frames(f);
	mem_four(&m, &v23, f);
	check_mapped_as_libpcap(&m, out, sizeof(out));
	assert_non_null(strstr(out, "end 0 frames 4 "));
	mem_four(&m, &sll, f);
	check_mapped_as_libpcap(&m, out, sizeof(out));
	assert_non_null(strstr(out, "end 0 frames 4 "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_types),
		cmocka_unit_test(test_unsupported_decoder),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv6_extension_headers),
		cmocka_unit_test(test_tcp_fields),
		cmocka_unit_test(test_tcp_syn_no_payload),
		cmocka_unit_test(test_frame_tcp_segment),
		cmocka_unit_test(test_ethernet_padding),
		cmocka_unit_test(test_udp_length_shorter_than_ip),
		cmocka_unit_test(test_ipv4_tso_zero_length),
		cmocka_unit_test(test_dropped_frames),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv4_fragment_conflict),
		cmocka_unit_test(test_ipv4_fragment_conflicting_ends),
		cmocka_unit_test(test_ipv4_fragment_timeout),
		cmocka_unit_test(test_ipv4_fragment_eviction),
		cmocka_unit_test(test_ipv4_fragment_interleaved),
		cmocka_unit_test(test_ipv4_fragmented_icmp),
		cmocka_unit_test(test_ipv4_fragments_large),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_ipv6_fragment_conflict),
		cmocka_unit_test(test_file_microseconds),
		cmocka_unit_test(test_file_nanoseconds),
		cmocka_unit_test(test_file_cut_in_record_data),
		cmocka_unit_test(test_file_cut_in_record_header),
		cmocka_unit_test(test_file_cut_at_record_boundary),
		cmocka_unit_test(test_file_snaplen_cut),
		cmocka_unit_test(test_file_raw_linktype),
		cmocka_unit_test(test_file_pcapng),
		cmocka_unit_test(test_open_missing_file),
		cmocka_unit_test(test_open_directory),
		cmocka_unit_test(test_open_not_a_capture),
		cmocka_unit_test(test_open_empty_file),
		cmocka_unit_test(test_open_unsupported_linktype),
		cmocka_unit_test(test_mapped_byte_orders),
		cmocka_unit_test(test_mapped_hands_over),
		cmocka_unit_test(test_mapped_declines),
		cmocka_unit_test(test_mapped_file_cut_while_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
