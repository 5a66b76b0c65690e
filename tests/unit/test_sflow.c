/* Unit tests for sFlow v5: the header, samples and records on crafted and truncated datagrams, and the replay's fidelity rewrites. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sflow.h"
#include "writer.h"

static struct tr_addr
A(const char *text)
{
	struct tr_addr a;

	assert_int_equal(addr_parse(text, &a), 0);
	return a;
}

struct dgram_spec {
	const char	*agent;
	uint32_t	 sequence, uptime;
	uint32_t	 flow_seq, counters_seq;
};

/*
 * A datagram of three samples: a compact flow sample of ifIndex 5 with one
 * raw packet header record, an expanded counters sample of ifIndex 7 with a
 * generic interface counters record, and an enterprise's sample.
 */
static size_t
dgram(const struct dgram_spec *d, uint8_t *buf, size_t size)
{
	struct tr_addr agent = A(d->agent);
	struct writer w = wr_init(buf, size);

	put_u32(&w, 5);
	put_u32(&w, agent.family == AF_INET ? 1 : 2);
	if (agent.family == AF_INET)
		put_bytes(&w, &agent.v4, 4);
	else
		put_bytes(&w, &agent.v6, 16);
	put_u32(&w, 3);			/* sub-agent */
	put_u32(&w, d->sequence);
	put_u32(&w, d->uptime);
	put_u32(&w, 3);			/* samples */
	/* flow sample: 32 bytes of fields, one record of 8 + 16 */
	put_u32(&w, SFLOW_FLOW_SAMPLE);
	put_u32(&w, 32 + 8 + 16);
	put_u32(&w, d->flow_seq);
	put_u32(&w, 5);			/* source: ifIndex 5 */
	put_u32(&w, 1000);		/* sampling rate */
	put_u32(&w, 123456);		/* pool */
	put_u32(&w, 0);			/* drops */
	put_u32(&w, 5);			/* input */
	put_u32(&w, 6);			/* output */
	put_u32(&w, 1);			/* records */
	put_u32(&w, 1);			/* raw packet header */
	put_u32(&w, 16);
	put_zero(&w, 16);
	/* expanded counters sample: 16 bytes of fields, one record of 8 + 8 */
	put_u32(&w, SFLOW_COUNTERS_SAMPLE_EXPANDED);
	put_u32(&w, 16 + 8 + 8);
	put_u32(&w, d->counters_seq);
	put_u32(&w, 0);			/* source type ifIndex */
	put_u32(&w, 7);
	put_u32(&w, 1);
	put_u32(&w, 1);			/* generic interface counters */
	put_u32(&w, 8);
	put_zero(&w, 8);
	/* an enterprise's sample: opaque */
	put_u32(&w, 9u << 12 | 1);
	put_u32(&w, 4);
	put_u32(&w, 0xdeadbeef);
	assert_true(wr_ok(&w));
	return wr_len(&w);
}

static void
test_sflow_header(void **state)
{
	struct dgram_spec d = { "192.0.2.1", 100, 5000, 10, 20 };
	uint8_t b[512];
	size_t n = dgram(&d, b, sizeof(b));
	struct sflow_header h;
	char text[TR_ADDR_STRLEN];

	(void)state;
	assert_int_equal(sflow_parse_header(b, n, &h), 0);
	assert_string_equal(addr_format(&h.agent, text, sizeof(text)),
	    "192.0.2.1");
	assert_int_equal(h.sub_agent, 3);
	assert_int_equal(h.sequence, 100);
	assert_int_equal(h.uptime_ms, 5000);
	assert_int_equal(h.n_samples, 3);
	assert_int_equal(h.len, SFLOW_HEADER_V4_LEN);
	d.agent = "2001:db8::1";
	n = dgram(&d, b, sizeof(b));
	assert_int_equal(sflow_parse_header(b, n, &h), 0);
	assert_int_equal(h.len, SFLOW_HEADER_V6_LEN);
	assert_int_equal(h.agent.family, AF_INET6);
	/* Truncated, another version, another address type. */
	assert_int_equal(sflow_parse_header(b, SFLOW_HEADER_V6_LEN - 1, &h),
	    -1);
	b[3] = 4;
	assert_int_equal(sflow_parse_header(b, n, &h), -1);
	b[3] = 5;
	b[7] = 3;
	assert_int_equal(sflow_parse_header(b, n, &h), -1);
}

static void
test_sflow_samples(void **state)
{
	struct dgram_spec d = { "192.0.2.1", 100, 5000, 10, 20 };
	uint8_t b[512];
	size_t n = dgram(&d, b, sizeof(b));
	struct sflow_header h;
	struct sflow_iter it, rit;
	struct sflow_sample s;
	struct sflow_record r;

	(void)state;
	assert_int_equal(sflow_samples_begin(b, n, &it, &h), 0);
	assert_int_equal(sflow_sample_next(&it, &s), 1);
	assert_string_equal(sflow_sample_name(s.format), "flow");
	assert_int_equal(s.space, SFLOW_SPACE_FLOW);
	assert_int_equal(s.sequence, 10);
	assert_int_equal(s.source_type, 0);
	assert_int_equal(s.source_index, 5);
	assert_int_equal(s.n_records, 1);
	sflow_records_begin(b, n, &s, &rit);
	assert_int_equal(sflow_record_next(&rit, &r), 1);
	assert_int_equal(r.format, 1);
	assert_int_equal(r.length, 16);
	assert_int_equal(sflow_record_next(&rit, &r), 0);

	assert_int_equal(sflow_sample_next(&it, &s), 1);
	assert_string_equal(sflow_sample_name(s.format), "counters-expanded");
	assert_int_equal(s.space, SFLOW_SPACE_COUNTERS);
	assert_int_equal(s.sequence, 20);
	assert_int_equal(s.source_index, 7);
	sflow_records_begin(b, n, &s, &rit);
	assert_int_equal(sflow_record_next(&rit, &r), 1);
	assert_int_equal(r.length, 8);

	assert_int_equal(sflow_sample_next(&it, &s), 1);
	assert_null(sflow_sample_name(s.format));
	assert_int_equal(s.space, SFLOW_SPACE_NONE);
	assert_int_equal(s.length, 4);
	sflow_records_begin(b, n, &s, &rit);
	assert_int_equal(sflow_record_next(&rit, &r), -1);	/* opaque */
	assert_int_equal(sflow_sample_next(&it, &s), 0);

	/* Cut inside the last sample: the first two still read, then -1 for good. */
	assert_int_equal(sflow_samples_begin(b, n - 2, &it, &h), 0);
	assert_int_equal(sflow_sample_next(&it, &s), 1);
	assert_int_equal(sflow_sample_next(&it, &s), 1);
	assert_int_equal(sflow_sample_next(&it, &s), -1);
	assert_int_equal(sflow_sample_next(&it, &s), -1);
	/* A standard sample too short for its fields. */
	b[SFLOW_HEADER_V4_LEN + 7] = 8;
	assert_int_equal(sflow_samples_begin(b, n, &it, &h), 0);
	assert_int_equal(sflow_sample_next(&it, &s), -1);
	/* A record running past its sample. */
	n = dgram(&d, b, sizeof(b));
	b[SFLOW_HEADER_V4_LEN + 8 + 32 + 7] = 17;
	assert_int_equal(sflow_samples_begin(b, n, &it, &h), 0);
	assert_int_equal(sflow_sample_next(&it, &s), 1);
	sflow_records_begin(b, n, &s, &rit);
	assert_int_equal(sflow_record_next(&rit, &r), -1);
}

/* The sequence numbers a datagram carries: datagram, flow sample, counters sample. */
static void
numbers(const uint8_t *b, size_t n, uint32_t *seq, uint32_t *flow,
    uint32_t *counters, uint32_t *uptime)
{
	struct sflow_header h;
	struct sflow_iter it;
	struct sflow_sample s;

	assert_int_equal(sflow_samples_begin(b, n, &it, &h), 0);
	*seq = h.sequence;
	*uptime = h.uptime_ms;
	assert_int_equal(sflow_sample_next(&it, &s), 1);
	*flow = s.sequence;
	assert_int_equal(sflow_sample_next(&it, &s), 1);
	*counters = s.sequence;
}

static void
test_sflow_fix_continue(void **state)
{
	struct sflow_fix_opts o = { .continue_sequence = true,
	    .continue_uptime = true };
	struct sflow_fix *fx = sflow_fix_new(&o);
	struct dgram_spec d[2] = {
		{ "192.0.2.1", 100, 5000, 10, 20 },
		{ "192.0.2.1", 101, 6000, 11, 21 },
	};
	struct tr_addr repro = A("127.0.0.2");
	uint8_t in[512], out[512 + SFLOW_FIX_GROWTH];
	uint32_t seq, flow, counters, uptime;
	size_t n, m;

	(void)state;
	assert_non_null(fx);
	/* The first play goes as captured. */
	for (int i = 0; i < 2; i++) {
		n = dgram(&d[i], in, sizeof(in));
		assert_int_equal(sflow_fix_datagram(fx, 0, &repro, in, n,
		    10000 + 1000 * (uint64_t)i, out, sizeof(out)), 0);
	}
	/* The repeat goes on: numbers and uptime as a live agent's, 500 ms later. */
	sflow_fix_capture_start(fx);
	for (int i = 0; i < 2; i++) {
		n = dgram(&d[i], in, sizeof(in));
		m = sflow_fix_datagram(fx, 0, &repro, in, n,
		    11500 + 1000 * (uint64_t)i, out, sizeof(out));
		assert_int_equal(m, n);
		numbers(out, m, &seq, &flow, &counters, &uptime);
		assert_int_equal(seq, 102 + i);
		assert_int_equal(flow, 12 + i);
		assert_int_equal(counters, 22 + i);
		assert_int_equal(uptime, 6500 + 1000 * i);
		/* Everything else as captured (the enterprise's sample included). */
		assert_memory_equal(out + 28 + 8 + 4, in + 28 + 8 + 4, 28);
		assert_memory_equal(out + n - 12, in + n - 12, 12);
	}
	/* Another router with the same agent address has numbers of its own. */
	n = dgram(&d[0], in, sizeof(in));
	assert_int_equal(sflow_fix_datagram(fx, 1, &repro, in, n, 12000, out,
	    sizeof(out)), 0);
	assert_int_equal(sflow_fix_stats(fx)->datagrams_rewritten, 2);
	sflow_fix_free(fx);
}

static void
test_sflow_fix_agent(void **state)
{
	struct sflow_fix_opts o = { .agent_is_repro_ip = true };
	struct sflow_fix *fx = sflow_fix_new(&o);
	struct dgram_spec d = { "192.0.2.1", 100, 5000, 10, 20 };
	struct tr_addr v4 = A("127.0.0.2"), v6 = A("::1");
	uint8_t in[512], out[512 + SFLOW_FIX_GROWTH];
	struct sflow_header h;
	size_t n = dgram(&d, in, sizeof(in)), m;
	uint32_t seq, flow, counters, uptime;

	(void)state;
	m = sflow_fix_datagram(fx, 0, &v4, in, n, 0, out, sizeof(out));
	assert_int_equal(m, n);
	assert_int_equal(sflow_parse_header(out, m, &h), 0);
	assert_true(addr_equal(&h.agent, &v4));
	/* IPv6: the header grows by 12 bytes, the samples follow unchanged. */
	m = sflow_fix_datagram(fx, 0, &v6, in, n, 0, out, sizeof(out));
	assert_int_equal(m, n + SFLOW_FIX_GROWTH);
	numbers(out, m, &seq, &flow, &counters, &uptime);
	assert_int_equal(seq, 100);
	assert_int_equal(flow, 10);
	assert_int_equal(counters, 20);
	assert_memory_equal(out + SFLOW_HEADER_V6_LEN, in + SFLOW_HEADER_V4_LEN,
	    n - SFLOW_HEADER_V4_LEN);
	/* No room for the growth: as captured.  Its own address: as captured. */
	assert_int_equal(sflow_fix_datagram(fx, 0, &v6, in, n, 0, out, n), 0);
	v4 = A("192.0.2.1");
	assert_int_equal(sflow_fix_datagram(fx, 0, &v4, in, n, 0, out,
	    sizeof(out)), 0);
	/* Not sFlow: as captured, counted. */
	in[3] = 2;
	assert_int_equal(sflow_fix_datagram(fx, 0, &v6, in, n, 0, out,
	    sizeof(out)), 0);
	assert_int_equal(sflow_fix_stats(fx)->malformed, 1);
	sflow_fix_free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sflow_header),
		cmocka_unit_test(test_sflow_samples),
		cmocka_unit_test(test_sflow_fix_continue),
		cmocka_unit_test(test_sflow_fix_agent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
