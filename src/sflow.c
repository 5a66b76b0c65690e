/* sFlow v5: datagram, samples and records read bounds-checked (XDR: big-endian 32-bit words), and their fidelity on replay. */
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hash.h"
#include "proto.h"
#include "report.h"
#include "sflow.h"
#include "sflow_anon.h"
#include "writer.h"

#define SFLOW_ADDR_IPV4	1
#define SFLOW_ADDR_IPV6	2

int
sflow_parse_header(const uint8_t *p, size_t len, struct sflow_header *h)
{
	struct cursor c = cur_init(p, len);
	uint32_t type;

	memset(h, 0, sizeof(*h));
	if (cur_u32(&c) != SFLOW_VERSION_5)
		return -1;
	type = cur_u32(&c);
	if (type == SFLOW_ADDR_IPV4) {
		h->agent.family = AF_INET;
		(void)cur_copy(&c, &h->agent.v4, 4);
	} else if (type == SFLOW_ADDR_IPV6) {
		h->agent.family = AF_INET6;
		(void)cur_copy(&c, &h->agent.v6, 16);
	} else
		return -1;
	h->sub_agent = cur_u32(&c);
	h->sequence = cur_u32(&c);
	h->uptime_ms = cur_u32(&c);
	h->n_samples = cur_u32(&c);
	h->len = len - cur_left(&c);
	return cur_ok(&c) ? 0 : -1;
}

int
sflow_samples_begin(const uint8_t *p, size_t len, struct sflow_iter *it,
    struct sflow_header *h)
{
	if (sflow_parse_header(p, len, h) == -1)
		return -1;
	it->start = p;
	it->c = cur_init(p + h->len, len - h->len);
	it->left = h->n_samples;
	it->bad = false;
	return 0;
}

/* A standard sample's fields before its records: its sequence, data source and record count. */
static bool
standard_fields(struct cursor d, struct sflow_sample *s)
{
	uint32_t f = SFLOW_FORMAT(s->format);
	size_t before = cur_left(&d);
	uint32_t source;

	s->sequence = cur_u32(&d);
	if (f == SFLOW_FLOW_SAMPLE || f == SFLOW_COUNTERS_SAMPLE) {
		source = cur_u32(&d);
		s->source_type = source >> 24;
		s->source_index = source & 0xffffff;
	} else {
		s->source_type = cur_u32(&d);
		s->source_index = cur_u32(&d);
	}
	if (f == SFLOW_FLOW_SAMPLE)
		(void)cur_skip(&d, 5 * 4);	/* rate, pool, drops, input, output */
	else if (f == SFLOW_FLOW_SAMPLE_EXPANDED)
		(void)cur_skip(&d, 7 * 4);	/* rate, pool, drops, input and output format and value */
	else if (f == SFLOW_DISCARD_SAMPLE)
		(void)cur_skip(&d, 4 * 4);	/* drops, input, output, reason */
	s->n_records = cur_u32(&d);
	s->records_offset = s->offset + 8 + (before - cur_left(&d));
	return cur_ok(&d);
}

static enum sflow_space
sample_space(uint32_t format)
{
	if (SFLOW_ENTERPRISE(format) != 0)
		return SFLOW_SPACE_NONE;
	switch (SFLOW_FORMAT(format)) {
	case SFLOW_FLOW_SAMPLE:
	case SFLOW_FLOW_SAMPLE_EXPANDED:
		return SFLOW_SPACE_FLOW;
	case SFLOW_COUNTERS_SAMPLE:
	case SFLOW_COUNTERS_SAMPLE_EXPANDED:
		return SFLOW_SPACE_COUNTERS;
	case SFLOW_DISCARD_SAMPLE:
		return SFLOW_SPACE_DISCARDS;
	default:
		return SFLOW_SPACE_NONE;
	}
}

/* One format/length/data item of it: 1, 0 past the counted ones, -1 on a length past the end. */
static int
next_item(struct sflow_iter *it, uint32_t *format, size_t *offset,
    struct cursor *data)
{
	uint32_t length;

	if (it->bad)
		return -1;
	if (it->left == 0)
		return 0;
	*offset = (size_t)(it->c.p - it->start);
	*format = cur_u32(&it->c);
	length = cur_u32(&it->c);
	*data = cur_sub(&it->c, length);
	if (!cur_ok(&it->c)) {
		it->bad = true;
		return -1;
	}
	it->left--;
	return 1;
}

int
sflow_sample_next(struct sflow_iter *it, struct sflow_sample *s)
{
	struct cursor data;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = next_item(it, &s->format, &s->offset, &data)) != 1)
		return rc;
	s->length = cur_left(&data);
	s->space = sample_space(s->format);
	if (s->space != SFLOW_SPACE_NONE && !standard_fields(data, s)) {
		it->bad = true;
		return -1;
	}
	return 1;
}

void
sflow_records_begin(const uint8_t *p, size_t len, const struct sflow_sample *s,
    struct sflow_iter *it)
{
	size_t end = s->offset + 8 + s->length;

	it->start = p;
	it->bad = s->space == SFLOW_SPACE_NONE || end > len ||
	    s->records_offset > end;
	it->c = it->bad ? cur_init(NULL, 0) :
	    cur_init(p + s->records_offset, end - s->records_offset);
	it->left = s->n_records;
}

int
sflow_record_next(struct sflow_iter *it, struct sflow_record *r)
{
	struct cursor data;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = next_item(it, &r->format, &r->offset, &data)) != 1)
		return rc;
	r->length = cur_left(&data);
	return 1;
}

const char *
sflow_sample_name(uint32_t format)
{
	static const char *const names[] = {
		[SFLOW_FLOW_SAMPLE] = "flow",
		[SFLOW_COUNTERS_SAMPLE] = "counters",
		[SFLOW_FLOW_SAMPLE_EXPANDED] = "flow-expanded",
		[SFLOW_COUNTERS_SAMPLE_EXPANDED] = "counters-expanded",
		[SFLOW_DISCARD_SAMPLE] = "discards",
	};

	if (SFLOW_ENTERPRISE(format) != 0 || SFLOW_FORMAT(format) == 0 ||
	    SFLOW_FORMAT(format) >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[SFLOW_FORMAT(format)];
}

/* ---- counts for --info and the sink ------------------------------------ */

static void
count_record(struct sflow_counts *n, enum sflow_space space, uint32_t format)
{
	struct sflow_format_count *f;

	n->records++;
	for (size_t i = 0; i < n->n_formats; i++)
		if (n->formats[i].space == space &&
		    n->formats[i].format == format) {
			n->formats[i].count++;
			return;
		}
	if (n->n_formats == SFLOW_COUNT_FORMATS) {
		n->not_tracked++;
		return;
	}
	f = &n->formats[n->n_formats++];
	*f = (struct sflow_format_count){ .space = space, .format = format,
	    .count = 1 };
}

/* The agent's datagram count and sequence; past the cap, the datagram is counted in not_tracked. */
static void
count_agent(struct sflow_counts *n, const struct sflow_header *h)
{
	struct sflow_agent_count *a = NULL;

	for (size_t i = 0; i < n->n_agents && a == NULL; i++)
		if (n->agents[i].sub_agent == h->sub_agent &&
		    addr_equal(&n->agents[i].agent, &h->agent))
			a = &n->agents[i];
	if (a == NULL) {
		if (n->n_agents == SFLOW_COUNT_AGENTS) {
			n->not_tracked++;
			return;
		}
		a = &n->agents[n->n_agents++];
		*a = (struct sflow_agent_count){ .agent = h->agent,
		    .sub_agent = h->sub_agent, .first_sequence = h->sequence };
	} else if (h->sequence != a->last_sequence + 1)
		a->sequence_errors++;
	a->last_sequence = h->sequence;
	a->datagrams++;
}

/*
 * Walk a datagram's samples and their records, counting them into n when
 * it is not NULL: 0 when each lies within its bounds, -1 at the first that
 * does not (what came before it counted).  *exact: the samples end where
 * the datagram does.
 */
static int
walk(const uint8_t *p, size_t len, struct sflow_counts *n, bool *exact)
{
	struct sflow_header h;
	struct sflow_iter it, rit;
	struct sflow_sample s;
	struct sflow_record r;
	int rc, rrc;

	*exact = false;
	if (sflow_samples_begin(p, len, &it, &h) == -1)
		return -1;
	while ((rc = sflow_sample_next(&it, &s)) == 1) {
		if (n != NULL)
			n->samples[sflow_sample_name(s.format) != NULL ?
			    SFLOW_FORMAT(s.format) : 0]++;
		if (s.space == SFLOW_SPACE_NONE)
			continue;
		sflow_records_begin(p, len, &s, &rit);
		while ((rrc = sflow_record_next(&rit, &r)) == 1)
			if (n != NULL)
				count_record(n, s.space, r.format);
		if (rrc == -1)
			return -1;
	}
	*exact = rc == 0 && cur_left(&it.c) == 0;
	return rc;
}

bool
sflow_datagram_valid(const uint8_t *p, size_t len, bool exact)
{
	bool ends;

	return walk(p, len, NULL, &ends) == 0 && (ends || !exact);
}

bool
sflow_classify(const uint8_t *p, size_t len)
{
	struct sflow_header h;

	/* Each sample takes 8 bytes at least: a count past that is not sFlow. */
	return sflow_parse_header(p, len, &h) == 0 &&
	    h.n_samples <= (len - h.len) / 8 &&
	    sflow_datagram_valid(p, len, true);
}

void
sflow_count_datagram(struct sflow_counts *n, const uint8_t *p, size_t len)
{
	struct sflow_header h;
	bool exact;

	n->datagrams++;
	if (sflow_parse_header(p, len, &h) == -1) {
		n->malformed++;
		return;
	}
	count_agent(n, &h);
	if (walk(p, len, n, &exact) == -1)
		n->malformed++;
}

/* sFlow v5's standard record formats (enterprise 0), and the counters' of sflow.org's structures. */
static const struct {
	enum sflow_space space;
	uint32_t	 format;
	const char	*name;
} record_names[] = {
	{ SFLOW_SPACE_FLOW, 1, "sampled_header" },
	{ SFLOW_SPACE_FLOW, 2, "sampled_ethernet" },
	{ SFLOW_SPACE_FLOW, 3, "sampled_ipv4" },
	{ SFLOW_SPACE_FLOW, 4, "sampled_ipv6" },
	{ SFLOW_SPACE_FLOW, 1001, "extended_switch" },
	{ SFLOW_SPACE_FLOW, 1002, "extended_router" },
	{ SFLOW_SPACE_FLOW, 1003, "extended_gateway" },
	{ SFLOW_SPACE_FLOW, 1004, "extended_user" },
	{ SFLOW_SPACE_FLOW, 1005, "extended_url" },
	{ SFLOW_SPACE_FLOW, 1006, "extended_mpls" },
	{ SFLOW_SPACE_FLOW, 1007, "extended_nat" },
	{ SFLOW_SPACE_FLOW, 1008, "extended_mpls_tunnel" },
	{ SFLOW_SPACE_FLOW, 1009, "extended_mpls_vc" },
	{ SFLOW_SPACE_FLOW, 1010, "extended_mpls_FTN" },
	{ SFLOW_SPACE_FLOW, 1011, "extended_mpls_LDP_FEC" },
	{ SFLOW_SPACE_FLOW, 1012, "extended_vlantunnel" },
	{ SFLOW_SPACE_COUNTERS, 1, "generic_interface" },
	{ SFLOW_SPACE_COUNTERS, 2, "ethernet_interface" },
	{ SFLOW_SPACE_COUNTERS, 3, "tokenring" },
	{ SFLOW_SPACE_COUNTERS, 4, "vg_interface" },
	{ SFLOW_SPACE_COUNTERS, 5, "vlan" },
	{ SFLOW_SPACE_COUNTERS, 1001, "processor" },
};

const char *
sflow_record_name(enum sflow_space space, uint32_t format)
{
	/* A discard sample carries flow records (sFlow's dropped packet notifications). */
	if (space == SFLOW_SPACE_DISCARDS)
		space = SFLOW_SPACE_FLOW;
	for (size_t i = 0; i < sizeof(record_names) / sizeof(record_names[0]);
	    i++)
		if (record_names[i].space == space &&
		    record_names[i].format == format)
			return record_names[i].name;
	return NULL;
}

/* ---- fidelity on replay ------------------------------------------------ */

/*
 * Caps on what hostile input makes the state hold (a real agent has a few
 * thousand data sources at most): past them an agent's or a source's
 * numbers go as captured, counted in not_tracked.
 */
#define FIX_MAX_AGENTS		65536
#define FIX_MAX_SOURCES		262144
#define FIX_BUCKETS		4096

/* An agent as one router exports it: its numbers and its clock. */
struct fix_agent {
	int		 exporter;
	struct tr_addr	 agent;
	uint32_t	 sub_agent;
	uint32_t	 next_sequence;
	uint64_t	 play;		/* the play its uptime is anchored in */
	int64_t		 uptime_shift;
	uint32_t	 last_uptime;	/* as sent */
	uint64_t	 last_sent_ms;
	struct fix_agent *next;
};

/* A data source of an agent, in one of its sequences. */
struct fix_source {
	const struct fix_agent *agent;
	enum sflow_space space;
	uint32_t	 type, index;
	uint32_t	 next_sequence;
	struct fix_source *next;
};

struct sflow_fix {
	struct sflow_fix_opts	 opts;
	struct sflow_fix_stats	 stats;
	uint64_t		 play;
	size_t			 n_agents, n_sources;
	struct fix_agent	*agents[FIX_BUCKETS];
	struct fix_source	*sources[FIX_BUCKETS];
};

struct sflow_fix *
sflow_fix_new(const struct sflow_fix_opts *opts)
{
	struct sflow_fix *fx = calloc(1, sizeof(*fx));

	if (fx != NULL) {
		fx->opts = *opts;
		fx->play = 1;
	}
	return fx;
}

void
sflow_fix_free(struct sflow_fix *fx)
{
	if (fx == NULL)
		return;
	for (size_t b = 0; b < FIX_BUCKETS; b++) {
		for (struct fix_agent *a = fx->agents[b], *n; a != NULL; a = n) {
			n = a->next;
			free(a);
		}
		for (struct fix_source *s = fx->sources[b], *n; s != NULL;
		    s = n) {
			n = s->next;
			free(s);
		}
	}
	free(fx);
}

void
sflow_fix_capture_start(struct sflow_fix *fx)
{
	fx->play++;
}

const struct sflow_fix_stats *
sflow_fix_stats(const struct sflow_fix *fx)
{
	return &fx->stats;
}

/* The agent's state, made on its first datagram (its numbers start as captured); NULL past the cap. */
static struct fix_agent *
fix_agent(struct sflow_fix *fx, int exporter, const struct sflow_header *h)
{
	uint32_t b = fnv1a(addr_hash(&h->agent, FNV1A_BASIS), &h->sub_agent,
	    sizeof(h->sub_agent));
	struct fix_agent *a;

	b = fnv1a(b, &exporter, sizeof(exporter)) % FIX_BUCKETS;
	for (a = fx->agents[b]; a != NULL; a = a->next)
		if (a->exporter == exporter && a->sub_agent == h->sub_agent &&
		    addr_equal(&a->agent, &h->agent))
			return a;
	if (fx->n_agents == FIX_MAX_AGENTS ||
	    (a = calloc(1, sizeof(*a))) == NULL) {
		fx->stats.not_tracked++;
		return NULL;
	}
	a->exporter = exporter;
	a->agent = h->agent;
	a->sub_agent = h->sub_agent;
	a->next_sequence = h->sequence;
	a->next = fx->agents[b];
	fx->agents[b] = a;
	fx->n_agents++;
	return a;
}

static struct fix_source *
fix_source(struct sflow_fix *fx, const struct fix_agent *a,
    const struct sflow_sample *smp)
{
	uint32_t b = fnv1a(FNV1A_BASIS, &a, sizeof(a));
	struct fix_source *s;

	b = fnv1a(b, &smp->source_index, sizeof(smp->source_index));
	b = (b ^ smp->source_type ^ (uint32_t)smp->space) % FIX_BUCKETS;
	for (s = fx->sources[b]; s != NULL; s = s->next)
		if (s->agent == a && s->space == smp->space &&
		    s->type == smp->source_type && s->index == smp->source_index)
			return s;
	if (fx->n_sources == FIX_MAX_SOURCES ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		fx->stats.not_tracked++;
		return NULL;
	}
	s->agent = a;
	s->space = smp->space;
	s->type = smp->source_type;
	s->index = smp->source_index;
	s->next_sequence = smp->sequence;
	s->next = fx->sources[b];
	fx->sources[b] = s;
	fx->n_sources++;
	return s;
}

/*
 * The uptime to send: anchored by the agent's first datagram of each play,
 * so a later play goes on from the last one sent plus the time since.
 */
static uint32_t
running_uptime(struct sflow_fix *fx, struct fix_agent *a, uint32_t captured,
    uint64_t now_ms)
{
	uint32_t v;

	if (a->play != fx->play) {
		if (a->play != 0) {
			uint64_t target = (uint64_t)a->last_uptime +
			    (now_ms - a->last_sent_ms);

			a->uptime_shift = (int64_t)(uint32_t)target -
			    (int64_t)captured;
		}
		a->play = fx->play;
	}
	v = (uint32_t)((int64_t)captured + a->uptime_shift);
	a->last_uptime = v;
	a->last_sent_ms = now_ms;
	return v;
}

/* The header as it goes out: the agent rewritten when configured, the rest as captured. */
static size_t
write_header(const struct sflow_header *h, const struct tr_addr *agent,
    uint8_t *out, size_t size)
{
	struct writer w = wr_init(out, size);

	put_u32(&w, SFLOW_VERSION_5);
	if (agent->family == AF_INET) {
		put_u32(&w, SFLOW_ADDR_IPV4);
		put_bytes(&w, &agent->v4, 4);
	} else {
		put_u32(&w, SFLOW_ADDR_IPV6);
		put_bytes(&w, &agent->v6, 16);
	}
	put_u32(&w, h->sub_agent);
	put_u32(&w, h->sequence);
	put_u32(&w, h->uptime_ms);
	put_u32(&w, h->n_samples);
	return wr_ok(&w) ? wr_len(&w) : 0;
}

size_t
sflow_fix_datagram(struct sflow_fix *fx, int exporter,
    const struct tr_addr *repro, const uint8_t *p, size_t len,
    uint64_t now_ms, uint8_t *out, size_t out_size)
{
	struct sflow_header h, sent;
	struct sflow_iter it;
	struct sflow_sample smp;
	struct fix_agent *a = NULL;
	const struct tr_addr *agent;
	size_t hlen;
	bool changed;
	int rc;

	if (sflow_samples_begin(p, len, &it, &h) == -1) {
		fx->stats.malformed++;
		return 0;
	}
	sent = h;
	agent = fx->opts.agent_is_repro_ip && repro != NULL ? repro : &h.agent;
	if (fx->opts.continue_sequence || fx->opts.continue_uptime)
		a = fix_agent(fx, exporter, &h);
	if (a != NULL && fx->opts.continue_sequence)
		sent.sequence = a->next_sequence++;
	if (a != NULL && fx->opts.continue_uptime)
		sent.uptime_ms = running_uptime(fx, a, h.uptime_ms, now_ms);
	if (len - h.len > out_size ||
	    (hlen = write_header(&sent, agent, out, out_size - (len - h.len)))
	    == 0)
		return 0;
	memcpy(out + hlen, p + h.len, len - h.len);
	changed = hlen != h.len || memcmp(out, p, hlen) != 0;
	/* Each data source's samples, in their own sequences. */
	while (a != NULL && fx->opts.continue_sequence &&
	    (rc = sflow_sample_next(&it, &smp)) != 0) {
		struct fix_source *s;

		if (rc == -1) {
			fx->stats.malformed++;
			break;	/* the rest goes as captured */
		}
		if (smp.space == SFLOW_SPACE_NONE ||
		    (s = fix_source(fx, a, &smp)) == NULL)
			continue;
		if (s->next_sequence != smp.sequence) {
			be32_store(out + smp.offset - h.len + hlen + 8,
			    s->next_sequence);
			changed = true;
		}
		s->next_sequence++;
	}
	if (!changed)
		return 0;
	fx->stats.datagrams_rewritten++;
	return hlen + (len - h.len);
}

/* ---- its row in the protocol table ------------------------------------- */

/* sflow_h: agent (addresses) and sub_agent. */
static bool
filter_datagram(const uint8_t *p, size_t len,
    const struct proto_filter_query *q)
{
	struct sflow_header h;

	return sflow_parse_header(p, len, &h) == 0 &&
	    q->passes_address(q->ctx, 0, &h.agent) &&
	    q->passes(q->ctx, 1, h.sub_agent);
}

static const struct proto_filter sflow_filter = {
	.key = "sflow_h",
	.n_keys = 2,
	.keys = {
		{ "agent", true, 0, 0, 0, "an agent address" },
		{ "sub_agent", false, 0, UINT32_MAX, 0,
		    "a sub-agent id, 0 to 4294967295" },
	},
	.datagram = filter_datagram,
};

/* The replay's state: the rewrites, and the report its counts go into (flows). */
struct sflow_replay {
	struct sflow_fix	*fx;
	struct report		*rep;
	struct sflow_fix_stats	 told;	/* what the report has already */
	uint8_t			 buf[65535 + SFLOW_FIX_GROWTH];
};

static void *
fidelity_new(const struct cfg_section *sec, struct report *rep)
{
	struct sflow_fix_opts o = {
		.continue_sequence = sec->flow.sequence == SEQUENCE_CONTINUE,
		.agent_is_repro_ip =
		    sec->flow.agent_address == AGENT_ADDRESS_REPRO_IP,
		.continue_uptime = sec->flow.timestamps == TIMESTAMPS_SHIFT,
	};
	struct sflow_replay *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->fx = sflow_fix_new(&o)) == NULL) {
		free(r);
		return NULL;
	}
	r->rep = rep;
	return r;
}

static void
fidelity_free(void *p)
{
	struct sflow_replay *r = p;

	if (r != NULL)
		sflow_fix_free(r->fx);
	free(r);
}

static void
fidelity_capture_start(void *p)
{
	sflow_fix_capture_start(((struct sflow_replay *)p)->fx);
}

static void
fidelity_datagram(void *p, const struct proto_origin *o, const uint8_t *d,
    size_t len, tr_ns wall, struct proto_out *out)
{
	struct sflow_replay *r = p;
	const struct sflow_fix_stats *st;
	size_t n = sflow_fix_datagram(r->fx, (int)o->exporter, o->repro, d,
	    len, (uint64_t)wall / 1000000, r->buf, sizeof(r->buf));

	if (n > 0) {
		out->msg[0] = r->buf;
		out->len[0] = n;
	}
	st = sflow_fix_stats(r->fx);
	r->rep->flows.sequence_rewritten +=
	    st->datagrams_rewritten - r->told.datagrams_rewritten;
	r->rep->flows.malformed += st->malformed - r->told.malformed;
	r->rep->flows.not_tracked += st->not_tracked - r->told.not_tracked;
	r->told = *st;
}

static const struct proto_fidelity sflow_fidelity = {
	.new = fidelity_new,
	.free = fidelity_free,
	.capture_start = fidelity_capture_start,
	.datagram = fidelity_datagram,
};

/* --info and the sink: sflow_counts per exporter, shown sorted so that arrival order does not show. */
static void *
count_new(void)
{
	return calloc(1, sizeof(struct sflow_counts));
}

static int
agent_cmp(const void *x, const void *y)
{
	const struct sflow_agent_count *a = x, *b = y;
	int c = addr_compare(&a->agent, &b->agent);

	if (c != 0)
		return c;
	return a->sub_agent < b->sub_agent ? -1 : a->sub_agent > b->sub_agent;
}

static int
format_cmp(const void *x, const void *y)
{
	const struct sflow_format_count *a = x, *b = y;

	if (a->space != b->space)
		return (int)a->space - (int)b->space;
	return a->format < b->format ? -1 : a->format > b->format;
}

/* A copy of the counts with agents and formats sorted. */
static void
sorted_counts(const struct sflow_counts *n, struct sflow_counts *out)
{
	*out = *n;
	qsort(out->agents, out->n_agents, sizeof(out->agents[0]), agent_cmp);
	qsort(out->formats, out->n_formats, sizeof(out->formats[0]),
	    format_cmp);
}

static const char *const space_names[] = {
	[SFLOW_SPACE_NONE] = "other",
	[SFLOW_SPACE_FLOW] = "flow",
	[SFLOW_SPACE_COUNTERS] = "counters",
	[SFLOW_SPACE_DISCARDS] = "discards",
};

/* A data format as sFlow writes it: "enterprise:format". */
static const char *
format_text(uint32_t format, char *buf, size_t len)
{
	snprintf(buf, len, "%u:%u", SFLOW_ENTERPRISE(format),
	    SFLOW_FORMAT(format));
	return buf;
}

static json_t *
json_agent(const struct sflow_agent_count *a)
{
	char abuf[TR_ADDR_STRLEN];

	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}",
	    "agent", addr_format(&a->agent, abuf, sizeof(abuf)),
	    "sub_agent", (json_int_t)a->sub_agent,
	    "datagrams", (json_int_t)a->datagrams,
	    "first_sequence", (json_int_t)a->first_sequence,
	    "last_sequence", (json_int_t)a->last_sequence,
	    "sequence_errors", (json_int_t)a->sequence_errors);
}

static json_t *
json_format(const struct sflow_format_count *f)
{
	const char *name = sflow_record_name(f->space, f->format);
	char fbuf[24];

	return json_pack("{s:s, s:s, s:o, s:I}", "sample",
	    space_names[f->space], "format",
	    format_text(f->format, fbuf, sizeof(fbuf)), "name",
	    name != NULL ? json_string(name) : json_null(), "count",
	    (json_int_t)f->count);
}

static json_t *
count_json(const void *v)
{
	struct sflow_counts n;
	json_t *agents = json_array(), *samples = json_object();
	json_t *formats = json_array();

	sorted_counts(v, &n);
	for (size_t i = 0; i < n.n_agents; i++)
		json_array_append_new(agents, json_agent(&n.agents[i]));
	for (uint32_t f = SFLOW_FLOW_SAMPLE; f <= SFLOW_DISCARD_SAMPLE; f++)
		json_object_set_new(samples, sflow_sample_name(f),
		    json_integer((json_int_t)n.samples[f]));
	json_object_set_new(samples, "other", json_integer(
	    (json_int_t)n.samples[0]));
	for (size_t i = 0; i < n.n_formats; i++)
		json_array_append_new(formats, json_format(&n.formats[i]));
	return json_pack("{s:I, s:o, s:o, s:I, s:o, s:I, s:I}",
	    "datagrams", (json_int_t)n.datagrams, "agents", agents,
	    "samples", samples, "records", (json_int_t)n.records,
	    "record_formats", formats, "malformed", (json_int_t)n.malformed,
	    "not_tracked", (json_int_t)n.not_tracked);
}

static void
count_text(const void *v, FILE *out)
{
	char abuf[TR_ADDR_STRLEN], fbuf[24];
	struct sflow_counts n;
	const char *sep = ": ";

	sorted_counts(v, &n);
	for (size_t i = 0; i < n.n_agents; i++) {
		const struct sflow_agent_count *a = &n.agents[i];

		fprintf(out, "     sFlow agent %s sub-agent %" PRIu32 ": %"
		    PRIu64 " datagrams, sequence %" PRIu32 "..%" PRIu32 ", %"
		    PRIu64 " sequence errors\n",
		    addr_format(&a->agent, abuf, sizeof(abuf)), a->sub_agent,
		    a->datagrams, a->first_sequence, a->last_sequence,
		    a->sequence_errors);
	}
	fprintf(out, "     sFlow: %" PRIu64 " datagrams, samples", n.datagrams);
	for (uint32_t f = SFLOW_FLOW_SAMPLE; f <= SFLOW_DISCARD_SAMPLE; f++)
		fprintf(out, "%s %s %" PRIu64, f == SFLOW_FLOW_SAMPLE ? "" :
		    ",", sflow_sample_name(f), n.samples[f]);
	fprintf(out, ", other %" PRIu64 "; %" PRIu64 " records, %" PRIu64
	    " malformed, %" PRIu64 " not tracked\n", n.samples[0], n.records,
	    n.malformed, n.not_tracked);
	if (n.n_formats == 0)
		return;
	fprintf(out, "     sFlow records");
	for (size_t i = 0; i < n.n_formats; i++) {
		const struct sflow_format_count *f = &n.formats[i];
		const char *name = sflow_record_name(f->space, f->format);

		fprintf(out, "%s%s %s%s%s %" PRIu64, sep, space_names[f->space],
		    format_text(f->format, fbuf, sizeof(fbuf)),
		    name != NULL ? " " : "", name != NULL ? name : "",
		    f->count);
		sep = ", ";
	}
	fputc('\n', out);
}

static void
count_datagram(void *n, const uint8_t *p, size_t len)
{
	sflow_count_datagram(n, p, len);
}

static const struct proto_count sflow_count = {
	.classify = sflow_classify,
	.new = count_new,
	.free = free,
	.datagram = count_datagram,
	.json = count_json,
	.text = count_text,
};

/* -p keeps what walks within bounds, byte for byte (bytes after the last sample included). */
static bool
keep_datagram(const uint8_t *p, size_t len)
{
	return sflow_datagram_valid(p, len, false);
}

const struct proto sflow_proto = {
	.name = "sflow",
	.what = "sFlow datagrams",
	.keys = PROTO_KEY_SEQUENCE | PROTO_KEY_TIMESTAMPS |
	    PROTO_KEY_AGENT_ADDRESS,
	.l4proto = IPPROTO_UDP,
	.filter = &sflow_filter,
	.fidelity = &sflow_fidelity,
	.count = &sflow_count,
	.keep = keep_datagram,
	.anon = &sflow_anon,		/* sflow_anon.c */
};
