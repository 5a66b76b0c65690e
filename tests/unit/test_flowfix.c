/*
 * Unit tests for flow fidelity on hand-built NetFlow v5/v9 and IPFIX
 * messages: primed templates, orphan removal, sequence numbers, shifted
 * times, withdrawals, variable-length records and malformed messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowfix.h"
#include "netflow.h"

/* ---- a small message builder ---- */

struct msg {
	uint8_t	 b[2048];
	size_t	 len;
	size_t	 set_start;
	uint16_t version;
};

static void
u8(struct msg *m, uint8_t v)
{
	m->b[m->len++] = v;
}

static void
u16(struct msg *m, uint16_t v)
{
	u8(m, (uint8_t)(v >> 8));
	u8(m, (uint8_t)v);
}

static void
u32(struct msg *m, uint32_t v)
{
	u16(m, (uint16_t)(v >> 16));
	u16(m, (uint16_t)v);
}

static void
u64(struct msg *m, uint64_t v)
{
	u32(m, (uint32_t)(v >> 32));
	u32(m, (uint32_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

#define EXPORT_TIME	1700000000u
#define DOMAIN		7

static void
ipfix_start(struct msg *m, uint32_t seq)
{
	memset(m, 0, sizeof(*m));
	m->version = 10;
	u16(m, 10);
	u16(m, 0);
	u32(m, EXPORT_TIME);
	u32(m, seq);
	u32(m, DOMAIN);
}

static void
v9_start(struct msg *m, uint16_t count, uint32_t seq)
{
	memset(m, 0, sizeof(*m));
	m->version = 9;
	u16(m, 9);
	u16(m, count);
	u32(m, 5000);		/* sysUptime */
	u32(m, EXPORT_TIME);
	u32(m, seq);
	u32(m, DOMAIN);
}

static void
set_begin(struct msg *m, uint16_t id)
{
	m->set_start = m->len;
	u16(m, id);
	u16(m, 0);
}

static void
set_end(struct msg *m)
{
	m->b[m->set_start + 2] = (uint8_t)((m->len - m->set_start) >> 8);
	m->b[m->set_start + 3] = (uint8_t)(m->len - m->set_start);
}

static void
msg_end(struct msg *m)
{
	if (m->version == 10) {
		m->b[2] = (uint8_t)(m->len >> 8);
		m->b[3] = (uint8_t)m->len;
	}
}

/* Template 256: sourceIPv4Address (4), flowStartMilliseconds (8), flowEndSeconds (4). */
static void
template_256(struct msg *m, uint16_t set_id)
{
	set_begin(m, set_id);
	u16(m, 256);
	u16(m, 3);
	u16(m, 8);   u16(m, 4);
	u16(m, 152); u16(m, 8);
	u16(m, 151); u16(m, 4);
	set_end(m);
}

#define REC256_LEN	16

static void
data_256(struct msg *m, unsigned n)
{
	set_begin(m, 256);
	for (unsigned i = 0; i < n; i++) {
		u32(m, 0x0a000000u + i);
		u64(m, (uint64_t)(EXPORT_TIME - 10) * 1000 + i);
		u32(m, EXPORT_TIME - 1);
	}
	set_end(m);
}

/* An IPFIX message with only template 256. */
static void
ipfix_template_msg(struct msg *m, uint32_t seq)
{
	ipfix_start(m, seq);
	template_256(m, IPFIX_TEMPLATE_SET);
	msg_end(m);
}

/* An IPFIX message with only a data set of template 256, n records. */
static void
ipfix_data_msg(struct msg *m, uint32_t seq, unsigned n)
{
	ipfix_start(m, seq);
	data_256(m, n);
	msg_end(m);
}

static struct proto_origin origin = { .exporter = 0, .sport = 4739,
    .socket = 0, .frame = 1 };

struct fixture {
	struct report		rep;
	struct cfg_flow_fidelity opts;
	struct flowfix		*ff;
};

static struct fixture *
fixture(enum cfg_templates t, enum cfg_sequence s, enum cfg_timestamps ts)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->opts.templates = t;
	f->opts.sequence = s;
	f->opts.timestamps = ts;
	assert_non_null(f->ff = flowfix_new(&f->opts, &f->rep));
	flowfix_capture_start(f->ff);
	return f;
}

static void
fixture_free(struct fixture *f)
{
	flowfix_free(f->ff);
	report_free(&f->rep);
	free(f);
}

static void
play(struct fixture *f, const struct msg *m, struct proto_out *out)
{
	flowfix_message(f->ff, &origin, m->b, m->len, EXPORT_TIME, out);
}

/* ---- templates ---- */

static void
test_prime_before_data(void **state)
{
	struct fixture *f = fixture(TEMPLATES_PRIME, SEQUENCE_AS_CAPTURED,
	    TIMESTAMPS_AS_CAPTURED);
	struct msg data, tmpl;
	struct proto_out out;

	(void)state;
	ipfix_template_msg(&tmpl, 0);
	ipfix_data_msg(&data, 40, 2);

	/* The capture shows the template after the data: the pre-scan finds it. */
	flowfix_learn(f->ff, &origin, tmpl.b, tmpl.len);
	play(f, &data, &out);
	assert_int_equal(out.n, 2);
	/* The primed message: same header, one template set with the record. */
	assert_int_equal(out.len[0], 16 + 4 + 16);
	assert_int_equal(get16(out.msg[0] + 2), out.len[0]);
	assert_int_equal(get32(out.msg[0] + 8), 40);	/* templates do not count */
	assert_int_equal(get32(out.msg[0] + 12), DOMAIN);
	assert_memory_equal(out.msg[0] + 16, tmpl.b + 16, 20);
	/* Then the data, unchanged. */
	assert_int_equal(out.len[1], data.len);
	assert_memory_equal(out.msg[1], data.b, data.len);
	assert_int_equal(f->rep.flows.templates_primed, 1);

	/* The collector has it now: no second prime on this stream... */
	play(f, &data, &out);
	assert_int_equal(out.n, 1);
	/* ...but a new socket is a new transport session that needs it again. */
	origin.socket = 1;
	play(f, &data, &out);
	origin.socket = 0;
	assert_int_equal(out.n, 2);
	assert_int_equal(f->rep.flows.primed_messages, 2);
	fixture_free(f);
}

/* A look-ahead that has one template message to give, then nothing. */
struct ahead {
	struct flowfix	*ff;
	struct msg	 tmpl;
	int		 calls;
};

static bool
read_ahead(void *ctx)
{
	struct ahead *a = ctx;

	if (a->calls++ > 0)
		return false;
	assert_int_equal(flowfix_learn(a->ff, &origin, a->tmpl.b,
	    a->tmpl.len), 1);
	return true;
}

static void
test_prime_reads_ahead_only_when_needed(void **state)
{
	struct fixture *f = fixture(TEMPLATES_PRIME, SEQUENCE_AS_CAPTURED,
	    TIMESTAMPS_AS_CAPTURED);
	struct ahead a = { .ff = f->ff };
	struct msg m, other;
	struct proto_out out;

	(void)state;
	ipfix_template_msg(&a.tmpl, 0);
	flowfix_set_lookahead(f->ff, read_ahead, &a);

	/* Template and data in one message: no need to look ahead. */
	ipfix_start(&m, 0);
	template_256(&m, IPFIX_TEMPLATE_SET);
	data_256(&m, 1);
	msg_end(&m);
	origin.socket = 5;
	play(f, &m, &out);
	origin.socket = 0;
	assert_int_equal(a.calls, 0);

	/* Data first on another stream: its template is known from the stream already. */
	ipfix_data_msg(&m, 0, 1);
	play(f, &m, &out);
	assert_int_equal(a.calls, 0);
	assert_int_equal(out.n, 2);

	/*
	 * A template never defined: the look-ahead is read to its end (a call
	 * that finds another template, one that finds nothing), and only once.
	 */
	ipfix_start(&other, 0);
	set_begin(&other, 999);
	u32(&other, 1);
	set_end(&other);
	msg_end(&other);
	play(f, &other, &out);
	play(f, &other, &out);
	assert_int_equal(a.calls, 2);
	assert_int_equal(out.n, 1);
	fixture_free(f);
}

static void
test_prime_from_lookahead(void **state)
{
	struct fixture *f = fixture(TEMPLATES_PRIME, SEQUENCE_AS_CAPTURED,
	    TIMESTAMPS_AS_CAPTURED);
	struct ahead a = { .ff = f->ff };
	struct msg m;
	struct proto_out out;

	(void)state;
	ipfix_template_msg(&a.tmpl, 0);
	flowfix_set_lookahead(f->ff, read_ahead, &a);
	ipfix_data_msg(&m, 0, 1);
	play(f, &m, &out);
	assert_int_equal(a.calls, 1);
	assert_int_equal(out.n, 2);
	assert_memory_equal(out.msg[0] + 16, a.tmpl.b + 16, 20);
	fixture_free(f);
}

static void
test_prime_without_definition(void **state)
{
	struct fixture *f = fixture(TEMPLATES_PRIME, SEQUENCE_AS_CAPTURED,
	    TIMESTAMPS_AS_CAPTURED);
	struct msg data;
	struct proto_out out;

	(void)state;
	ipfix_data_msg(&data, 1, 1);
	/* No template anywhere: nothing to prime, the data goes as captured. */
	play(f, &data, &out);
	assert_int_equal(out.n, 1);
	assert_ptr_equal(out.msg[0], data.b);
	assert_int_equal(f->rep.flows.orphan_sets_sent, 1);
	fixture_free(f);
}

static void
test_template_in_stream_is_not_primed(void **state)
{
	struct fixture *f = fixture(TEMPLATES_PRIME, SEQUENCE_AS_CAPTURED,
	    TIMESTAMPS_AS_CAPTURED);
	struct msg m;
	struct proto_out out;

	(void)state;
	ipfix_start(&m, 0);
	template_256(&m, IPFIX_TEMPLATE_SET);
	data_256(&m, 3);
	msg_end(&m);
	flowfix_learn(f->ff, &origin, m.b, m.len);
	play(f, &m, &out);
	assert_int_equal(out.n, 1);
	assert_ptr_equal(out.msg[0], m.b);
	assert_int_equal(f->rep.flows.templates_primed, 0);
	assert_int_equal(f->rep.flows.n_domains, 1);
	assert_int_equal(f->rep.flows.domains[0].template_sets, 1);
	assert_int_equal(f->rep.flows.domains[0].data_sets, 1);
	fixture_free(f);
}

static void
test_drop_orphans(void **state)
{
	struct fixture *f = fixture(TEMPLATES_DROP_ORPHANS, SEQUENCE_AS_CAPTURED,
	    TIMESTAMPS_AS_CAPTURED);
	struct msg orphan, mixed;
	struct proto_out out;

	(void)state;
	/* Only orphan data: nothing is left to send. */
	ipfix_data_msg(&orphan, 0, 2);
	play(f, &orphan, &out);
	assert_int_equal(out.n, 0);
	assert_int_equal(f->rep.flows.messages_emptied, 1);

	/* v9: orphan data set 300, then template 256 and its data: the orphan goes, the count shrinks. */
	v9_start(&mixed, 4, 9);
	set_begin(&mixed, 300);
	u32(&mixed, 1);
	set_end(&mixed);
	template_256(&mixed, NF9_TEMPLATE_SET);
	data_256(&mixed, 2);
	play(f, &mixed, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.len[0], mixed.len - 8);
	assert_int_equal(get16(out.msg[0] + 2), 3);	/* 1 template + 2 data records */
	assert_memory_equal(out.msg[0] + 20, mixed.b + 28, mixed.len - 28);
	assert_int_equal(f->rep.flows.orphan_sets_dropped, 2);
	fixture_free(f);
}

static void
test_withdrawal(void **state)
{
	struct fixture *f = fixture(TEMPLATES_DROP_ORPHANS, SEQUENCE_AS_CAPTURED,
	    TIMESTAMPS_AS_CAPTURED);
	struct msg tmpl, withdraw, data;
	struct proto_out out;

	(void)state;
	ipfix_template_msg(&tmpl, 0);
	ipfix_start(&withdraw, 0);
	set_begin(&withdraw, IPFIX_TEMPLATE_SET);
	u16(&withdraw, 256);
	u16(&withdraw, 0);			/* field count 0: withdrawn */
	set_end(&withdraw);
	msg_end(&withdraw);
	ipfix_data_msg(&data, 0, 1);

	play(f, &tmpl, &out);
	play(f, &data, &out);
	assert_int_equal(out.n, 1);
	play(f, &withdraw, &out);
	play(f, &data, &out);
	assert_int_equal(out.n, 0);		/* an orphan again */
	fixture_free(f);
}

/* ---- sequence numbers ---- */

static void
test_sequence_continue_ipfix(void **state)
{
	struct fixture *f = fixture(TEMPLATES_PRIME, SEQUENCE_CONTINUE,
	    TIMESTAMPS_AS_CAPTURED);
	struct msg m1, m2;
	struct proto_out out;

	(void)state;
	ipfix_start(&m1, 100);
	template_256(&m1, IPFIX_TEMPLATE_SET);
	data_256(&m1, 3);
	msg_end(&m1);
	ipfix_data_msg(&m2, 103, 2);

	/* First play: numbers as captured (they are consistent). */
	play(f, &m1, &out);
	assert_ptr_equal(out.msg[0], m1.b);
	play(f, &m2, &out);
	assert_ptr_equal(out.msg[0], m2.b);
	/* The capture again: 100 would be a reset; it continues at 105. */
	flowfix_capture_start(f->ff);
	play(f, &m1, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(get32(out.msg[0] + 8), 105);
	assert_memory_equal(out.msg[0] + 12, m1.b + 12, m1.len - 12);
	play(f, &m2, &out);
	assert_int_equal(get32(out.msg[0] + 8), 108);
	assert_int_equal(f->rep.flows.sequence_rewritten, 2);
	/* The exporter restarted on another port (another socket): it counts on. */
	origin.sport = 4740;
	origin.socket = 3;
	play(f, &m1, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(get32(out.msg[0] + 8), 110);
	origin.sport = 4739;
	origin.socket = 0;
	fixture_free(f);
}

static void
test_sequence_continue_v9_with_prime(void **state)
{
	struct fixture *f = fixture(TEMPLATES_PRIME, SEQUENCE_CONTINUE,
	    TIMESTAMPS_AS_CAPTURED);
	struct msg tmpl, data;
	struct proto_out out;

	(void)state;
	v9_start(&tmpl, 1, 50);
	template_256(&tmpl, NF9_TEMPLATE_SET);
	v9_start(&data, 2, 51);
	data_256(&data, 2);
	flowfix_learn(f->ff, &origin, tmpl.b, tmpl.len);
	/* v9 counts export packets: the primed one takes 51, the data 52. */
	play(f, &data, &out);
	assert_int_equal(out.n, 2);
	assert_int_equal(get16(out.msg[0] + 2), 1);
	assert_int_equal(get32(out.msg[0] + 12), 51);
	assert_int_equal(get32(out.msg[1] + 12), 52);
	assert_int_equal(get16(out.msg[1] + 2), 2);
	play(f, &data, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(get32(out.msg[0] + 12), 53);
	fixture_free(f);
}

static void
test_sequence_v5(void **state)
{
	struct fixture *f = fixture(TEMPLATES_PRIME, SEQUENCE_CONTINUE,
	    TIMESTAMPS_AS_CAPTURED);
	struct msg m;
	struct proto_out out;

	(void)state;
	memset(&m, 0, sizeof(m));
	u16(&m, 5);
	u16(&m, 2);		/* two flows */
	u32(&m, 1000);
	u32(&m, EXPORT_TIME);
	u32(&m, 0);
	u32(&m, 30);		/* flow sequence */
	u32(&m, 0);
	m.len += 2 * 48;
	play(f, &m, &out);
	assert_int_equal(get32(out.msg[0] + 16), 30);
	play(f, &m, &out);
	assert_int_equal(get32(out.msg[0] + 16), 32);
	assert_int_equal(out.len[0], m.len);
	fixture_free(f);
}

/* ---- timestamps ---- */

static void
test_shift(void **state)
{
	struct fixture *f = fixture(TEMPLATES_PRIME, SEQUENCE_AS_CAPTURED,
	    TIMESTAMPS_SHIFT);
	struct msg m;
	struct proto_out out;
	const int64_t now = EXPORT_TIME + 1000;
	const uint8_t *rec;

	(void)state;
	ipfix_start(&m, 0);
	template_256(&m, IPFIX_TEMPLATE_SET);
	data_256(&m, 2);
	msg_end(&m);
	flowfix_message(f->ff, &origin, m.b, m.len, now, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(get32(out.msg[0] + 4), now);
	rec = out.msg[0] + 16 + 20 + 4;
	assert_int_equal(get32(rec), 0x0a000000u);	/* not a time: untouched */
	assert_int_equal(get64(rec + 4), (uint64_t)(EXPORT_TIME - 10 + 1000) * 1000);
	assert_int_equal(get32(rec + 12), EXPORT_TIME - 1 + 1000);
	rec += REC256_LEN;
	assert_int_equal(get64(rec + 4), (uint64_t)(EXPORT_TIME - 10 + 1000) * 1000 + 1);

	/*
	 * The capture again, right away: its first export time must not go
	 * back behind what was sent; it lands at the last one sent.
	 */
	flowfix_capture_start(f->ff);
	flowfix_message(f->ff, &origin, m.b, m.len, now - 500, &out);
	assert_true(get32(out.msg[0] + 4) >= (uint32_t)now);
	assert_int_equal(f->rep.flows.shift_secs, 1000);
	fixture_free(f);
}

/* Variable-length fields: a 1-byte length and the 255 + 2-byte form. */
static void
test_varlen_records(void **state)
{
	struct fixture *f = fixture(TEMPLATES_PRIME, SEQUENCE_CONTINUE,
	    TIMESTAMPS_AS_CAPTURED);
	struct msg m, m2;
	struct proto_out out;

	(void)state;
	ipfix_start(&m, 10);
	set_begin(&m, IPFIX_TEMPLATE_SET);
	u16(&m, 260);
	u16(&m, 2);
	u16(&m, 82); u16(&m, 65535);		/* interfaceName, variable */
	u16(&m, 0x8000 | 1); u16(&m, 2); u32(&m, 9);	/* enterprise 9 field */
	set_end(&m);
	set_begin(&m, 260);
	u8(&m, 3); u8(&m, 'e'); u8(&m, 't'); u8(&m, 'h'); u16(&m, 1);
	u8(&m, 255); u16(&m, 300);
	for (int i = 0; i < 300; i++)
		u8(&m, 'x');
	u16(&m, 2);
	u8(&m, 0); u16(&m, 3);
	u8(&m, 0);				/* padding: shorter than a record */
	set_end(&m);
	msg_end(&m);
	ipfix_start(&m2, 13);
	msg_end(&m2);

	play(f, &m, &out);
	play(f, &m, &out);
	/* Three records counted: the second copy starts at 13. */
	assert_int_equal(get32(out.msg[0] + 8), 13);
	play(f, &m2, &out);
	assert_int_equal(get32(out.msg[0] + 8), 16);
	fixture_free(f);
}

static void
test_malformed_sent_as_captured(void **state)
{
	struct fixture *f = fixture(TEMPLATES_DROP_ORPHANS, SEQUENCE_CONTINUE,
	    TIMESTAMPS_SHIFT);
	struct msg m;
	struct proto_out out;

	(void)state;
	ipfix_data_msg(&m, 0, 1);
	m.b[16 + 3] = 200;	/* the set runs past the message */
	play(f, &m, &out);
	assert_int_equal(out.n, 1);
	assert_ptr_equal(out.msg[0], m.b);
	assert_int_equal(f->rep.flows.malformed, 1);
	/* Not even a header. */
	play(f, &(struct msg){ .b = { 0, 10 }, .len = 2 }, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(f->rep.flows.malformed, 2);
	fixture_free(f);
}

static void
test_record_len(void **state)
{
	struct nf_field f[3] = { { 1, 4, 0 }, { 82, IPFIX_VARLEN, 0 },
	    { 2, 2, 0 } };
	uint8_t rec[] = { 1, 2, 3, 4, 2, 'a', 'b', 9, 9 };
	uint32_t off[3];

	(void)state;
	assert_int_equal(nf_record_len(10, f, 3, rec, sizeof(rec), off), 9);
	assert_int_equal(off[1], 4);
	assert_int_equal(off[2], 7);
	assert_int_equal(nf_record_len(10, f, 3, rec, 8, NULL), 0);
	/* v9 knows no variable length: 65535 is a (too long) length. */
	assert_int_equal(nf_record_len(9, f, 3, rec, sizeof(rec), NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prime_before_data),
		cmocka_unit_test(test_prime_without_definition),
		cmocka_unit_test(test_prime_reads_ahead_only_when_needed),
		cmocka_unit_test(test_prime_from_lookahead),
		cmocka_unit_test(test_template_in_stream_is_not_primed),
		cmocka_unit_test(test_drop_orphans),
		cmocka_unit_test(test_withdrawal),
		cmocka_unit_test(test_sequence_continue_ipfix),
		cmocka_unit_test(test_sequence_continue_v9_with_prime),
		cmocka_unit_test(test_sequence_v5),
		cmocka_unit_test(test_shift),
		cmocka_unit_test(test_varlen_records),
		cmocka_unit_test(test_malformed_sent_as_captured),
		cmocka_unit_test(test_record_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
