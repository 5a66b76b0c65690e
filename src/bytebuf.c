/* The byte buffer: growth up to a cap, O(1) consume, memory given back after a burst. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "slab.h"

/* Move the bytes to the front of the allocation. */
static void
slide(struct bytebuf *b)
{
	size_t len = b->end - b->off;

	if (b->off > 0 && len > 0)
		memmove(b->p, b->p + b->off, len);
	b->off = 0;
	b->end = len;
}

/* Reallocate to cap bytes (which hold the data); the buffer is unchanged when that fails. */
static int
resize(struct bytebuf *b, size_t cap)
{
	uint8_t *p;

	slide(b);
	p = b->slab != NULL ? slab_resize(b->slab, b->p, b->cap, cap) :
	    realloc(b->p, cap);
	if (p == NULL) {
		errno = ENOMEM;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

int
bytebuf_reserve(struct bytebuf *b, size_t n)
{
	size_t len = b->end - b->off, need, cap;

	if (n > b->max || len > b->max - n) {
		errno = ENOBUFS;
		return -1;
	}
	if (n <= b->cap - b->end)
		return 0;
	need = len + n;
	/*
	 * Slide rather than grow when that moves no more bytes than were
	 * consumed before them (so each byte appended is moved at most once
	 * on average), or when the buffer may not grow.
	 */
	if (need <= b->cap && (b->off >= len || b->cap == b->max)) {
		slide(b);
		return 0;
	}
	cap = b->cap ? b->cap : BYTEBUF_MIN / 2;
	do
		cap = cap > b->max / 2 ? b->max : cap * 2;
	while (cap < need);
	return resize(b, cap);
}

int
bytebuf_append(struct bytebuf *b, const void *src, size_t n)
{
	if (bytebuf_reserve(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->p + b->end, src, n);
	b->end += n;
	return 0;
}

void
bytebuf_consume(struct bytebuf *b, size_t n)
{
	size_t len = b->end - b->off;

	if (n >= len) {
		b->off = b->end = 0;
		if (b->cap > BYTEBUF_KEEP)
			bytebuf_free(b);
		return;
	}
	b->off += n;
	/*
	 * A quarter of the capacity leaves the rest at most half of it, so
	 * the next shrink or growth is as far off; failing is harmless.
	 */
	if (b->cap > BYTEBUF_KEEP && len - n <= b->cap / 8)
		(void)resize(b, b->cap / 4 > BYTEBUF_KEEP ? b->cap / 4 :
		    BYTEBUF_KEEP);
}

void
bytebuf_free(struct bytebuf *b)
{
	struct slab *slab = b->slab;

	if (slab != NULL)
		slab_free(slab, b->p, b->cap);
	else
		free(b->p);
	bytebuf_init(b, b->max);
	b->slab = slab;
}
