/* What BMP adds to a TCP session (its descriptor's session hooks): a reconnect's prologue, the Initiation and the Peer Up of each peer up. */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "log.h"
#include "session_priv.h"

/*
 * Peer Ups kept per BMP session for a reconnect's prologue: far above a
 * real router's peers; each Peer Up or Down is compared with all of them.
 */
#define SESSION_MAX_PEER_UPS	16384

/*
 * Room for one more Peer Up, doubling from 2: most routers have a few
 * peers, and grow_array's first 16 entries would be 768 bytes in each of
 * thousands of sessions.
 */
static int
peer_ups_reserve(struct session *s)
{
	size_t cap = s->cap_peer_ups ? s->cap_peer_ups * 2 : 2;
	struct peer_up *p;

	if (s->n_peer_ups < s->cap_peer_ups)
		return 0;
	if (cap > SESSION_MAX_PEER_UPS)
		cap = SESSION_MAX_PEER_UPS;
	if ((p = reallocarray(s->peer_ups, cap, sizeof(*p))) == NULL)
		return -1;
	s->peer_ups = p;
	s->cap_peer_ups = cap;
	return 0;
}

/*
 * Keep what a new connection must start with, as the router would send it:
 * the Initiation, and the Peer Up of each peer still up (a Peer Down drops it),
 * for up to SESSION_MAX_PEER_UPS peers (each Peer Up or Down is compared
 * with those kept).  Without memory for it, or past the cap, a reconnect
 * just has a shorter prologue.
 */
static void
session_bmp_sent(struct session *s, const uint8_t *msg, size_t len,
    uint8_t type)
{
	uint8_t key[BMP_PEER_KEY_LEN];
	struct peer_up *up;

	if (type == BMP_INITIATION) {
		free(s->init_msg);
		s->init_len = (s->init_msg = framer_copy(msg, len)) ? len : 0;
		return;
	}
	if ((type != BMP_PEER_UP && type != BMP_PEER_DOWN) ||
	    !bmp_peer_key(msg, len, key))
		return;
	for (size_t i = 0; i < s->n_peer_ups; i++) {
		if (memcmp(s->peer_ups[i].key, key, sizeof(key)) != 0)
			continue;
		free(s->peer_ups[i].msg);
		s->peer_ups[i] = s->peer_ups[--s->n_peer_ups];
		break;
	}
	if (type == BMP_PEER_DOWN)
		return;
	if (s->n_peer_ups == SESSION_MAX_PEER_UPS) {
		if (!s->peer_ups_capped) {
			char what[128];

			session_describe(s, what, sizeof(what));
			log_warnx("%s: more than %d monitored peers up: a "
			    "reconnect re-sends the Peer Up of %d of them only",
			    what, SESSION_MAX_PEER_UPS, SESSION_MAX_PEER_UPS);
			s->peer_ups_capped = true;
		}
		return;
	}
	if (peer_ups_reserve(s) == -1)
		return;
	up = &s->peer_ups[s->n_peer_ups];
	if ((up->msg = framer_copy(msg, len)) != NULL) {
		up->len = len;
		memcpy(up->key, key, sizeof(key));
		s->n_peer_ups++;
	}
}

/* A new connection: the collector hears the Initiation and the Peer Ups first, or drops what follows. */
static void
session_bmp_reconnect(struct session *s, tr_ns now, const char *what)
{
	size_t n = 0;

	if (s->init_msg != NULL && session_queue(s, s->init_msg,
	    s->init_len, now, false) == 0)
		n++;
	for (size_t i = 0; i < s->n_peer_ups; i++)
		if (session_queue(s, s->peer_ups[i].msg,
		    s->peer_ups[i].len, now, false) == 0)
			n++;
	log_warnx("%s: reconnecting; %zu messages re-sent first "
	    "(Initiation and the Peer Up of each peer up)", what, n);
}

static void
session_bmp_free(struct session *s)
{
	free(s->init_msg);
	for (size_t k = 0; k < s->n_peer_ups; k++)
		free(s->peer_ups[k].msg);
	free(s->peer_ups);
}

const struct proto_session bmp_session = {
	.opening_type = BMP_INITIATION,
	.opening_name = "Initiation",
	.free = session_bmp_free,
	.sent = session_bmp_sent,
	.reconnect = session_bmp_reconnect,
};
