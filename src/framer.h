/* A TCP protocol's messages out of a reassembled byte stream (its proto_framing): framing by header, resynchronisation after lost bytes. */
#ifndef TR_FRAMER_H
#define TR_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "proto.h"
#include "stream.h"

struct framer_ops {
	/* One whole message, header included; -1 stops framing (framer_feed returns -1). */
	int	(*message)(void *ctx, const uint8_t *msg, size_t len,
		    uint8_t type);
	/*
	 * n bytes were passed over: `why` in words when a boundary search,
	 * a gap or an impossible length dropped them, NULL for the byte of a
	 * header that cannot be one (counted, too frequent to log).  Optional.
	 */
	void	(*skipped)(void *ctx, size_t n, const char *why);
	/*
	 * Optional: a header that cannot be one, at p (the len bytes from
	 * there, all there is so far).  With it the stream must start at a
	 * message, and framing stops for good at the first bad header (the
	 * sink counts the rest raw); without it the framer resynchronises on
	 * the next plausible header.
	 */
	void	(*bad_header)(void *ctx, const uint8_t *p, size_t len);
};

/*
 * One direction's partial message and framing state.  A stream that starts
 * mid-message (a capture that starts mid-session) or after a gap is
 * searched for the next plausible header before framing resumes.
 */
struct framer {
	const struct proto_framing *framing;	/* the protocol's (proto.h) */
	const struct framer_ops	*ops;
	void			*ctx;
	struct bytebuf		 buf;		/* bytes of a message not yet complete */
	bool			 synced;	/* a message boundary was found */
	bool			 stopped;	/* ops->bad_header was called: nothing more is framed */
};

void	framer_init(struct framer *, const struct proto_framing *,
	    const struct framer_ops *, void *ctx);

/*
 * Bytes from reassembly: a gap before them drops the partial message; whole
 * messages go to ops->message in order; the rest waits for more.  0, or -1
 * when out of memory (errno ENOMEM) or when ops->message returned -1.
 */
int	framer_feed(struct framer *, const struct stream_chunk *c);

/* Bytes of a message not yet complete (at the end of the captures: cut off). */
size_t	framer_pending(const struct framer *);

/*
 * A copy of a message (or part of one) to keep after ops->message returns,
 * whose bytes are valid only during the call: an OPEN, an Initiation, a
 * Peer Up.  len 0 still allocates; NULL (errno ENOMEM) only when out of
 * memory.  The caller frees it.
 */
uint8_t	*framer_copy(const uint8_t *p, size_t len);
void	framer_discard(struct framer *);
void	framer_free(struct framer *);

/*
 * Reads one captured direction of a BGP session until its first OPEN: the
 * captured collector's, to know what the original session negotiated
 * (the replay's sessions and trim look-ahead, -p).  Reassembly and framing
 * state is freed once the OPEN is found; nothing more is read after it.
 */
struct bgp_open_finder {
	struct stream	*stream;
	struct framer	 fr;		/* the direction's messages */
	uint8_t		*open;		/* the OPEN, once found */
	size_t		 open_len;
};

/* One captured segment of the direction (a zeroed finder to start). */
void	bgp_open_finder_push(struct bgp_open_finder *, const struct tr_packet *);
void	bgp_open_finder_free(struct bgp_open_finder *);

#endif
