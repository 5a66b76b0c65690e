/* Seeded random numbers (xoshiro256** by Blackman and Vigna) and value distributions for generate. */
#include <math.h>
#include <stdlib.h>

#include "gen_rand.h"

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
gen_rand_seed(struct gen_rand *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);

	/* splitmix64 never gives four zero words, xoshiro's one bad state. */
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
gen_rand_next(struct gen_rand *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint64_t
gen_rand_range(struct gen_rand *r, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo, limit, x;

	if (span == UINT64_MAX)
		return gen_rand_next(r);
	span++;
	/* Draws past the last whole multiple of span are redrawn: no bias. */
	limit = UINT64_MAX - UINT64_MAX % span;
	do
		x = gen_rand_next(r);
	while (x >= limit);
	return lo + x % span;
}

double
gen_rand_unit(struct gen_rand *r)
{
	return (double)(gen_rand_next(r) >> 11) * 0x1.0p-53;
}

int
gen_dist_ready(struct gen_dist *d)
{
	double total = 0;

	if (d->kind == GEN_DIST_ZIPF) {
		d->n = (size_t)(d->hi - d->lo + 1);
		if ((d->cdf = calloc(d->n, sizeof(*d->cdf))) == NULL)
			return -1;
		for (size_t i = 0; i < d->n; i++) {
			total += 1.0 / pow((double)(i + 1), d->s);
			d->cdf[i] = total;
		}
	} else if (d->kind == GEN_DIST_WEIGHTED) {
		/* values and weights came in cdf as the weights: made cumulative here. */
		for (size_t i = 0; i < d->n; i++) {
			total += d->cdf[i];
			d->cdf[i] = total;
		}
	}
	return 0;
}

void
gen_dist_free(struct gen_dist *d)
{
	free(d->values);
	free(d->cdf);
	d->values = NULL;
	d->cdf = NULL;
}

/* The first index whose cumulative weight is above x. */
static size_t
cdf_find(const double *cdf, size_t n, double x)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cdf[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

uint64_t
gen_dist_draw(const struct gen_dist *d, struct gen_rand *r)
{
	double x;

	switch (d->kind) {
	case GEN_DIST_CONST:
		return d->lo;
	case GEN_DIST_UNIFORM:
		return gen_rand_range(r, d->lo, d->hi);
	case GEN_DIST_ZIPF:
		x = gen_rand_unit(r) * d->cdf[d->n - 1];
		return d->lo + cdf_find(d->cdf, d->n, x);
	case GEN_DIST_WEIGHTED:
		x = gen_rand_unit(r) * d->cdf[d->n - 1];
		return d->values[cdf_find(d->cdf, d->n, x)];
	case GEN_DIST_EXPONENTIAL:
		x = -d->mean * log1p(-gen_rand_unit(r));
		if (x < (double)d->lo)
			return d->lo;
		if (x >= (double)d->hi)
			return d->hi;
		return (uint64_t)x;
	}
	return d->lo;
}

uint64_t
gen_dist_max(const struct gen_dist *d)
{
	uint64_t m = 0;

	switch (d->kind) {
	case GEN_DIST_CONST:
		return d->lo;
	case GEN_DIST_WEIGHTED:
		for (size_t i = 0; i < d->n; i++)
			if (d->values[i] > m)
				m = d->values[i];
		return m;
	default:
		return d->hi;
	}
}
