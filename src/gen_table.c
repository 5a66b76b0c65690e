/*
 * Synthetic routing tables for the BMP and BGP generators.  A table is a
 * sequence of prefixes drawn from one random stream: the prefix length
 * from the spec's distribution, the address the next free one of that
 * length (distinct while a length's space lasts: IPv4 from 1.0.0.0, IPv6
 * from 2000::/3).  Walking the sequence again from the same seed gives the
 * same prefixes, which is how churn withdraws and re-announces them
 * without keeping the table: memory does not grow with its size.
 */
#include <string.h>

#include "bgp_encode.h"
#include "gen_table.h"

#define V4_MIN_PLEN	8
#define V6_MIN_PLEN	16

const struct gen_int_range gen_table_routes_range = { 0, GEN_TABLE_MAX_ROUTES };
const int gen_table_which[3] = { 0, 1, 2 };

int
gen_table_key_word(struct gen_yaml *y, yaml_node_t *n, void *field,
    const void *arg)
{
	(void)arg;
	return gen_yaml_string(y, n, field);
}

/* A distribution key: field is the table, arg says which of its distributions. */
int
gen_table_key_dist(struct gen_yaml *y, yaml_node_t *n, void *field,
    const void *arg)
{
	struct gen_table *t = field;

	switch (*(const int *)arg) {
	case 0:
		t->plen_set = true;
		return gen_yaml_dist(y, n, 0, 128, &t->prefix_length);
	case 1:
		t->path_set = true;
		return gen_yaml_dist(y, n, 0, GEN_TABLE_MAX_AS_PATH,
		    &t->as_path_length);
	default:
		t->comm_set = true;
		return gen_yaml_dist(y, n, 0, GEN_TABLE_MAX_COMMUNITIES,
		    &t->communities);
	}
}

/* The smallest value a draw can give. */
static uint64_t
dist_min(const struct gen_dist *d)
{
	uint64_t m = d->lo;

	if (d->kind == GEN_DIST_WEIGHTED)
		for (size_t i = 0; i < d->n; i++)
			m = i == 0 || d->values[i] < m ? d->values[i] : m;
	return m;
}

int
gen_table_complete(struct gen_yaml *y, yaml_node_t *n, struct gen_table *t,
    int default_family)
{
	unsigned min, max;

	t->family = default_family;
	if (t->family_s != NULL) {
		if (strcmp(t->family_s, "ipv4") == 0)
			t->family = AF_INET;
		else if (strcmp(t->family_s, "ipv6") == 0)
			t->family = AF_INET6;
		else
			return gen_yaml_fail(y, n, "family: '%s' is neither "
			    "ipv4 nor ipv6", t->family_s);
	}
	min = t->family == AF_INET ? V4_MIN_PLEN : V6_MIN_PLEN;
	max = t->family == AF_INET ? 32 : GEN_TABLE_V6_MAX_PLEN;
	if (!t->plen_set) {
		t->prefix_length.kind = GEN_DIST_CONST;
		t->prefix_length.lo = t->family == AF_INET ? 24 : 48;
	}
	if (!t->path_set) {
		t->as_path_length.kind = GEN_DIST_UNIFORM;
		t->as_path_length.lo = 1;
		t->as_path_length.hi = 6;
	}
	/* communities default to none: a zeroed constant distribution */
	if (t->prefix_length.kind == GEN_DIST_EXPONENTIAL)
		return gen_yaml_fail(y, n, "prefix_length: a constant, "
		    "uniform, zipf or weighted list");
	if (gen_dist_max(&t->prefix_length) > max ||
	    dist_min(&t->prefix_length) < min)
		return gen_yaml_fail(y, n, "prefix_length: %s routes take "
		    "lengths %u to %u", t->family == AF_INET ? "IPv4" : "IPv6",
		    min, max);
	return 0;
}

void
gen_table_free(struct gen_table *t)
{
	gen_dist_free(&t->prefix_length);
	gen_dist_free(&t->as_path_length);
	gen_dist_free(&t->communities);
}

void
gen_table_walk_start(struct gen_table_walk *w, uint64_t seed, uint64_t salt)
{
	memset(w, 0, sizeof(*w));
	gen_rand_seed(&w->rnd, seed, salt);
}

void
gen_table_walk_next(struct gen_table_walk *w, const struct gen_table *t,
    struct gen_prefix *p)
{
	uint8_t len = (uint8_t)gen_dist_draw(&t->prefix_length, &w->rnd);
	uint64_t c = w->next[len]++;

	uint64_t space;

	w->index++;
	p->plen = len;
	/* The length's space: wrapped only past it (a division per prefix was a tenth of a BGP run). */
	if (t->family == AF_INET) {
		space = (1ull << len) - (1ull << (len - 8));
		if (c >= space)
			c %= space;
		be32_store(p->addr, (1u << 24) + (uint32_t)(c << (32 - len)));
	} else {
		space = 1ull << (len - 3);
		if (c >= space)
			c %= space;
		be64_store(p->addr, (0x2000ull << 48) + (c << (64 - len)));
		memset(p->addr + 8, 0, 8);
	}
}

static void
prefixes(struct writer *w, const struct gen_prefix *px, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bgp_enc_prefix(w, px[i].addr, px[i].plen);
}

void
gen_table_update(struct writer *w, const struct gen_table *t,
    struct gen_rand *rnd, uint32_t first_as, const struct tr_addr *next_hop,
    const struct gen_prefix *px, size_t n, bool withdraw)
{
	bool v4 = t->family == AF_INET;
	struct bgp_enc_update u;
	size_t at;

	bgp_enc_update_begin(&u, w);
	if (withdraw && v4)
		prefixes(w, px, n);
	bgp_enc_update_attrs(&u);
	if (withdraw && !v4) {
		at = bgp_enc_mp_unreach_begin(w, BGP_ENC_AFI_IPV6,
		    BGP_ENC_SAFI_UNICAST);
		prefixes(w, px, n);
		bgp_enc_attr_end(w, at);
	}
	if (!withdraw) {
		uint32_t path[GEN_TABLE_MAX_AS_PATH];
		uint32_t comm[GEN_TABLE_MAX_COMMUNITIES];
		size_t n_path = (size_t)gen_dist_draw(&t->as_path_length, rnd);
		size_t n_comm = (size_t)gen_dist_draw(&t->communities, rnd);

		for (size_t i = 0; i < n_path; i++)
			path[i] = i == 0 ? first_as :
			    (uint32_t)gen_rand_range(rnd, 1, 64495);
		for (size_t i = 0; i < n_comm; i++)
			comm[i] = (first_as & 0xffff) << 16 |
			    (uint32_t)gen_rand_range(rnd, 1, 65535);
		if (!v4) {
			at = bgp_enc_mp_reach_begin(w, BGP_ENC_AFI_IPV6,
			    BGP_ENC_SAFI_UNICAST, next_hop);
			prefixes(w, px, n);
			bgp_enc_attr_end(w, at);
		}
		bgp_enc_origin(w, 0);			/* IGP */
		bgp_enc_as_path(w, path, n_path);
		if (v4)
			bgp_enc_next_hop(w, next_hop);
		if (n_comm > 0)
			bgp_enc_communities(w, comm, n_comm);
	}
	bgp_enc_update_nlri(&u);
	if (!withdraw && v4)
		prefixes(w, px, n);
	bgp_enc_update_end(&u);
}

uint64_t
gen_due(uint64_t per_sec, uint32_t interval_ms, uint64_t t)
{
	return (per_sec * (t + 1) * interval_ms) / 1000 -
	    (per_sec * t * interval_ms) / 1000;
}
