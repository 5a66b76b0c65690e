/* Unit tests for rawsend: its headers equal frame_build's (an independent builder) for IPv4 and IPv6, any payload length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frame_build.h"
#include "rawsend.h"

#define IPV4_HDR	20

/* Payload lengths: empty, odd, even, a full Ethernet datagram, the largest. */
static const size_t lengths[] = { 0, 1, 2, 3, 17, 1024, 1472, 65507 };

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/*
 * rawsend's datagram from src to dst against frame_build's (raw link, ttl
 * 64, id 0).  IPv4's header checksum is the kernel's to fill in: rawsend
 * leaves it 0, so those two bytes are compared apart.
 */
static void
check_family(const char *src_text, const char *dst_text)
{
	static uint8_t mine[RAWSEND_HDR_MAX + 65535], theirs[FRAME_MAX_LEN];
	struct tr_addr src, dst;
	struct rawsend_flow flow;

	assert_int_equal(addr_parse(src_text, &src), 0);
	assert_int_equal(addr_parse(dst_text, &dst), 0);
	for (size_t k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
		size_t len = lengths[k];
		struct frame_spec spec = {
			.link = FRAME_LINK_RAW, .src = src, .dst = dst,
			.l4proto = FRAME_IPPROTO_UDP, .sport = 50000,
			.dport = 4739, .ttl = 64,
		};
		ssize_t n;
		uint8_t *payload;

		rawsend_flow_init(&flow, &src, 50000, &dst, 4739);
		payload = mine + flow.hdr_len;
		fill(payload, len, (unsigned)k);
		rawsend_header(&flow, mine, len);
		spec.payload = payload;
		spec.payload_len = len;
		n = frame_build(&spec, theirs, sizeof(theirs));
		assert_int_equal(n, flow.hdr_len + len);
		if (src.family == AF_INET) {
			assert_int_equal(mine[10], 0);
			assert_int_equal(mine[11], 0);
			memset(theirs + 10, 0, 2);
			/* frame_build may ask not to fragment; the kernel keeps what rawsend asks. */
			theirs[6] &= (uint8_t)~0x40;
		}
		assert_memory_equal(mine, theirs, (size_t)n);
	}
}

static void
test_ipv4(void **state)
{
	(void)state;
	check_family("10.1.0.1", "198.18.0.2");
	check_family("255.255.255.254", "0.0.0.1");
}

static void
test_ipv6(void **state)
{
	(void)state;
	check_family("2001:db8:1::1", "2001:db8:ff::2");
	check_family("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "::1");
}

/* The largest payloads: 16-bit lengths that fit, on both families. */
static void
test_payload_max(void **state)
{
	struct tr_addr a4, a6;
	struct rawsend_flow f;

	(void)state;
	assert_int_equal(addr_parse("10.0.0.1", &a4), 0);
	assert_int_equal(addr_parse("2001:db8::1", &a6), 0);
	rawsend_flow_init(&f, &a4, 1, &a4, 2);
	assert_int_equal(f.hdr_len, IPV4_HDR + 8);
	assert_int_equal(rawsend_payload_max(&f), 65507);
	rawsend_flow_init(&f, &a6, 1, &a6, 2);
	assert_int_equal(f.hdr_len, 48);
	assert_int_equal(rawsend_payload_max(&f), 65527);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_payload_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
