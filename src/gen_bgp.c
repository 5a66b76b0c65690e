/*
 * The BGP generator: per router (exporter) one BGP session to the
 * collector, as a capture of it shows: the router's OPEN, the collector's
 * OPEN and KEEPALIVE, the router's KEEPALIVE, each table (one per family,
 * gen_table.c) in UPDATEs and its End-of-RIB, churn, KEEPALIVEs both ways
 * every third of the hold time; gen_run frames the messages into the
 * session's TCP segments (the collector's into its own direction).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bgp_encode.h"
#include "gen_proto.h"
#include "gen_table.h"

#define NELEM(a)		(sizeof(a) / sizeof((a)[0]))
#define MAX_TABLES		2	/* one per family */
#define MAX_CHURN		10000000	/* UPDATEs/s per router */
#define TABLE_SALT		0x6267707461000000ULL	/* a table's stream */

static const char *const bgp_keys[] = { "bgp" };

struct bgp_conf {
	uint64_t	 as;		/* router i's: as + i (modulo 2^32) */
	uint64_t	 collector_as;
	uint32_t	 hold_time;
	uint32_t	 per_message;
	uint64_t	 churn;		/* UPDATEs/s, withdrawals and re-announcements in pairs */
	struct gen_table t[MAX_TABLES];
	size_t		 nt;
};

/* ---- the spec section ---- */

static const struct gen_key table_keys[] = {
	GEN_TABLE_KEYS(0, true),
};

static int
key_tables(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct bgp_conf *c = field;
	size_t total;

	(void)arg;
	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.top == n->data.sequence.items.start)
		return gen_yaml_fail(y, n, "a list of tables {family, routes, "
		    "...}, one per family");
	total = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (total > MAX_TABLES)
		return gen_yaml_fail(y, n, "at most %d tables: one per family",
		    MAX_TABLES);
	for (size_t i = 0; i < total; i++) {
		yaml_node_t *e = gen_yaml_node(y,
		    n->data.sequence.items.start[i]);
		size_t old = gen_yaml_push(y, "[%zu]", i);

		c->nt = i + 1;
		if (gen_yaml_walk(y, e, table_keys, NELEM(table_keys),
		    &c->t[i]) == -1 ||
		    gen_table_complete(y, e, &c->t[i], AF_INET) == -1)
			return -1;
		if (i > 0 && c->t[0].family == c->t[i].family)
			return gen_yaml_fail(y, e, "a second table of one "
			    "family");
		gen_yaml_pop(y, old);
	}
	return 0;
}

static const struct gen_int_range as_range = { 1, UINT32_MAX };
static const struct gen_int_range hold_range = { 0, 65535 };
static const struct gen_int_range per_message_range = { 1,
    GEN_TABLE_MAX_PER_MESSAGE };
static const struct gen_int_range churn_range = { 0, MAX_CHURN };

static const struct gen_key bgp_section_keys[] = {
	{ "tables", key_tables, 0, NULL, true },
	{ "as", gen_key_u64, offsetof(struct bgp_conf, as), &as_range, false },
	{ "collector_as", gen_key_u64, offsetof(struct bgp_conf, collector_as),
	    &as_range, false },
	{ "hold_time", gen_key_u32, offsetof(struct bgp_conf, hold_time),
	    &hold_range, false },
	{ "updates_per_message", gen_key_u32,
	    offsetof(struct bgp_conf, per_message), &per_message_range, false },
	{ "churn", gen_key_u64, offsetof(struct bgp_conf, churn), &churn_range,
	    false },
};

static void
bgp_free(void *conf)
{
	struct bgp_conf *c = conf;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nt; i++)
		gen_table_free(&c->t[i]);
	free(c);
}

static int
bgp_parse(struct gen_yaml *y, yaml_node_t *n, size_t key,
    const struct gen_spec *spec, void **out)
{
	struct bgp_conf *c = calloc(1, sizeof(*c));

	(void)key;
	(void)spec;
	*out = c;
	if (c == NULL)
		return gen_yaml_fail(y, n, "out of memory");
	c->as = 65001;
	c->collector_as = 64496;
	c->hold_time = 90;
	c->per_message = 4;
	if (gen_yaml_walk(y, n, bgp_section_keys, NELEM(bgp_section_keys),
	    c) == -1)
		return -1;
	if (c->hold_time > 0 && c->hold_time < 3)
		return gen_yaml_fail(y, n, "hold_time: 0 or at least 3 "
		    "seconds (RFC 4271)");
	return 0;
}

/* ---- a router's session ---- */

struct bgp_stream {
	const struct bgp_conf		*c;
	const struct gen_spec		*s;
	const struct gen_exporter	*ex;
	struct gen_rand			 rnd;	/* attributes */
	uint32_t			 as;
	struct tr_addr			 id;
	struct tr_addr			 next_hop[MAX_TABLES];
	struct gen_table_walk		 walk;	/* the table dump */
	struct gen_table_walk		 churn[MAX_TABLES];
	uint64_t			 churn_done;
	size_t				 churn_tables;	/* tables with routes */
	size_t				 batch_table;
	struct gen_prefix		 batch[GEN_TABLE_MAX_PER_MESSAGE];
};

static void
bgp_stream_free(void *p)
{
	free(p);
}

static void *
bgp_stream_new(const void *conf, const struct gen_spec *s,
    const struct gen_exporter *ex, uint32_t domain)
{
	const struct bgp_conf *c = conf;
	struct bgp_stream *st = calloc(1, sizeof(*st));

	(void)domain;
	if (st == NULL)
		return NULL;
	st->c = c;
	st->s = s;
	st->ex = ex;
	st->as = (uint32_t)(c->as + ex->index);
	gen_rand_seed(&st->rnd, s->seed, 0x6267700000000000ULL + ex->index);
	/* A BGP identifier: the IPv4 address itself, or one made up in 198.18.0.0/15 for an IPv6 router. */
	st->id = ex->addr.family == AF_INET ? ex->addr :
	    addr_v4(0xc6120000u + (uint32_t)ex->index + 1);
	for (size_t i = 0; i < c->nt; i++) {
		struct tr_addr *nh = &st->next_hop[i];

		*nh = ex->addr;
		if (c->t[i].family == AF_INET && ex->addr.family == AF_INET6)
			*nh = st->id;
		if (c->t[i].family == AF_INET6 && ex->addr.family == AF_INET) {
			/* An IPv4 router's IPv6 routes: its IPv4-mapped address. */
			*nh = (struct tr_addr){ .family = AF_INET6 };
			nh->v6.s6_addr[10] = nh->v6.s6_addr[11] = 0xff;
			memcpy(nh->v6.s6_addr + 12, &ex->addr.v4, 4);
		}
		gen_table_walk_start(&st->churn[i], s->seed, TABLE_SALT + i);
		st->churn_tables += c->t[i].routes > 0;
	}
	return st;
}

static int
send_msg(struct writer *w, struct gen_out *out, bool from_collector)
{
	if (!wr_ok(w)) {
		errno = EMSGSIZE;
		return -1;
	}
	return from_collector ? out->reply(out, wr_len(w)) :
	    out->emit(out, wr_len(w));
}

static bool
has_family(const struct bgp_conf *c, int family)
{
	for (size_t i = 0; i < c->nt; i++)
		if (c->t[i].family == family)
			return true;
	return false;
}

/* The OPENs and the KEEPALIVEs that make the session established. */
static int
open_session(struct bgp_stream *st, struct gen_out *out)
{
	const struct bgp_conf *c = st->c;
	struct tr_addr cid = st->s->collector.family == AF_INET ?
	    st->s->collector : addr_v4(0xc6130001u);	/* 198.19.0.1 */
	struct bgp_enc_open mine = { .as = st->as,
	    .hold_time = (uint16_t)c->hold_time, .id = &st->id,
	    .ipv4 = has_family(c, AF_INET), .ipv6 = has_family(c, AF_INET6) };
	struct bgp_enc_open theirs = mine;
	struct writer w = wr_init(out->buf, out->cap);

	theirs.as = (uint32_t)c->collector_as;
	theirs.id = &cid;
	bgp_enc_open(&w, &mine);
	if (send_msg(&w, out, false) == -1)
		return -1;
	w = wr_init(out->buf, out->cap);
	bgp_enc_open(&w, &theirs);
	bgp_enc_keepalive(&w);
	if (send_msg(&w, out, true) == -1)
		return -1;
	w = wr_init(out->buf, out->cap);
	bgp_enc_keepalive(&w);
	return send_msg(&w, out, false);
}

static int
update(struct bgp_stream *st, size_t t, const struct gen_prefix *px,
    size_t n, bool withdraw, struct gen_out *out)
{
	struct writer w = wr_init(out->buf, out->cap);

	gen_table_update(&w, &st->c->t[t], &st->rnd, st->as, &st->next_hop[t],
	    px, n, withdraw);
	return send_msg(&w, out, false);
}

/* A table in UPDATEs of per_message prefixes, then its End-of-RIB. */
static int
dump_table(struct bgp_stream *st, size_t t, struct gen_out *out)
{
	const struct gen_table *tb = &st->c->t[t];
	uint64_t left = tb->routes;
	struct writer w;

	gen_table_walk_start(&st->walk, st->s->seed, TABLE_SALT + t);
	while (left > 0) {
		size_t n = left < st->c->per_message ? (size_t)left :
		    st->c->per_message;

		for (size_t i = 0; i < n; i++)
			gen_table_walk_next(&st->walk, tb, &st->batch[i]);
		if (update(st, t, st->batch, n, false, out) == -1)
			return -1;
		left -= n;
	}
	w = wr_init(out->buf, out->cap);
	bgp_enc_end_of_rib(&w, tb->family == AF_INET ? BGP_ENC_AFI_IPV4 :
	    BGP_ENC_AFI_IPV6, BGP_ENC_SAFI_UNICAST);
	return send_msg(&w, out, false);
}

/* The table of churn pair q: the tables with routes in turn. */
static size_t
churn_table(const struct bgp_conf *c, uint64_t q, size_t churn_tables)
{
	uint64_t k = q % churn_tables;

	for (size_t i = 0; i < c->nt; i++)
		if (c->t[i].routes > 0 && k-- == 0)
			return i;
	return 0;
}

/* Churn UPDATE j: even ones withdraw the next per_message prefixes of a table, odd ones announce them again. */
static int
churn_one(struct bgp_stream *st, struct gen_out *out)
{
	uint64_t j = st->churn_done++;

	if (j % 2 == 0) {
		size_t t = churn_table(st->c, j / 2, st->churn_tables);
		const struct gen_table *tb = &st->c->t[t];

		for (size_t i = 0; i < st->c->per_message; i++) {
			if (st->churn[t].index == tb->routes)
				gen_table_walk_start(&st->churn[t], st->s->seed,
				    TABLE_SALT + t);
			gen_table_walk_next(&st->churn[t], tb, &st->batch[i]);
		}
		st->batch_table = t;
	}
	return update(st, st->batch_table, st->batch, st->c->per_message,
	    j % 2 == 0, out);
}

/* KEEPALIVEs every third of the hold time: whether one falls in tick t. */
static bool
keepalive_due(const struct bgp_conf *c, const struct gen_spec *s, uint64_t t)
{
	uint64_t every = (uint64_t)c->hold_time * 1000 / 3;

	return every > 0 && (t + 1) * s->interval_ms / every !=
	    t * s->interval_ms / every;
}

static int
bgp_tick(void *p, uint64_t tick, tr_ns when, struct gen_out *out)
{
	struct bgp_stream *st = p;
	const struct bgp_conf *c = st->c;
	struct writer w;

	(void)when;
	if (tick == 0) {
		if (open_session(st, out) == -1)
			return -1;
		for (size_t t = 0; t < c->nt; t++)
			if (dump_table(st, t, out) == -1)
				return -1;
	}
	if (st->churn_tables > 0)
		for (uint64_t n = gen_due(c->churn, st->s->interval_ms, tick);
		    n > 0; n--)
			if (churn_one(st, out) == -1)
				return -1;
	if (keepalive_due(c, st->s, tick)) {
		w = wr_init(out->buf, out->cap);
		bgp_enc_keepalive(&w);
		if (send_msg(&w, out, false) == -1 ||
		    send_msg(&w, out, true) == -1)
			return -1;
	}
	return 0;
}

/* ---- the oracle ---- */

static void
bgp_expect(const void *conf, const struct gen_spec *s, size_t n_domains,
    struct gen_counts *k)
{
	const struct bgp_conf *c = conf;
	uint64_t ticks = gen_spec_ticks(s), churn = 0, keepalives = 0;
	uint64_t every = (uint64_t)c->hold_time * 1000 / 3;
	size_t churn_tables = 0;

	(void)n_domains;
	memset(k, 0, sizeof(*k));
	k->sessions = 1;
	for (size_t i = 0; i < c->nt; i++) {
		k->updates += (c->t[i].routes + c->per_message - 1) /
		    c->per_message + 1;		/* + End-of-RIB */
		k->end_of_rib++;
		k->prefixes += c->t[i].routes;
		churn_tables += c->t[i].routes > 0;
	}
	k->adj_rib_in = k->prefixes;
	if (churn_tables > 0)
		churn = c->churn * ticks * s->interval_ms / 1000;
	k->updates += churn;
	k->withdrawn = (churn + 1) / 2 * c->per_message;
	k->prefixes += churn / 2 * c->per_message;
	/* An odd count ends on a withdrawal: that batch (distinct prefixes, the whole table if smaller) is out. */
	if (churn % 2 == 1) {
		uint64_t r = c->t[churn_table(c, churn / 2, churn_tables)].routes;

		k->adj_rib_in -= r < c->per_message ? r : c->per_message;
	}
	if (every > 0)
		keepalives = ticks * s->interval_ms / every;
	/* OPEN, KEEPALIVE, the UPDATEs, the KEEPALIVEs of the hold time. */
	k->messages = 2 + k->updates + keepalives;
}

const struct proto_gen bgp_gen = {
	.keys = bgp_keys,
	.n_keys = NELEM(bgp_keys),
	.parse = bgp_parse,
	.free = bgp_free,
	.stream_new = bgp_stream_new,
	.stream_free = bgp_stream_free,
	.tick = bgp_tick,
	.expect = bgp_expect,
	.stays_up = true,
};
