/* How a message rewriter's walk over one message goes (bgp_anon, bmp_anon): the result it says, kept as the walk runs. */
#ifndef TR_ANON_WALK_H
#define TR_ANON_WALK_H

#include <stdbool.h>

#include "anon_proto.h"

struct anon_walk {
	enum anon_msg_result	result;	/* ANON_MSG_REWRITTEN to start */
	bool			cut;	/* the capture ends inside the message: running past its end is that, not malformed */
};

/* The first thing that went wrong is what the message says; libcrypto's failure wins. */
static inline void
anon_walk_fail(struct anon_walk *w, enum anon_msg_result r)
{
	if (r == ANON_MSG_FAILED || w->result == ANON_MSG_REWRITTEN)
		w->result = r;
}

/* A field that runs past what there is: cut by the capture, or a length that lies. */
static inline void
anon_walk_overrun(struct anon_walk *w)
{
	anon_walk_fail(w, w->cut ? ANON_MSG_CUT : ANON_MSG_MALFORMED);
}

/* The message's result at the end of the walk: one walked whole but cut by the capture is cut. */
static inline enum anon_msg_result
anon_walk_end(const struct anon_walk *w)
{
	return w->cut && w->result == ANON_MSG_REWRITTEN ? ANON_MSG_CUT :
	    w->result;
}

#endif
