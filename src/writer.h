/* One bounds-checked writer of big-endian wire bytes, the mirror of cursor.h: every put fails instead of over-writing. */
#ifndef TR_WRITER_H
#define TR_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * In-place big-endian loads and stores, for a field whose offset is known
 * (a length or checksum filled in once the rest is written, a time rewritten
 * in a captured message).  The caller has checked that the bytes are there.
 */
static inline uint16_t
be16_load(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32_load(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t
be64_load(const uint8_t *p)
{
	return (uint64_t)be32_load(p) << 32 | be32_load(p + 4);
}

static inline void
be16_store(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
be32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
be64_store(uint8_t *p, uint64_t v)
{
	be32_store(p, (uint32_t)(v >> 32));
	be32_store(p + 4, (uint32_t)v);
}

/*
 * A writer fills [p, p + size) from the front; len bytes are written.  Once
 * a put does not fit the writer is marked bad and every later put or patch
 * does nothing, so a builder writes a whole message and checks once (wr_ok)
 * at the end, as a parser does with cur_ok.
 */
struct writer {
	uint8_t	*p;
	size_t	 size;
	size_t	 len;
	bool	 bad;
};

static inline struct writer
wr_init(void *buf, size_t size)
{
	struct writer w = { .p = buf, .size = size, .len = 0, .bad = false };
	return w;
}

static inline bool
wr_ok(const struct writer *w)
{
	return !w->bad;
}

/* The bytes written; once bad, those written before the put that failed. */
static inline size_t
wr_len(const struct writer *w)
{
	return w->len;
}

static inline bool
wr_need(struct writer *w, size_t n)
{
	if (w->bad || w->size - w->len < n) {
		w->bad = true;
		return false;
	}
	return true;
}

/*
 * Take the next n bytes as written and return them to be filled in place
 * (a pattern, a checksum over them); NULL, and the writer bad, if they do
 * not fit.
 */
static inline uint8_t *
wr_reserve(struct writer *w, size_t n)
{
	uint8_t *at;

	if (!wr_need(w, n))
		return NULL;
	at = w->p + w->len;
	w->len += n;
	return at;
}

static inline void
put_bytes(struct writer *w, const void *src, size_t n)
{
	uint8_t *at = wr_reserve(w, n);

	if (at != NULL && n > 0)	/* src may be NULL when n is 0 */
		memcpy(at, src, n);
}

static inline void
put_zero(struct writer *w, size_t n)
{
	uint8_t *at = wr_reserve(w, n);

	if (at != NULL && n > 0)
		memset(at, 0, n);
}

static inline void
put_u8(struct writer *w, uint8_t v)
{
	put_bytes(w, &v, 1);
}

/*
 * The number is laid out in a local array and copied: writing it through
 * the pointer wr_reserve returns makes gcc 12 -O2 see a zero-size region
 * in some inlined callers (a false -Warray-bounds).
 */
static inline void
put_u16(struct writer *w, uint16_t v)
{
	uint8_t b[2];

	be16_store(b, v);
	put_bytes(w, b, sizeof(b));
}

static inline void
put_u32(struct writer *w, uint32_t v)
{
	uint8_t b[4];

	be32_store(b, v);
	put_bytes(w, b, sizeof(b));
}

static inline void
put_u64(struct writer *w, uint64_t v)
{
	uint8_t b[8];

	be64_store(b, v);
	put_bytes(w, b, sizeof(b));
}

/*
 * Patches fill in a field written earlier (a length known only at the end);
 * one that reaches past what was written is a bug that marks the writer bad.
 */
static inline uint8_t *
wr_patch_at(struct writer *w, size_t at, size_t n)
{
	if (w->bad)
		return NULL;
	if (at > w->len || w->len - at < n) {
		w->bad = true;
		return NULL;
	}
	return w->p + at;
}

static inline void
patch_u8(struct writer *w, size_t at, uint8_t v)
{
	uint8_t *p = wr_patch_at(w, at, 1);

	if (p != NULL)
		p[0] = v;
}

static inline void
patch_u16(struct writer *w, size_t at, uint16_t v)
{
	uint8_t *p = wr_patch_at(w, at, 2);

	if (p != NULL)
		be16_store(p, v);
}

static inline void
patch_u32(struct writer *w, size_t at, uint32_t v)
{
	uint8_t *p = wr_patch_at(w, at, 4);

	if (p != NULL)
		be32_store(p, v);
}

/*
 * Take back what was written after the first len bytes (a part that came
 * out empty and is left out).  Growing is not taking back: it marks the
 * writer bad.
 */
static inline void
wr_truncate(struct writer *w, size_t len)
{
	if (w->bad)
		return;
	if (len > w->len) {
		w->bad = true;
		return;
	}
	w->len = len;
}

#endif
