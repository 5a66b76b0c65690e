#ifndef TR_HASH_H
#define TR_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a: the hash behind the lookup tables (sessions, exporters, fragments). */
#define FNV1A_BASIS	2166136261u

static inline uint32_t
fnv1a(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* murmur3's 32-bit finalizer: every input bit moves every output bit (word-wise hashes end with it). */
static inline uint32_t
hash_fmix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

#endif
