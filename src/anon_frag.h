/* Fragmented UDP datagrams anonymized whole: their fragment frames held, in capture order, until the datagram is complete. */
#ifndef TR_ANON_FRAG_H
#define TR_ANON_FRAG_H

#include <stdint.h>

#include "anon_addr.h"
#include "anon_frame.h"
#include "source.h"

/*
 * Bounds on what is held (hostile input, or a capture that lost a
 * fragment): past them the oldest incomplete datagram is given up, its
 * frames written with their headers anonymized and their payload as
 * captured (counted in given_up).
 */
#define ANON_FRAG_MAX_PER_DATAGRAM	256		/* fragment frames of one datagram */
#define ANON_FRAG_MAX_HELD_BYTES	(16u << 20)	/* frames held, fragments and those queued behind them */
#define ANON_FRAG_TIMEOUT_NS		((tr_ns)30 * 1000000000)	/* capture time from a datagram's first fragment */

struct anon_frag_stats {
	uint64_t	datagrams;	/* fragmented UDP datagrams whose payload went to the rewriter */
	uint64_t	fragments;	/* their fragment frames */
	uint64_t	given_up;	/* fragment frames written with headers only: incomplete, overlapping, past a bound, or the input ended */
	uint64_t	over_bounds;	/* of those, datagrams given up because a bound was reached */
};

/* Where frames go once rewritten, and the payload rewriter (anon_pcap's). */
struct anon_frag_out {
	struct anon_addr	*addr;
	struct anon_frame_stats	*frame_stats;
	struct anon_frag_stats	*stats;
	/* A whole UDP payload, as anon_frame_at's hook; frame is set first to the number of the frame it starts in. */
	int			(*udp_payload)(void *ctx, const struct anon_udp *);
	uint64_t		*frame;
	/* A frame rewritten, in capture order; -1 stops the run (errno set). */
	int			(*write)(void *ctx, const struct source_frame *,
				    const uint8_t *data);
	void			*ctx;
};

struct anon_frag;

struct anon_frag	*anon_frag_new(const struct anon_frag_out *);
/*
 * One frame as captured, its bytes in data (f->data is not read): data is
 * rewritten in place by anon_frame and written now, or copied and held
 * while a fragmented UDP datagram before it is incomplete.  Returns 0, or
 * -1 with errno (libcrypto, memory, or a write failed).
 */
int	anon_frag_frame(struct anon_frag *, const struct source_frame *f,
	    uint8_t *data);
/* End of the input: datagrams still incomplete are given up, every frame held is written. */
int	anon_frag_flush(struct anon_frag *);
void	anon_frag_free(struct anon_frag *);

#endif
