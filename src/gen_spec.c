/* generate's spec: YAML read with libyaml, every key checked, errors as FILE:LINE:COL: KEY: message. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen_proto.h"
#include "gen_spec.h"
#include "proto.h"

#define KEYPATH_MAX	256
#define QUOTE_MAX	40
#define MAX_KEYS	24
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_SPEC_BYTES	(1u << 20)	/* a spec is a page of YAML, not a data file */
#define DEFAULT_START	1577836800	/* 2020-01-01T00:00:00Z, as -p's reference time */

struct gen_yaml {
	yaml_document_t	*doc;
	const char	*file;
	char		*err;
	size_t		 errlen;
	char		 keypath[KEYPATH_MAX];
	size_t		 keylen;
};

/* ---- messages and key paths ---- */

size_t
gen_yaml_push(struct gen_yaml *y, const char *fmt, ...)
{
	size_t	old = y->keylen;
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(y->keypath + old, sizeof(y->keypath) - old, fmt, ap);
	va_end(ap);
	y->keylen = old + (n < 0 ? 0 : (size_t)n);
	if (y->keylen >= sizeof(y->keypath))
		y->keylen = sizeof(y->keypath) - 1;
	return old;
}

void
gen_yaml_pop(struct gen_yaml *y, size_t old)
{
	y->keylen = old;
	y->keypath[old] = '\0';
}

int
gen_yaml_fail(struct gen_yaml *y, const yaml_node_t *n, const char *fmt, ...)
{
	char	msg[768];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n != NULL)
		snprintf(y->err, y->errlen, "%s:%zu:%zu: %s%s%s", y->file,
		    n->start_mark.line + 1, n->start_mark.column + 1,
		    y->keypath, y->keylen > 0 ? ": " : "", msg);
	else
		snprintf(y->err, y->errlen, "%s: %s%s%s", y->file, y->keypath,
		    y->keylen > 0 ? ": " : "", msg);
	errno = EINVAL;
	return -1;
}

yaml_node_t *
gen_yaml_node(struct gen_yaml *y, yaml_node_item_t i)
{
	return yaml_document_get_node(y->doc, i);
}

static const char *
scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static const char *
describe(const yaml_node_t *n, char *buf, size_t len)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	snprintf(buf, len, "'%.*s%s'", QUOTE_MAX, scalar(n),
	    strlen(scalar(n)) > QUOTE_MAX ? "..." : "");
	return buf;
}

static int
fail_type(struct gen_yaml *y, const yaml_node_t *n, const char *expected)
{
	char buf[QUOTE_MAX + 8];

	return gen_yaml_fail(y, n, "expected %s, got %s", expected,
	    describe(n, buf, sizeof(buf)));
}

/* ---- scalars ---- */

int
gen_yaml_string(struct gen_yaml *y, yaml_node_t *n, const char **out)
{
	*out = NULL;
	if (n->type != YAML_SCALAR_NODE || *scalar(n) == '\0')
		return fail_type(y, n, "a word");
	*out = scalar(n);
	return 0;
}

int
gen_yaml_u64(struct gen_yaml *y, yaml_node_t *n, uint64_t lo, uint64_t hi,
    uint64_t *out)
{
	const char		*s;
	char			*end;
	unsigned long long	 v;

	*out = 0;
	if (n->type != YAML_SCALAR_NODE)
		return gen_yaml_fail(y, n, "expected a whole number from %"
		    PRIu64 " to %" PRIu64 ", got %s", lo, hi,
		    n->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
	s = scalar(n);
	errno = 0;
	v = strtoull(s, &end, 0);
	if (*s == '\0' || *s == '-' || *s == '+' || *end != '\0' ||
	    errno != 0 || v < lo || v > hi)
		return gen_yaml_fail(y, n, "expected a whole number from %"
		    PRIu64 " to %" PRIu64 ", got '%.*s'", lo, hi, QUOTE_MAX, s);
	*out = v;
	return 0;
}

int
gen_yaml_double(struct gen_yaml *y, yaml_node_t *n, double lo, double hi,
    double *out)
{
	char	*end;
	double	 v;

	*out = 0;
	if (n->type != YAML_SCALAR_NODE)
		return fail_type(y, n, "a number");
	errno = 0;
	v = strtod(scalar(n), &end);
	if (*scalar(n) == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < lo || v > hi)
		return gen_yaml_fail(y, n, "expected a number from %g to %g, "
		    "got '%.*s'", lo, hi, QUOTE_MAX, scalar(n));
	*out = v;
	return 0;
}

int
gen_key_u32(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	const struct gen_int_range *r = arg;
	uint64_t v;

	if (gen_yaml_u64(y, n, r->lo, r->hi, &v) == -1)
		return -1;
	*(uint32_t *)field = (uint32_t)v;
	return 0;
}

int
gen_key_u64(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	const struct gen_int_range *r = arg;

	return gen_yaml_u64(y, n, r->lo, r->hi, field);
}

static int
key_u16(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	const struct gen_int_range *r = arg;
	uint64_t v;

	if (gen_yaml_u64(y, n, r->lo, r->hi, &v) == -1)
		return -1;
	*(uint16_t *)field = (uint16_t)v;
	return 0;
}

static int
key_addr(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	(void)arg;
	if (n->type != YAML_SCALAR_NODE || addr_parse(scalar(n), field) == -1)
		return fail_type(y, n, "an IPv4 or IPv6 address");
	return 0;
}

/* ---- mappings ---- */

int
gen_yaml_walk(struct gen_yaml *y, yaml_node_t *n, const struct gen_key *keys,
    size_t nkeys, void *obj)
{
	yaml_node_t *seen[MAX_KEYS] = { 0 };

	if (nkeys > MAX_KEYS)
		return gen_yaml_fail(y, n, "internal error: key table too long");
	if (n->type != YAML_MAPPING_NODE)
		return fail_type(y, n, "a mapping (key: value lines)");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	    p < n->data.mapping.pairs.top; p++) {
		yaml_node_t	*k = gen_yaml_node(y, p->key);
		yaml_node_t	*v = gen_yaml_node(y, p->value);
		size_t		 i, old;
		int		 rc;

		if (k->type != YAML_SCALAR_NODE)
			return gen_yaml_fail(y, k, "a key must be a plain word");
		for (i = 0; i < nkeys; i++)
			if (strcmp(scalar(k), keys[i].key) == 0)
				break;
		if (i == nkeys) {
			char known[512] = "";
			size_t len = 0;

			for (size_t j = 0; j < nkeys && len < sizeof(known);
			    j++)
				len += (size_t)snprintf(known + len,
				    sizeof(known) - len, "%s%s",
				    j > 0 ? ", " : "", keys[j].key);
			return gen_yaml_fail(y, k, "unknown key '%.*s'; known "
			    "keys: %s", QUOTE_MAX, scalar(k), known);
		}
		old = gen_yaml_push(y, "%s%s", y->keylen > 0 ? "." : "",
		    keys[i].key);
		if (seen[i] != NULL) {
			rc = gen_yaml_fail(y, k, "given twice (first at line "
			    "%zu); keep one", seen[i]->start_mark.line + 1);
			gen_yaml_pop(y, old);
			return rc;
		}
		seen[i] = k;
		rc = keys[i].fn(y, v, (char *)obj + keys[i].off, keys[i].arg);
		gen_yaml_pop(y, old);
		if (rc == -1)
			return -1;
	}
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].required && seen[i] == NULL)
			return gen_yaml_fail(y, n, "missing required key '%s'",
			    keys[i].key);
	return 0;
}

/* ---- distributions ---- */

struct dist_parse {
	struct gen_dist	*d;
	uint64_t	 lo, hi;	/* what the field holds */
	int		 kinds;		/* keys given */
	yaml_node_t	*node;
};

static int
dist_pair(struct gen_yaml *y, yaml_node_t *n, const struct dist_parse *p,
    uint64_t *a, uint64_t *b)
{
	yaml_node_item_t *it;

	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.top - n->data.sequence.items.start != 2)
		return fail_type(y, n, "a list of two numbers [low, high]");
	it = n->data.sequence.items.start;
	if (gen_yaml_u64(y, gen_yaml_node(y, it[0]), p->lo, p->hi, a) == -1 ||
	    gen_yaml_u64(y, gen_yaml_node(y, it[1]), p->lo, p->hi, b) == -1)
		return -1;
	if (*a > *b)
		return gen_yaml_fail(y, n, "the low end %" PRIu64 " is above "
		    "the high end %" PRIu64, *a, *b);
	return 0;
}

static int
dist_value(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct dist_parse *p = field;

	(void)arg;
	p->kinds++;
	p->d->kind = GEN_DIST_CONST;
	return gen_yaml_u64(y, n, p->lo, p->hi, &p->d->lo);
}

static int
dist_uniform(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct dist_parse *p = field;

	(void)arg;
	p->kinds++;
	p->d->kind = GEN_DIST_UNIFORM;
	return dist_pair(y, n, p, &p->d->lo, &p->d->hi);
}

/* zipf: [low, high] with exponent zipf_s: low most often, then low + 1, ... */
static int
dist_zipf(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct dist_parse *p = field;

	(void)arg;
	p->kinds++;
	p->d->kind = GEN_DIST_ZIPF;
	if (dist_pair(y, n, p, &p->d->lo, &p->d->hi) == -1)
		return -1;
	if (p->d->hi - p->d->lo >= 1u << 20)
		return gen_yaml_fail(y, n, "at most 1048576 values for zipf");
	return 0;
}

static int
dist_zipf_s(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct dist_parse *p = field;

	(void)arg;
	return gen_yaml_double(y, n, 0.01, 10, &p->d->s);
}

/* weighted: [[value, weight], ...] */
static int
dist_weighted(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct dist_parse *p = field;
	struct gen_dist *d = p->d;
	size_t total;

	(void)arg;
	p->kinds++;
	d->kind = GEN_DIST_WEIGHTED;
	if (n->type != YAML_SEQUENCE_NODE ||
	    (total = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start)) == 0)
		return fail_type(y, n, "a list of [value, weight] pairs");
	if (total > 65536)
		return gen_yaml_fail(y, n, "at most 65536 weighted values");
	d->values = calloc(total, sizeof(*d->values));
	d->prob = calloc(total, sizeof(*d->prob));
	if (d->values == NULL || d->prob == NULL)
		return gen_yaml_fail(y, n, "out of memory");
	for (size_t i = 0; i < total; i++) {
		yaml_node_t *e = gen_yaml_node(y, n->data.sequence.items.start[i]);
		size_t old = gen_yaml_push(y, "[%zu]", i);
		uint64_t w;
		yaml_node_item_t *it;

		if (e->type != YAML_SEQUENCE_NODE ||
		    e->data.sequence.items.top - e->data.sequence.items.start != 2)
			return fail_type(y, e, "a pair [value, weight]");
		it = e->data.sequence.items.start;
		if (gen_yaml_u64(y, gen_yaml_node(y, it[0]), p->lo, p->hi,
		    &d->values[i]) == -1 ||
		    gen_yaml_u64(y, gen_yaml_node(y, it[1]), 1, 1000000000,
		    &w) == -1)
			return -1;
		d->prob[i] = (double)w;
		d->n = i + 1;
		gen_yaml_pop(y, old);
	}
	return 0;
}

static int
dist_exponential(struct gen_yaml *y, yaml_node_t *n, void *field,
    const void *arg)
{
	struct dist_parse *p = field;

	(void)arg;
	p->kinds++;
	p->d->kind = GEN_DIST_EXPONENTIAL;
	p->d->lo = p->lo;
	p->d->hi = p->hi;
	return gen_yaml_double(y, n, 1, 1e15, &p->d->mean);
}

int
gen_yaml_dist(struct gen_yaml *y, yaml_node_t *n, uint64_t lo, uint64_t hi,
    struct gen_dist *d)
{
	static const struct gen_key keys[] = {
		{ "value", dist_value, 0, NULL, false },
		{ "uniform", dist_uniform, 0, NULL, false },
		{ "zipf", dist_zipf, 0, NULL, false },
		{ "zipf_s", dist_zipf_s, 0, NULL, false },
		{ "weighted", dist_weighted, 0, NULL, false },
		{ "exponential", dist_exponential, 0, NULL, false },
	};
	struct dist_parse p = { .d = d, .lo = lo, .hi = hi, .node = n };

	gen_dist_free(d);
	memset(d, 0, sizeof(*d));
	d->s = 1.0;
	/* A plain number is a constant. */
	if (n->type == YAML_SCALAR_NODE) {
		d->kind = GEN_DIST_CONST;
		return gen_yaml_u64(y, n, lo, hi, &d->lo);
	}
	if (gen_yaml_walk(y, n, keys, NELEM(keys), &p) == -1)
		return -1;
	if (p.kinds != 1)
		return gen_yaml_fail(y, n, "give one of value, uniform, zipf, "
		    "weighted, exponential");
	if (gen_dist_ready(d) == -1)
		return gen_yaml_fail(y, n, "out of memory");
	return 0;
}

/* ---- the spec's own keys ---- */

static int
key_seed(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	(void)arg;
	return gen_yaml_u64(y, n, 0, UINT64_MAX, field);
}

/* start: Unix seconds, or an ISO 8601 UTC time (2024-05-01T00:00:00Z). */
static int
key_start(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct tm tm;
	const char *s, *end;
	time_t t;

	(void)arg;
	if (n->type != YAML_SCALAR_NODE)
		return fail_type(y, n, "a time (2024-05-01T00:00:00Z or Unix "
		    "seconds)");
	s = scalar(n);
	if (strchr(s, '-') == NULL) {
		uint64_t v;

		if (gen_yaml_u64(y, n, 0, 4102444800u, &v) == -1)
			return -1;
		*(tr_ns *)field = (tr_ns)v * TR_NS_PER_SEC;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || strcmp(end, "Z") != 0 ||
	    (t = timegm(&tm)) < 0 || t > 4102444800)
		return fail_type(y, n, "a UTC time as 2024-05-01T00:00:00Z "
		    "(from 1970 to 2100) or Unix seconds");
	*(tr_ns *)field = (tr_ns)t * TR_NS_PER_SEC;
	return 0;
}

static int
key_interval(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	double v;

	(void)arg;
	if (gen_yaml_double(y, n, 0.001, 3600, &v) == -1)
		return -1;
	*(uint32_t *)field = (uint32_t)llround(v * 1000);
	return 0;
}

static const struct gen_int_range port_range = { 1, 65535 };
static const struct gen_int_range duration_range = { 1, GEN_MAX_DURATION };

static int
key_collector(struct gen_yaml *y, yaml_node_t *n, void *field,
    const void *arg)
{
	static const struct gen_key keys[] = {
		{ "ip", key_addr, offsetof(struct gen_spec, collector), NULL,
		    true },
		{ "port", key_u16, offsetof(struct gen_spec, collector_port),
		    &port_range, true },
	};

	(void)arg;
	return gen_yaml_walk(y, n, keys, NELEM(keys), field);
}

/* exporters: a count from a first address, or a list of them. */
struct exporters_parse {
	struct gen_spec	*spec;
	uint64_t	 count;
	struct tr_addr	 address;
	struct tr_addr	 repro;
	bool		 repro_set;
	uint16_t	 sport;
	uint32_t	 domains[GEN_MAX_DOMAINS];
	size_t		 n_domains;
	yaml_node_t	*domains_node;
};

static int
key_repro(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct exporters_parse *e = field;

	e->repro_set = true;
	return key_addr(y, n, &e->repro, arg);
}

static int
key_domains(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct exporters_parse *e = field;
	size_t total;

	(void)arg;
	e->domains_node = n;
	if (n->type == YAML_SCALAR_NODE) {
		uint64_t v;

		if (gen_yaml_u64(y, n, 0, UINT32_MAX, &v) == -1)
			return -1;
		e->domains[0] = (uint32_t)v;
		e->n_domains = 1;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return fail_type(y, n, "a domain id or a list of them");
	total = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (total == 0 || total > GEN_MAX_DOMAINS)
		return gen_yaml_fail(y, n, "give 1 to %d domain ids",
		    GEN_MAX_DOMAINS);
	for (size_t i = 0; i < total; i++) {
		yaml_node_t *d = gen_yaml_node(y,
		    n->data.sequence.items.start[i]);
		uint64_t v;

		if (gen_yaml_u64(y, d, 0, UINT32_MAX, &v) == -1)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (e->domains[j] == v)
				return gen_yaml_fail(y, d, "domain %" PRIu64
				    " is listed twice", v);
		e->domains[i] = (uint32_t)v;
	}
	e->n_domains = total;
	return 0;
}

static const struct gen_int_range count_range = { 1, GEN_MAX_EXPORTERS };

#define EXPORTER_KEYS							\
	{ "address", key_addr, offsetof(struct exporters_parse, address), \
	    NULL, true },						\
	{ "repro_address", key_repro, 0, NULL, false },			\
	{ "source_port", key_u16, offsetof(struct exporters_parse, sport), \
	    &port_range, false },					\
	{ "domains", key_domains, 0, NULL, false }

static const struct gen_key range_keys[] = {
	{ "count", gen_key_u64, offsetof(struct exporters_parse, count),
	    &count_range, true },
	EXPORTER_KEYS,
};

static const struct gen_key one_keys[] = {
	EXPORTER_KEYS,
};

/* The address i after a (IPv6: in the low 64 bits); false when it runs past the end of IPv4. */
static bool
addr_add(const struct tr_addr *a, uint64_t i, struct tr_addr *out)
{
	*out = *a;
	if (a->family == AF_INET) {
		uint64_t v = (uint64_t)ntohl(a->v4.s_addr) + i;

		if (v > UINT32_MAX)
			return false;
		out->v4.s_addr = htonl((uint32_t)v);
		return true;
	}
	for (int b = 15; b >= 8 && i > 0; b--) {
		uint64_t s = out->v6.s6_addr[b] + (i & 0xff);

		out->v6.s6_addr[b] = (uint8_t)s;
		i = (i >> 8) + (s >> 8);
	}
	return true;
}

/* One group of exporters (a count from an address, or one) appended to the spec. */
static int
exporters_add(struct gen_yaml *y, yaml_node_t *n, struct exporters_parse *e)
{
	struct gen_spec *s = e->spec;
	struct gen_exporter *ex;
	struct tr_addr repro_base;
	uint32_t *doms;
	struct tr_addr last;

	if (e->n_domains == 0) {
		e->domains[0] = 0;
		e->n_domains = 1;
	}
	if (s->n_exporters + e->count > GEN_MAX_EXPORTERS)
		return gen_yaml_fail(y, n, "more than %u exporters in all",
		    GEN_MAX_EXPORTERS);
	if (!addr_add(&e->address, e->count - 1, &last))
		return gen_yaml_fail(y, n, "%" PRIu64 " addresses from this "
		    "address run past 255.255.255.255", e->count);
	/* Defaults: IPv4 exporters on 127.1.0.1 and up, IPv6 ones all on ::1 (the replay needs no set-up). */
	if (e->repro_set)
		repro_base = e->repro;
	else if (e->address.family == AF_INET)
		addr_add(&(struct tr_addr){ .family = AF_INET,
		    .v4.s_addr = htonl(0x7f010001) }, s->n_exporters,
		    &repro_base);
	else
		addr_parse("::1", &repro_base);
	if (repro_base.family != e->address.family)
		return gen_yaml_fail(y, n, "repro_address and address must be "
		    "of one family");
	if (repro_base.family == AF_INET &&
	    !addr_add(&repro_base, e->count - 1, &last))
		return gen_yaml_fail(y, n, "the repro addresses run past "
		    "255.255.255.255");
	/* The default repro addresses must stay on loopback, which needs no set-up. */
	if (!e->repro_set && repro_base.family == AF_INET &&
	    (ntohl(last.v4.s_addr) >> 24) != 127)
		return gen_yaml_fail(y, n, "past 127.255.255.255 the default "
		    "repro addresses leave loopback: give repro_address");
	ex = realloc(s->exporters, (s->n_exporters + e->count) * sizeof(*ex));
	if (ex == NULL)
		return gen_yaml_fail(y, n, "out of memory");
	s->exporters = ex;
	doms = malloc(e->n_domains * sizeof(*doms));
	uint32_t **lists = doms == NULL ? NULL : realloc(s->domain_lists,
	    (s->n_domain_lists + 1) * sizeof(*lists));

	if (lists == NULL) {
		free(doms);
		return gen_yaml_fail(y, n, "out of memory");
	}
	s->domain_lists = lists;
	lists[s->n_domain_lists++] = doms;
	memcpy(doms, e->domains, e->n_domains * sizeof(*doms));
	for (uint64_t i = 0; i < e->count; i++) {
		struct gen_exporter *x = &ex[s->n_exporters];

		x->index = s->n_exporters++;
		addr_add(&e->address, i, &x->addr);
		x->repro = repro_base;
		if (repro_base.family == AF_INET)
			addr_add(&repro_base, i, &x->repro);
		x->sport = (uint16_t)(e->sport != 0 ? e->sport : 50000);
		x->domains = doms;
		x->n_domains = e->n_domains;
	}
	return 0;
}

static int
key_exporters(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	struct gen_spec *s = field;

	(void)arg;
	if (n->type == YAML_MAPPING_NODE) {
		struct exporters_parse e = { .spec = s };

		if (gen_yaml_walk(y, n, range_keys, NELEM(range_keys), &e) == -1)
			return -1;
		return exporters_add(y, n, &e);
	}
	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.top == n->data.sequence.items.start)
		return fail_type(y, n, "a mapping {count, address, ...} or a "
		    "list of exporters {address, ...}");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		struct exporters_parse e = { .spec = s, .count = 1 };
		yaml_node_t *x = gen_yaml_node(y, *it);
		size_t old = gen_yaml_push(y, "[%zu]",
		    (size_t)(it - n->data.sequence.items.start));

		if (gen_yaml_walk(y, x, one_keys, NELEM(one_keys), &e) == -1 ||
		    exporters_add(y, x, &e) == -1)
			return -1;
		gen_yaml_pop(y, old);
	}
	return 0;
}

/* A protocol section: handed to its generator's parse hook. */
struct section_arg {
	const struct proto	*proto;
	const struct proto_gen	*gen;
	size_t			 key;
};

static int
key_section(struct gen_yaml *y, yaml_node_t *n, void *field, const void *arg)
{
	const struct section_arg *a = arg;
	struct gen_spec *s = field;
	struct gen_section *sec;

	if (s->n_sections == GEN_MAX_SECTIONS)
		return gen_yaml_fail(y, n, "too many sections");
	sec = &s->sections[s->n_sections];
	sec->proto = a->proto;
	sec->gen = a->gen;
	sec->key = a->key;
	sec->conf = NULL;
	if (a->gen->parse(y, n, a->key, s, &sec->conf) == -1) {
		if (sec->conf != NULL)
			a->gen->free(sec->conf);
		return -1;
	}
	s->n_sections++;
	return 0;
}

static int
addr_cmp(const void *a, const void *b)
{
	return addr_compare(a, b);
}

/* An address given twice would be one exporter twice in the replay's map. */
static int
exporters_unique(struct gen_yaml *y, yaml_node_t *root, struct gen_spec *s)
{
	struct tr_addr *sorted = malloc(s->n_exporters * sizeof(*sorted));
	char buf[TR_ADDR_STRLEN];
	int rc = 0;

	if (sorted == NULL)
		return gen_yaml_fail(y, root, "out of memory");
	for (size_t i = 0; i < s->n_exporters; i++)
		sorted[i] = s->exporters[i].addr;
	qsort(sorted, s->n_exporters, sizeof(*sorted), addr_cmp);
	for (size_t i = 1; i < s->n_exporters && rc == 0; i++)
		if (addr_equal(&sorted[i - 1], &sorted[i]))
			rc = gen_yaml_fail(y, root, "exporter %s is given "
			    "twice", addr_format(&sorted[i], buf, sizeof(buf)));
	free(sorted);
	return rc;
}

static int
load_root(struct gen_yaml *y, yaml_node_t *root, struct gen_spec *s)
{
	struct gen_key keys[MAX_KEYS];
	struct section_arg args[GEN_MAX_SECTIONS];
	size_t nk = 0, na = 0;
	static const struct gen_key base[] = {
		{ "seed", key_seed, offsetof(struct gen_spec, seed), NULL,
		    false },
		{ "start", key_start, offsetof(struct gen_spec, start), NULL,
		    false },
		{ "duration", gen_key_u32, offsetof(struct gen_spec, duration),
		    &duration_range, true },
		{ "interval", key_interval,
		    offsetof(struct gen_spec, interval_ms), NULL, false },
		{ "collector", key_collector, 0, NULL, true },
		{ "exporters", key_exporters, 0, NULL, true },
	};

	for (size_t i = 0; i < NELEM(base); i++)
		keys[nk++] = base[i];
	for (int id = 0; id < SECTION_COUNT; id++) {
		const struct proto_gen *g = protocols[id]->gen;

		for (size_t k = 0; g != NULL && k < g->n_keys; k++) {
			if (na == NELEM(args) || nk == NELEM(keys))
				return gen_yaml_fail(y, NULL, "internal "
				    "error: too many generator sections");
			args[na] = (struct section_arg){ protocols[id], g, k };
			keys[nk++] = (struct gen_key){ g->keys[k], key_section,
			    0, &args[na++], false };
		}
	}
	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return root == NULL ? gen_yaml_fail(y, NULL, "the spec is "
		    "empty") : fail_type(y, root, "a mapping of spec keys");
	if (gen_yaml_walk(y, root, keys, nk, s) == -1)
		return -1;
	if (s->n_sections == 0) {
		char names[256] = "";
		size_t len = 0;

		/* The sections the table's generators read, in its order. */
		for (size_t i = NELEM(base); i < nk && len < sizeof(names); i++)
			len += (size_t)snprintf(names + len, sizeof(names) - len,
			    "%s%s", i > NELEM(base) ? ", " : "", keys[i].key);
		return gen_yaml_fail(y, root, "no protocol section: give one "
		    "of %s", names);
	}
	if (gen_spec_ticks(s) == 0)
		return gen_yaml_fail(y, root, "the interval (%u ms) is longer "
		    "than the duration (%u s): nothing would be sent",
		    s->interval_ms, s->duration);
	for (size_t i = 0; i < s->n_exporters; i++)
		if (s->exporters[i].addr.family != s->collector.family)
			return gen_yaml_fail(y, root, "exporters and the "
			    "collector must be of one address family");
	return exporters_unique(y, root, s);
}

int
gen_spec_load(const char *path, const char *buf, size_t len,
    struct gen_spec *s, char *err, size_t errlen)
{
	struct gen_yaml y = { .file = path, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	char *data = NULL;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	s->start = (tr_ns)DEFAULT_START * TR_NS_PER_SEC;
	s->interval_ms = 1000;
	err[0] = '\0';
	if (buf == NULL) {
		FILE *f = fopen(path, "rb");
		size_t n;

		if (f == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		data = malloc(MAX_SPEC_BYTES + 1);
		n = data == NULL ? 0 : fread(data, 1, MAX_SPEC_BYTES + 1, f);
		fclose(f);
		if (data == NULL || n > MAX_SPEC_BYTES) {
			snprintf(err, errlen, "%s: %s", path, data == NULL ?
			    "out of memory" : "larger than 1 MiB: not a spec");
			free(data);
			return -1;
		}
		buf = data;
		len = n;
	}
	if (!yaml_parser_initialize(&parser)) {
		free(data);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s", path,
		    parser.problem_mark.line + 1, parser.problem_mark.column + 1,
		    parser.problem != NULL ? parser.problem : "YAML error");
		yaml_parser_delete(&parser);
		free(data);
		return -1;
	}
	y.doc = &doc;
	rc = load_root(&y, yaml_document_get_root_node(&doc), s);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(data);
	if (rc == -1)
		gen_spec_free(s);
	return rc;
}

void
gen_spec_free(struct gen_spec *s)
{
	for (size_t i = 0; i < s->n_sections; i++)
		s->sections[i].gen->free(s->sections[i].conf);
	for (size_t i = 0; i < s->n_domain_lists; i++)
		free(s->domain_lists[i]);
	free(s->domain_lists);
	free(s->exporters);
	memset(s, 0, sizeof(*s));
}

uint64_t
gen_spec_ticks(const struct gen_spec *s)
{
	return (uint64_t)s->duration * 1000 / s->interval_ms;
}
