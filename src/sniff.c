/* The sniff window: see sniff.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "sniff.h"

void
sniff_free(struct sniff *s)
{
	free(s->held);
	s->held = NULL;
	s->len = 0;
}

/* What is held decides, then goes on as the direction's first bytes. */
static int
decide_held(struct sniff *s, const struct sniff_ops *ops, void *ctx)
{
	struct stream_chunk held = { .data = s->held, .len = s->len,
	    .gap_before = s->gap };
	int rc;

	if (ops->decide(ctx, proto_tcp_by_content(s->held, s->len,
	    ops->wanted)) == -1)
		return -1;
	rc = ops->deliver(ctx, &held);
	sniff_free(s);
	return rc;
}

int
sniff_feed(struct sniff *s, const struct sniff_ops *ops, void *ctx,
    const struct stream_chunk *ch)
{
	size_t take;

	if (ch->len == 0)
		return 0;
	if (s->held == NULL && (s->held = malloc(SNIFF_WINDOW)) == NULL)
		return -1;
	if (ch->gap_before && s->len > 0) {
		/*
		 * Bytes before a gap inside the window: when they frame as
		 * messages (a BMP Initiation and Peer Ups before a lost
		 * segment) they say what the direction carries; else they
		 * are passed over, and the window starts afresh after the gap.
		 */
		if (proto_tcp_by_content(s->held, s->len, ops->wanted) != -1)
			return decide_held(s, ops, ctx) == -1 ? -1 :
			    ops->deliver(ctx, ch);
		ops->skipped(ctx, s->len);
		s->len = 0;
	}
	if (ch->gap_before)
		s->gap = true;
	take = SNIFF_WINDOW - s->len < ch->len ? SNIFF_WINDOW - s->len :
	    ch->len;
	memcpy(s->held + s->len, ch->data, take);
	s->len += take;
	if (s->len < SNIFF_WINDOW)
		return 0;
	if (decide_held(s, ops, ctx) == -1)
		return -1;
	return take == ch->len ? 0 : ops->deliver(ctx, &(struct stream_chunk){
	    .data = ch->data + take, .len = ch->len - take });
}

int
sniff_finish(struct sniff *s, const struct sniff_ops *ops, void *ctx)
{
	int rc = 0;

	if (s->len > 0)
		rc = decide_held(s, ops, ctx);
	sniff_free(s);
	return rc;
}
