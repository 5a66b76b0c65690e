/*
 * A synthetic routing table, shared by the BMP and BGP generators: its spec
 * keys (routes, family, prefix_length, as_path_length, communities), its
 * prefixes in order from a seeded stream (no table kept in memory), and
 * the BGP UPDATE that announces or withdraws some of them.
 */
#ifndef TR_GEN_TABLE_H
#define TR_GEN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "gen_rand.h"
#include "gen_spec.h"
#include "writer.h"

#define GEN_TABLE_MAX_ROUTES		(1u << 26)
#define GEN_TABLE_MAX_PER_MESSAGE	200	/* prefixes per UPDATE: it stays under 4,096 bytes */
#define GEN_TABLE_MAX_AS_PATH		60
#define GEN_TABLE_MAX_COMMUNITIES	60
#define GEN_TABLE_V6_MAX_PLEN		64

struct gen_table {
	uint64_t	 routes;
	struct gen_dist	 prefix_length;
	struct gen_dist	 as_path_length;
	struct gen_dist	 communities;
	int		 family;	/* AF_INET, AF_INET6 */
	/* as the spec gave them */
	const char	*family_s;
	bool		 plen_set, path_set, comm_set;
};

extern const struct gen_int_range gen_table_routes_range;
extern const int gen_table_which[3];
int	gen_table_key_word(struct gen_yaml *, yaml_node_t *, void *field,
	    const void *arg);
int	gen_table_key_dist(struct gen_yaml *, yaml_node_t *, void *field,
	    const void *arg);

/* A table's keys in a gen_key array, for a struct gen_table at offset off of the walked object. */
#define GEN_TABLE_KEYS(off, routes_required)				\
	{ "routes", gen_key_u64, (off) + offsetof(struct gen_table, routes), \
	    &gen_table_routes_range, (routes_required) },		\
	{ "family", gen_table_key_word,					\
	    (off) + offsetof(struct gen_table, family_s), NULL, false },	\
	{ "prefix_length", gen_table_key_dist, (off), &gen_table_which[0], \
	    false },							\
	{ "as_path_length", gen_table_key_dist, (off), &gen_table_which[1], \
	    false },							\
	{ "communities", gen_table_key_dist, (off), &gen_table_which[2], \
	    false }

/* Defaults (the family: default_family unless given) and checks once the keys are read; 0, or -1. */
int	gen_table_complete(struct gen_yaml *, yaml_node_t *, struct gen_table *,
	    int default_family);
void	gen_table_free(struct gen_table *);

struct gen_prefix {
	uint8_t		 addr[16];
	uint8_t		 plen;
};

/* A position in a table: the same seed and salt give the same prefixes in the same order. */
struct gen_table_walk {
	struct gen_rand	 rnd;
	uint64_t	 index;		/* prefixes drawn */
	uint64_t	 next[GEN_TABLE_V6_MAX_PLEN + 1];	/* per length: the next free one */
};

void	gen_table_walk_start(struct gen_table_walk *, uint64_t seed,
	    uint64_t salt);
void	gen_table_walk_next(struct gen_table_walk *, const struct gen_table *,
	    struct gen_prefix *);

/*
 * One UPDATE announcing (path attributes drawn from rnd: an AS_PATH that
 * starts with first_as, communities) or withdrawing n prefixes of the
 * table's family: IPv4 in the UPDATE's own fields, IPv6 in
 * MP_REACH/MP_UNREACH_NLRI.
 */
void	gen_table_update(struct writer *, const struct gen_table *,
	    struct gen_rand *, uint32_t first_as, const struct tr_addr *next_hop,
	    const struct gen_prefix *, size_t n, bool withdraw);

/* What is due in tick t of a rate per second over ticks of interval_ms: the whole ones up to its end less those up to its start. */
uint64_t gen_due(uint64_t per_sec, uint32_t interval_ms, uint64_t t);

#endif
