/* NetFlow v5, v9 and IPFIX rewriting: exactly the address fields change, to their Crypto-PAn pseudonyms; the rest of a datagram stays byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anon_addr.h"
#include "anon_proto.h"
#include "netflow.h"
#include "netflow_anon.h"

static const uint8_t key[ANON_KEY_LEN] = {
	21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
	216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
};

/* A datagram under construction, and where its address fields are. */
struct dgram {
	uint8_t		 b[2048];
	size_t		 len;
	size_t		 addr_at[64];	/* offsets of the address fields expected to change */
	size_t		 addr_len[64];
	size_t		 n_addr;
};

struct fixture {
	struct anon_addr	*addr;
	struct anon_counts	 counts;
	struct anon_rewriter	 rw;
	void			*state;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->addr = anon_addr_new(key));
	f->rw.addr = f->addr;
	f->rw.counts = &f->counts;
	assert_non_null(f->state = ipfix_anon.new());
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ipfix_anon.free(f->state);
	anon_addr_free(f->addr);
	free(f);
	return 0;
}

static void
put8(struct dgram *d, uint8_t v)
{
	assert_true(d->len < sizeof(d->b));
	d->b[d->len++] = v;
}

static void
put16(struct dgram *d, uint16_t v)
{
	put8(d, (uint8_t)(v >> 8));
	put8(d, (uint8_t)v);
}

static void
put32(struct dgram *d, uint32_t v)
{
	put16(d, (uint16_t)(v >> 16));
	put16(d, (uint16_t)v);
}

/* n bytes of a pattern that tells one field from another. */
static void
put_bytes(struct dgram *d, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		put8(d, (uint8_t)(seed + 7 * i));
}

/* An address field (bytes of a pattern) that must come out mapped. */
static void
put_addr(struct dgram *d, size_t n, uint8_t seed)
{
	d->addr_at[d->n_addr] = d->len;
	d->addr_len[d->n_addr++] = n;
	put_bytes(d, n, seed);
}

static void
set16(struct dgram *d, size_t at, uint16_t v)
{
	d->b[at] = (uint8_t)(v >> 8);
	d->b[at + 1] = (uint8_t)v;
}

static enum anon_msg_result
rewrite(struct fixture *f, uint8_t *p, size_t len)
{
	struct tr_addr from = { .family = AF_INET };
	struct anon_msg m = { .data = p, .len = len, .exporter = &from,
	    .exporter_port = 2055, .from_exporter = true, .frame = 1 };

	return ipfix_anon.message(f->state, &f->rw, &m);
}

/* The datagram rewritten: its address fields mapped, every other byte as it was. */
static void
assert_only_addresses_mapped(struct fixture *f, const struct dgram *d,
    const uint8_t *out)
{
	uint8_t want[sizeof(d->b)];

	memcpy(want, d->b, d->len);
	for (size_t i = 0; i < d->n_addr; i++)
		assert_int_equal(anon_addr_map_bytes(f->addr,
		    d->b + d->addr_at[i], want + d->addr_at[i],
		    d->addr_len[i]), 0);
	assert_memory_equal(out, want, d->len);
	for (size_t i = 0; i < d->n_addr; i++)	/* and they did change */
		assert_memory_not_equal(out + d->addr_at[i],
		    d->b + d->addr_at[i], d->addr_len[i]);
}

static enum anon_msg_result
rewrite_copy(struct fixture *f, const struct dgram *d, uint8_t *out)
{
	memcpy(out, d->b, d->len);
	return rewrite(f, out, d->len);
}

/* ---- NetFlow v5 ---- */

static void
v5_datagram(struct dgram *d, uint16_t count, size_t records)
{
	memset(d, 0, sizeof(*d));
	put16(d, 5);
	put16(d, count);
	put_bytes(d, NF_V5_HDR_LEN - 4, 0x40);
	for (size_t r = 0; r < records; r++) {
		put_addr(d, 4, (uint8_t)(10 + r));	/* srcaddr */
		put_addr(d, 4, (uint8_t)(50 + r));	/* dstaddr */
		put_addr(d, 4, (uint8_t)(90 + r));	/* nexthop */
		put_bytes(d, NF_V5_RECORD_LEN - 12, (uint8_t)(130 + r));
	}
}

static void
test_v5(void **state)
{
	struct fixture *f = *state;
	struct dgram d;
	uint8_t out[sizeof(d.b)];

	v5_datagram(&d, 2, 2);
	assert_int_equal(rewrite_copy(f, &d, out), ANON_MSG_REWRITTEN);
	assert_only_addresses_mapped(f, &d, out);
}

/* A count past the datagram's records: those there are mapped, the datagram is malformed. */
static void
test_v5_short(void **state)
{
	struct fixture *f = *state;
	struct dgram d;
	uint8_t out[sizeof(d.b)];

	v5_datagram(&d, 3, 2);
	assert_int_equal(rewrite_copy(f, &d, out), ANON_MSG_MALFORMED);
	assert_only_addresses_mapped(f, &d, out);
}

/* ---- IPFIX ---- */

static size_t
ipfix_header(struct dgram *d)
{
	memset(d, 0, sizeof(*d));
	put16(d, NF_VERSION_IPFIX);
	put16(d, 0);		/* length, set by ipfix_end */
	put32(d, 1700000000);
	put32(d, 1);
	put32(d, 42);		/* observation domain */
	return d->len;
}

static void
ipfix_end(struct dgram *d)
{
	set16(d, 2, (uint16_t)d->len);
}

static size_t
set_begin(struct dgram *d, uint16_t id)
{
	size_t at = d->len;

	put16(d, id);
	put16(d, 0);
	return at;
}

static void
set_end(struct dgram *d, size_t at)
{
	set16(d, at + 2, (uint16_t)(d->len - at));
}

/*
 * Template 256: source, destination (IPv4 and IPv6), a port, a counter,
 * an enterprise field numbered as an address (to stay), a variable-length
 * interfaceName, and a next hop after it.
 */
static void
ipfix_templates(struct dgram *d)
{
	size_t s = set_begin(d, IPFIX_TEMPLATE_SET);

	put16(d, 256);
	put16(d, 8);
	put16(d, 8); put16(d, 4);		/* sourceIPv4Address */
	put16(d, 7); put16(d, 2);		/* sourceTransportPort */
	put16(d, 12); put16(d, 4);		/* destinationIPv4Address */
	put16(d, 27); put16(d, 16);		/* sourceIPv6Address */
	put16(d, 1); put16(d, 8);		/* octetDeltaCount */
	put16(d, 0x8000 | 8); put16(d, 4); put32(d, 9);	/* enterprise 9's element 8 */
	put16(d, 82); put16(d, IPFIX_VARLEN);	/* interfaceName */
	put16(d, 15); put16(d, 4);		/* ipNextHopIPv4Address */
	set_end(d, s);
	/* Options template 257: scope exporterIPv4Address, then samplingInterval. */
	s = set_begin(d, IPFIX_OPTIONS_SET);
	put16(d, 257);
	put16(d, 2);
	put16(d, 1);
	put16(d, 130); put16(d, 4);
	put16(d, 34); put16(d, 4);
	set_end(d, s);
}

static void
ipfix_record(struct dgram *d, uint8_t seed, size_t name_len)
{
	put_addr(d, 4, seed);
	put_bytes(d, 2, seed);
	put_addr(d, 4, (uint8_t)(seed + 1));
	put_addr(d, 16, (uint8_t)(seed + 2));
	put_bytes(d, 8, (uint8_t)(seed + 3));
	put_bytes(d, 4, (uint8_t)(seed + 4));		/* the enterprise field */
	if (name_len < 255) {
		put8(d, (uint8_t)name_len);
	} else {
		put8(d, 255);
		put16(d, (uint16_t)name_len);
	}
	put_bytes(d, name_len, (uint8_t)(seed + 5));
	put_addr(d, 4, (uint8_t)(seed + 6));
}

static void
ipfix_datagram(struct dgram *d)
{
	size_t s;

	ipfix_header(d);
	ipfix_templates(d);
	s = set_begin(d, 256);
	ipfix_record(d, 1, 3);
	ipfix_record(d, 20, 300);
	ipfix_record(d, 40, 0);
	set_end(d, s);
	s = set_begin(d, 257);
	put_addr(d, 4, 77);
	put_bytes(d, 4, 88);
	put8(d, 0);			/* padding */
	put8(d, 0);
	set_end(d, s);
	ipfix_end(d);
}

static void
test_ipfix(void **state)
{
	struct fixture *f = *state;
	struct dgram d;
	uint8_t out[sizeof(d.b)];

	ipfix_datagram(&d);
	assert_int_equal(rewrite_copy(f, &d, out), ANON_MSG_REWRITTEN);
	assert_only_addresses_mapped(f, &d, out);
	assert_int_equal(f->counts.no_layout, 0);
}

/* Data before its template stays as captured, counted; once the template came, the same data is mapped. */
static void
test_ipfix_data_before_template(void **state)
{
	struct fixture *f = *state;
	struct dgram data, tmpl;
	uint8_t out[sizeof(data.b)];
	size_t s;

	ipfix_header(&data);
	s = set_begin(&data, 256);
	ipfix_record(&data, 5, 10);
	set_end(&data, s);
	ipfix_end(&data);

	assert_int_equal(rewrite_copy(f, &data, out), ANON_MSG_REWRITTEN);
	assert_memory_equal(out, data.b, data.len);
	assert_int_equal(f->counts.no_layout, 1);

	ipfix_header(&tmpl);
	ipfix_templates(&tmpl);
	ipfix_end(&tmpl);
	assert_int_equal(rewrite_copy(f, &tmpl, out), ANON_MSG_REWRITTEN);
	assert_memory_equal(out, tmpl.b, tmpl.len);	/* templates hold no address */

	assert_int_equal(rewrite_copy(f, &data, out), ANON_MSG_REWRITTEN);
	assert_only_addresses_mapped(f, &data, out);
	assert_int_equal(f->counts.no_layout, 1);
}

/* Another observation domain has templates of its own. */
static void
test_ipfix_domains_apart(void **state)
{
	struct fixture *f = *state;
	struct dgram d;
	uint8_t out[sizeof(d.b)];
	size_t s;

	ipfix_header(&d);
	ipfix_templates(&d);
	ipfix_end(&d);
	assert_int_equal(rewrite_copy(f, &d, out), ANON_MSG_REWRITTEN);

	ipfix_header(&d);
	d.b[15] = 43;			/* domain 43 */
	s = set_begin(&d, 256);
	ipfix_record(&d, 5, 10);
	set_end(&d, s);
	ipfix_end(&d);
	assert_int_equal(rewrite_copy(f, &d, out), ANON_MSG_REWRITTEN);
	assert_memory_equal(out, d.b, d.len);
	assert_int_equal(f->counts.no_layout, 1);
}

/* A record whose variable-length field runs past its set: mapped up to that field, the rest stays. */
static void
test_ipfix_varlen_past_set(void **state)
{
	struct fixture *f = *state;
	struct dgram d;
	uint8_t out[sizeof(d.b)];
	size_t s, bad;

	ipfix_header(&d);
	ipfix_templates(&d);
	s = set_begin(&d, 256);
	ipfix_record(&d, 1, 3);
	bad = d.len;
	ipfix_record(&d, 20, 10);
	set_end(&d, s);
	ipfix_end(&d);
	d.b[bad + 38] = 200;		/* the second record's interfaceName length */
	d.n_addr = 4 + 3;		/* the first record's, and the second's before its interfaceName */
	assert_int_equal(rewrite_copy(f, &d, out), ANON_MSG_MALFORMED);
	assert_only_addresses_mapped(f, &d, out);
}

/* Every cut of a datagram (and every byte changed) is walked within its bytes: the sanitizers watch. */
static void
test_ipfix_cut_and_garbled(void **state)
{
	struct fixture *f = *state;
	struct dgram d;
	uint8_t out[sizeof(d.b)];

	ipfix_datagram(&d);
	for (size_t len = 0; len <= d.len; len++) {
		void *fresh = ipfix_anon.new();

		assert_non_null(fresh);
		memcpy(out, d.b, len);
		(void)ipfix_anon.message(fresh, &f->rw, &(struct anon_msg){
		    .data = out, .len = len });
		ipfix_anon.free(fresh);
	}
	for (size_t at = 0; at < d.len; at++) {
		memcpy(out, d.b, d.len);
		out[at] ^= 0xff;
		(void)rewrite(f, out, d.len);
	}
}

/* ---- NetFlow v9 ---- */

static void
test_v9(void **state)
{
	struct fixture *f = *state;
	struct dgram d;
	uint8_t out[sizeof(d.b)];
	size_t s;

	memset(&d, 0, sizeof(d));
	put16(&d, NF_VERSION_9);
	put16(&d, 4);			/* records */
	put32(&d, 1000);
	put32(&d, 1700000000);
	put32(&d, 7);
	put32(&d, 3);			/* source id */
	s = set_begin(&d, NF9_TEMPLATE_SET);
	put16(&d, 300);
	put16(&d, 4);
	put16(&d, 8); put16(&d, 4);
	put16(&d, 2); put16(&d, 4);	/* IN_PKTS */
	put16(&d, 28); put16(&d, 16);	/* IPV6_DST_ADDR */
	put16(&d, 63); put16(&d, 16);	/* BGP_IPV6_NEXT_HOP */
	set_end(&d, s);
	/* Options template 301: scope system (1) of 4 bytes; option BGP next hop (18). */
	s = set_begin(&d, NF9_OPTIONS_SET);
	put16(&d, 301);
	put16(&d, 4);			/* scope bytes */
	put16(&d, 8);			/* option bytes */
	put16(&d, 1); put16(&d, 4);
	put16(&d, 18); put16(&d, 4);
	put16(&d, 34); put16(&d, 4);
	put16(&d, 0);			/* padding */
	set_end(&d, s);
	s = set_begin(&d, 300);
	for (uint8_t r = 0; r < 2; r++) {
		put_addr(&d, 4, (uint8_t)(r * 50));
		put_bytes(&d, 4, (uint8_t)(r * 50 + 1));
		put_addr(&d, 16, (uint8_t)(r * 50 + 2));
		put_addr(&d, 16, (uint8_t)(r * 50 + 3));
	}
	put_bytes(&d, 3, 0);		/* padding */
	memset(d.b + d.len - 3, 0, 3);
	set_end(&d, s);
	s = set_begin(&d, 301);
	put_bytes(&d, 4, 9);		/* the system scope: not an address */
	put_addr(&d, 4, 99);
	put_bytes(&d, 4, 111);
	set_end(&d, s);

	assert_int_equal(rewrite_copy(f, &d, out), ANON_MSG_REWRITTEN);
	assert_only_addresses_mapped(f, &d, out);
}

static void
test_address_ies(void **state)
{
	uint16_t len;

	(void)state;
	assert_true(nf_anon_address_ie(8, &len));
	assert_int_equal(len, 4);
	assert_true(nf_anon_address_ie(282, &len));
	assert_int_equal(len, 16);
	assert_true(nf_anon_address_ie(56, &len));	/* sourceMacAddress */
	assert_int_equal(len, 6);
	assert_false(nf_anon_address_ie(7, &len));
	assert_false(nf_anon_address_ie(227, &len));	/* postNAPTSourceTransportPort */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v5_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipfix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipfix_data_before_template,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipfix_domains_apart,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipfix_varlen_past_set,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipfix_cut_and_garbled,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_v9, setup, teardown),
		cmocka_unit_test(test_address_ies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
