/* generate's spec (YAML): exporters, collector, time, seed and one section per protocol generator, validated with file:line:col errors. */
#ifndef TR_GEN_SPEC_H
#define TR_GEN_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "addr.h"
#include "gen_rand.h"
#include "monotime.h"

#define GEN_MAX_EXPORTERS	(1u << 24)	/* 127.0.0.0/8 holds as many repro addresses */
#define GEN_MAX_DOMAINS		64		/* per exporter */
#define GEN_MAX_SECTIONS	8		/* protocol sections in one spec */
#define GEN_MAX_DURATION	(7 * 86400)	/* seconds */

struct gen_exporter {
	size_t		 index;
	struct tr_addr	 addr;		/* in the capture */
	struct tr_addr	 repro;		/* where OUT.yml maps it */
	uint16_t	 sport;
	const uint32_t	*domains;	/* the spec's list, shared */
	size_t		 n_domains;
};

struct proto;
struct proto_gen;

/* One protocol section of the spec: its generator and what its parse hook made of it. */
struct gen_section {
	const struct proto	*proto;	/* whose descriptor's hook it is: the replay section */
	const struct proto_gen	*gen;
	size_t			 key;	/* which of gen->keys */
	void			*conf;
};

struct gen_spec {
	uint64_t		 seed;
	tr_ns			 start;		/* Unix time of the first packet */
	uint32_t		 duration;	/* seconds */
	uint32_t		 interval_ms;	/* export interval */
	struct tr_addr		 collector;
	uint16_t		 collector_port;
	struct gen_exporter	*exporters;
	size_t			 n_exporters;
	uint32_t		**domain_lists;	/* storage of the exporters' domains */
	size_t			 n_domain_lists;
	struct gen_section	 sections[GEN_MAX_SECTIONS];
	size_t			 n_sections;
};

/*
 * Load and validate path; errors go into err as "FILE:LINE:COL: KEY:
 * message".  buf/len: parse these bytes instead of reading path (fuzzing,
 * tests), path then only names them.  0, or -1.
 */
int	gen_spec_load(const char *path, const char *buf, size_t len,
	    struct gen_spec *, char *err, size_t errlen);
void	gen_spec_free(struct gen_spec *);
/* The number of export intervals in the spec's duration. */
uint64_t gen_spec_ticks(const struct gen_spec *);

/* ---- the YAML reading a protocol generator's parse hook shares ---- */

struct gen_yaml;

/* One key a mapping may hold: its handler gets obj + off. */
struct gen_key {
	const char	*key;
	int		(*fn)(struct gen_yaml *, yaml_node_t *val, void *field,
			    const void *arg);
	size_t		 off;
	const void	*arg;
	bool		 required;
};

/* Bounds of an integer key. */
struct gen_int_range {
	uint64_t	 lo, hi;
};

int	gen_yaml_fail(struct gen_yaml *, const yaml_node_t *, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/* A mapping walked against its keys: unknown keys and keys given twice are errors. */
int	gen_yaml_walk(struct gen_yaml *, yaml_node_t *, const struct gen_key *,
	    size_t n, void *obj);
yaml_node_t *gen_yaml_node(struct gen_yaml *, yaml_node_item_t);
/* The key path is extended for messages while an element is read. */
size_t	gen_yaml_push(struct gen_yaml *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	gen_yaml_pop(struct gen_yaml *, size_t old);
int	gen_yaml_u64(struct gen_yaml *, yaml_node_t *, uint64_t lo, uint64_t hi,
	    uint64_t *out);
int	gen_yaml_double(struct gen_yaml *, yaml_node_t *, double lo, double hi,
	    double *out);
int	gen_yaml_string(struct gen_yaml *, yaml_node_t *, const char **out);
/* A distribution of values in [lo, hi] (see README "Generate"). */
int	gen_yaml_dist(struct gen_yaml *, yaml_node_t *, uint64_t lo,
	    uint64_t hi, struct gen_dist *out);
/* Handlers for gen_key: arg is a struct gen_int_range (uint32_t and uint64_t fields). */
int	gen_key_u32(struct gen_yaml *, yaml_node_t *, void *, const void *);
int	gen_key_u64(struct gen_yaml *, yaml_node_t *, void *, const void *);

#endif
