/* AS numbers pseudonymized by a keyed Feistel permutation per range, with cycle walking into the range. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "anon_as.h"

/* The ranges a pseudonym stays in; values outside all of them are reserved and kept. */
struct as_range {
	uint32_t	first, last;
	uint32_t	hole;		/* a reserved value inside, skipped (0: none) */
};

static const struct as_range ranges[] = {
	{ 1, 64495, 23456 },			/* public 16-bit, AS_TRANS excluded */
	{ 64512, 65534, 0 },			/* private 16-bit (RFC 6996) */
	{ 131072, 4199999999u, 0 },		/* public 32-bit */
	{ 4200000000u, 4294967294u, 0 },	/* private 32-bit (RFC 6996) */
};
#define NRANGES		(sizeof(ranges) / sizeof(ranges[0]))

/* Four rounds make a pseudorandom permutation (Luby-Rackoff); six for margin. */
#define ROUNDS		6
/* AS paths repeat the same few thousand ASes: recent pseudonyms are kept. */
#define CACHE_SIZE	65536

struct cache_entry {
	uint32_t	in, out;
	bool		used;
};

struct anon_as {
	uint8_t			key[32];	/* HMAC key of the round function */
	struct cache_entry	cache[CACHE_SIZE];
};

struct anon_as *
anon_as_new(const uint8_t key[ANON_KEY_LEN])
{
	static const char label[] = "traffic-reproducer AS numbers";
	struct anon_as *a = calloc(1, sizeof(*a));
	unsigned int len = sizeof(a->key);

	if (a == NULL)
		return NULL;
	/* A key of its own, so that nothing ties AS pseudonyms to address ones. */
	if (HMAC(EVP_sha256(), key, ANON_KEY_LEN, (const uint8_t *)label,
	    sizeof(label) - 1, a->key, &len) == NULL) {
		free(a);
		errno = EIO;
		return NULL;
	}
	return a;
}

void
anon_as_free(struct anon_as *a)
{
	if (a == NULL)
		return;
	OPENSSL_cleanse(a->key, sizeof(a->key));
	free(a);
}

/* The index of v in its range (the hole left out), or false when v is in none. */
static bool
range_of(uint32_t v, size_t *r, uint64_t *index)
{
	for (size_t i = 0; i < NRANGES; i++) {
		const struct as_range *g = &ranges[i];

		if (v < g->first || v > g->last || v == g->hole)
			continue;
		*r = i;
		*index = v - g->first - (g->hole != 0 && v > g->hole);
		return true;
	}
	return false;
}

static uint64_t
range_size(const struct as_range *g)
{
	return (uint64_t)g->last - g->first + 1 - (g->hole != 0);
}

static uint32_t
range_value(const struct as_range *g, uint64_t index)
{
	uint32_t v = (uint32_t)(g->first + index);

	return g->hole != 0 && v >= g->hole ? v + 1 : v;
}

/* The round function: HMAC of (range, round, half), cut to bits. */
static int
round_f(const struct anon_as *a, size_t r, int round, uint32_t half,
    unsigned bits, uint32_t *out)
{
	uint8_t in[6] = { (uint8_t)r, (uint8_t)round, (uint8_t)(half >> 24),
	    (uint8_t)(half >> 16), (uint8_t)(half >> 8), (uint8_t)half };
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int len = sizeof(md);

	if (HMAC(EVP_sha256(), a->key, sizeof(a->key), in, sizeof(in), md,
	    &len) == NULL) {
		errno = EIO;
		return -1;
	}
	*out = ((uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
	    (uint32_t)md[2] << 8 | md[3]) & ((1u << bits) - 1);
	return 0;
}

/* A balanced Feistel permutation of [0, 2^(2*half_bits)); forward or back. */
static int
feistel(const struct anon_as *a, size_t r, unsigned half_bits, uint64_t x,
    bool forward, uint64_t *out)
{
	uint32_t mask = (1u << half_bits) - 1, f;
	uint32_t left = (uint32_t)(x >> half_bits) & mask, right = (uint32_t)x & mask;

	for (int i = 0; i < ROUNDS; i++) {
		int round = forward ? i : ROUNDS - 1 - i;

		if (forward) {
			if (round_f(a, r, round, right, half_bits, &f) == -1)
				return -1;
			uint32_t t = right;
			right = left ^ f;
			left = t;
		} else {
			if (round_f(a, r, round, left, half_bits, &f) == -1)
				return -1;
			uint32_t t = left;
			left = right ^ f;
			right = t;
		}
	}
	*out = (uint64_t)left << half_bits | right;
	return 0;
}

/* Cycle walking: apply the permutation of the enclosing power of 4 until the value falls back into the range. */
static int
permute(struct anon_as *a, uint32_t v, bool forward, uint32_t *out)
{
	uint64_t index, n, x;
	unsigned half_bits = 1;
	size_t r;

	if (!range_of(v, &r, &index)) {
		*out = v;
		return 0;
	}
	n = range_size(&ranges[r]);
	while ((1ull << (2 * half_bits)) < n)
		half_bits++;
	x = index;
	do {
		if (feistel(a, r, half_bits, x, forward, &x) == -1)
			return -1;
	} while (x >= n);
	*out = range_value(&ranges[r], x);
	return 0;
}

int
anon_as_map(struct anon_as *a, uint32_t as, uint32_t *out)
{
	struct cache_entry *e = &a->cache[(as * 2654435761u) >> 16];

	if (e->used && e->in == as) {
		*out = e->out;
		return 0;
	}
	if (permute(a, as, true, out) == -1)
		return -1;
	*e = (struct cache_entry){ .in = as, .out = *out, .used = true };
	return 0;
}

int
anon_as_unmap(struct anon_as *a, uint32_t as, uint32_t *out)
{
	return permute(a, as, false, out);
}
