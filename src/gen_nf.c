/* The flow generators: IPFIX, NetFlow v9 and v5 messages from a spec section (templates by element name, value distributions, rate), through nf_encode. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gen_ie.h"
#include "gen_proto.h"
#include "nf_encode.h"

#define NELEM(a)		(sizeof(a) / sizeof((a)[0]))
#define MAX_TEMPLATES		16
#define MAX_FIELDS		64
#define MAX_POOLS		256
#define BOOT_BEFORE_START	86400	/* v5/v9 exporters booted a day before the capture */
/*
 * Default template ids: v9's apart from IPFIX's, since collectors (nfacctd)
 * key an exporter's templates by domain and id, not by version.
 */
#define FIRST_TEMPLATE_ID	256
#define FIRST_V9_TEMPLATE_ID	1024
#define MAX_RATE		10000000	/* records/s of one exporter, or in total */

enum nf_variant { NF_IPFIX, NF_V9, NF_V5 };

static const char *const nf_keys[] = { "ipfix", "netflow_v9", "netflow_v5" };
static const int nf_versions[] = { 10, 9, 5 };

/* An address prefix of a pool. */
struct nf_pool {
	struct tr_addr	base;
	uint8_t		plen;
};

/* One field of a template and how its values are made. */
struct nf_fieldgen {
	const struct gen_ie	*ie;
	uint16_t		 len;
	struct gen_dist		 dist;		/* unsigned elements */
	struct nf_pool		*pools;		/* address elements */
	size_t			 n_pools;
};

struct nf_template {
	uint16_t		 id;
	struct nf_fieldgen	 f[MAX_FIELDS];
	size_t			 n;
	size_t			 reclen;
	uint32_t		 per_msg;	/* records in a full message */
};

struct nf_conf {
	enum nf_variant		 variant;
	int			 version;
	struct nf_template	 t[MAX_TEMPLATES];
	size_t			 nt;
	uint64_t		 rate;		/* records/s per exporter ... */
	uint64_t		 total_rate;	/* ... or over all exporters */
	uint32_t		 mtu;
	uint32_t		 records_per_message;
	uint32_t		 template_refresh;	/* seconds; 0: once */
	uint32_t		 sampling_interval;	/* options template; 0: none */
	struct gen_dist		 duration;	/* flow durations, ms */
	bool			 duration_set;
	uint16_t		 options_id;
};

/* ---- default values of each element ---- */

static void
dist_weighted(struct gen_dist *d, const uint64_t (*pairs)[2], size_t n)
{
	d->kind = GEN_DIST_WEIGHTED;
	d->values = calloc(n, sizeof(*d->values));
	d->prob = calloc(n, sizeof(*d->prob));
	if (d->values == NULL || d->prob == NULL) {
		gen_dist_free(d);
		d->kind = GEN_DIST_CONST;
		d->lo = pairs[0][0];
		return;
	}
	for (size_t i = 0; i < n; i++) {
		d->values[i] = pairs[i][0];
		d->prob[i] = (double)pairs[i][1];
	}
	d->n = n;
	gen_dist_ready(d);
}

/* Plausible traffic when the spec names an element without values. */
static void
default_dist(const struct gen_ie *ie, uint64_t max, struct gen_dist *d)
{
	static const uint64_t protos[][2] = { { 6, 80 }, { 17, 18 }, { 1, 2 } };
	static const uint64_t dports[][2] = {
		{ 443, 50 }, { 80, 25 }, { 53, 15 }, { 22, 5 }, { 123, 5 },
	};
	static const uint64_t flags[][2] = {
		{ 0x18, 70 }, { 0x02, 10 }, { 0x11, 10 }, { 0x10, 10 },
	};

	memset(d, 0, sizeof(*d));
	d->kind = GEN_DIST_UNIFORM;
	d->hi = max;
	switch (ie->id) {
	case 1:		/* octetDeltaCount */
		*d = (struct gen_dist){ .kind = GEN_DIST_EXPONENTIAL,
		    .mean = 20000, .lo = 40, .hi = max };
		break;
	case 2:		/* packetDeltaCount */
		*d = (struct gen_dist){ .kind = GEN_DIST_EXPONENTIAL,
		    .mean = 20, .lo = 1, .hi = max };
		break;
	case 4:
		dist_weighted(d, protos, NELEM(protos));
		break;
	case 6:
		dist_weighted(d, flags, NELEM(flags));
		break;
	case 11:
		dist_weighted(d, dports, NELEM(dports));
		break;
	case 7: case 227: case 228:
		d->lo = 1024;
		d->hi = 65535;
		break;
	case 10: case 14:
		d->lo = 1;
		d->hi = 48;
		break;
	case 16: case 17:
		d->lo = 64512;
		d->hi = 65534;
		break;
	case 9: case 13:
		*d = (struct gen_dist){ .kind = GEN_DIST_CONST, .lo = 24 };
		break;
	case 29: case 30:
		*d = (struct gen_dist){ .kind = GEN_DIST_CONST, .lo = 64 };
		break;
	case 34: case 35:
		*d = (struct gen_dist){ .kind = GEN_DIST_CONST, .lo = 1 };
		break;
	case 58:
		d->lo = 1;
		d->hi = 4094;
		break;
	case 5: case 32: case 70: case 139:
		*d = (struct gen_dist){ .kind = GEN_DIST_CONST, .lo = 0 };
		break;
	case 89:
		*d = (struct gen_dist){ .kind = GEN_DIST_CONST, .lo = 64 };
		break;
	default:
		break;
	}
	if (d->hi > max)
		d->hi = max;
}

static void
default_pool(const struct gen_ie *ie, struct nf_fieldgen *f)
{
	const char *p;

	if (ie->kind == GEN_IE_IPV4)
		p = ie->id == 8 || ie->id == 225 ? "10.0.0.0" :
		    ie->id == 12 || ie->id == 226 ? "198.18.0.0" :
		    "192.0.2.0";
	else
		p = ie->id == 27 ? "2001:db8:10::" : ie->id == 28 ?
		    "2001:db8:20::" : "2001:db8:ff::";
	if ((f->pools = calloc(1, sizeof(*f->pools))) == NULL)
		return;
	addr_parse(p, &f->pools[0].base);
	f->pools[0].plen = ie->kind == GEN_IE_IPV4 ?
	    (ie->id == 8 || ie->id == 12 ? 16 : 24) : 64;
	f->n_pools = 1;
}

/* ---- the section's keys ---- */

static int
parse_prefix(struct gen_yaml *y, yaml_node_t *n, int family,
    struct nf_pool *out)
{
	char buf[64];
	const char *s, *slash;
	uint64_t plen;
	int max;

	if (gen_yaml_string(y, n, &s) == -1)
		return -1;
	slash = strchr(s, '/');
	if (strlen(s) >= sizeof(buf))
		return gen_yaml_fail(y, n, "expected a prefix, got a long word");
	memcpy(buf, s, strlen(s) + 1);
	if (slash != NULL)
		buf[slash - s] = '\0';
	if (addr_parse(buf, &out->base) == -1 || out->base.family != family)
		return gen_yaml_fail(y, n, "expected an %s prefix, got '%.40s'",
		    family == AF_INET ? "IPv4" : "IPv6", s);
	max = family == AF_INET ? 32 : 128;
	plen = (uint64_t)max;
	if (slash != NULL) {
		char *end;

		errno = 0;
		plen = strtoull(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || plen > (uint64_t)max)
			return gen_yaml_fail(y, n, "the prefix length of "
			    "'%.40s' is not 0 to %d", s, max);
	}
	out->plen = (uint8_t)plen;
	return 0;
}

struct field_parse {
	struct nf_fieldgen	*f;
	uint64_t		 max;
	int			 family;
	bool			 pool_set;
};

static int
fkey_pool(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct field_parse *p = field;
	struct nf_fieldgen *f = p->f;
	size_t total = 1;

	(void)arg;
	p->pool_set = true;
	if (n->type == YAML_SEQUENCE_NODE)
		total = (size_t)(n->data.sequence.items.top -
		    n->data.sequence.items.start);
	if (total == 0 || total > MAX_POOLS)
		return gen_yaml_fail(y, n, "give 1 to %d prefixes", MAX_POOLS);
	free(f->pools);
	f->n_pools = 0;
	if ((f->pools = calloc(total, sizeof(*f->pools))) == NULL)
		return gen_yaml_fail(y, n, "out of memory");
	for (size_t i = 0; i < total; i++) {
		yaml_node_t *e = n->type == YAML_SEQUENCE_NODE ?
		    gen_yaml_node(y, n->data.sequence.items.start[i]) : n;

		if (parse_prefix(y, e, p->family, &f->pools[i]) == -1)
			return -1;
		f->n_pools = i + 1;
	}
	return 0;
}

/* One field: NAME, or {NAME: values}. */
static int
parse_field(struct gen_yaml *y, yaml_node_t *n, struct nf_fieldgen *f,
    enum nf_variant v)
{
	yaml_node_t *name = n, *val = NULL;
	const char *s;
	size_t old;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	if (n->type == YAML_MAPPING_NODE) {
		if (n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
			return gen_yaml_fail(y, n, "a field is NAME or "
			    "{NAME: values}, one per list item");
		name = gen_yaml_node(y, n->data.mapping.pairs.start->key);
		val = gen_yaml_node(y, n->data.mapping.pairs.start->value);
	}
	if (gen_yaml_string(y, name, &s) == -1)
		return -1;
	if ((f->ie = gen_ie_find(s)) == NULL)
		return gen_yaml_fail(y, name, "unknown information element "
		    "'%.40s' (README \"Generate\" lists the known ones)", s);
	f->len = f->ie->len;
	if (v == NF_V5 && (f->ie->kind == GEN_IE_IPV6 || f->ie->id > 17))
		return gen_yaml_fail(y, name, "NetFlow v5 records have no "
		    "'%s'", s);
	/* v5's fields are narrower: interfaces and AS numbers 16 bits, counters 32. */
	if (v == NF_V5 && (f->ie->id == 10 || f->ie->id == 14 ||
	    f->ie->id == 16 || f->ie->id == 17))
		f->len = 2;
	if (v == NF_V5 && (f->ie->id == 1 || f->ie->id == 2))
		f->len = 4;
	old = gen_yaml_push(y, ".%s", s);
	switch (f->ie->kind) {
	case GEN_IE_FLOW_START:
	case GEN_IE_FLOW_END:
		if (val != NULL)
			rc = gen_yaml_fail(y, val, "flow times follow the "
			    "export time and the section's flow_duration: "
			    "give no values");
		break;
	case GEN_IE_IPV4:
	case GEN_IE_IPV6: {
		static const struct gen_key keys[] = {
			{ "pool", fkey_pool, 0, NULL, true },
		};
		struct field_parse p = { .f = f, .family =
		    f->ie->kind == GEN_IE_IPV4 ? AF_INET : AF_INET6 };

		if (val == NULL)
			default_pool(f->ie, f);
		else if (val->type == YAML_MAPPING_NODE)
			rc = gen_yaml_walk(y, val, keys, NELEM(keys), &p);
		else
			rc = fkey_pool(y, val, &p, NULL);
		if (rc == 0 && f->n_pools == 0)
			rc = gen_yaml_fail(y, name, "out of memory");
		break;
	}
	default: {
		uint64_t max = f->len >= 8 ? UINT64_MAX :
		    (UINT64_C(1) << (8 * f->len)) - 1;

		if (val == NULL)
			default_dist(f->ie, max, &f->dist);
		else
			rc = gen_yaml_dist(y, val, 0, max, &f->dist);
		break;
	}
	}
	gen_yaml_pop(y, old);
	return rc;
}

static void
field_free(struct nf_fieldgen *f)
{
	gen_dist_free(&f->dist);
	free(f->pools);
	f->pools = NULL;
}

struct template_parse {
	struct nf_conf		*c;
	struct nf_template	*t;
	uint64_t		 id;
};

static int
tkey_fields(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct template_parse *p = field;
	struct nf_template *t = p->t;
	size_t total;

	(void)arg;
	if (n->type != YAML_SEQUENCE_NODE ||
	    (total = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start)) == 0)
		return gen_yaml_fail(y, n, "expected a list of information "
		    "elements");
	if (total > MAX_FIELDS)
		return gen_yaml_fail(y, n, "at most %d fields", MAX_FIELDS);
	for (size_t i = 0; i < total; i++) {
		yaml_node_t *e = gen_yaml_node(y, n->data.sequence.items.start[i]);
		size_t old = gen_yaml_push(y, "[%zu]", i);

		t->n = i;
		if (parse_field(y, e, &t->f[i], p->c->variant) == -1) {
			t->n = i + 1;	/* what it holds is freed */
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (t->f[j].ie == t->f[i].ie) {
				t->n = i + 1;
				return gen_yaml_fail(y, e, "'%s' is in the "
				    "template twice", t->f[i].ie->name);
			}
		t->n = i + 1;
		gen_yaml_pop(y, old);
	}
	return 0;
}

static const struct gen_int_range template_id_range = { 256, 65535 };

static int
key_templates(struct gen_yaml *y, yaml_node_t *n, void *field,
    const void *arg)
{
	static const struct gen_key keys[] = {
		{ "id", gen_key_u64, offsetof(struct template_parse, id),
		    &template_id_range, false },
		{ "fields", tkey_fields, 0, NULL, true },
	};
	struct nf_conf *c = field;
	size_t total;

	(void)arg;
	if (n->type != YAML_SEQUENCE_NODE ||
	    (total = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start)) == 0)
		return gen_yaml_fail(y, n, "expected a list of templates "
		    "{id, fields}");
	if (total > MAX_TEMPLATES)
		return gen_yaml_fail(y, n, "at most %d templates", MAX_TEMPLATES);
	for (size_t i = 0; i < total; i++) {
		yaml_node_t *e = gen_yaml_node(y, n->data.sequence.items.start[i]);
		size_t old = gen_yaml_push(y, "[%zu]", i);
		struct template_parse p = { .c = c, .t = &c->t[i],
		    .id = (c->variant == NF_V9 ? FIRST_V9_TEMPLATE_ID :
		    FIRST_TEMPLATE_ID) + i };

		c->nt = i + 1;
		if (gen_yaml_walk(y, e, keys, NELEM(keys), &p) == -1)
			return -1;
		c->t[i].id = (uint16_t)p.id;
		for (size_t j = 0; j < i; j++)
			if (c->t[j].id == c->t[i].id)
				return gen_yaml_fail(y, e, "template id %u is "
				    "used twice", c->t[i].id);
		gen_yaml_pop(y, old);
	}
	return 0;
}

/* v5: its fixed record's fields, with values. */
static int
key_v5_fields(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct nf_conf *c = field;
	struct template_parse p = { .c = c, .t = &c->t[0] };

	(void)arg;
	c->nt = 1;
	return tkey_fields(y, n, &p, NULL);
}

static int
key_duration(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct nf_conf *c = field;

	(void)arg;
	c->duration_set = true;
	return gen_yaml_dist(y, n, 0, 86400000, &c->duration);
}

static const struct gen_int_range rate_range = { 1, MAX_RATE };
static const struct gen_int_range mtu_range = { 128, 65000 };
static const struct gen_int_range rpm_range = { 1, 65535 };
static const struct gen_int_range refresh_range = { 0, 86400 };
static const struct gen_int_range sampling_range = { 1, UINT32_MAX };

#define COMMON_KEYS							\
	{ "rate", gen_key_u64, offsetof(struct nf_conf, rate),		\
	    &rate_range, false },					\
	{ "total_rate", gen_key_u64, offsetof(struct nf_conf, total_rate), \
	    &rate_range, false },					\
	{ "mtu", gen_key_u32, offsetof(struct nf_conf, mtu), &mtu_range, \
	    false },							\
	{ "records_per_message", gen_key_u32,				\
	    offsetof(struct nf_conf, records_per_message), &rpm_range, false }, \
	{ "flow_duration", key_duration, 0, NULL, false }

static const struct gen_key flow_keys[] = {
	COMMON_KEYS,
	{ "templates", key_templates, 0, NULL, true },
	{ "template_refresh", gen_key_u32,
	    offsetof(struct nf_conf, template_refresh), &refresh_range, false },
	{ "sampling_interval", gen_key_u32,
	    offsetof(struct nf_conf, sampling_interval), &sampling_range,
	    false },
};

static const struct gen_key v5_keys[] = {
	COMMON_KEYS,
	{ "fields", key_v5_fields, 0, NULL, false },
};

static void
nf_free(void *conf)
{
	struct nf_conf *c = conf;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nt; i++)
		for (size_t j = 0; j < c->t[i].n; j++)
			field_free(&c->t[i].f[j]);
	gen_dist_free(&c->duration);
	free(c);
}

static size_t
header_len(int version)
{
	return version == 10 ? NF_IPFIX_HDR_LEN : version == 9 ?
	    NF_V9_HDR_LEN : NF_V5_HDR_LEN;
}

/* The v5 record's fields, each with the spec's values or the default ones. */
static const uint16_t v5_ids[] = { 8, 12, 15, 10, 14, 2, 1, 7, 11, 6, 4, 5,
    16, 17, 9, 13 };

static int
v5_complete(struct gen_yaml *y, yaml_node_t *n, struct nf_conf *c)
{
	struct nf_template *t = &c->t[0];
	struct nf_fieldgen all[NELEM(v5_ids)];

	for (size_t i = 0; i < NELEM(v5_ids); i++) {
		size_t j;

		for (j = 0; j < t->n; j++)
			if (t->f[j].ie->id == v5_ids[i])
				break;
		if (j < t->n) {
			all[i] = t->f[j];
			continue;
		}
		memset(&all[i], 0, sizeof(all[i]));
		for (size_t k = 0; k < gen_ie_count; k++)
			if (gen_ie_table[k].id == v5_ids[i])
				all[i].ie = &gen_ie_table[k];
		all[i].len = all[i].ie->len;
		if (all[i].ie->kind == GEN_IE_IPV4)
			default_pool(all[i].ie, &all[i]);
		else
			default_dist(all[i].ie, v5_ids[i] == 1 ||
			    v5_ids[i] == 2 ? UINT32_MAX : 65535, &all[i].dist);
	}
	/* Fields v5 has no room for (times come from flow_duration) are refused by parse_field; keep the 16 in v5 order. */
	for (size_t j = 0; j < t->n; j++) {
		bool kept = false;

		for (size_t i = 0; i < NELEM(v5_ids); i++)
			kept |= t->f[j].ie->id == v5_ids[i];
		if (!kept && t->f[j].ie->kind != GEN_IE_FLOW_START &&
		    t->f[j].ie->kind != GEN_IE_FLOW_END)
			return gen_yaml_fail(y, n, "NetFlow v5 records have "
			    "no '%s'", t->f[j].ie->name);
		if (!kept)
			field_free(&t->f[j]);
	}
	memcpy(t->f, all, sizeof(all));
	t->n = NELEM(v5_ids);
	t->reclen = NF_V5_RECORD_LEN;
	return 0;
}

static int
nf_parse(struct gen_yaml *y, yaml_node_t *n, size_t key,
    const struct gen_spec *spec, void **out)
{
	struct nf_conf *c = calloc(1, sizeof(*c));
	size_t hdr;

	(void)spec;
	*out = c;
	if (c == NULL)
		return gen_yaml_fail(y, n, "out of memory");
	c->variant = (enum nf_variant)key;
	c->version = nf_versions[key];
	c->mtu = 1400;
	c->template_refresh = 60;
	if (c->variant == NF_V5)
		c->nt = 1;
	if (gen_yaml_walk(y, n, c->variant == NF_V5 ? v5_keys : flow_keys,
	    c->variant == NF_V5 ? NELEM(v5_keys) : NELEM(flow_keys), c) == -1)
		return -1;
	if ((c->rate == 0) == (c->total_rate == 0))
		return gen_yaml_fail(y, n, "give one of rate (records/s per "
		    "exporter) or total_rate");
	if (!c->duration_set)
		c->duration = (struct gen_dist){ .kind = GEN_DIST_EXPONENTIAL,
		    .mean = 10000, .lo = 0, .hi = 300000 };
	if (c->variant == NF_V5 && v5_complete(y, n, c) == -1)
		return -1;
	hdr = header_len(c->version);
	for (size_t i = 0; i < c->nt; i++) {
		struct nf_template *t = &c->t[i];
		uint32_t fit;

		if (c->variant != NF_V5) {
			t->reclen = 0;
			for (size_t j = 0; j < t->n; j++)
				t->reclen += t->f[j].len;
		}
		/* v9 pads the FlowSet: 3 bytes kept free for it. */
		fit = (uint32_t)((c->mtu - hdr - (c->variant == NF_V5 ? 0 :
		    NF_SET_HDR_LEN + 3)) / t->reclen);
		if (c->variant == NF_V5 && fit > NF_V5_MAX_RECORDS)
			fit = NF_V5_MAX_RECORDS;
		if (c->records_per_message != 0 && c->records_per_message < fit)
			fit = c->records_per_message;
		if (fit == 0)
			return gen_yaml_fail(y, n, "a record of template %u "
			    "(%zu bytes) does not fit the mtu", t->id,
			    t->reclen);
		t->per_msg = fit;
	}
	c->options_id = (uint16_t)(c->variant == NF_V9 ? FIRST_V9_TEMPLATE_ID :
	    FIRST_TEMPLATE_ID);
	for (size_t i = 0; i < c->nt; i++)
		if (c->t[i].id >= c->options_id)
			c->options_id = (uint16_t)(c->t[i].id + 1);
	if (c->sampling_interval != 0 && c->options_id == 0)
		return gen_yaml_fail(y, n, "no template id left for the "
		    "sampling options");
	return 0;
}

/* ---- the rate ---- */

/* A stream's rate in thousandths of a record per second. */
static uint64_t
stream_milli_rate(const struct nf_conf *c, const struct gen_spec *s,
    size_t n_domains)
{
	uint64_t streams = 0;

	if (c->rate != 0)
		return c->rate * 1000 / n_domains;
	for (size_t i = 0; i < s->n_exporters; i++)
		streams += s->exporters[i].n_domains;
	return c->total_rate * 1000 / (streams == 0 ? 1 : streams);
}

/* Records of export interval tick: the whole ones the rate has made by its end, less those by its start. */
static uint64_t
records_due(uint64_t milli_rate, uint32_t interval_ms, uint64_t tick)
{
	unsigned __int128 per = (unsigned __int128)milli_rate * interval_ms;

	return (uint64_t)((per * (tick + 1)) / 1000000 - (per * tick) / 1000000);
}

static bool
templates_due(const struct nf_conf *c, const struct gen_spec *s,
    uint64_t tick)
{
	uint64_t period = (uint64_t)c->template_refresh * 1000;

	if (c->variant == NF_V5)
		return false;
	if (tick == 0)
		return true;
	return period != 0 && tick * s->interval_ms / period !=
	    (tick - 1) * s->interval_ms / period;
}

/* Template i's share of n records. */
static uint64_t
template_share(const struct nf_conf *c, size_t i, uint64_t n)
{
	return n / c->nt + (i < n % c->nt);
}

static void
nf_expect(const void *conf, const struct gen_spec *s, size_t n_domains,
    struct gen_counts *k)
{
	const struct nf_conf *c = conf;
	uint64_t r = stream_milli_rate(c, s, n_domains);
	uint64_t ticks = gen_spec_ticks(s);

	memset(k, 0, sizeof(*k));
	for (uint64_t tick = 0; tick < ticks; tick++) {
		uint64_t due = records_due(r, s->interval_ms, tick);

		if (templates_due(c, s, tick)) {
			k->templates++;
			k->messages++;
			if (c->sampling_interval != 0) {
				k->options++;
				k->messages++;
			}
		}
		k->flows += due;
		for (size_t i = 0; i < c->nt; i++) {
			uint64_t share = template_share(c, i, due);

			k->messages += (share + c->t[i].per_msg - 1) /
			    c->t[i].per_msg;
		}
	}
}

/* ---- a stream ---- */

struct nf_stream {
	const struct nf_conf	*c;
	const struct gen_spec	*s;
	uint32_t		 domain;
	uint64_t		 milli_rate;
	uint32_t		 seq;
	uint64_t		 boot_ms;
	struct gen_rand		 rand;
};

static void *
nf_stream_new(const void *conf, const struct gen_spec *s,
    const struct gen_exporter *ex, uint32_t domain)
{
	const struct nf_conf *c = conf;
	struct nf_stream *st = calloc(1, sizeof(*st));
	uint64_t start_s = (uint64_t)(s->start / TR_NS_PER_SEC);

	if (st == NULL)
		return NULL;
	st->c = c;
	st->s = s;
	st->domain = domain;
	st->milli_rate = stream_milli_rate(c, s, ex->n_domains);
	st->boot_ms = (start_s > BOOT_BEFORE_START ?
	    start_s - BOOT_BEFORE_START : 0) * 1000;
	/* Its own numbers: by exporter, section variant and domain (one stream id each), whatever runs before it. */
	gen_rand_seed(&st->rand, s->seed, ((uint64_t)ex->index * 4 +
	    (uint64_t)c->variant) << 32 | domain);
	return st;
}

static void
nf_stream_free(void *p)
{
	free(p);
}

static void
put_pool_addr(struct writer *w, const struct nf_fieldgen *f,
    struct gen_rand *r)
{
	const struct nf_pool *p = &f->pools[f->n_pools == 1 ? 0 :
	    gen_rand_range(r, 0, f->n_pools - 1)];
	struct tr_addr a = p->base;

	if (a.family == AF_INET) {
		uint32_t host = p->plen == 32 ? 0 :
		    (uint32_t)gen_rand_next(r) & (UINT32_MAX >> p->plen);

		a.v4.s_addr = htonl((ntohl(a.v4.s_addr) & (p->plen == 0 ? 0 :
		    UINT32_MAX << (32 - p->plen))) | host);
	} else {
		uint64_t hi = gen_rand_next(r), lo = gen_rand_next(r);

		for (int b = 0; b < 16; b++) {
			int bit = b * 8;
			uint8_t rnd = (uint8_t)((b < 8 ? hi : lo) >> (8 * (b % 8)));
			uint8_t keep;

			if (bit + 8 <= p->plen)
				continue;
			keep = bit >= p->plen ? 0 :
			    (uint8_t)(0xff << (8 - (p->plen - bit)));
			a.v6.s6_addr[b] = (uint8_t)((a.v6.s6_addr[b] & keep) |
			    (rnd & ~keep));
		}
	}
	nf_put_addr(w, &a);
}

/* A flow's start and end, Unix ms: it ended up to a second before the export, and lasted a draw of flow_duration. */
static void
flow_times(struct nf_stream *st, uint64_t export_ms, uint64_t *start,
    uint64_t *end)
{
	uint64_t lag = gen_rand_range(&st->rand, 0, 999);
	uint64_t dur = gen_dist_draw(&st->c->duration, &st->rand);

	*end = export_ms - lag;
	if (*end < st->boot_ms + dur)
		dur = *end - st->boot_ms;
	*start = *end - dur;
}

static void
put_record(struct nf_stream *st, struct writer *w, const struct nf_template *t,
    uint64_t export_ms)
{
	uint64_t start = 0, end = 0;
	bool timed = false;

	for (size_t i = 0; i < t->n; i++) {
		const struct nf_fieldgen *f = &t->f[i];

		switch (f->ie->kind) {
		case GEN_IE_IPV4:
		case GEN_IE_IPV6:
			put_pool_addr(w, f, &st->rand);
			break;
		case GEN_IE_FLOW_START:
		case GEN_IE_FLOW_END: {
			uint64_t ms;

			if (!timed) {
				flow_times(st, export_ms, &start, &end);
				timed = true;
			}
			ms = f->ie->kind == GEN_IE_FLOW_START ? start : end;
			if (f->ie->id == GEN_IE_FLOW_START_SYSUPTIME ||
			    f->ie->id == GEN_IE_FLOW_END_SYSUPTIME)
				put_u32(w, (uint32_t)(ms - st->boot_ms));
			else
				nf_put_ipfix_time(w, f->ie->id, ms);
			break;
		}
		default:
			nf_put_uint(w, gen_dist_draw(&f->dist, &st->rand),
			    f->len);
			break;
		}
	}
}

/* The v5 record: its 16 fields drawn in v5_ids order, times from flow_duration. */
static void
put_v5_record(struct nf_stream *st, struct writer *w, uint64_t export_ms)
{
	const struct nf_template *t = &st->c->t[0];
	uint64_t v[NELEM(v5_ids)];
	uint64_t start, end;
	uint8_t a[3][4];

	for (size_t i = 0; i < 3; i++) {
		struct writer aw = wr_init(a[i], 4);

		put_pool_addr(&aw, &t->f[i], &st->rand);
	}
	for (size_t i = 3; i < NELEM(v5_ids); i++)
		v[i] = gen_dist_draw(&t->f[i].dist, &st->rand);
	flow_times(st, export_ms, &start, &end);
	nf_v5_record(w, &(struct nf_v5_record){
		.src = be32_load(a[0]), .dst = be32_load(a[1]),
		.nexthop = be32_load(a[2]),
		.input = (uint16_t)v[3], .output = (uint16_t)v[4],
		.packets = (uint32_t)v[5], .octets = (uint32_t)v[6],
		.first_ms = (uint32_t)(start - st->boot_ms),
		.last_ms = (uint32_t)(end - st->boot_ms),
		.sport = (uint16_t)v[7], .dport = (uint16_t)v[8],
		.tcp_flags = (uint8_t)v[9], .proto = (uint8_t)v[10],
		.tos = (uint8_t)v[11],
		.src_as = (uint16_t)v[12], .dst_as = (uint16_t)v[13],
		.src_mask = (uint8_t)v[14], .dst_mask = (uint8_t)v[15],
	});
}

static void
put_header(struct nf_stream *st, struct writer *w, uint16_t count,
    uint32_t secs, tr_ns when)
{
	uint32_t up = (uint32_t)((uint64_t)secs * 1000 - st->boot_ms);

	if (st->c->version == 10)
		nf_ipfix_header(w, secs, st->seq, st->domain);
	else if (st->c->version == 9)
		nf_v9_header(w, count, up, secs, st->seq, st->domain);
	else
		nf_v5_header(w, &(struct nf_v5_header){
			.count = count, .uptime_ms = up, .unix_secs = secs,
			.unix_nsecs = (uint32_t)(when % TR_NS_PER_SEC),
			.seq = st->seq,
			.engine_type = (uint8_t)(st->domain >> 8),
			.engine_id = (uint8_t)st->domain,
		});
}

static int
finish(struct nf_stream *st, struct writer *w, struct gen_out *out)
{
	if (st->c->version == 10)
		nf_ipfix_finish(w);
	if (!wr_ok(w)) {
		errno = EMSGSIZE;
		return -1;
	}
	return out->emit(out, wr_len(w));
}

static const struct nf_field ipfix_scope[] = { { 149, 4 } };	/* observationDomainId */
static const struct nf_field v9_scope[] = { { 1, 4 } };		/* System */
static const struct nf_field sampling_fields[] = { { 34, 4 }, { 35, 1 } };

static int
send_templates(struct nf_stream *st, uint32_t secs, tr_ns when,
    struct gen_out *out)
{
	const struct nf_conf *c = st->c;
	struct writer w = wr_init(out->buf, out->cap);
	size_t set;

	put_header(st, &w, (uint16_t)(c->nt + (c->sampling_interval != 0)),
	    secs, when);
	for (size_t i = 0; i < c->nt; i++) {
		struct nf_field f[MAX_FIELDS];

		for (size_t j = 0; j < c->t[i].n; j++)
			f[j] = (struct nf_field){ c->t[i].f[j].ie->id,
			    c->t[i].f[j].len };
		nf_template_set(&w, c->version, c->t[i].id, f, c->t[i].n);
	}
	if (c->sampling_interval != 0)
		nf_options_template_set(&w, c->version, c->options_id,
		    c->version == 10 ? ipfix_scope : v9_scope, 1,
		    sampling_fields, NELEM(sampling_fields));
	if (c->version == 9)
		st->seq++;		/* v9 counts export packets */
	if (finish(st, &w, out) == -1)
		return -1;
	if (c->sampling_interval == 0)
		return 0;
	/* The sampling options record: 1 in sampling_interval, deterministic. */
	w = wr_init(out->buf, out->cap);
	put_header(st, &w, 1, secs, when);
	set = nf_set_begin(&w, c->options_id);
	put_u32(&w, st->domain);
	put_u32(&w, c->sampling_interval);
	put_u8(&w, 1);
	nf_set_end(&w, c->version, set);
	st->seq++;		/* IPFIX: one data record; v9: one packet */
	return finish(st, &w, out);
}

static int
nf_tick(void *p, uint64_t tick, tr_ns when, struct gen_out *out)
{
	struct nf_stream *st = p;
	const struct nf_conf *c = st->c;
	uint32_t secs = (uint32_t)(when / TR_NS_PER_SEC);
	uint64_t export_ms = (uint64_t)secs * 1000;
	uint64_t due = records_due(st->milli_rate, st->s->interval_ms, tick);

	if (templates_due(c, st->s, tick) &&
	    send_templates(st, secs, when, out) == -1)
		return -1;
	for (size_t i = 0; i < c->nt; i++) {
		const struct nf_template *t = &c->t[i];
		uint64_t left = template_share(c, i, due);

		while (left > 0) {
			uint32_t n = left < t->per_msg ? (uint32_t)left :
			    t->per_msg;
			struct writer w = wr_init(out->buf, out->cap);
			size_t set = 0;

			put_header(st, &w, (uint16_t)n, secs, when);
			if (c->version != 5)
				set = nf_set_begin(&w, t->id);
			for (uint32_t r = 0; r < n; r++) {
				if (c->version == 5)
					put_v5_record(st, &w, export_ms);
				else
					put_record(st, &w, t, export_ms);
			}
			if (c->version != 5)
				nf_set_end(&w, c->version, set);
			/* IPFIX and v5 count records, v9 packets. */
			st->seq += c->version == 9 ? 1 : n;
			if (finish(st, &w, out) == -1)
				return -1;
			left -= n;
		}
	}
	return 0;
}

const struct proto_gen nf_gen = {
	.keys = nf_keys,
	.n_keys = NELEM(nf_keys),
	.parse = nf_parse,
	.free = nf_free,
	.stream_new = nf_stream_new,
	.stream_free = nf_stream_free,
	.tick = nf_tick,
	.expect = nf_expect,
};
