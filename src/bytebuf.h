/* One growable byte buffer with a size cap: queues, partial messages, socket reads. */
#ifndef TR_BYTEBUF_H
#define TR_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * The bytes are p[off, end) of an allocation of cap bytes.  Consuming only
 * moves off, so taking bytes from the front costs nothing; the bytes slide
 * to the front when the tail needs room.  The buffer never holds more than
 * max bytes (SIZE_MAX: no cap), whatever the wire says.
 *
 * Rules:
 * - A failing call changes nothing and returns -1 with errno ENOBUFS when
 *   the bytes would pass max, or ENOMEM when memory cannot be had.
 * - Pointers from bytebuf_data() and bytebuf_tail() are good until the
 *   next call that changes the buffer (reserve, append, consume, free).
 * - Memory is given back after a burst: when consuming empties a buffer
 *   grown past BYTEBUF_KEEP it is freed, and one left mostly empty (an
 *   eighth or less) is made smaller.
 * - bytebuf_init() (or a struct zeroed and then given its max) is the only
 *   set-up; bytebuf_free() leaves an empty buffer with the same max and slab.
 * - With slab set (the transport's queues), the memory comes from that slab
 *   (slab.h) rather than malloc, so that burst buffers are given back whole.
 */
struct slab;
struct bytebuf {
	uint8_t		*p;
	size_t		 off, end, cap;
	size_t		 max;
	struct slab	*slab;
};

/* The first allocation; a buffer grows by doubling from here. */
#define BYTEBUF_MIN	4096
/* Capacity kept when a buffer empties: one TCP write batch and a message. */
#define BYTEBUF_KEEP	(128u * 1024)

static inline void
bytebuf_init(struct bytebuf *b, size_t max)
{
	*b = (struct bytebuf){ .max = max };
}

static inline const uint8_t *
bytebuf_data(const struct bytebuf *b)
{
	return b->p != NULL ? b->p + b->off : NULL;
}

static inline size_t
bytebuf_len(const struct bytebuf *b)
{
	return b->end - b->off;
}

/* Room for n more bytes at the tail. */
int	bytebuf_reserve(struct bytebuf *, size_t n);
int	bytebuf_append(struct bytebuf *, const void *src, size_t n);
/* Drop n bytes from the front (all of them when n is larger). */
void	bytebuf_consume(struct bytebuf *, size_t n);
void	bytebuf_free(struct bytebuf *);

/*
 * Reading into the buffer (a socket's recv): bytebuf_reserve() first, then
 * up to bytebuf_room() bytes go to bytebuf_tail(), and bytebuf_commit()
 * adds the n that came to the data.
 */
static inline uint8_t *
bytebuf_tail(struct bytebuf *b)
{
	return b->p != NULL ? b->p + b->end : NULL;
}

static inline size_t
bytebuf_room(const struct bytebuf *b)
{
	return b->cap - b->end;
}

static inline void
bytebuf_commit(struct bytebuf *b, size_t n)
{
	b->end += n <= b->cap - b->end ? n : b->cap - b->end;
}

#endif
