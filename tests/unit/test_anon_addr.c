/* Crypto-PAn against the reference implementation's sample, the prefix property, the way back, and the MAC mapping. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "anon_addr.h"
#include "anon_map.h"

/* The sample key of the Crypto-PAn source distribution (sample.cpp). */
static const uint8_t sample_key[ANON_KEY_LEN] = {
	21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
	216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
};

struct vector {
	const char	*raw;
	const char	*anon;
};

/*
 * The distinct addresses of the distribution's sample_trace_raw.dat and
 * their pseudonyms in sample_trace_sanitized.dat under sample_key, as
 * Yawning Angel's Go port lists them (github.com/Yawning/cryptopan,
 * cryptopan_test.go); other ports (Rust, Python, C++) test the same list.
 */
static const struct vector reference_v4[] = {
	{ "128.11.68.132", "135.242.180.132" },
	{ "129.118.74.4", "134.136.186.123" },
	{ "130.132.252.244", "133.68.164.234" },
	{ "141.223.7.43", "141.167.8.160" },
	{ "141.233.145.108", "141.129.237.235" },
	{ "152.163.225.39", "151.140.114.167" },
	{ "156.29.3.236", "147.225.12.42" },
	{ "165.247.96.84", "162.9.99.234" },
	{ "166.107.77.190", "160.132.178.185" },
	{ "192.102.249.13", "252.138.62.131" },
	{ "192.215.32.125", "252.43.47.189" },
	{ "192.233.80.103", "252.25.108.8" },
	{ "192.41.57.43", "252.222.221.184" },
	{ "193.150.244.223", "253.169.52.216" },
	{ "195.205.63.100", "255.186.223.5" },
	{ "198.200.171.101", "249.199.68.213" },
	{ "198.26.132.101", "249.36.123.202" },
	{ "198.36.213.5", "249.7.21.132" },
	{ "198.51.77.238", "249.18.186.254" },
	{ "199.217.79.101", "248.38.184.213" },
	{ "202.49.198.20", "245.206.7.234" },
	{ "203.12.160.252", "244.248.163.4" },
	{ "204.184.162.189", "243.192.77.90" },
	{ "204.202.136.230", "243.178.4.198" },
	{ "204.29.20.4", "243.33.20.123" },
	{ "205.178.38.67", "242.108.198.51" },
	{ "205.188.147.153", "242.96.16.101" },
	{ "205.188.248.25", "242.96.88.27" },
	{ "205.245.121.43", "242.21.121.163" },
	{ "207.105.49.5", "241.118.205.138" },
	{ "207.135.65.238", "241.202.129.222" },
	{ "207.155.9.214", "241.220.250.22" },
	{ "207.188.7.45", "241.255.249.220" },
	{ "207.25.71.27", "241.33.119.156" },
	{ "207.33.151.131", "241.1.233.131" },
	{ "208.147.89.59", "227.237.98.191" },
	{ "208.234.120.210", "227.154.67.17" },
	{ "208.28.185.184", "227.39.94.90" },
	{ "208.52.56.122", "227.8.63.165" },
	{ "209.12.231.7", "226.243.167.8" },
	{ "209.238.72.3", "226.6.119.243" },
	{ "209.246.74.109", "226.22.124.76" },
	{ "209.68.60.238", "226.184.220.233" },
	{ "209.85.249.6", "226.170.70.6" },
	{ "212.120.124.31", "228.135.163.231" },
	{ "212.146.8.236", "228.19.4.234" },
	{ "212.186.227.154", "228.59.98.98" },
	{ "212.204.172.118", "228.71.195.169" },
	{ "212.206.130.201", "228.69.242.193" },
	{ "216.148.237.145", "235.84.194.111" },
	{ "216.157.30.252", "235.89.31.26" },
	{ "216.184.159.48", "235.96.225.78" },
	{ "216.227.10.221", "235.28.253.36" },
	{ "216.254.18.172", "235.7.16.162" },
	{ "216.32.132.250", "235.192.139.38" },
	{ "216.35.217.178", "235.195.157.81" },
	{ "24.0.250.221", "100.15.198.226" },
	{ "24.13.62.231", "100.2.192.247" },
	{ "24.14.213.138", "100.1.42.141" },
	{ "24.5.0.80", "100.9.15.210" },
	{ "24.7.198.88", "100.10.6.25" },
	{ "24.94.26.44", "100.88.228.35" },
	{ "38.15.67.68", "64.3.66.187" },
	{ "4.3.88.225", "124.60.155.63" },
	{ "63.14.55.111", "95.9.215.7" },
	{ "63.195.241.44", "95.179.238.44" },
	{ "63.97.7.140", "95.97.9.123" },
	{ "64.14.118.196", "0.255.183.58" },
	{ "64.34.154.117", "0.221.154.117" },
	{ "64.39.15.238", "0.219.7.41" },
};

/*
 * IPv6 has no published reference sample; these are the Go port's, which
 * extends the scheme to 128 bits as this code does (the pad fills the
 * block after the prefix): agreeing with it means agreeing with the
 * other tools that read IPv6 the same way.
 */
static const struct vector ports_v6[] = {
	{ "::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed" },
	{ "::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef" },
	{ "::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838" },
	{ "2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e" },
	{ "2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c" },
};

static int
setup(void **state)
{
	*state = anon_addr_new(sample_key);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	anon_addr_free(*state);
	return 0;
}

static void
check_vectors(struct anon_addr *a, const struct vector *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct tr_addr raw, want, got, back;
		char buf[TR_ADDR_STRLEN];

		assert_int_equal(addr_parse(v[i].raw, &raw), 0);
		assert_int_equal(addr_parse(v[i].anon, &want), 0);
		assert_int_equal(anon_addr_map(a, &raw, &got), 0);
		if (!addr_equal(&got, &want))
			fail_msg("%s -> %s, expected %s", v[i].raw,
			    addr_format(&got, buf, sizeof(buf)), v[i].anon);
		assert_int_equal(anon_addr_unmap(a, &want, &back), 0);
		if (!addr_equal(&back, &raw))
			fail_msg("%s reversed to %s, expected %s", v[i].anon,
			    addr_format(&back, buf, sizeof(buf)), v[i].raw);
	}
}

static void
test_reference_ipv4(void **state)
{
	check_vectors(*state, reference_v4,
	    sizeof(reference_v4) / sizeof(reference_v4[0]));
}

static void
test_ports_ipv6(void **state)
{
	check_vectors(*state, ports_v6, sizeof(ports_v6) / sizeof(ports_v6[0]));
}

/* The cache must give what a fresh computation gives, also after a slot was taken by another address. */
static void
test_deterministic(void **state)
{
	struct anon_addr *other = anon_addr_new(sample_key);
	uint8_t in[16], first[16], again[16], fresh[16];

	assert_non_null(other);
	srandom(7);
	for (int n = 0; n < 20000; n++) {
		size_t len = n % 2 ? 16 : 4;

		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)random();
		assert_int_equal(anon_addr_map_bytes(*state, in, first, len), 0);
		assert_int_equal(anon_addr_map_bytes(*state, in, again, len), 0);
		assert_int_equal(anon_addr_map_bytes(other, in, fresh, len), 0);
		assert_memory_equal(first, again, len);
		assert_memory_equal(first, fresh, len);
	}
	anon_addr_free(other);
}

/*
 * Addresses that share subnets (the prefix caches' hits, each level): the
 * same pseudonyms as a fresh mapper gives each one, and the reference way
 * back.
 */
static void
test_subnet_prefix_cache(void **state)
{
	uint8_t in[16], got[16], want[16], back[16];

	srandom(3);
	for (int n = 0; n < 4000; n++) {
		size_t len = n % 2 ? 16 : 4;
		struct anon_addr *fresh = anon_addr_new(sample_key);

		assert_non_null(fresh);
		/* A few subnets: the first bytes from a small set, the rest random or sequential. */
		memset(in, 0, sizeof(in));
		in[0] = (uint8_t)(n % 3 == 0 ? 10 : 0x20);
		in[1] = (uint8_t)(random() % 3);
		for (size_t i = 2; i < len; i++)
			in[i] = (uint8_t)(i + 1 < len - (n % 4) ? random() % 2 :
			    random());
		in[len - 1] = (uint8_t)n;
		assert_int_equal(anon_addr_map_bytes(*state, in, got, len), 0);
		assert_int_equal(anon_addr_map_bytes(fresh, in, want, len), 0);
		assert_memory_equal(got, want, len);
		assert_int_equal(anon_addr_unmap_bytes(fresh, got, back, len),
		    0);
		assert_memory_equal(back, in, len);
		anon_addr_free(fresh);
	}
}

static unsigned common_prefix(const uint8_t *, const uint8_t *, size_t);

/*
 * IPv4's /24 table is direct-mapped: two /24s that share a slot
 * (10.1.2/24 and 11.98.203/24 do), their addresses and prefixes of
 * every length interleaved, each address the reference's (its way back)
 * and each prefix the first bits of its address's.
 */
static void
test_ipv4_slot_conflict(void **state)
{
	static const uint8_t nets[2][3] = { { 10, 1, 2 }, { 11, 98, 203 } };

	srandom(13);
	for (int n = 0; n < 3000; n++) {
		uint8_t in[4], got[4], whole[4], back[4];
		unsigned bits = 1 + (unsigned)random() % 32;

		memcpy(in, nets[random() % 2], 3);
		in[3] = (uint8_t)random();
		assert_int_equal(anon_addr_map_bytes(*state, in, whole, 4), 0);
		assert_int_equal(anon_addr_unmap_bytes(*state, whole, back, 4),
		    0);
		assert_memory_equal(back, in, 4);
		for (unsigned i = bits; i < 32; i++)
			in[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		assert_int_equal(anon_addr_map_prefix(*state, in, got, 4, bits),
		    0);
		assert_int_equal(anon_addr_map_bytes(*state, in, whole, 4), 0);
		assert_true(common_prefix(got, whole, 4) >= bits);
	}
}


/*
 * Prefixes of every length, mapped by their bits only, interleaved with
 * whole addresses of the same subnets (the caches' each way): their first
 * bits are those of a fresh mapper's whole pseudonym of the padded address.
 */
static void
test_map_prefix(void **state)
{
	uint8_t in[16], got[16], want[16];

	srandom(5);
	for (int n = 0; n < 4000; n++) {
		size_t len = n % 2 ? 16 : 4;
		unsigned bits = (unsigned)random() % (unsigned)(len * 8 + 1);
		struct anon_addr *fresh = anon_addr_new(sample_key);

		assert_non_null(fresh);
		memset(in, 0, sizeof(in));
		in[0] = (uint8_t)(n % 3 == 0 ? 10 : 0x20);
		in[1] = (uint8_t)(random() % 3);
		for (size_t i = 2; i < len; i++)
			in[i] = (uint8_t)(random() % 4);
		if (n % 5 == 0)	/* a whole address of the subnet first: it fills the caches */
			assert_int_equal(anon_addr_map_bytes(*state, in, got,
			    len), 0);
		for (unsigned i = bits; i < len * 8; i++)
			in[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		assert_int_equal(anon_addr_map_prefix(*state, in, got, len,
		    bits), 0);
		assert_int_equal(anon_addr_map_bytes(fresh, in, want, len), 0);
		assert_int_equal(common_prefix(got, want, len) >= bits, true);
		anon_addr_free(fresh);
	}
}

static unsigned
common_prefix(const uint8_t *a, const uint8_t *b, size_t len)
{
	unsigned bits = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t x = a[i] ^ b[i];

		if (x == 0) {
			bits += 8;
			continue;
		}
		while (!(x & 0x80)) {
			bits++;
			x <<= 1;
		}
		break;
	}
	return bits;
}

/*
 * Random pairs that share a chosen prefix length (every length from 0 to
 * all bits): their pseudonyms share exactly as many bits, and each maps
 * back.
 */
static void
check_prefix_property(struct anon_addr *a, size_t len)
{
	unsigned nbits = (unsigned)len * 8;

	srandom(11);
	for (unsigned k = 0; k <= nbits; k++) {
		for (int n = 0; n < 20; n++) {
			uint8_t x[16], y[16], ax[16], ay[16], back[16];

			for (size_t i = 0; i < len; i++)
				x[i] = y[i] = (uint8_t)random();
			/* y differs from x first at bit k, then at random. */
			if (k < nbits) {
				y[k / 8] ^= (uint8_t)(0x80 >> (k % 8));
				for (unsigned b = k + 1; b < nbits; b++)
					if (random() & 1)
						y[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
			}
			assert_int_equal(common_prefix(x, y, len), k);
			assert_int_equal(anon_addr_map_bytes(a, x, ax, len), 0);
			assert_int_equal(anon_addr_map_bytes(a, y, ay, len), 0);
			assert_int_equal(common_prefix(ax, ay, len), k);
			assert_int_equal(anon_addr_unmap_bytes(a, ay, back, len), 0);
			assert_memory_equal(back, y, len);
		}
	}
}

static void
test_prefix_ipv4(void **state)
{
	check_prefix_property(*state, 4);
}

static void
test_prefix_ipv6(void **state)
{
	check_prefix_property(*state, 16);
}

/* Another key shares no pseudonym, in place mapping works, other lengths are refused. */
static void
test_other_key_and_lengths(void **state)
{
	uint8_t key2[ANON_KEY_LEN];
	struct anon_addr *b;
	uint8_t in[16] = { 192, 0, 2, 1 }, out_a[16], out_b[16], inplace[16];

	memcpy(key2, sample_key, sizeof(key2));
	key2[0] ^= 1;
	assert_non_null(b = anon_addr_new(key2));
	assert_int_equal(anon_addr_map_bytes(*state, in, out_a, 4), 0);
	assert_int_equal(anon_addr_map_bytes(b, in, out_b, 4), 0);
	assert_memory_not_equal(out_a, out_b, 4);
	memcpy(inplace, in, 4);
	assert_int_equal(anon_addr_map_bytes(*state, inplace, inplace, 4), 0);
	assert_memory_equal(inplace, out_a, 4);
	assert_int_equal(anon_addr_map_bytes(*state, in, out_a, 6), -1);
	assert_int_equal(anon_addr_unmap_bytes(*state, in, out_a, 0), -1);
	anon_addr_free(b);
}

/* More MACs than the cache has slots: cached answers are a fresh mapper's. */
static void
test_mac_cache(struct anon_addr *a)
{
	struct anon_addr *fresh = anon_addr_new(sample_key);
	uint8_t in[6], out[6], want[6];

	assert_non_null(fresh);
	srandom(5);
	for (int n = 0; n < 5000; n++) {
		for (int i = 0; i < 6; i++)
			in[i] = (uint8_t)random();
		assert_int_equal(anon_mac_map(a, in, out), 0);
		assert_int_equal(anon_mac_map(a, in, out), 0);
		assert_int_equal(anon_mac_map(fresh, in, want), 0);
		assert_memory_equal(out, want, 6);
	}
	anon_addr_free(fresh);
}

static void
test_mac(void **state)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t macs[][6] = {
		{ 0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e },	/* universal unicast */
		{ 0x02, 0x00, 0xc0, 0x00, 0x02, 0x01 },	/* local unicast */
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb },	/* multicast */
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },	/* IPv6 multicast, local bit set */
	};
	uint8_t out[6], again[6];

	for (size_t i = 0; i < sizeof(macs) / sizeof(macs[0]); i++) {
		assert_int_equal(anon_mac_map(*state, macs[i], out), 0);
		assert_int_equal(anon_mac_map(*state, macs[i], again), 0);
		assert_memory_equal(out, again, 6);
		assert_memory_not_equal(out, macs[i], 6);
		assert_int_equal(out[0] & 0x03, macs[i][0] & 0x03);
	}
	assert_int_equal(anon_mac_map(*state, bcast, out), 0);
	assert_memory_equal(out, bcast, 6);
	test_mac_cache(*state);
}

/* Each range's first and last addresses are kept, its neighbours outside mapped; only the ranges asked for. */
static void
test_preserve_ranges(void **state)
{
	static const struct {
		const char	*addr;
		unsigned	 range;		/* 0: outside every range */
	} cases[] = {
		{ "10.0.0.0", ANON_PRESERVE_PRIVATE },
		{ "10.255.255.255", ANON_PRESERVE_PRIVATE },
		{ "9.255.255.255", 0 },
		{ "11.0.0.0", 0 },
		{ "172.16.0.0", ANON_PRESERVE_PRIVATE },
		{ "172.31.255.255", ANON_PRESERVE_PRIVATE },
		{ "172.32.0.0", 0 },
		{ "172.15.255.255", 0 },
		{ "192.168.0.1", ANON_PRESERVE_PRIVATE },
		{ "192.169.0.1", 0 },
		{ "100.64.0.0", ANON_PRESERVE_PRIVATE },
		{ "100.127.255.255", ANON_PRESERVE_PRIVATE },
		{ "100.128.0.0", 0 },
		{ "fc00::1", ANON_PRESERVE_PRIVATE },
		{ "fdff:ffff::1", ANON_PRESERVE_PRIVATE },
		{ "fe00::1", 0 },
		{ "127.0.0.1", ANON_PRESERVE_LOOPBACK },
		{ "127.255.255.255", ANON_PRESERVE_LOOPBACK },
		{ "::1", ANON_PRESERVE_LOOPBACK },
		{ "::2", 0 },
		{ "224.0.0.1", ANON_PRESERVE_MULTICAST },
		{ "239.255.255.255", ANON_PRESERVE_MULTICAST },
		{ "240.0.0.0", 0 },
		{ "ff02::1", ANON_PRESERVE_MULTICAST },
		{ "192.0.2.0", ANON_PRESERVE_DOCUMENTATION },
		{ "192.0.2.255", ANON_PRESERVE_DOCUMENTATION },
		{ "192.0.3.0", 0 },
		{ "198.51.100.7", ANON_PRESERVE_DOCUMENTATION },
		{ "203.0.113.250", ANON_PRESERVE_DOCUMENTATION },
		{ "203.0.114.1", 0 },
		{ "2001:db8::1", ANON_PRESERVE_DOCUMENTATION },
		{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", ANON_PRESERVE_DOCUMENTATION },
		{ "2001:db9::1", 0 },
		{ "169.254.0.1", ANON_PRESERVE_LINK_LOCAL },
		{ "169.255.0.1", 0 },
		{ "fe80::1", ANON_PRESERVE_LINK_LOCAL },
		{ "febf:ffff::1", ANON_PRESERVE_LINK_LOCAL },
		{ "fec0::1", 0 },
		{ "8.8.8.8", 0 },
	};
	struct anon_addr *a = anon_addr_new(sample_key);

	(void)state;
	assert_non_null(a);
	for (unsigned mask = 0; mask <= ANON_PRESERVE_ALL; mask++) {
		anon_addr_preserve(a, mask);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct tr_addr in, out, plain;
			bool kept = (cases[i].range & mask) != 0;

			assert_int_equal(addr_parse(cases[i].addr, &in), 0);
			assert_int_equal(anon_addr_map(a, &in, &out), 0);
			assert_int_equal(anon_addr_map(*state, &in, &plain), 0);
			if (kept != addr_equal(&in, &out))
				fail_msg("%s with ranges 0x%x: %s", cases[i].addr,
				    mask, kept ? "not kept" : "kept");
			/* Not kept: the pseudonym it has without --preserve (the cache holds no stale answer). */
			if (!kept)
				assert_true(addr_equal(&out, &plain));
		}
	}
	anon_addr_free(a);
}

static void
test_preserve_parse(void **state)
{
	unsigned m;

	(void)state;
	assert_int_equal(anon_preserve_parse("private", &m), 0);
	assert_int_equal(m, ANON_PRESERVE_PRIVATE);
	assert_int_equal(anon_preserve_parse(
	    "private,loopback,multicast,documentation,link-local", &m), 0);
	assert_int_equal(m, ANON_PRESERVE_ALL);
	assert_int_equal(anon_preserve_parse("documentation,private", &m), 0);
	assert_int_equal(m, ANON_PRESERVE_DOCUMENTATION | ANON_PRESERVE_PRIVATE);
	assert_int_equal(anon_preserve_parse("", &m), -1);
	assert_int_equal(anon_preserve_parse("private,", &m), -1);
	assert_int_equal(anon_preserve_parse("privat", &m), -1);
	assert_int_equal(anon_preserve_parse("private,public", &m), -1);
	assert_string_equal(anon_preserve_name(ANON_PRESERVE_LINK_LOCAL),
	    "link-local");
}

/* What the seen hook gets: each distinct address at least once, with its pseudonym; kept ones and broadcast not. */
struct seen_log {
	int		 n4, n6, nmac;
	struct anon_addr *check;
};

static int
on_seen(void *ctx, const uint8_t *in, const uint8_t *out, size_t len)
{
	struct seen_log *log = ctx;
	uint8_t want[16];

	if (len == 6) {
		assert_int_equal(anon_mac_map(log->check, in, want), 0);
		log->nmac++;
	} else {
		assert_int_equal(anon_addr_map_bytes(log->check, in, want, len),
		    0);
		*(len == 4 ? &log->n4 : &log->n6) += 1;
	}
	assert_memory_equal(out, want, len);
	return 0;
}

static void
test_seen_and_map(void **state)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mac[6] = { 0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e };
	struct seen_log log = { .check = *state };
	struct anon_addr *a = anon_addr_new(sample_key);
	struct anon_map *m = anon_map_new();
	const char *addrs[] = { "198.51.200.1", "10.1.1.1", "8.8.8.8",
	    "2001:db9::1", "198.51.200.1", "8.8.8.8" };
	uint8_t out[16];
	char path[] = "/tmp/test_anon_map.XXXXXX", err[256], text[4096];
	struct stat st;
	size_t n;
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(a);
	assert_non_null(m);
	anon_addr_preserve(a, ANON_PRESERVE_PRIVATE);
	anon_addr_on_seen(a, on_seen, &log);
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct tr_addr in, o;

		assert_int_equal(addr_parse(addrs[i], &in), 0);
		assert_int_equal(anon_addr_map(a, &in, &o), 0);
	}
	assert_int_equal(anon_mac_map(a, mac, out), 0);
	assert_int_equal(anon_mac_map(a, bcast, out), 0);
	/* Cached the second time: each told once. */
	assert_int_equal(log.n4, 2);
	assert_int_equal(log.n6, 1);
	assert_int_equal(log.nmac, 1);

	/* The same through the map: sorted, kept addresses not listed, mode 0600. */
	anon_addr_on_seen(a, anon_map_add, m);
	anon_addr_preserve(a, ANON_PRESERVE_PRIVATE);	/* forgets the cache: told again */
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct tr_addr in, o;

		assert_int_equal(addr_parse(addrs[i], &in), 0);
		assert_int_equal(anon_addr_map(a, &in, &o), 0);
	}
	assert_int_equal(anon_mac_map(a, mac, out), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(anon_map_write(m, path, ANON_PRESERVE_PRIVATE, err,
	    sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(f = fopen(path, "r"));
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	assert_non_null(strstr(text, "FOR THE KEY HOLDER ONLY"));
	assert_non_null(strstr(text, "\"preserved\": [\"private\"]"));
	assert_null(strstr(text, "10.1.1.1"));
	/* 8.8.8.8 before 198.51.200.1: by address, not by text or arrival. */
	assert_non_null(strstr(text, "\"8.8.8.8\""));
	assert_true(strstr(text, "\"8.8.8.8\"") <
	    strstr(text, "\"198.51.200.1\""));
	assert_non_null(strstr(text, "\"2001:db9::1\""));
	assert_non_null(strstr(text, "\"00:1b:21:3c:4d:5e\""));
	anon_map_free(m);
	anon_addr_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_ipv4),
		cmocka_unit_test(test_ports_ipv6),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_subnet_prefix_cache),
		cmocka_unit_test(test_map_prefix),
		cmocka_unit_test(test_ipv4_slot_conflict),
		cmocka_unit_test(test_prefix_ipv4),
		cmocka_unit_test(test_prefix_ipv6),
		cmocka_unit_test(test_other_key_and_lengths),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_preserve_ranges),
		cmocka_unit_test(test_preserve_parse),
		cmocka_unit_test(test_seen_and_map),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
