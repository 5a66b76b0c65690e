/* One bounds-checked reader for untrusted wire bytes: every read fails instead of over-reading. */
#ifndef TR_CURSOR_H
#define TR_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A cursor is a window [p, p + len) that shrinks as it is read.  Once a read
 * fails the cursor is marked bad and every later read fails too, so a parser
 * can read a whole header and check once (cur_ok) at the end.
 */
struct cursor {
	const uint8_t	*p;
	size_t		 len;
	bool		 bad;
};

static inline struct cursor
cur_init(const void *p, size_t len)
{
	struct cursor c = { .p = p, .len = len, .bad = false };
	return c;
}

static inline bool
cur_ok(const struct cursor *c)
{
	return !c->bad;
}

static inline size_t
cur_left(const struct cursor *c)
{
	return c->bad ? 0 : c->len;
}

static inline bool
cur_need(struct cursor *c, size_t n)
{
	if (c->bad || c->len < n) {
		c->bad = true;
		return false;
	}
	return true;
}

static inline uint8_t
cur_u8(struct cursor *c)
{
	uint8_t v;

	if (!cur_need(c, 1))
		return 0;
	v = c->p[0];
	c->p += 1;
	c->len -= 1;
	return v;
}

static inline uint16_t
cur_u16(struct cursor *c)
{
	uint16_t v;

	if (!cur_need(c, 2))
		return 0;
	v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->len -= 2;
	return v;
}

static inline uint32_t
cur_u32(struct cursor *c)
{
	uint32_t v;

	if (!cur_need(c, 4))
		return 0;
	v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | (uint32_t)c->p[3];
	c->p += 4;
	c->len -= 4;
	return v;
}

static inline bool
cur_skip(struct cursor *c, size_t n)
{
	if (!cur_need(c, n))
		return false;
	c->p += n;
	c->len -= n;
	return true;
}

/* Copy n bytes out; on failure the destination is left untouched. */
static inline bool
cur_copy(struct cursor *c, void *dst, size_t n)
{
	const uint8_t *src = c->p;

	if (!cur_skip(c, n))
		return false;
	for (size_t i = 0; i < n; i++)
		((uint8_t *)dst)[i] = src[i];
	return true;
}

/* Split off the next n bytes as their own cursor (a TLV, a set, a header). */
static inline struct cursor
cur_sub(struct cursor *c, size_t n)
{
	struct cursor sub = { .p = c->p, .len = n, .bad = false };

	if (!cur_skip(c, n)) {
		sub.p = NULL;
		sub.len = 0;
		sub.bad = true;
	}
	return sub;
}

#endif
