/*
 * The BMP generator: per router (exporter) one BMP session that monitors a
 * spec's peers, each with a synthetic table sent as Route Monitoring
 * messages (Initiation, Peer Up per peer, each peer's table and its
 * End-of-RIB, churn, Statistics Reports, Peer Down/Up cycles,
 * Termination), through bmp_encode
 * and bgp_encode.  gen_run frames the messages into the session's TCP
 * segments.
 *
 * Every peer of a group carries the same table (gen_table.c), as a full
 * feed's peers do.  Churn walks a peer's table again from its seed, so it
 * withdraws and re-announces prefixes of it without keeping the table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bgp_encode.h"
#include "bmp_encode.h"
#include "gen_proto.h"
#include "gen_table.h"

#define NELEM(a)		(sizeof(a) / sizeof((a)[0]))
#define MAX_PEER_GROUPS		64
#define MAX_PEERS		65536	/* per router */
#define MAX_CHURN		10000000	/* messages/s per router */
#define ROUTER_AS		64512
#define TABLE_SALT		0x7461626c65000000ULL	/* a group's table stream */

static const char *const bmp_keys[] = { "bmp" };

/* A group of monitored peers: count peers from address, AS as + i. */
struct peer_group {
	uint64_t	 count;
	struct tr_addr	 address;
	uint64_t	 as;
	uint64_t	 rd;
	struct gen_table table;
	uint8_t		 type;		/* BMP_ENC_PEER_* */
	bool		 post_policy;
	/* as the spec gave them */
	const char	*type_s, *policy_s;
};

struct bmp_conf {
	struct peer_group g[MAX_PEER_GROUPS];
	size_t		  ng;
	uint64_t	  n_peers;
	uint32_t	  per_message;	/* prefixes per UPDATE */
	uint64_t	  churn;	/* route monitoring messages/s, in pairs */
	uint32_t	  stats_interval;	/* seconds; 0: none */
	uint32_t	  peer_cycle;	/* seconds between Peer Down/Up cycles (a peer each, in turn); 0: none */
};

/* ---- the spec section ---- */

static int
pkey_address(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	const char *s;

	(void)arg;
	if (gen_yaml_string(y, n, &s) == -1)
		return -1;
	if (addr_parse(s, field) == -1)
		return gen_yaml_fail(y, n, "not an IPv4 or IPv6 address");
	return 0;
}

static const struct gen_int_range peers_range = { 1, MAX_PEERS };
static const struct gen_int_range as_range = { 1, UINT32_MAX };
static const struct gen_int_range rd_range = { 0, UINT64_MAX };

static const struct gen_key group_keys[] = {
	{ "count", gen_key_u64, offsetof(struct peer_group, count),
	    &peers_range, false },
	{ "address", pkey_address, offsetof(struct peer_group, address), NULL,
	    true },
	{ "as", gen_key_u64, offsetof(struct peer_group, as), &as_range,
	    false },
	{ "type", gen_table_key_word, offsetof(struct peer_group, type_s), NULL,
	    false },
	{ "rd", gen_key_u64, offsetof(struct peer_group, rd), &rd_range,
	    false },
	{ "policy", gen_table_key_word, offsetof(struct peer_group, policy_s), NULL,
	    false },
	GEN_TABLE_KEYS(offsetof(struct peer_group, table), true),
};

/* One word of a key's choices: its index, or -1 after the message. */
static int
choose(struct gen_yaml *y, yaml_node_t *n, const char *key, const char *s,
    const char *const *words, size_t n_words)
{
	for (size_t i = 0; i < n_words; i++)
		if (strcmp(s, words[i]) == 0)
			return (int)i;
	return gen_yaml_fail(y, n, "%s: '%s' is none of %s%s%s%s%s%s%s", key,
	    s, words[0], n_words > 1 ? ", " : "", n_words > 1 ? words[1] : "",
	    n_words > 2 ? ", " : "", n_words > 2 ? words[2] : "",
	    n_words > 3 ? ", " : "", n_words > 3 ? words[3] : "");
}

/* The defaults and the checks a group needs once all its keys are read. */
static int
group_complete(struct gen_yaml *y, yaml_node_t *n, struct peer_group *g)
{
	static const char *const types[] = { "global", "rd", "local",
	    "loc-rib" };
	static const char *const policies[] = { "pre", "post" };
	int k;

	g->type = BMP_ENC_PEER_GLOBAL;
	if (g->type_s != NULL) {
		if ((k = choose(y, n, "type", g->type_s, types, 4)) < 0)
			return -1;
		g->type = (uint8_t)k;
	}
	if (g->policy_s != NULL) {
		if ((k = choose(y, n, "policy", g->policy_s, policies, 2)) < 0)
			return -1;
		g->post_policy = k == 1;
	}
	if (gen_table_complete(y, n, &g->table, g->address.family) == -1)
		return -1;
	if (g->type == BMP_ENC_PEER_LOC_RIB && g->post_policy)
		return gen_yaml_fail(y, n, "policy: a Loc-RIB peer has no "
		    "pre/post policy");
	if (g->address.family == AF_INET &&
	    ntohl(g->address.v4.s_addr) > UINT32_MAX - (g->count - 1))
		return gen_yaml_fail(y, n, "address: the group's addresses run "
		    "past 255.255.255.255");
	if (g->as > UINT32_MAX - g->count + 1)
		return gen_yaml_fail(y, n, "as: the group's ASes run past "
		    "4294967295");
	return 0;
}

static int
key_peers(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct bmp_conf *c = field;
	size_t total;

	(void)arg;
	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.top == n->data.sequence.items.start)
		return gen_yaml_fail(y, n, "a list of peer groups {count, "
		    "address, as, routes, ...}");
	total = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (total > MAX_PEER_GROUPS)
		return gen_yaml_fail(y, n, "at most %d peer groups",
		    MAX_PEER_GROUPS);
	for (size_t i = 0; i < total; i++) {
		yaml_node_t *e = gen_yaml_node(y,
		    n->data.sequence.items.start[i]);
		size_t old = gen_yaml_push(y, "[%zu]", i);
		struct peer_group *g = &c->g[i];

		g->count = 1;
		g->as = 65001;
		c->ng = i + 1;
		if (gen_yaml_walk(y, e, group_keys, NELEM(group_keys), g) == -1 ||
		    group_complete(y, e, g) == -1)
			return -1;
		c->n_peers += g->count;
		if (c->n_peers > MAX_PEERS)
			return gen_yaml_fail(y, e, "more than %d peers per "
			    "router", MAX_PEERS);
		gen_yaml_pop(y, old);
	}
	return 0;
}

static const struct gen_int_range per_message_range = { 1, GEN_TABLE_MAX_PER_MESSAGE };
static const struct gen_int_range churn_range = { 0, MAX_CHURN };
static const struct gen_int_range stats_range = { 0, 86400 };

static const struct gen_key bmp_section_keys[] = {
	{ "peers", key_peers, 0, NULL, true },
	{ "updates_per_message", gen_key_u32,
	    offsetof(struct bmp_conf, per_message), &per_message_range, false },
	{ "churn", gen_key_u64, offsetof(struct bmp_conf, churn), &churn_range,
	    false },
	{ "stats_interval", gen_key_u32,
	    offsetof(struct bmp_conf, stats_interval), &stats_range, false },
	{ "peer_cycle", gen_key_u32, offsetof(struct bmp_conf, peer_cycle),
	    &stats_range, false },
};

static void
bmp_free(void *conf)
{
	struct bmp_conf *c = conf;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ng; i++)
		gen_table_free(&c->g[i].table);
	free(c);
}

static int
bmp_parse(struct gen_yaml *y, yaml_node_t *n, size_t key,
    const struct gen_spec *spec, void **out)
{
	struct bmp_conf *c = calloc(1, sizeof(*c));

	(void)key;
	(void)spec;
	*out = c;
	if (c == NULL)
		return gen_yaml_fail(y, n, "out of memory");
	c->per_message = 4;
	if (gen_yaml_walk(y, n, bmp_section_keys, NELEM(bmp_section_keys),
	    c) == -1)
		return -1;
	return 0;
}

/* ---- a router's session ---- */

struct peer_state {
	const struct peer_group	*g;
	size_t			 group;
	uint64_t		 nth;		/* in its group */
	struct bmp_enc_peer	 hdr;
	struct tr_addr		 next_hop;	/* of the routes' family */
	uint32_t		 path_as;	/* the first of its routes' AS_PATHs */
	struct gen_table_walk	 churn;		/* where churn is in its table */
};

struct bmp_stream {
	const struct bmp_conf		*c;
	const struct gen_spec		*s;
	const struct gen_exporter	*ex;
	struct gen_rand			 rnd;	/* attributes */
	struct peer_state		*peers;
	struct tr_addr			 router_id;
	uint64_t			 churn_done;
	uint64_t			 cycles_done;
	uint64_t			 churn_peers;	/* peers with routes */
	/* the prefixes a churn withdrawal took, which the next message re-announces */
	struct gen_prefix			 batch[GEN_TABLE_MAX_PER_MESSAGE];
	struct peer_state		*batch_peer;
	struct gen_table_walk		 dump;
};

/* An address plus i (IPv6: in the low 64 bits). */
static struct tr_addr
addr_plus(const struct tr_addr *base, uint64_t i)
{
	struct tr_addr a = *base;

	if (a.family == AF_INET)
		a.v4.s_addr = htonl(ntohl(a.v4.s_addr) + (uint32_t)i);
	else
		be64_store(a.v6.s6_addr + 8, be64_load(a.v6.s6_addr + 8) + i);
	return a;
}

/* A BGP identifier: the IPv4 address itself, or one made up for an IPv6 host. */
static struct tr_addr
bgp_id_of(const struct tr_addr *a, uint32_t made_up)
{
	return a->family == AF_INET ? *a : addr_v4(made_up);
}

static void
bmp_stream_free(void *p)
{
	struct bmp_stream *st = p;

	if (st == NULL)
		return;
	free(st->peers);
	free(st);
}

static void *
bmp_stream_new(const void *conf, const struct gen_spec *s,
    const struct gen_exporter *ex, uint32_t domain)
{
	const struct bmp_conf *c = conf;
	struct bmp_stream *st = calloc(1, sizeof(*st));
	size_t k = 0;

	(void)domain;
	if (st == NULL || (st->peers = calloc(c->n_peers,
	    sizeof(*st->peers))) == NULL) {
		bmp_stream_free(st);
		return NULL;
	}
	st->c = c;
	st->s = s;
	st->ex = ex;
	gen_rand_seed(&st->rnd, s->seed, 0x626d700000000000ULL + ex->index);
	st->router_id = bgp_id_of(&ex->addr, 0xc6120000u +
	    (uint32_t)ex->index + 1);			/* 198.18.0.0/15 */
	for (size_t i = 0; i < c->ng; i++)
		for (uint64_t j = 0; j < c->g[i].count; j++, k++) {
			const struct peer_group *g = &c->g[i];
			struct peer_state *ps = &st->peers[k];

			ps->g = g;
			ps->group = i;
			ps->nth = j;
			ps->hdr.type = g->type;
			ps->hdr.flags = g->post_policy ? BMP_ENC_FLAG_L : 0;
			ps->hdr.rd = g->type == BMP_ENC_PEER_GLOBAL ? 0 : g->rd;
			ps->hdr.addr = addr_plus(&g->address, j);
			ps->hdr.as = (uint32_t)(g->as + j);
			ps->hdr.bgp_id = bgp_id_of(&ps->hdr.addr, 0xc6130000u +
			    (uint32_t)k + 1);		/* 198.19.0.0/16 */
			ps->next_hop = ps->hdr.addr;
			if (g->table.family == AF_INET6 &&
			    ps->hdr.addr.family == AF_INET) {
				/* An IPv4 peer's IPv6 routes: its IPv4-mapped address. */
				struct tr_addr m = { .family = AF_INET6 };

				m.v6.s6_addr[10] = m.v6.s6_addr[11] = 0xff;
				memcpy(m.v6.s6_addr + 12, &ps->hdr.addr.v4, 4);
				ps->next_hop = m;
			} else if (g->table.family == AF_INET &&
			    ps->hdr.addr.family == AF_INET6)
				ps->next_hop = ps->hdr.bgp_id;
			ps->path_as = ps->hdr.as;
			if (g->type == BMP_ENC_PEER_LOC_RIB) {
				/*
				 * RFC 9069: the router's own RIB, no peer
				 * address, its AS and id; instances told apart
				 * by the peer distinguisher.  The group's
				 * address and AS are its routes' next hop and
				 * first AS.
				 */
				ps->hdr.addr = (struct tr_addr){ .family =
				    AF_INET };
				ps->hdr.as = ROUTER_AS;
				ps->hdr.bgp_id = st->router_id;
				ps->hdr.rd = g->rd + j;
			}
			gen_table_walk_start(&ps->churn, s->seed, TABLE_SALT + i);
			st->churn_peers += g->table.routes > 0;
		}
	return st;
}

static int
send_msg(struct writer *w, struct gen_out *out)
{
	if (!wr_ok(w)) {
		errno = EMSGSIZE;
		return -1;
	}
	return out->emit(out, wr_len(w));
}

static void
stamp(struct peer_state *ps, tr_ns when)
{
	ps->hdr.ts_sec = (uint32_t)(when / TR_NS_PER_SEC);
	ps->hdr.ts_usec = (uint32_t)(when % TR_NS_PER_SEC / TR_NS_PER_US);
}

static int
peer_up(struct bmp_stream *st, struct peer_state *ps, struct gen_out *out)
{
	struct writer w = wr_init(out->buf, out->cap);
	bool v6 = ps->g->table.family == AF_INET6;
	struct bgp_enc_open sent = { .as = ROUTER_AS, .hold_time = 90,
	    .id = &st->router_id, .ipv4 = !v6, .ipv6 = v6 };
	struct bgp_enc_open received = { .as = ps->hdr.as, .hold_time = 90,
	    .id = &ps->hdr.bgp_id, .ipv4 = !v6, .ipv6 = v6 };
	size_t start = bmp_enc_peer_up_begin(&w, &ps->hdr, &st->ex->addr, 179,
	    (uint16_t)(30000 + ps->nth % 30000));

	bgp_enc_open(&w, &sent);
	bgp_enc_open(&w, &received);
	bmp_enc_finish(&w, start);
	return send_msg(&w, out);
}

/* One Route Monitoring message: n prefixes of ps's routes announced, or withdrawn. */
static int
route_monitoring(struct bmp_stream *st, struct peer_state *ps,
    const struct gen_prefix *px, size_t n, bool withdraw,
    struct gen_out *out)
{
	struct writer w = wr_init(out->buf, out->cap);
	size_t start = bmp_enc_route_monitoring_begin(&w, &ps->hdr);

	gen_table_update(&w, &ps->g->table, &st->rnd, ps->path_as,
	    &ps->next_hop, px, n, withdraw);
	bmp_enc_finish(&w, start);
	return send_msg(&w, out);
}

static int
end_of_rib(struct peer_state *ps, struct gen_out *out)
{
	struct writer w = wr_init(out->buf, out->cap);
	size_t start = bmp_enc_route_monitoring_begin(&w, &ps->hdr);

	bgp_enc_end_of_rib(&w, ps->g->table.family == AF_INET ? BGP_ENC_AFI_IPV4 :
	    BGP_ENC_AFI_IPV6, BGP_ENC_SAFI_UNICAST);
	bmp_enc_finish(&w, start);
	return send_msg(&w, out);
}

/* A peer's whole table, per_message prefixes a message, then its End-of-RIB. */
static int
dump_table(struct bmp_stream *st, struct peer_state *ps, struct gen_out *out)
{
	struct gen_table_walk *w = &st->dump;
	uint64_t left = ps->g->table.routes;

	gen_table_walk_start(w, st->s->seed, TABLE_SALT + ps->group);
	while (left > 0) {
		size_t n = left < st->c->per_message ? (size_t)left :
		    st->c->per_message;

		for (size_t i = 0; i < n; i++)
			gen_table_walk_next(w, &ps->g->table, &st->batch[i]);
		if (route_monitoring(st, ps, st->batch, n, false, out) == -1)
			return -1;
		left -= n;
	}
	return end_of_rib(ps, out);
}

/*
 * Churn message j: even ones withdraw the next per_message prefixes of a
 * peer's table (the peers with routes in turn, each walking its table
 * round and round), odd ones announce them again.
 */
static int
churn_one(struct bmp_stream *st, tr_ns when, struct gen_out *out)
{
	uint64_t j = st->churn_done++;

	if (j % 2 == 0) {
		uint64_t q = (j / 2) % st->churn_peers;
		struct peer_state *ps = NULL;

		for (uint64_t k = 0, seen = 0; k < st->c->n_peers; k++)
			if (st->peers[k].g->table.routes > 0 && seen++ == q) {
				ps = &st->peers[k];
				break;
			}
		for (size_t i = 0; i < st->c->per_message; i++) {
			if (ps->churn.index == ps->g->table.routes)
				gen_table_walk_start(&ps->churn, st->s->seed,
				    TABLE_SALT + ps->group);
			gen_table_walk_next(&ps->churn, &ps->g->table,
			    &st->batch[i]);
		}
		st->batch_peer = ps;
	}
	stamp(st->batch_peer, when);
	return route_monitoring(st, st->batch_peer, st->batch,
	    st->c->per_message, j % 2 == 0, out);
}

static int
statistics(struct peer_state *ps, struct gen_out *out)
{
	struct writer w = wr_init(out->buf, out->cap);
	struct bmp_enc_stat stat[2] = {
		{ BMP_ENC_STAT_REJECTED, 4, 0 },
		{ BMP_ENC_STAT_ADJ_RIB_IN, 8, ps->g->table.routes },
	};

	bmp_enc_statistics(&w, &ps->hdr, stat, 2);
	return send_msg(&w, out);
}

/* Whether a period of seconds (0: never) ends in tick t. */
static bool
period_ends(uint32_t seconds, const struct gen_spec *s, uint64_t t)
{
	uint64_t every = (uint64_t)seconds * 1000;

	return every > 0 && (t + 1) * s->interval_ms / every !=
	    t * s->interval_ms / every;
}

/* How many periods of seconds (0: none) end over the spec's duration. */
static uint64_t
periods(uint32_t seconds, const struct gen_spec *s)
{
	uint64_t every = (uint64_t)seconds * 1000;

	return every > 0 ? gen_spec_ticks(s) * s->interval_ms / every : 0;
}

/*
 * A Peer Down/Up cycle: the next peer in turn goes down (the remote side
 * closed the session) and comes up again with its whole table, as after a
 * session reset.
 */
static int
peer_cycle(struct bmp_stream *st, struct gen_out *out)
{
	struct peer_state *ps = &st->peers[st->cycles_done++ % st->c->n_peers];
	struct writer w = wr_init(out->buf, out->cap);

	bmp_enc_peer_down(&w, &ps->hdr, 4);	/* remote closed, no data */
	if (send_msg(&w, out) == -1 || peer_up(st, ps, out) == -1)
		return -1;
	return dump_table(st, ps, out);
}

static int
bmp_tick(void *p, uint64_t tick, tr_ns when, struct gen_out *out)
{
	struct bmp_stream *st = p;
	const struct bmp_conf *c = st->c;
	struct writer w;

	for (uint64_t k = 0; k < c->n_peers; k++)
		stamp(&st->peers[k], when);
	if (tick == 0) {
		char name[32];

		snprintf(name, sizeof(name), "router-%zu", st->ex->index + 1);
		w = wr_init(out->buf, out->cap);
		bmp_enc_initiation(&w, "traffic-reproducer generate", name);
		if (send_msg(&w, out) == -1)
			return -1;
		for (uint64_t k = 0; k < c->n_peers; k++)
			if (peer_up(st, &st->peers[k], out) == -1)
				return -1;
		for (uint64_t k = 0; k < c->n_peers; k++)
			if (dump_table(st, &st->peers[k], out) == -1)
				return -1;
	}
	if (st->churn_peers > 0)
		for (uint64_t n = gen_due(c->churn, st->s->interval_ms, tick);
		    n > 0; n--)
			if (churn_one(st, when, out) == -1)
				return -1;
	if (period_ends(c->peer_cycle, st->s, tick) &&
	    peer_cycle(st, out) == -1)
		return -1;
	if (period_ends(c->stats_interval, st->s, tick))
		for (uint64_t k = 0; k < c->n_peers; k++)
			if (statistics(&st->peers[k], out) == -1)
				return -1;
	if (tick + 1 == gen_spec_ticks(st->s)) {
		w = wr_init(out->buf, out->cap);
		bmp_enc_termination(&w, "traffic-reproducer generate: end of "
		    "the spec's duration", 0);
		return send_msg(&w, out);
	}
	return 0;
}

/* ---- the oracle ---- */

static void
bmp_expect(const void *conf, const struct gen_spec *s, size_t n_domains,
    struct gen_counts *k)
{
	const struct bmp_conf *c = conf;
	uint64_t ticks = gen_spec_ticks(s), churn = 0, churn_peers = 0;
	uint64_t cycles = periods(c->peer_cycle, s);
	/* Peer cycles go round the peers: each some whole rounds, the first ones one more. */
	uint64_t rounds = cycles / c->n_peers, extra = cycles % c->n_peers;

	(void)n_domains;
	memset(k, 0, sizeof(*k));
	k->peers = c->n_peers;
	for (size_t i = 0, first = 0; i < c->ng; first += c->g[i].count, i++) {
		const struct peer_group *g = &c->g[i];
		uint64_t msgs = (g->table.routes + c->per_message - 1) /
		    c->per_message;
		/* Its tables: once at the start, once per cycle of one of its peers. */
		uint64_t tables = g->count * (1 + rounds) +
		    (extra > first ? (extra - first < g->count ? extra - first :
		    g->count) : 0);

		k->route_monitoring += tables * (msgs + 1);	/* + End-of-RIB */
		k->end_of_rib += tables;
		k->prefixes += tables * g->table.routes;
		churn_peers += g->table.routes > 0 ? g->count : 0;
	}
	k->peer_up = c->n_peers + cycles;
	k->peer_down = cycles;
	if (churn_peers > 0)
		churn = c->churn * ticks * s->interval_ms / 1000;
	k->route_monitoring += churn;
	k->withdrawn = (churn + 1) / 2 * c->per_message;
	k->prefixes += churn / 2 * c->per_message;
	k->stats = periods(c->stats_interval, s) * c->n_peers;
	/* Initiation, Peer Ups and Downs, Route Monitoring, Statistics, Termination. */
	k->messages = 1 + k->peer_up + k->peer_down + k->route_monitoring +
	    k->stats + 1;
}

const struct proto_gen bmp_gen = {
	.keys = bmp_keys,
	.n_keys = NELEM(bmp_keys),
	.parse = bmp_parse,
	.free = bmp_free,
	.stream_new = bmp_stream_new,
	.stream_free = bmp_stream_free,
	.tick = bmp_tick,
	.expect = bmp_expect,
};
