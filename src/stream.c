/* TCP reassembly of one direction of a captured connection, by sequence number, into the exact byte stream. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

/*
 * Bytes that arrived ahead of a hole.  They are copied because the capture
 * source reuses its packet buffer.  The list is sorted by sequence number and
 * its pieces never overlap (a new segment adds only the bytes not held yet),
 * so adjacent pieces form one contiguous run.
 */
struct held {
	struct held	*next;
	uint32_t	 seq;
	size_t		 len;
	uint8_t		 data[];
};

/* Past this, the coalescing buffer is let go before the next call: a stream keeps 64 KiB idle at most. */
#define STREAM_BUF_KEEP	65536

struct stream {
	struct stream_stats	 stats;
	size_t			 max_held;
	struct stream_pool	*pool;		/* NULL, or shared with other streams */
	size_t			 pooled;	/* held_bytes as pool->held counts them */
	size_t			 held_bytes;	/* data bytes in the held list */
	struct held		*head;
	struct held		*tail;		/* out-of-order segments mostly append */
	uint8_t			*buf;		/* coalesced chunks; valid until the next call */
	size_t			 buf_cap;
	uint32_t		 next;		/* sequence number of the next byte to deliver */
	uint32_t		 fin_seq;	/* sequence number the FIN occupies */
	bool			 started;
	bool			 fin_seen;
	bool			 closed;
};

/* A chunk being built in buf: offsets, because buf may move while it grows. */
struct pending {
	size_t		off;
	size_t		len;
	bool		gap_before;
	uint64_t	gap_bytes;
};

/* A gap chunk with no data still gets a valid pointer, so memcpy(dst, data, 0) is defined. */
static const uint8_t stream_empty[1];

/* Distance of seq ahead of base, modulo 2^32. */
static uint32_t
seq_ahead(uint32_t seq, uint32_t base)
{
	return seq - base;
}

/* a comes before b in sequence space (RFC 1982 style, half the space either way). */
static bool
seq_before(uint32_t a, uint32_t b)
{
	return seq_ahead(a, b) > UINT32_MAX / 2;
}

struct stream *
stream_new(size_t max_held)
{
	struct stream	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->max_held = max_held;
	return s;
}

static void
held_free_all(struct stream *s)
{
	struct held	*h, *n;

	for (h = s->head; h != NULL; h = n) {
		n = h->next;
		free(h);
	}
	s->head = s->tail = NULL;
	s->held_bytes = 0;
}

void
stream_set_pool(struct stream *s, struct stream_pool *pool)
{
	s->pool = pool;
	s->pooled = 0;
	if (pool != NULL)
		pool->held += s->held_bytes;
	s->pooled = s->held_bytes;
}

/* Tell the pool what this stream holds now. */
static void
pool_sync(struct stream *s)
{
	if (s->pool == NULL)
		return;
	s->pool->held = s->pool->held - s->pooled + s->held_bytes;
	s->pooled = s->held_bytes;
}

/* The most this stream may hold: max_held, and what the pool's other streams leave of its max. */
static size_t
held_limit(const struct stream *s)
{
	size_t others;

	if (s->pool == NULL)
		return s->max_held;
	others = s->pool->held - s->pooled;
	if (others >= s->pool->max)
		return 0;
	return s->pool->max - others < s->max_held ?
	    s->pool->max - others : s->max_held;
}

/* Chunks of the last call are no longer in use: a large coalescing buffer goes. */
static void
buf_trim(struct stream *s)
{
	if (s->buf_cap > STREAM_BUF_KEEP) {
		free(s->buf);
		s->buf = NULL;
		s->buf_cap = 0;
	}
}

void
stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	held_free_all(s);
	pool_sync(s);
	free(s->buf);
	free(s);
}

bool
stream_closed(const struct stream *s)
{
	return s->closed;
}

const struct stream_stats *
stream_stats(const struct stream *s)
{
	return &s->stats;
}

/*
 * Grow the coalescing buffer to at least need bytes, keeping its contents.
 * It doubles to amortise the copies, but not past what one delivery can
 * need (max_held plus a TSO-sized segment), so memory stays bounded.
 */
static int
buf_reserve(struct stream *s, size_t need)
{
	uint8_t	*nb;
	size_t	 cap = s->buf_cap * 2, limit = s->max_held + 65536;

	if (need <= s->buf_cap)
		return 0;
	if (cap > limit)
		cap = limit;
	if (cap < need)
		cap = need;
	if ((nb = realloc(s->buf, cap)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	s->buf = nb;
	s->buf_cap = cap;
	return 0;
}

/* Link a copy of data as a new held piece at *prevp (before whatever is there). */
static struct held *
held_link(struct stream *s, struct held **prevp, uint32_t seq,
    const uint8_t *data, size_t len)
{
	struct held	*h;

	if ((h = malloc(sizeof(*h) + len)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	h->seq = seq;
	h->len = len;
	memcpy(h->data, data, len);
	h->next = *prevp;
	*prevp = h;
	if (h->next == NULL)
		s->tail = h;
	s->held_bytes += len;
	return h;
}

/* Count the bytes where a later copy differs from the one kept. */
static uint64_t
count_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t	d = 0;

	if (memcmp(a, b, n) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		d += a[i] != b[i];
	return d;
}

/*
 * Hold [seq, seq + len), which lies ahead of next.  Only bytes not held yet
 * are copied: where pieces overlap the first copy wins, the later one counts
 * as retransmitted (and as conflicting where it differs).  *added gets the
 * number of new bytes.
 */
static int
held_insert(struct stream *s, uint32_t seq, const uint8_t *data, size_t len,
    size_t *added)
{
	uint64_t	 p0 = seq_ahead(seq, s->next), p = p0, end = p0 + len;
	uint64_t	 ho, he, ov;
	struct held	**prevp = &s->head, *h, *n;
	size_t		 before = s->held_bytes;

	*added = 0;
	/* A capture that lost a segment keeps appending after the hole. */
	if (s->tail != NULL &&
	    (uint64_t)seq_ahead(s->tail->seq, s->next) + s->tail->len <= p)
		prevp = &s->tail->next;
	for (h = *prevp; h != NULL && p < end; h = h->next) {
		ho = seq_ahead(h->seq, s->next);
		he = ho + h->len;
		if (he <= p) {
			prevp = &h->next;
			continue;
		}
		if (ho >= end)
			break;
		if (p < ho) {
			n = held_link(s, prevp, s->next + (uint32_t)p,
			    data + (p - p0), ho - p);
			if (n == NULL)
				goto fail;
			p = ho;
		}
		ov = (end < he ? end : he) - p;
		s->stats.overlap_conflicts += count_diff(h->data + (p - ho),
		    data + (p - p0), ov);
		s->stats.retransmitted += ov;
		p += ov;
		prevp = &h->next;
	}
	if (p < end && held_link(s, prevp, s->next + (uint32_t)p,
	    data + (p - p0), end - p) == NULL)
		goto fail;
	*added = s->held_bytes - before;
	return 0;
fail:
	*added = s->held_bytes - before;
	return -1;
}

/*
 * Drop held bytes at or after the FIN: the sender cannot have sent data
 * after it, so anything there is garbage and must never be delivered.
 */
static void
held_trim(struct stream *s, uint32_t end_seq)
{
	uint64_t	 end = seq_ahead(end_seq, s->next), ho;
	struct held	**prevp = &s->head, *h, *n;

	for (h = s->head; h != NULL; h = n) {
		n = h->next;
		ho = seq_ahead(h->seq, s->next);
		if (ho >= end) {
			*prevp = NULL;
			s->held_bytes -= h->len;
			free(h);
			continue;
		}
		if (ho + h->len > end) {
			s->held_bytes -= h->len - (end - ho);
			h->len = end - ho;
		}
		prevp = &h->next;
		s->tail = h;
	}
	if (s->head == NULL)
		s->tail = NULL;
}

/* Length of the contiguous held run starting at h. */
static size_t
run_len(const struct held *h)
{
	size_t	len = h->len;

	for (; h->next != NULL && h->next->seq == h->seq + (uint32_t)h->len;
	    h = h->next)
		len += h->next->len;
	return len;
}

/*
 * Deliver the held run that starts at next (the caller moved next there)
 * into buf at *used, as chunk c.
 */
static int
pop_run(struct stream *s, size_t *used, struct pending *c)
{
	size_t		 len = run_len(s->head), off = *used;
	struct held	*h;

	if (buf_reserve(s, off + len) == -1)
		return -1;
	c->off = off;
	c->len = len;
	for (size_t done = 0; done < len; ) {
		h = s->head;
		memcpy(s->buf + off + done, h->data, h->len);
		done += h->len;
		s->head = h->next;
		s->held_bytes -= h->len;
		free(h);
	}
	if (s->head == NULL)
		s->tail = NULL;
	s->next += (uint32_t)len;
	s->stats.bytes += len;
	*used = off + len;
	return 0;
}

/* Skip the hole before the first held piece and deliver the run after it. */
static int
pop_gap(struct stream *s, size_t *used, struct pending *c)
{
	uint32_t	gap = seq_ahead(s->head->seq, s->next);

	s->next = s->head->seq;
	if (pop_run(s, used, c) == -1)
		return -1;
	c->gap_before = true;
	c->gap_bytes = gap;
	s->stats.gaps++;
	s->stats.gap_bytes += gap;
	return 0;
}

/* The FIN is reached once every byte before it was delivered (or skipped). */
static void
check_fin(struct stream *s)
{
	if (s->fin_seen && !seq_before(s->next, s->fin_seq))
		s->closed = true;
}

/* Turn built chunks into pointers now that buf no longer moves. */
static int
emit(const struct stream *s, const struct pending *p, int n,
    struct stream_chunk out[2])
{
	for (int i = 0; i < n; i++) {
		out[i].data = s->buf != NULL ? s->buf + p[i].off : stream_empty;
		out[i].len = p[i].len;
		out[i].gap_before = p[i].gap_before;
		out[i].gap_bytes = p[i].gap_bytes;
	}
	return n;
}

/*
 * A segment starting exactly at next.  Alone, it is handed out as it is (no
 * copy); when it reaches held data, the run is coalesced into buf, held
 * bytes winning where they overlap because they came first.
 */
static int
push_in_order(struct stream *s, const uint8_t *data, size_t len,
    struct stream_chunk out[2])
{
	struct held	*h;
	uint64_t	 e = len, ho, ov;

	if (s->head == NULL || seq_ahead(s->head->seq, s->next) > len) {
		s->next += (uint32_t)len;
		s->stats.bytes += len;
		out[0] = (struct stream_chunk){ .data = data, .len = len };
		return 1;
	}
	for (h = s->head; h != NULL; h = h->next) {
		ho = seq_ahead(h->seq, s->next);
		if (ho > e)
			break;
		if (ho + h->len > e)
			e = ho + h->len;
	}
	if (buf_reserve(s, e) == -1)
		return -1;
	memcpy(s->buf, data, len);
	while ((h = s->head) != NULL &&
	    (ho = seq_ahead(h->seq, s->next)) <= e) {
		if (ho < len) {
			ov = (ho + h->len < len ? ho + h->len : len) - ho;
			s->stats.overlap_conflicts += count_diff(h->data,
			    s->buf + ho, ov);
			s->stats.retransmitted += ov;
		}
		memcpy(s->buf + ho, h->data, h->len);
		s->head = h->next;
		s->held_bytes -= h->len;
		free(h);
	}
	if (s->head == NULL)
		s->tail = NULL;
	s->next += (uint32_t)e;
	s->stats.bytes += e;
	out[0] = (struct stream_chunk){ .data = s->buf, .len = e };
	return 1;
}

/*
 * Held bytes exceed limit (max_held, or what the pool leaves): declare the
 * first hole a gap and deliver the run after it.  If that is not enough,
 * one more gap jumps to the first run after which the rest fits, discarding
 * the (small) runs in between, so one push never returns more than two
 * chunks.
 */
static int
push_overflow(struct stream *s, size_t limit, struct stream_chunk out[2])
{
	struct pending	 p[2] = { 0 };
	size_t		 used = 0, rest;
	struct held	*h, *r;
	int		 n = 0;

	if (pop_gap(s, &used, &p[n]) == -1)
		return -1;
	n++;
	check_fin(s);
	if (s->held_bytes > limit) {
		rest = s->held_bytes;
		for (r = s->head; ; r = h->next) {
			for (h = r; h->next != NULL &&
			    h->next->seq == h->seq + (uint32_t)h->len; h = h->next)
				rest -= h->len;
			rest -= h->len;
			if (rest <= limit)
				break;
		}
		while (s->head != r) {
			h = s->head;
			s->head = h->next;
			s->held_bytes -= h->len;
			free(h);
		}
		if (pop_gap(s, &used, &p[n]) == -1)
			return -1;
		n++;
		check_fin(s);
	}
	return emit(s, p, n, out);
}

static int
push_segment(struct stream *s, const struct tr_packet *pkt,
    struct stream_chunk out[2])
{
	const uint8_t	*data = pkt->payload;
	size_t		 len = pkt->payload_len, added, skip;
	uint32_t	 seq = pkt->tcp_seq;
	uint8_t		 flags = pkt->tcp_flags;
	int		 n;

	/* No capture holds such a payload; refuse it before the arithmetic wraps. */
	if (len > INT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	s->stats.segments++;
	if (s->closed)
		return 0;
	/*
	 * A RST aborts: its payload, if any, is a diagnostic, not stream
	 * data.  Held bytes stay for stream_finish (a hole in a capture is
	 * more often a packet the capture missed than one the receiver did).
	 */
	if (flags & TR_TCP_RST) {
		s->closed = true;
		return 0;
	}
	/*
	 * A SYN occupies one sequence number, so its data would start at
	 * seq + 1; but the older tool's pre-processed captures put the SYN
	 * flag on the first data segment with data from seq itself.  Real SYN
	 * data (TCP Fast Open) is rare in telemetry and not supported.
	 */
	if ((flags & TR_TCP_SYN) && len == 0)
		seq++;
	if (!s->started) {
		if (!(flags & TR_TCP_SYN) && len == 0) {
			/* Nothing to anchor on yet; a bare FIN ends an empty stream. */
			if (flags & TR_TCP_FIN)
				s->closed = true;
			return 0;
		}
		s->started = true;
		s->next = seq;
	}
	if ((flags & TR_TCP_FIN) && !s->fin_seen) {
		s->fin_seen = true;
		s->fin_seq = seq + (uint32_t)len;
		if (!seq_before(s->fin_seq, s->next))
			held_trim(s, s->fin_seq);
	}
	if (s->fin_seen) {
		/* Bytes at or after the FIN cannot be stream data. */
		if (!seq_before(seq, s->fin_seq))
			len = 0;
		else if (len > seq_ahead(s->fin_seq, seq))
			len = seq_ahead(s->fin_seq, seq);
	}
	if (seq_before(seq, s->next)) {
		/* Retransmissions, overlaps, keep-alive probes. */
		skip = seq_ahead(s->next, seq);
		if (skip >= len) {
			s->stats.retransmitted += len;
			len = 0;
		} else {
			s->stats.retransmitted += skip;
			data += skip;
			len -= skip;
			seq = s->next;
		}
	}
	if (len == 0) {
		check_fin(s);
		return 0;
	}
	if (seq == s->next) {
		n = push_in_order(s, data, len, out);
		check_fin(s);
		return n;
	}
	if (held_insert(s, seq, data, len, &added) == -1)
		return -1;
	if (added > 0)
		s->stats.out_of_order++;
	if (s->held_bytes > held_limit(s))
		return push_overflow(s, held_limit(s), out);
	return 0;
}

int
stream_push(struct stream *s, const struct tr_packet *pkt,
    struct stream_chunk out[2])
{
	int n;

	buf_trim(s);
	n = push_segment(s, pkt, out);
	pool_sync(s);
	return n;
}

int
stream_finish(struct stream *s, struct stream_chunk out[2])
{
	struct pending	p[2] = { 0 };
	size_t		used = 0;
	int		n = 0;

	buf_trim(s);
	while (n < 2 && s->head != NULL) {
		if (pop_gap(s, &used, &p[n]) == -1)
			return -1;
		n++;
		check_fin(s);
	}
	/* Bytes before a FIN that never arrived: the loss is all there is to say. */
	if (n < 2 && s->head == NULL && s->fin_seen && !s->closed) {
		p[n].off = used;
		p[n].gap_before = true;
		p[n].gap_bytes = seq_ahead(s->fin_seq, s->next);
		s->stats.gaps++;
		s->stats.gap_bytes += p[n].gap_bytes;
		s->next = s->fin_seq;
		s->closed = true;
		n++;
	}
	n = emit(s, p, n, out);
	pool_sync(s);
	return n;
}
