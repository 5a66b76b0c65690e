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

#endif
