/*
 * The sniff window: a TCP direction's first bytes, held until they say
 * which framed protocol it carries (proto_tcp_by_content), for `--info`
 * and `anonymize` without a config.  One segment may be too little to tell
 * a BMP stream that starts mid-message from BGP, so up to SNIFF_WINDOW
 * bytes wait; then the caller's decide hook is told the protocol and the
 * held bytes go on to its deliver hook as the direction's first, followed
 * by the rest.  The callers differ only in what they do with the answer
 * and how they count bytes.
 */
#ifndef TR_SNIFF_H
#define TR_SNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

#define SNIFF_WINDOW	4096

struct sniff_ops {
	/* The framed protocols the caller can take (proto_tcp_by_content's filter). */
	bool	(*wanted)(int id);
	/* What the direction carries: a protocol id, or -1 for none of the wanted ones.  -1 on failure. */
	int	(*decide)(void *ctx, int id);
	/* Bytes in order once decided (the held ones first); -1 on failure. */
	int	(*deliver)(void *ctx, const struct stream_chunk *ch);
	/* Held bytes before a gap that frame as no wanted protocol: passed over. */
	void	(*skipped)(void *ctx, size_t n);
};

/* Zeroed to start; one per undecided direction. */
struct sniff {
	uint8_t	*held;
	size_t	 len;
	bool	 gap;	/* the held bytes follow lost ones */
};

/*
 * The next bytes of an undecided direction (gap_before: bytes were lost
 * before them).  Before a gap, held bytes that frame as a wanted protocol
 * decide; others are skipped and the window starts afresh.  A full window
 * decides.  Returns what decide or deliver returned (-1: failed), or -1
 * with errno ENOMEM.
 */
int	sniff_feed(struct sniff *, const struct sniff_ops *, void *ctx,
	    const struct stream_chunk *);
/* The direction ends undecided: what is held decides (nothing held: nothing is called).  Frees the window. */
int	sniff_finish(struct sniff *, const struct sniff_ops *, void *ctx);
/* Frees the window without deciding (error paths). */
void	sniff_free(struct sniff *);

#endif
