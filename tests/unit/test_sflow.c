/* Unit tests for sFlow v5: the header, samples and records on crafted and truncated datagrams, the replay's fidelity rewrites, and the counts --info and the sink make through the descriptor's hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "info.h"
#include "proto.h"
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

/* ---- counts for --info and the sink ------------------------------------ */

static void
test_sflow_count(void **state)
{
	struct dgram_spec d = { "192.0.2.1", 100, 5000, 10, 20 };
	struct sflow_counts *c = calloc(1, sizeof(*c));
	uint8_t b[512];
	size_t n;
	uint32_t seqs[] = { 100, 101, 105 };	/* 105: a gap of three */

	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < 3; i++) {
		d.sequence = seqs[i];
		n = dgram(&d, b, sizeof(b));
		sflow_count_datagram(c, b, n);
	}
	d.agent = "2001:db8::1";
	n = dgram(&d, b, sizeof(b));
	sflow_count_datagram(c, b, n);
	assert_int_equal(c->datagrams, 4);
	assert_int_equal(c->malformed, 0);
	assert_int_equal(c->n_agents, 2);
	assert_int_equal(c->agents[0].sub_agent, 3);
	assert_int_equal(c->agents[0].datagrams, 3);
	assert_int_equal(c->agents[0].first_sequence, 100);
	assert_int_equal(c->agents[0].last_sequence, 105);
	assert_int_equal(c->agents[0].sequence_errors, 1);
	assert_int_equal(c->agents[1].datagrams, 1);
	assert_int_equal(c->agents[1].sequence_errors, 0);
	/* Each datagram: one flow, one expanded counters and one enterprise's sample. */
	assert_int_equal(c->samples[SFLOW_FLOW_SAMPLE], 4);
	assert_int_equal(c->samples[SFLOW_COUNTERS_SAMPLE], 0);
	assert_int_equal(c->samples[SFLOW_COUNTERS_SAMPLE_EXPANDED], 4);
	assert_int_equal(c->samples[0], 4);
	/* Record format 1 is a raw header in a flow sample, generic interface counters in a counters one. */
	assert_int_equal(c->records, 8);
	assert_int_equal(c->n_formats, 2);
	assert_int_equal(c->formats[0].space, SFLOW_SPACE_FLOW);
	assert_int_equal(c->formats[0].format, 1);
	assert_int_equal(c->formats[0].count, 4);
	assert_int_equal(c->formats[1].space, SFLOW_SPACE_COUNTERS);
	assert_int_equal(c->formats[1].count, 4);
	assert_string_equal(sflow_record_name(SFLOW_SPACE_FLOW, 1),
	    "sampled_header");
	assert_string_equal(sflow_record_name(SFLOW_SPACE_COUNTERS, 1),
	    "generic_interface");
	assert_string_equal(sflow_record_name(SFLOW_SPACE_DISCARDS, 1),
	    "sampled_header");
	assert_null(sflow_record_name(SFLOW_SPACE_FLOW, 9u << 12 | 1));
	assert_int_equal(c->not_tracked, 0);
	free(c);
}

/* Every cut of a datagram: counted as malformed, what came before its cut counted, never read past. */
static void
test_sflow_count_truncated(void **state)
{
	struct dgram_spec d = { "192.0.2.1", 100, 5000, 10, 20 };
	uint8_t b[512];
	size_t n = dgram(&d, b, sizeof(b));

	(void)state;
	for (size_t cut = 0; cut < n; cut++) {
		struct sflow_counts c;
		uint8_t *copy = malloc(cut + 1);	/* exactly cut bytes for ASan */

		assert_non_null(copy);
		memcpy(copy, b, cut);
		memset(&c, 0, sizeof(c));
		sflow_count_datagram(&c, copy, cut);
		assert_int_equal(c.datagrams, 1);
		assert_int_equal(c.malformed, 1);
		assert_false(sflow_classify(copy, cut));
		assert_false(sflow_datagram_valid(copy, cut, false));
		assert_false(sflow_proto.keep(copy, cut));
		/* The header's 28 bytes name the agent; samples count once whole. */
		assert_int_equal(c.n_agents, cut >= SFLOW_HEADER_V4_LEN);
		assert_int_equal(c.samples[SFLOW_FLOW_SAMPLE],
		    cut >= SFLOW_HEADER_V4_LEN + 8 + 56);
		assert_int_equal(c.samples[0], 0);
		free(copy);
	}
	/* Cut inside the expanded counters sample: the flow sample and its record counted. */
	{
		struct sflow_counts c;

		memset(&c, 0, sizeof(c));
		sflow_count_datagram(&c, b, SFLOW_HEADER_V4_LEN + 64 + 20);
		assert_int_equal(c.samples[SFLOW_FLOW_SAMPLE], 1);
		assert_int_equal(c.samples[SFLOW_COUNTERS_SAMPLE_EXPANDED], 0);
		assert_int_equal(c.records, 1);
	}
	/* A record running past its sample: the samples before count, the datagram is malformed. */
	{
		struct sflow_counts c;

		memset(&c, 0, sizeof(c));
		b[SFLOW_HEADER_V4_LEN + 8 + 32 + 7] = 17;
		sflow_count_datagram(&c, b, n);
		assert_int_equal(c.malformed, 1);
		assert_int_equal(c.samples[SFLOW_FLOW_SAMPLE], 1);
		assert_int_equal(c.records, 0);
		assert_false(sflow_classify(b, n));
	}
}

static void
test_sflow_classify(void **state)
{
	struct dgram_spec d = { "192.0.2.1", 100, 5000, 10, 20 };
	uint8_t b[512];
	size_t n = dgram(&d, b, sizeof(b));
	/* NetFlow v5, v9 and IPFIX headers: versions 5, 9, 10 in the first 16 bits. */
	static const uint8_t v5[24] = { 0, 5, 0, 1 }, v9[20] = { 0, 9, 0, 0 };
	static const uint8_t ipfix[16] = { 0, 10, 0, 16 };

	(void)state;
	assert_true(sflow_classify(b, n));
	assert_true(sflow_proto.count->classify(b, n));
	assert_true(sflow_proto.keep(b, n));
	/* Bytes after the last sample: not recognised by content, but -p keeps it. */
	b[n] = 0;
	assert_false(sflow_classify(b, n + 1));
	assert_true(sflow_proto.keep(b, n + 1));
	assert_false(sflow_classify(v5, sizeof(v5)));
	assert_false(sflow_classify(v9, sizeof(v9)));
	assert_false(sflow_classify(ipfix, sizeof(ipfix)));
	/* A sample count the datagram cannot hold. */
	b[27] = 200;
	assert_false(sflow_classify(b, n));
	/* No sample, no byte after the header: still sFlow. */
	b[27] = 0;
	assert_true(sflow_classify(b, SFLOW_HEADER_V4_LEN));
	assert_false(sflow_classify(b, SFLOW_HEADER_V4_LEN + 4));
}

/* Past the caps per exporter: datagrams of more agents and records of more formats are counted in not_tracked. */
static void
test_sflow_count_caps(void **state)
{
	struct sflow_counts c;
	uint8_t b[512];

	(void)state;
	memset(&c, 0, sizeof(c));
	for (uint32_t i = 0; i < SFLOW_COUNT_AGENTS + 1; i++) {
		struct writer w = wr_init(b, sizeof(b));

		put_u32(&w, 5);
		put_u32(&w, 1);
		put_u32(&w, 0xc0000201);	/* 192.0.2.1 */
		put_u32(&w, i);			/* a sub-agent each */
		put_u32(&w, 1);
		put_u32(&w, 0);
		put_u32(&w, 1);			/* one flow sample ... */
		put_u32(&w, SFLOW_FLOW_SAMPLE);
		put_u32(&w, 32 + 3 * 8);
		put_u32(&w, i);
		put_u32(&w, 5);
		put_zero(&w, 5 * 4);
		put_u32(&w, 3);			/* ... of three records, formats of their own */
		for (uint32_t r = 0; r < 3; r++) {
			put_u32(&w, 100 + 3 * i + r);
			put_u32(&w, 0);
		}
		assert_true(wr_ok(&w));
		assert_true(sflow_classify(b, wr_len(&w)));
		sflow_count_datagram(&c, b, wr_len(&w));
	}
	assert_int_equal(c.datagrams, SFLOW_COUNT_AGENTS + 1);
	assert_int_equal(c.n_agents, SFLOW_COUNT_AGENTS);
	assert_int_equal(c.n_formats, SFLOW_COUNT_FORMATS);
	assert_int_equal(c.records, 3 * (SFLOW_COUNT_AGENTS + 1));
	/* One datagram of a ninth agent, three records of formats past the 24th. */
	assert_int_equal(c.not_tracked, 1 + 3 * (SFLOW_COUNT_AGENTS + 1) -
	    SFLOW_COUNT_FORMATS);
}

/* The descriptor's count hooks: JSON and the sink's lines. */
static void
test_sflow_count_hooks(void **state)
{
	const struct proto_count *pc = sflow_proto.count;
	struct dgram_spec d = { "192.0.2.1", 7, 5000, 10, 20 };
	uint8_t b[512];
	size_t n = dgram(&d, b, sizeof(b));
	void *st = pc->new();
	json_t *j, *f;
	char *text = NULL;
	size_t text_len;
	FILE *out;

	(void)state;
	assert_non_null(st);
	pc->datagram(st, b, n);
	pc->datagram(st, b, 10);	/* malformed */
	j = pc->json(st);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "datagrams")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "malformed")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "agents")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "agents"), 0), "agent")), "192.0.2.1");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "samples"), "counters-expanded")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "samples"), "other")), 1);
	f = json_array_get(json_object_get(j, "record_formats"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "sample")),
	    "flow");
	assert_string_equal(json_string_value(json_object_get(f, "format")),
	    "0:1");
	assert_string_equal(json_string_value(json_object_get(f, "name")),
	    "sampled_header");
	json_decref(j);
	assert_non_null(out = open_memstream(&text, &text_len));
	pc->text(st, out);
	fclose(out);
	assert_non_null(strstr(text, "sFlow agent 192.0.2.1 sub-agent 3: 1 "
	    "datagrams, sequence 7..7, 0 sequence errors\n"));
	assert_non_null(strstr(text, "counters 0:1 generic_interface 1"));
	free(text);
	pc->free(st);
}

/* --info without a config: sFlow by content, beside NetFlow v5 and other UDP from the same exporter. */
static void
test_sflow_info(void **state)
{
	struct dgram_spec d = { "192.0.2.1", 100, 5000, 10, 20 };
	struct info *inf = info_new(NULL);
	struct tr_packet pkt;
	uint8_t b[512], v5[24 + 48] = { 0, 5, 0, 1 }, other[40] = { 0, 0, 0, 5 };
	size_t n = dgram(&d, b, sizeof(b));
	json_t *j, *e;

	(void)state;
	assert_non_null(inf);
	memset(&pkt, 0, sizeof(pkt));
	addr_parse("192.0.2.9", &pkt.src);
	addr_parse("198.51.100.1", &pkt.dst);
	pkt.l4proto = TR_IPPROTO_UDP;
	pkt.sport = 40000;
	pkt.dport = 6343;
	info_begin_capture(inf, "unit");
	pkt.payload = b;
	pkt.payload_len = n;
	assert_int_equal(info_packet(inf, &pkt), 0);
	assert_int_equal(info_packet(inf, &pkt), 0);
	pkt.payload = v5;
	pkt.payload_len = sizeof(v5);
	assert_int_equal(info_packet(inf, &pkt), 0);
	/* sFlow's version and nothing else right: other UDP. */
	pkt.payload = other;
	pkt.payload_len = sizeof(other);
	assert_int_equal(info_packet(inf, &pkt), 0);
	info_end_capture(inf);
	assert_non_null(j = info_json(inf));
	e = json_array_get(json_object_get(j, "exporters"), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "udp_packets")), 4);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(e,
	    "sflow"), "datagrams")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_object_get(e, "sflow"), "samples"), "flow")), 2);
	assert_int_equal(json_array_size(json_object_get(json_object_get(e,
	    "flows"), "domains")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(e,
	    "udp_generic"), "packets")), 1);
	json_decref(j);
	info_free(inf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sflow_header),
		cmocka_unit_test(test_sflow_samples),
		cmocka_unit_test(test_sflow_fix_continue),
		cmocka_unit_test(test_sflow_fix_agent),
		cmocka_unit_test(test_sflow_count),
		cmocka_unit_test(test_sflow_count_truncated),
		cmocka_unit_test(test_sflow_classify),
		cmocka_unit_test(test_sflow_count_caps),
		cmocka_unit_test(test_sflow_count_hooks),
		cmocka_unit_test(test_sflow_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
