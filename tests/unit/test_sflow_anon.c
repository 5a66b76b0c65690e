/* sFlow v5 anonymization on crafted datagrams: every address record mapped as anon_addr maps it, the rest byte for byte, sampled headers' checksums right, truncated and malformed ones never read past their length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anon_addr.h"
#include "anon_proto.h"
#include "frame_build.h"
#include "sflow.h"
#include "sflow_anon.h"
#include "writer.h"

static const uint8_t key[ANON_KEY_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };

/* Where the crafted datagram holds what must change, to check each by offset. */
struct layout {
	size_t	agent;				/* 4 bytes */
	size_t	hdr, hdr_len;			/* the sampled Ethernet/IPv4/UDP frame */
	size_t	eth_src, eth_dst;		/* sampled_ethernet MACs */
	size_t	v4_src, v4_dst;			/* sampled_ipv4 */
	size_t	v6_src, v6_dst;			/* sampled_ipv6 */
	size_t	router_nh;			/* extended_router, IPv4 */
	size_t	gateway_nh;			/* extended_gateway, IPv6 */
	size_t	nat_src, nat_dst;		/* extended_nat, IPv4 */
	size_t	counters, counters_len;		/* the counters sample: unchanged */
	size_t	discard_src, discard_dst;	/* a discard sample's sampled_ipv4 */
};

static struct tr_addr
A(const char *text)
{
	struct tr_addr a;

	assert_int_equal(addr_parse(text, &a), 0);
	return a;
}

static void
put_addr(struct writer *w, const char *text)
{
	struct tr_addr a = A(text);

	put_u32(w, a.family == AF_INET ? 1 : 2);
	if (a.family == AF_INET)
		put_bytes(w, &a.v4, 4);
	else
		put_bytes(w, &a.v6, 16);
}

static void
put_ip(struct writer *w, const char *text)
{
	struct tr_addr a = A(text);

	if (a.family == AF_INET)
		put_bytes(w, &a.v4, 4);
	else
		put_bytes(w, &a.v6, 16);
}

/* A record's header; its length is patched in by end_item. */
static size_t
begin_item(struct writer *w, uint32_t format)
{
	put_u32(w, format);
	put_u32(w, 0);
	return wr_len(w);
}

static void
end_item(struct writer *w, size_t start)
{
	be32_store(w->p + start - 4, (uint32_t)(wr_len(w) - start));
}

/* A complete UDP datagram in Ethernet, as a switch samples it. */
static size_t
sampled_frame(uint8_t *buf, size_t cap)
{
	static const uint8_t payload[22] = "sampled payload bytes";
	struct frame_spec s = { .link = FRAME_LINK_EN10MB,
	    .src = A("203.0.113.5"), .dst = A("198.51.100.7"),
	    .l4proto = FRAME_IPPROTO_UDP, .sport = 5000, .dport = 53,
	    .payload = payload, .payload_len = sizeof(payload) };
	ssize_t n = frame_build(&s, buf, cap);

	assert_true(n > 0);
	return (size_t)n;
}

static size_t
datagram(uint8_t *b, size_t size, struct layout *l)
{
	struct writer w = wr_init(b, size);
	uint8_t frame[256];
	size_t flen = sampled_frame(frame, sizeof(frame));
	size_t sample, rec;

	put_u32(&w, 5);
	put_u32(&w, 1);
	l->agent = wr_len(&w);
	put_ip(&w, "192.0.2.1");
	put_u32(&w, 0);			/* sub-agent */
	put_u32(&w, 77);		/* sequence */
	put_u32(&w, 1000);		/* uptime */
	put_u32(&w, 4);			/* samples */

	/* An expanded flow sample with every record kind that holds addresses. */
	sample = begin_item(&w, SFLOW_FLOW_SAMPLE_EXPANDED);
	put_u32(&w, 1);			/* sequence */
	put_u32(&w, 0);			/* source type */
	put_u32(&w, 5);			/* source index */
	put_u32(&w, 100);		/* rate */
	put_u32(&w, 1000);		/* pool */
	put_u32(&w, 0);			/* drops */
	put_u32(&w, 0);			/* input format */
	put_u32(&w, 5);
	put_u32(&w, 0);			/* output format */
	put_u32(&w, 6);
	put_u32(&w, 8);			/* records */
	rec = begin_item(&w, 1);	/* sampled_header */
	put_u32(&w, 1);			/* Ethernet */
	put_u32(&w, (uint32_t)flen + 4);
	put_u32(&w, 4);			/* stripped: FCS */
	put_u32(&w, (uint32_t)flen);
	l->hdr = wr_len(&w);
	l->hdr_len = flen;
	put_bytes(&w, frame, flen);
	put_zero(&w, (4 - flen % 4) % 4);
	end_item(&w, rec);
	rec = begin_item(&w, 2);	/* sampled_ethernet */
	put_u32(&w, 1500);
	l->eth_src = wr_len(&w);
	put_bytes(&w, "\x02\x11\x22\x33\x44\x55\0\0", 8);
	l->eth_dst = wr_len(&w);
	put_bytes(&w, "\x00\x66\x77\x88\x99\xaa\0\0", 8);
	put_u32(&w, 0x0800);
	end_item(&w, rec);
	rec = begin_item(&w, 3);	/* sampled_ipv4 */
	put_u32(&w, 1500);
	put_u32(&w, 6);
	l->v4_src = wr_len(&w);
	put_ip(&w, "203.0.113.10");
	l->v4_dst = wr_len(&w);
	put_ip(&w, "203.0.113.11");
	put_u32(&w, 1234);
	put_u32(&w, 80);
	put_u32(&w, 0x18);
	put_u32(&w, 0);
	end_item(&w, rec);
	rec = begin_item(&w, 4);	/* sampled_ipv6 */
	put_u32(&w, 1500);
	put_u32(&w, 17);
	l->v6_src = wr_len(&w);
	put_ip(&w, "2001:db8::10");
	l->v6_dst = wr_len(&w);
	put_ip(&w, "2001:db8:ffff::11");
	put_u32(&w, 1234);
	put_u32(&w, 53);
	put_u32(&w, 0);
	put_u32(&w, 0);
	end_item(&w, rec);
	rec = begin_item(&w, 1001);	/* extended_switch: no address */
	put_u32(&w, 10);
	put_u32(&w, 0);
	put_u32(&w, 20);
	put_u32(&w, 0);
	end_item(&w, rec);
	rec = begin_item(&w, 1002);	/* extended_router */
	l->router_nh = wr_len(&w) + 4;
	put_addr(&w, "198.51.100.1");
	put_u32(&w, 24);
	put_u32(&w, 16);
	end_item(&w, rec);
	rec = begin_item(&w, 1003);	/* extended_gateway */
	l->gateway_nh = wr_len(&w) + 4;
	put_addr(&w, "2001:db8::1");
	put_u32(&w, 65000);		/* as */
	put_u32(&w, 65001);		/* src_as */
	put_u32(&w, 65002);		/* src_peer_as */
	put_u32(&w, 0);			/* no AS path segments */
	put_u32(&w, 0);			/* no communities */
	put_u32(&w, 100);		/* localpref */
	end_item(&w, rec);
	rec = begin_item(&w, 1007);	/* extended_nat */
	l->nat_src = wr_len(&w) + 4;
	put_addr(&w, "100.64.0.1");
	l->nat_dst = wr_len(&w) + 4;
	put_addr(&w, "100.64.0.2");
	end_item(&w, rec);
	end_item(&w, sample);

	/* A counters sample: no address, stays as it is. */
	l->counters = wr_len(&w);
	sample = begin_item(&w, SFLOW_COUNTERS_SAMPLE);
	put_u32(&w, 3);
	put_u32(&w, 5);
	put_u32(&w, 1);
	rec = begin_item(&w, 1);	/* generic interface counters, shortened */
	put_ip(&w, "192.0.2.1");	/* bytes that look like an address */
	put_u32(&w, 12345);
	end_item(&w, rec);
	end_item(&w, sample);
	l->counters_len = wr_len(&w) - l->counters;

	/* A discard sample: flow records. */
	sample = begin_item(&w, SFLOW_DISCARD_SAMPLE);
	put_u32(&w, 1);			/* sequence */
	put_u32(&w, 0);			/* source type */
	put_u32(&w, 5);			/* source index */
	put_u32(&w, 1);			/* drops */
	put_u32(&w, 5);			/* input */
	put_u32(&w, 0);			/* output */
	put_u32(&w, 1);			/* reason */
	put_u32(&w, 1);			/* records */
	rec = begin_item(&w, 3);	/* sampled_ipv4 */
	put_u32(&w, 60);
	put_u32(&w, 6);
	l->discard_src = wr_len(&w);
	put_ip(&w, "198.51.100.99");
	l->discard_dst = wr_len(&w);
	put_ip(&w, "203.0.113.99");
	put_u32(&w, 1);
	put_u32(&w, 2);
	put_u32(&w, 0);
	put_u32(&w, 0);
	end_item(&w, rec);
	end_item(&w, sample);

	/* An enterprise's sample: opaque. */
	sample = begin_item(&w, 9u << 12 | 1);
	put_ip(&w, "192.0.2.1");
	end_item(&w, sample);
	be32_store(b + l->agent + 16, 4);	/* samples: flow, counters, discard, enterprise */
	assert_true(wr_ok(&w));
	return wr_len(&w);
}

struct fixture {
	struct anon_addr	*a;
	struct anon_counts	 counts;
	struct anon_rewriter	 rw;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->a = anon_addr_new(key);
	assert_non_null(f->a);
	f->rw = (struct anon_rewriter){ .addr = f->a, .counts = &f->counts };
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	anon_addr_free(f->a);
	free(f);
	return 0;
}

static enum anon_msg_result
rewrite(struct fixture *f, uint8_t *p, size_t len)
{
	struct anon_msg m = { .data = p, .len = len };
	enum anon_msg_result rc = sflow_anon.message(NULL, &f->rw, &m);

	assert_int_equal(m.len, len);
	return rc;
}

/* The expected bytes at off: the original's pseudonym (alen 4/16) or MAC pseudonym (6). */
static void
expect_mapped(struct fixture *f, const uint8_t *orig, uint8_t *want,
    size_t off, size_t alen)
{
	if (alen == 6)
		assert_int_equal(anon_mac_map(f->a, orig + off, want + off), 0);
	else
		assert_int_equal(anon_addr_map_bytes(f->a, orig + off,
		    want + off, alen), 0);
}

static void
test_every_address_mapped(void **state)
{
	struct fixture *f = *state;
	uint8_t orig[1024], got[1024], want[1024];
	struct layout l;
	size_t n = datagram(orig, sizeof(orig), &l);
	size_t ip = l.hdr + 14;

	assert_true(sflow_classify(orig, n));
	memcpy(got, orig, n);
	assert_int_equal(rewrite(f, got, n), ANON_MSG_REWRITTEN);

	/* Expected: the original with each address replaced by its pseudonym, nothing else. */
	memcpy(want, orig, n);
	expect_mapped(f, orig, want, l.agent, 4);
	expect_mapped(f, orig, want, l.hdr, 6);		/* frame's destination MAC */
	expect_mapped(f, orig, want, l.hdr + 6, 6);	/* source MAC */
	expect_mapped(f, orig, want, ip + 12, 4);
	expect_mapped(f, orig, want, ip + 16, 4);
	expect_mapped(f, orig, want, l.eth_src, 6);
	expect_mapped(f, orig, want, l.eth_dst, 6);
	expect_mapped(f, orig, want, l.v4_src, 4);
	expect_mapped(f, orig, want, l.v4_dst, 4);
	expect_mapped(f, orig, want, l.v6_src, 16);
	expect_mapped(f, orig, want, l.v6_dst, 16);
	expect_mapped(f, orig, want, l.router_nh, 4);
	expect_mapped(f, orig, want, l.gateway_nh, 16);
	expect_mapped(f, orig, want, l.nat_src, 4);
	expect_mapped(f, orig, want, l.nat_dst, 4);
	expect_mapped(f, orig, want, l.discard_src, 4);
	expect_mapped(f, orig, want, l.discard_dst, 4);
	/* The sampled datagram's payload: zeroed (user data, and other protocols' addresses). */
	memset(want + ip + 28, 0, l.hdr_len - 14 - 28);
	/* The sampled frame's checksums: made right, so compare them apart. */
	memcpy(want + ip + 10, got + ip + 10, 2);
	memcpy(want + ip + 20 + 6, got + ip + 20 + 6, 2);
	assert_memory_equal(got, want, n);
	assert_memory_not_equal(got + ip + 12, orig + ip + 12, 8);
	/* Counter samples as they were. */
	assert_memory_equal(got + l.counters, orig + l.counters, l.counters_len);
	/* The sampled IPv4 header's checksum and its UDP checksum (whole datagram) add up. */
	assert_int_equal(frame_cksum(got + ip, 20), 0);
	{
		uint8_t pseudo[12];
		uint16_t ulen = be16_load(got + ip + 20 + 4);
		uint32_t sum;

		memcpy(pseudo, got + ip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = 17;
		be16_store(pseudo + 10, ulen);
		sum = frame_cksum_add(0, pseudo, sizeof(pseudo));
		sum = frame_cksum_add(sum, got + ip + 20, ulen);
		assert_int_equal(frame_cksum_finish(sum), 0);
	}
	/* Deterministic: the same bytes again from the original. */
	memcpy(want, orig, n);
	assert_int_equal(rewrite(f, want, n), ANON_MSG_REWRITTEN);
	assert_memory_equal(got, want, n);
}

/* Every cut of the datagram, in a buffer of exactly its length (ASan would see a read past it). */
static void
test_truncated(void **state)
{
	struct fixture *f = *state;
	uint8_t orig[1024];
	struct layout l;
	size_t n = datagram(orig, sizeof(orig), &l);

	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);

		assert_non_null(p);
		memcpy(p, orig, cut);
		assert_int_equal(rewrite(f, p, cut), ANON_MSG_MALFORMED);
		/* The agent is mapped once the header is whole. */
		if (cut >= SFLOW_HEADER_V4_LEN)
			assert_memory_not_equal(p + l.agent, orig + l.agent, 4);
		free(p);
	}
}

/* A sampled header longer than its record, an address of unknown type, an unknown header protocol. */
static void
test_malformed(void **state)
{
	struct fixture *f = *state;
	uint8_t orig[1024], p[1024], zero[64] = { 0 };
	struct layout l;
	size_t n = datagram(orig, sizeof(orig), &l);
	size_t ip = l.hdr + 14;

	/* header_length past its record: what the record holds is still mapped. */
	memcpy(p, orig, n);
	be32_store(p + l.hdr - 4, 4000);
	assert_int_equal(rewrite(f, p, n), ANON_MSG_MALFORMED);
	assert_memory_not_equal(p + ip + 12, orig + ip + 12, 8);
	assert_memory_not_equal(p + l.v4_src, orig + l.v4_src, 4);

	/* extended_router's next hop of address type 3: the other records go on. */
	memcpy(p, orig, n);
	be32_store(p + l.router_nh - 4, 3);
	assert_int_equal(rewrite(f, p, n), ANON_MSG_MALFORMED);
	assert_memory_equal(p + l.router_nh, orig + l.router_nh, 4);
	assert_memory_not_equal(p + l.nat_src, orig + l.nat_src, 4);

	/* A header of a protocol whose addresses cannot be found (FDDI) is zeroed. */
	memcpy(p, orig, n);
	be32_store(p + l.hdr - 16, 4);
	assert_int_equal(rewrite(f, p, n), ANON_MSG_REWRITTEN);
	assert_memory_equal(p + l.hdr, zero, l.hdr_len);

	/* Not sFlow v5 at all. */
	memcpy(p, orig, n);
	p[3] = 4;
	assert_int_equal(rewrite(f, p, n), ANON_MSG_MALFORMED);
	assert_memory_equal(p + 4, orig + 4, n - 4);
}

/* A raw IPv6 sampled header (protocol 12), cut inside its destination: the cut address mapped as a prefix. */
static void
test_ipv6_header_cut(void **state)
{
	struct fixture *f = *state;
	uint8_t b[256], want[16], full[16] = { 0 };
	struct writer w = wr_init(b, sizeof(b));
	struct tr_addr src = A("2001:db8:1::1"), dst = A("2001:db8:2::2");
	size_t rec, hdr;

	put_u32(&w, 5);
	put_u32(&w, 2);
	put_ip(&w, "2001:db8::77");
	put_u32(&w, 0);
	put_u32(&w, 1);
	put_u32(&w, 1);
	put_u32(&w, 1);
	rec = begin_item(&w, SFLOW_FLOW_SAMPLE);
	put_u32(&w, 1);
	put_u32(&w, 5);
	put_zero(&w, 20);
	put_u32(&w, 1);
	{
		size_t r = begin_item(&w, 1);

		put_u32(&w, 12);	/* IPv6 */
		put_u32(&w, 1500);
		put_u32(&w, 0);
		put_u32(&w, 32);	/* cut after 8 bytes of the destination */
		hdr = wr_len(&w);
		put_u8(&w, 0x60);
		put_zero(&w, 3);
		put_u16(&w, 1460);
		put_u8(&w, 6);
		put_u8(&w, 64);
		put_bytes(&w, &src.v6, 16);
		put_bytes(&w, &dst.v6, 8);
		end_item(&w, r);
	}
	end_item(&w, rec);
	assert_true(wr_ok(&w));
	assert_int_equal(rewrite(f, b, wr_len(&w)), ANON_MSG_REWRITTEN);
	assert_int_equal(anon_addr_map_bytes(f->a, src.v6.s6_addr, want, 16), 0);
	assert_memory_equal(b + hdr + 8, want, 16);
	memcpy(full, dst.v6.s6_addr, 8);
	assert_int_equal(anon_addr_map_bytes(f->a, full, full, 16), 0);
	assert_memory_equal(b + hdr + 24, full, 8);
	/* The IPv6 agent too. */
	assert_memory_not_equal(b + 8, A("2001:db8::77").v6.s6_addr, 16);
}

/* One flow sample with one sampled header of protocol proto and the bytes given; returns the datagram's length, *hdr where the header starts. */
static size_t
one_header(uint8_t *b, size_t size, uint32_t proto, const uint8_t *h,
    size_t hlen, size_t *hdr)
{
	struct writer w = wr_init(b, size);
	size_t smp, rec;

	put_u32(&w, 5);
	put_u32(&w, 1);
	put_ip(&w, "192.0.2.1");
	put_u32(&w, 0);
	put_u32(&w, 1);
	put_u32(&w, 1);
	put_u32(&w, 1);
	smp = begin_item(&w, SFLOW_FLOW_SAMPLE);
	put_u32(&w, 1);
	put_u32(&w, 5);
	put_zero(&w, 20);
	put_u32(&w, 1);
	rec = begin_item(&w, 1);
	put_u32(&w, proto);
	put_u32(&w, 1500);
	put_u32(&w, 0);
	put_u32(&w, (uint32_t)hlen);
	*hdr = wr_len(&w);
	put_bytes(&w, h, hlen);
	put_zero(&w, (4 - hlen % 4) % 4);
	end_item(&w, rec);
	end_item(&w, smp);
	assert_true(wr_ok(&w));
	return wr_len(&w);
}

/*
 * Sampled IPv4 headers whose header length lies (found by fuzz_sflow_anon:
 * a later fragment with a header length past the sample): what follows the
 * header is zeroed within the sample, nothing past it touched.
 */
static void
test_lying_ipv4_header(void **state)
{
	struct fixture *f = *state;
	uint8_t h[24], b[256], ones[4];
	size_t hdr, n;

	memset(h, 0xab, sizeof(h));
	memset(ones, 0xab, sizeof(ones));
	h[0] = 0x4f;			/* 60 bytes of header, 24 held */
	be16_store(h + 6, 0x0010);	/* a later fragment */
	n = one_header(b, sizeof(b), 11, h, sizeof(h), &hdr);
	assert_int_equal(rewrite(f, b, n), ANON_MSG_REWRITTEN);
	assert_memory_equal(b + hdr + 20, ones, 4);	/* inside its (claimed) header: kept */
	h[0] = 0x41;			/* 4 bytes of header: taken as 20 */
	be16_store(h + 6, 0);
	h[9] = 47;			/* GRE: what follows the IP header is payload */
	n = one_header(b, sizeof(b), 11, h, sizeof(h), &hdr);
	assert_int_equal(rewrite(f, b, n), ANON_MSG_REWRITTEN);
	assert_memory_equal(b + hdr + 20, "\0\0\0\0", 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_address_mapped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_header_cut, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lying_ipv4_header, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
