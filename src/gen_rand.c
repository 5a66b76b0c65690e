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

/* Lemire's multiply-and-shift: a division only in the rare case a draw may be redrawn, and no bias. */
uint64_t
gen_rand_range(struct gen_rand *r, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo, low;
	unsigned __int128 m;

	if (span == UINT64_MAX)
		return gen_rand_next(r);
	span++;
	m = (unsigned __int128)gen_rand_next(r) * span;
	low = (uint64_t)m;
	if (low < span) {
		uint64_t threshold = -span % span;

		while (low < threshold) {
			m = (unsigned __int128)gen_rand_next(r) * span;
			low = (uint64_t)m;
		}
	}
	return lo + (uint64_t)(m >> 64);
}

double
gen_rand_unit(struct gen_rand *r)
{
	return (double)(gen_rand_next(r) >> 11) * 0x1.0p-53;
}

/*
 * The natural logarithm of x > 0 with +, *, / and frexp only, whose IEEE
 * results are the same everywhere: libm's log may differ by an ulp between
 * its versions and CPU variants (an FMA one), and a value that truncates
 * differently would break "same seed, same bytes" across machines.
 * x = m 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(t), t = (m-1)/(m+1),
 * |t| < 0.172, by its series to t^25 in Horner form (the next term is below
 * 2^-60 of the sum).
 */
double
gen_ln(double x)
{
	static const double ln2 = 0.69314718055994530942;
	/* 1 / (2j + 1): constants, so no division per term. */
	static const double c[] = {
		1.0, 1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11, 1.0 / 13,
		1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23, 1.0 / 25,
	};
	double m, t, t2, sum;
	int e;

	m = frexp(x, &e);	/* m in [0.5, 1) */
	if (m < 0.70710678118654752440) {
		m *= 2;
		e--;
	}
	t = (m - 1) / (m + 1);
	t2 = t * t;
	sum = c[12];
	for (int j = 11; j >= 0; j--)
		sum = sum * t2 + c[j];
	return 2 * t * sum + e * ln2;
}

/* e^y the same way: y = k ln 2 + r, |r| <= ln 2 / 2, e^r by its series to r^24 (next term below 2^-70). */
static double
gen_exp(double y)
{
	static const double ln2 = 0.69314718055994530942;
	double k = nearbyint(y / ln2), r = y - k * ln2, sum = 1, term = 1;

	for (int i = 1; i <= 24; i++) {
		term *= r / i;
		sum += term;
	}
	return ldexp(sum, (int)k);
}

/* Vose's alias method over the n weights in d->prob (n >= 1, positive). */
static int
alias_build(struct gen_dist *d)
{
	size_t n = d->n, *small = calloc(n, sizeof(*small)),
	    *large = calloc(n, sizeof(*large)), ns = 0, nl = 0;
	double total = 0;

	d->alias = calloc(n, sizeof(*d->alias));
	if (small == NULL || large == NULL || d->alias == NULL) {
		free(small);
		free(large);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		total += d->prob[i];
	for (size_t i = 0; i < n; i++) {
		d->prob[i] = d->prob[i] * (double)n / total;
		d->alias[i] = (uint32_t)i;
		if (d->prob[i] < 1.0)
			small[ns++] = i;
		else
			large[nl++] = i;
	}
	while (ns > 0 && nl > 0) {
		size_t s = small[--ns], l = large[nl - 1];

		d->alias[s] = (uint32_t)l;
		d->prob[l] -= 1.0 - d->prob[s];
		if (d->prob[l] < 1.0) {
			nl--;
			small[ns++] = l;
		}
	}
	/* What is left is 1 but for rounding. */
	while (nl > 0)
		d->prob[large[--nl]] = 1.0;
	while (ns > 0)
		d->prob[small[--ns]] = 1.0;
	free(small);
	free(large);
	return 0;
}

int
gen_dist_ready(struct gen_dist *d)
{
	if (d->kind == GEN_DIST_ZIPF) {
		d->n = (size_t)(d->hi - d->lo + 1);
		if ((d->prob = calloc(d->n, sizeof(*d->prob))) == NULL)
			return -1;
		for (size_t i = 0; i < d->n; i++)
			d->prob[i] = gen_exp(-d->s * gen_ln((double)(i + 1)));
	}
	if (d->kind == GEN_DIST_ZIPF || d->kind == GEN_DIST_WEIGHTED)
		return alias_build(d);
	return 0;
}

void
gen_dist_free(struct gen_dist *d)
{
	free(d->values);
	free(d->prob);
	free(d->alias);
	d->values = NULL;
	d->prob = NULL;
	d->alias = NULL;
}

/* A slot of the alias table: one number gives the slot (high half) and the coin (low half). */
static size_t
alias_draw(const struct gen_dist *d, struct gen_rand *r)
{
	uint64_t x = gen_rand_next(r);
	size_t i = (size_t)(((x >> 32) * (uint64_t)d->n) >> 32);
	double coin = (double)(x & 0xffffffffu) * 0x1.0p-32;

	return coin < d->prob[i] ? i : d->alias[i];
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
		return d->lo + alias_draw(d, r);
	case GEN_DIST_WEIGHTED:
		return d->values[alias_draw(d, r)];
	case GEN_DIST_EXPONENTIAL:
		/* u in (0, 1]: -mean ln u, by inversion. */
		x = -d->mean * gen_ln((double)((gen_rand_next(r) >> 11) + 1) *
		    0x1.0p-53);
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
