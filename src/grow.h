/* Arrays grown by doubling, with the size multiplication checked. */
#ifndef TR_GROW_H
#define TR_GROW_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Make the array at *arrayp (a pointer to the array's pointer), of *cap
 * items of elem bytes, hold at least need items and at most max: 0, or -1
 * with errno ENOBUFS past max or ENOMEM (reallocarray: no overflow), the
 * array unchanged.  Capacity doubles, from 16.
 */
static inline int
grow_array(void *arrayp, size_t *cap, size_t elem, size_t need, size_t max)
{
	size_t ncap = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return 0;
	if (need > max) {
		errno = ENOBUFS;
		return -1;
	}
	do
		ncap = ncap > max / 2 ? max : ncap * 2;
	while (ncap < need);
	/* Through memcpy: the array's pointer has its own type, not void *. */
	memcpy(&p, arrayp, sizeof(p));
	if ((p = reallocarray(p, ncap, elem)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(arrayp, &p, sizeof(p));
	*cap = ncap;
	return 0;
}

#endif
