/* TCP messages (BMP, BGP) anonymized: reassembled and framed in a first pass, their rewritten bytes patched into the very segments in a second. */
#ifndef TR_ANON_TCP_H
#define TR_ANON_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anon_proto.h"
#include "packet.h"
#include "proto.h"
#include "select.h"

/* What the TCP part did and left as captured, summed over a run. */
struct anon_tcp_stats {
	uint64_t	rewritten[SECTION_COUNT];	/* messages, by anon_msg_result */
	uint64_t	malformed[SECTION_COUNT];
	uint64_t	patched_segments;	/* segments (retransmissions included) that got rewritten bytes */
	uint64_t	skipped_bytes;		/* framed as no message (a start mid-message, resynchronisation): as captured */
	uint64_t	gap_bytes;		/* sequence space the capture never had */
	uint64_t	unfinished_bytes;	/* of messages cut by the end of their stream */
	uint64_t	over_connections;	/* segments of connections past the cap on live ones */
	uint64_t	fragmented_segments;	/* segments in IP fragments whose bytes needed rewriting: as captured */
};

struct anon_tcp;

/*
 * State for one run: sel (may be NULL) chooses each connection's section
 * as the replay does (-t), else its content does (as --info without -t).
 * rw is kept (the rewriter of every message).  NULL (ENOMEM).
 */
struct anon_tcp	*anon_tcp_new(const struct anon_rewriter *rw,
		    struct selector *sel, struct anon_tcp_stats *st);
void		 anon_tcp_free(struct anon_tcp *);

/*
 * Pass 1, every TCP packet of the inputs in order: reassembly, framing,
 * each whole message rewritten by its protocol's hook, and what changed
 * kept as patches by stream offset (in a temporary file under TMPDIR,
 * else /tmp).  0, or -1 with errno (ENOMEM, a write error of that file,
 * or EIO when libcrypto failed).
 */
int	anon_tcp_learn(struct anon_tcp *, const struct tr_packet *pkt);
/* End of pass 1: what streams still hold is framed; the rest is counted. */
int	anon_tcp_learn_end(struct anon_tcp *);

/*
 * Pass 2, the same packets in the same order: the rewritten bytes that
 * fall in this segment written into payload (pkt->payload_len bytes, the
 * frame's own copy).  payload is NULL when the segment's bytes are not
 * in one frame (IP fragments): then nothing can be written, and it is
 * counted if something should have been.  0, or -1 with errno when the
 * runs' temporary file cannot be read back.
 */
int	anon_tcp_patch(struct anon_tcp *, const struct tr_packet *pkt,
	    uint8_t *payload);

#endif
