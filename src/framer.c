/* Framing of a reassembled byte stream by its protocol's hooks (proto.h), shared by the replay's sessions, -p and the info summary; and the BGP OPEN finder. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "framer.h"

/*
 * A partial message never grows past the largest message of its protocol
 * (and a segment's worth).  The buffer starts small (most sessions only
 * ever hold the tail of a segment) and, grown for a big message, is given
 * back once it is empty.
 */
#define FRAME_BUF_SLACK		65536

void
framer_init(struct framer *f, const struct proto_framing *framing,
    const struct framer_ops *ops, void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->framing = framing;
	f->ops = ops;
	f->ctx = ctx;
	/* A strict stream (ops->bad_header) starts at a message. */
	f->synced = ops->bad_header != NULL;
	bytebuf_init(&f->buf, framing->max_len + FRAME_BUF_SLACK);
}

void
framer_free(struct framer *f)
{
	bytebuf_free(&f->buf);
}

size_t
framer_pending(const struct framer *f)
{
	return bytebuf_len(&f->buf);
}

void
framer_discard(struct framer *f)
{
	bytebuf_consume(&f->buf, bytebuf_len(&f->buf));
	f->synced = f->ops != NULL && f->ops->bad_header != NULL;
}

/* Look for the next plausible message start in base from offset `from`; returns its offset or len. */
static size_t
find_boundary(const struct framer *f, const uint8_t *base, size_t len,
    size_t from)
{
	const struct proto_framing *fr = f->framing;

	for (size_t i = from; i < len; i++) {
		uint8_t type;
		size_t mlen;
		int rc = fr->header(base + i, len - i, &type, &mlen);

		if ((rc == 1 && (fr->type_known == NULL ||
		    fr->type_known(type))) ||
		    (rc == 0 && base[i] == fr->first_byte))
			return i;
	}
	return len;
}

static void
skipped(struct framer *f, size_t n, const char *why)
{
	if (n > 0 && f->ops->skipped != NULL)
		f->ops->skipped(f->ctx, n, why);
}

/*
 * Hand on every whole message at the front of base[0, len); *used says how
 * far that got (a partial message, or bytes not yet judged, remain).
 */
static int
frame_messages(struct framer *f, const uint8_t *base, size_t len,
    size_t *used)
{
	size_t off = 0;
	int result = 0;

	for (;;) {
		const uint8_t *p = base + off;
		size_t left = len - off, mlen;
		uint8_t type;
		int rc;

		if (!f->synced) {
			size_t at = find_boundary(f, base, len, off);

			skipped(f, at - off, "looking for a message boundary "
			    "(a capture that starts mid-stream, or lost bytes)");
			off = at;
			if (off == len)
				break;
			f->synced = true;
			continue;
		}
		if ((rc = f->framing->header(p, left, &type, &mlen)) == 0)
			break;
		if (rc == -1 && f->ops->bad_header != NULL) {
			/* A strict stream: the rest is not framed. */
			f->ops->bad_header(f->ctx, p, left);
			f->stopped = true;
			off = len;
			break;
		}
		if (rc == -1) {
			/* An impossible header: resynchronise on the next plausible one. */
			f->synced = false;
			off++;
			skipped(f, 1, NULL);
			continue;
		}
		if (left < mlen)
			break;
		if (f->ops->message(f->ctx, p, mlen, type) == -1) {
			result = -1;
			break;
		}
		off += mlen;
	}
	*used = off;
	return result;
}

int
framer_feed(struct framer *f, const struct stream_chunk *c)
{
	size_t used;
	int rc;

	if (f->stopped)
		return 0;
	if (c->gap_before) {
		skipped(f, framer_pending(f), "of a message cut by the gap");
		framer_discard(f);
	}
	if (c->len == 0)
		return 0;
	if (framer_pending(f) > 0 &&
	    bytebuf_append(&f->buf, c->data, c->len) == -1) {
		if (errno != ENOBUFS)
			return -1;
		/* Cannot be a real message: drop the partial one and look again. */
		skipped(f, framer_pending(f),
		    "of a message longer than possible");
		framer_discard(f);
	}
	if (framer_pending(f) == 0) {
		/* Nothing pending: frame in place, keep only the tail. */
		rc = frame_messages(f, c->data, c->len, &used);
		if (bytebuf_append(&f->buf, c->data + used,
		    c->len - used) == -1)
			return -1;
		return rc;
	}
	rc = frame_messages(f, bytebuf_data(&f->buf), framer_pending(f), &used);
	bytebuf_consume(&f->buf, used);
	return rc;
}

uint8_t *
framer_copy(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	if (c != NULL && len > 0)
		memcpy(c, p, len);
	return c;
}

/* ---- the first OPEN of a captured BGP direction ---- */

void
bgp_open_finder_free(struct bgp_open_finder *f)
{
	stream_free(f->stream);
	framer_free(&f->fr);
	free(f->open);
	memset(f, 0, sizeof(*f));
}

/* Keep the first OPEN; framing stops there. */
static int
open_finder_message(void *ctx, const uint8_t *msg, size_t len, uint8_t type)
{
	struct bgp_open_finder *f = ctx;

	if (type != BGP_OPEN)
		return 0;
	if ((f->open = framer_copy(msg, len)) != NULL)
		f->open_len = len;
	return -1;
}

/* Bytes that frame as nothing are only passed over (no skipped hook): the OPEN is all that is wanted. */
static const struct framer_ops open_finder_ops = {
	.message = open_finder_message,
};

/* One captured segment of the direction read; nothing more is read once the OPEN is found. */
void
bgp_open_finder_push(struct bgp_open_finder *f, const struct tr_packet *pkt)
{
	struct stream_chunk chunks[2];
	int n;

	if (f->open != NULL)
		return;
	if (f->stream == NULL) {
		if ((f->stream = stream_new(BGP_MAX_MSG_LEN)) == NULL)
			return;
		framer_init(&f->fr, bgp_proto.framing, &open_finder_ops, f);
	}
	n = stream_push(f->stream, pkt, chunks);
	for (int i = 0; i < n && f->open == NULL; i++)
		(void)framer_feed(&f->fr, &chunks[i]);
	if (f->open != NULL) {
		stream_free(f->stream);
		framer_free(&f->fr);
		f->stream = NULL;
	}
}
