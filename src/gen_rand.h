/* generate's seeded random numbers (xoshiro256**, seeded by splitmix64) and the value distributions of a spec's fields. */
#ifndef TR_GEN_RAND_H
#define TR_GEN_RAND_H

#include <stddef.h>
#include <stdint.h>

/* One stream of numbers; the same seed gives the same numbers on every machine. */
struct gen_rand {
	uint64_t	s[4];
};

/* Seed from a number and a stream id, so that each exporter's stream is its own whatever the order they run in. */
void	 gen_rand_seed(struct gen_rand *, uint64_t seed, uint64_t stream);
uint64_t gen_rand_next(struct gen_rand *);
/* Uniform in [lo, hi] (lo <= hi), without modulo bias. */
uint64_t gen_rand_range(struct gen_rand *, uint64_t lo, uint64_t hi);
/* Uniform in [0, 1). */
double	 gen_rand_unit(struct gen_rand *);
/* ln x for x > 0, from IEEE arithmetic alone: the same on every machine. */
double	 gen_ln(double x);

enum gen_dist_kind {
	GEN_DIST_CONST,		/* value */
	GEN_DIST_UNIFORM,	/* lo..hi */
	GEN_DIST_ZIPF,		/* lo + rank - 1, rank 1..n with weight 1 / rank^s */
	GEN_DIST_WEIGHTED,	/* values[i] with weights[i] */
	GEN_DIST_EXPONENTIAL,	/* mean; at least lo (1 for counters), at most hi */
};

/*
 * A distribution of unsigned values.  Zipf and weighted lists draw in
 * constant time from an alias table (Vose): slot i of n is taken with
 * probability prob[i], else its alias.  The parser puts a weighted list's
 * weights in prob; gen_dist_ready turns them into the table.
 */
struct gen_dist {
	enum gen_dist_kind kind;
	uint64_t	 lo, hi;
	double		 mean, s;
	uint64_t	*values;	/* weighted */
	double		*prob;		/* zipf, weighted */
	uint32_t	*alias;
	size_t		 n;
};

/* Builds the tables; 0, or -1 (ENOMEM). */
int	 gen_dist_ready(struct gen_dist *);
void	 gen_dist_free(struct gen_dist *);
uint64_t gen_dist_draw(const struct gen_dist *, struct gen_rand *);
/* The largest value a draw can give (checked against the field's length). */
uint64_t gen_dist_max(const struct gen_dist *);

#endif
