/* TCP reassembly of one direction of a captured connection, by sequence number, into the exact byte stream. */
#ifndef TR_STREAM_H
#define TR_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

struct stream;

/* What reassembly saw; counters only grow. */
struct stream_stats {
	uint64_t	segments;	/* segments pushed */
	uint64_t	bytes;		/* in-order bytes delivered */
	uint64_t	retransmitted;	/* payload bytes already delivered or held (retransmissions, overlaps, keep-alive probes) */
	uint64_t	out_of_order;	/* segments that arrived ahead of a hole and were held */
	uint64_t	gaps;		/* holes given up on (bytes never captured) */
	uint64_t	gap_bytes;	/* sequence space skipped over by those gaps */
	uint64_t	overlap_conflicts; /* overlapping bytes that differed from the held copy (the first copy wins) */
};

/*
 * The bytes a push made deliverable, in order.  `gap_before` is set when
 * gap_bytes bytes were lost just before `data` (the consumer must
 * resynchronise its framing); a gap chunk carries the data that follows the
 * gap, so there is never a separate marker chunk.  Its `data` is empty only
 * when the loss is all there is to say (stream_finish with a FIN beyond a
 * hole and nothing held).  `data` is never NULL.  It points either into the
 * pushed pkt->payload (the common in-order case, no copy: valid as long as
 * that payload is) or into the stream's own buffer (valid until the next
 * call on the stream).
 */
struct stream_chunk {
	const uint8_t	*data;
	size_t		 len;
	bool		 gap_before;
	uint64_t	 gap_bytes;
};

/*
 * max_held caps the payload bytes held out of order waiting for a hole to
 * fill; past it, the hole is declared a gap (bytes never captured) and
 * delivery goes on after it.  Memory is max_held plus a small header per
 * held segment plus the coalescing buffer (kept for reuse, at most max_held
 * plus the larger of one segment and 64 KB).  Returns NULL with errno ENOMEM.
 */
struct stream	*stream_new(size_t max_held);
void		 stream_free(struct stream *);

/*
 * Streams that share a pool hold at most pool->max out-of-order bytes
 * between them (each still at most its max_held): a stream whose hold
 * would pass it declares its holes gaps, as on max_held overflow.  So a
 * capture of many sessions with holes cannot hold more than max in all.
 * held is the pool's running total; the pool must outlive its streams.
 */
struct stream_pool {
	size_t	held;
	size_t	max;
};
void		 stream_set_pool(struct stream *, struct stream_pool *);

/*
 * Push one captured segment of this direction (flags, seq, payload from
 * *pkt).  Returns the number of chunks written to out, or -1 with errno
 * ENOMEM (bytes may then have been lost) or EMSGSIZE (a payload of 2 GiB or
 * more, which no capture holds):
 *   0  nothing new in order (held, retransmitted, or no payload);
 *   1  out[0]: the new in-order bytes; a segment that fills a hole comes
 *      out as one chunk with the held run behind it; out[0] is a gap chunk
 *      when holding the segment overflowed max_held (below);
 *   2  only on max_held overflow: out[0] and out[1] are both gap chunks.
 * Overflow declares the first hole a gap and delivers the run after it
 * (out[0]); if what is still held exceeds max_held, a second gap jumps to
 * the first held run after which the rest fits, and the runs it passes over
 * are dropped and counted in its gap_bytes (out[1]).
 *
 * Sequence numbers are compared modulo 2^32, half the space each way: a
 * segment more than 2 GB "ahead" counts as old.
 *
 * The stream starts at the first SYN's seq + 1, or, without a SYN (a capture
 * that starts mid-stream), at the first segment carrying payload; if that
 * happens to be a keep-alive probe, its stale byte is delivered and the
 * consumer's resynchronisation skips it.  A SYN that carries payload is
 * taken as the older tool's pre-processed captures write it: the payload
 * starts at the SYN's own seq (TCP Fast Open, whose SYN data starts at
 * seq + 1, is not supported).  A later SYN is just another segment: a new
 * session on the same ports must be detected and keyed by the caller.
 *
 * Bytes below the next expected seq are dropped as retransmissions (a
 * keep-alive probe carries one such byte, or none); a zero-window probe
 * carries the real next byte and is delivered like any data, its resend
 * then dropped.  Segments ahead of it are held (copied) until the hole
 * fills.  Where copies overlap the first one wins; bytes already delivered
 * are not kept (the in-order path does not copy), so conflicts are detected
 * only against held bytes.
 *
 * A FIN closes the stream once every byte before it was delivered (a FIN
 * captured ahead of a retransmission waits for it); its own data is
 * delivered, bytes beyond it never are.  A RST closes at once and its
 * payload is ignored; held bytes stay for stream_finish.  Once closed,
 * pushes are counted and ignored.
 */
int		 stream_push(struct stream *, const struct tr_packet *pkt,
		    struct stream_chunk out[2]);

/*
 * End of input for this direction (end of capture, or a FIN/RST whose held
 * data will never be completed): deliver what is held, each run after a hole
 * as one gap chunk (up to two per call), and a FIN still beyond a hole as a
 * gap chunk with no data, which closes the stream.  Returns the number of
 * chunks written, 0 when nothing is left, -1 with errno ENOMEM; call until
 * it returns 0.
 */
int		 stream_finish(struct stream *, struct stream_chunk out[2]);

/* True once a RST was pushed, or the FIN was reached in sequence (or by stream_finish). */
bool		 stream_closed(const struct stream *);
const struct stream_stats *stream_stats(const struct stream *);

#endif
