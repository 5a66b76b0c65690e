/*
 * What BGP adds to a TCP session (its descriptor's session hooks): the
 * OPEN gate (nothing before the OPEN; what follows it held until the
 * collector answers), the OPEN's rewrites and trimming, the look-ahead for
 * the captured collectors' OPENs, the comparison of what the collector
 * negotiates with what the capture did, KEEPALIVEs while idle, the closing
 * Cease, and the retry of an OPEN the collector refused.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "session_priv.h"
#include "writer.h"

static void collector_opened(struct session *, const uint8_t *, size_t);

/* A BGP session the look-ahead saw, keyed like a session (the exporter's side as source). */
struct prescan_entry {
	struct flow_key		 key;	/* the exporter's direction */
	struct bgp_open_finder	 collector;
	struct prescan_entry	*next;
};

struct prescan {
	struct prescan_entry	*buckets[TABLE_BUCKETS];
	size_t			 n;
};

/* Where RFC 4271 puts the OPEN's fields after the 19-byte header and the version. */
#define OPEN_HOLD_TIME_OFF	22
#define OPEN_BGP_ID_OFF		24

/*
 * bgp.open.trim_capabilities: the OPEN loses what the captured collector
 * did not offer, so the live collector negotiates what the original
 * session did and reads the captured UPDATEs as it did.  Without the
 * collector's OPEN (not in the captures) it stays as captured.
 */
static void
trim_open(struct session *s, uint8_t *msg, size_t *len)
{
	struct bgp_open peer;
	char removed[512], what[128];
	uint8_t *out;
	int n;

	if (s->peer.open == NULL ||
	    bgp_open_parse(s->peer.open, s->peer.open_len, &peer) == -1)
		return;
	session_describe(s, what, sizeof(what));
	/* Trimming only shrinks: the result fits in the input's length. */
	if ((out = malloc(*len)) == NULL || (n = bgp_open_trim(msg, *len,
	    &peer, out, *len, removed, sizeof(removed))) == -1) {
		log_warn("%s: the OPEN cannot be trimmed; it is sent as "
		    "captured", what);
		free(out);
		return;
	}
	memcpy(msg, out, (size_t)n);
	free(out);
	*len = (size_t)n;
	if (removed[0] != '\0')
		log_info("%s: trim_capabilities: removed from the OPEN what the "
		    "captured collector did not offer: %s", what, removed);
}

/* Store the exporter's OPEN with bgp.open's rewrites (BGP identifier, hold time, trimming) applied. */
static int
keep_open_msg(struct session *s, const uint8_t *msg, size_t len)
{
	const struct cfg_bgp_open *rw = &s->table->cfg->section[SECTION_BGP].open;
	uint8_t *copy;

	if (len < BGP_HDR_LEN + 10 || (copy = framer_copy(msg, len)) == NULL)
		return -1;
	if (rw->has_hold_time) {
		be16_store(copy + OPEN_HOLD_TIME_OFF, rw->hold_time);
	}
	if (rw->has_bgp_id)
		memcpy(copy + OPEN_BGP_ID_OFF, &rw->bgp_id.v4, 4);
	if (rw->trim_capabilities)
		trim_open(s, copy, &len);
	free(s->open_msg);
	s->open_msg = copy;
	s->open_len = len;
	return 0;
}

/*
 * The OPEN gate, before one of the exporter's messages goes out: false
 * when it cannot be sent (before an OPEN, a collector rejects it; counted
 * here); an OPEN is kept, rewritten as configured, and the pointers then
 * point at what is to be sent instead (msg, len).
 */
static bool
session_bgp_gate(struct session *o, uint8_t type, const uint8_t **msg,
    size_t *len)
{
	struct bgp_open op;

	/*
	 * A BGP speaker rejects anything before an OPEN (a capture that
	 * starts mid-session): such messages cannot be replayed.
	 */
	if (o->bgp == BGP_IDLE && type != BGP_OPEN) {
		if (o->not_sent == 0) {
			char what[128];

			session_describe(o, what, sizeof(what));
			log_warnx("%s: the capture has no OPEN for this session: "
			    "its messages are not sent (a collector would reject "
			    "them)", what);
		}
		o->msgs++;
		session_count_not_sent(o, 1, true);
		return false;
	}
	if (type != BGP_OPEN)
		return true;
	/* Keep it (capabilities, the reconnect prologue), rewritten as configured, and send that. */
	if (keep_open_msg(o, *msg, *len) == 0) {
		*msg = o->open_msg;
		*len = o->open_len;
	}
	if (bgp_open_parse(*msg, *len, &op) == 0)
		o->hold_time = op.hold_time;
	return true;
}

/* After a message went out: an OPEN holds what follows until the collector answers. */
static void
session_bgp_sent(struct session *o, const uint8_t *msg, size_t len,
    uint8_t type)
{
	(void)msg;
	(void)len;
	o->last_notification = type == BGP_NOTIFICATION;
	if (type != BGP_OPEN)
		return;
	o->open_end = o->conn_in;
	/*
	 * After our OPEN, the collector must answer with its own before it
	 * gets anything else: hold the rest in the connection's queue.
	 */
	if (o->conn < 0 || o->conn_dead)
		return;
	o->bgp = BGP_OPEN_SENT;
	transport_tcp_hold(o->table->tp, o->conn);
	if (o->early_open != NULL) {
		collector_opened(o, o->early_open, o->early_open_len);
		free(o->early_open);
		o->early_open = NULL;
	}
}

/*
 * A BGP session says goodbye with a Cease (RFC 4486 administrative
 * shutdown), so the collector frees the peer at once instead of waiting
 * out the hold time.
 */
static void
session_bgp_cease(struct session *o)
{
	uint8_t msg[BGP_HDR_LEN + 2];

	if (o->bgp == BGP_IDLE || o->last_notification)
		return;
	if (bgp_notification_build(msg, sizeof(msg), BGP_CEASE,
	    BGP_CEASE_ADMIN_SHUTDOWN) > 0)
		(void)session_queue(o, msg, sizeof(msg), tr_mono_now(), false);
}

/* A new connection after a refusal or a close: the OPEN again, ahead of what was kept. */
static void
session_bgp_reconnect(struct session *s, tr_ns now, const char *what)
{
	if (s->open_msg == NULL) {
		log_warnx("%s: reconnecting", what);
		return;
	}
	/* Before the messages kept for a retry, which wait behind it for the answer. */
	if (session_queue_first(s, s->open_msg, s->open_len,
	    s->open_unwritten) == 0) {
		s->open_end = s->open_len;
		s->open_unwritten = false;
		s->bgp = BGP_OPEN_SENT;
		transport_tcp_hold(s->table->tp, s->conn);
	}
	(void)now;
	log_warnx("%s: reconnecting; the OPEN is sent again and the "
	    "session goes on once the collector answers", what);
}

static void
send_keepalive(struct session *s, tr_ns now)
{
	uint8_t ka[BGP_HDR_LEN];

	if (bgp_keepalive_build(ka, sizeof(ka)) > 0 &&
	    session_queue(s, ka, sizeof(ka), now, false) == 0) {
		s->last_sent = now;
		s->table->rep->bgp_keepalives_added++;
	}
}

/* The KEEPALIVE of an idle established session, if due by soon; when the next one is due (INT64_MAX: none). */
static tr_ns
session_bgp_keepalive(struct session *s, tr_ns now, tr_ns soon)
{
	tr_ns every, due;

	if (s->bgp != BGP_ESTABLISHED || s->conn_dead || s->hold_time == 0 ||
	    s->captured_end || s->closing)
		return INT64_MAX;
	/* A third of the hold time, as RFC 4271 suggests for KEEPALIVEs. */
	every = (tr_ns)s->hold_time * TR_NS_PER_SEC / 3;
	due = s->last_sent + every;
	if (due <= soon) {
		send_keepalive(s, now);
		due = now + every;
	}
	return due;
}

/* ---- look-ahead: the captured collectors' OPENs, before the replay ----- */

/* The look-ahead's entry for a session (pkt from the exporter's side), made when create is set. */
static struct prescan_entry *
prescan_find(struct prescan *pre, const struct tr_packet *pkt, bool create)
{
	struct flow_key k = flow_key_of(pkt);
	uint32_t bucket = session_hash(SECTION_BGP, &k) % TABLE_BUCKETS;
	struct prescan_entry *e;

	for (e = pre->buckets[bucket]; e != NULL; e = e->next)
		if (flow_key_equal(&e->key, &k))
			return e;
	if (!create || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->key = k;
	e->next = pre->buckets[bucket];
	pre->buckets[bucket] = e;
	pre->n++;
	return e;
}

void
sessions_prescan(struct sessions *t, const struct tr_packet *pkt,
    bool from_collector)
{
	struct tr_packet rev;
	struct prescan_entry *e;

	if (t->pre == NULL && (t->pre = calloc(1, sizeof(*t->pre))) == NULL)
		return;
	if (from_collector)
		rev = tr_packet_reversed(pkt);
	if ((e = prescan_find(t->pre, from_collector ? &rev : pkt, true)) ==
	    NULL)
		return;
	if (from_collector)
		bgp_open_finder_push(&e->collector, pkt);
}

void
sessions_prescan_done(struct sessions *t)
{
	size_t missing = 0;

	if (t->pre == NULL)
		return;
	for (size_t b = 0; b < TABLE_BUCKETS; b++)
		for (struct prescan_entry *e = t->pre->buckets[b]; e != NULL;
		    e = e->next)
			if (e->collector.open == NULL)
				missing++;
	if (missing > 0)
		log_warnx("bgp.open.trim_capabilities: %zu of %zu BGP sessions "
		    "in the captures have no OPEN from the collector (the "
		    "captures hold only the exporter's side): there is nothing "
		    "to trim their OPENs to, they are sent as captured",
		    missing, t->pre->n);
}

void
session_bgp_prescan_free(struct prescan *pre)
{
	if (pre == NULL)
		return;
	for (size_t b = 0; b < TABLE_BUCKETS; b++) {
		struct prescan_entry *e = pre->buckets[b], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			bgp_open_finder_free(&e->collector);
			free(e);
		}
	}
	free(pre);
}

/*
 * A new BGP session starts knowing the captured collector's OPEN, which
 * the capture only shows after the exporter's.  Later sessions on the same
 * addresses and ports get the first one's: the look-ahead keeps one per key.
 */
static void
adopt_prescan(struct sessions *t, struct session *s,
    const struct tr_packet *pkt)
{
	struct prescan_entry *e;

	if (t->pre == NULL ||
	    (e = prescan_find(t->pre, pkt, false)) == NULL ||
	    e->collector.open == NULL)
		return;
	if ((s->peer.open = framer_copy(e->collector.open,
	    e->collector.open_len)) != NULL)
		s->peer.open_len = e->collector.open_len;
}

/* The hold-time clock of an established session starts: its first KEEPALIVE may be due before any other. */
static void
keepalive_clock_starts(struct session *s)
{
	tr_ns due;

	if (s->hold_time == 0)
		return;
	due = s->last_sent + (tr_ns)s->hold_time * TR_NS_PER_SEC / 3;
	session_timer_at(s, due);
}

/*
 * What a session negotiates, from the exporter's OPEN and a collector's:
 * both must offer 4-byte AS and a family; ADD-PATH when the exporter may send
 * and the collector receive.  With no collector OPEN (the capture does not
 * have the original collector's side), the exporter's offer stands for it.
 */
static bool
nego_as4(const struct bgp_open *mine, const struct bgp_open *peer)
{
	return mine->has_as4 && (peer == NULL || peer->has_as4);
}

static bool
nego_family(const struct bgp_open *mine, const struct bgp_open *peer,
    uint16_t afi, uint8_t safi)
{
	return bgp_open_has_family(mine, afi, safi) &&
	    (peer == NULL || bgp_open_has_family(peer, afi, safi));
}

/*
 * The captured UPDATEs are encoded for what the original session
 * negotiated; the collector answered with its own capabilities.  Say, by
 * name and with the setting that fixes it, where they would be misread.
 */
static void
compare_capabilities(struct session *s, const struct bgp_open *live,
    const char *what)
{
	struct bgp_open mine, orig_peer, *orig = NULL;

	if (s->open_msg == NULL ||
	    bgp_open_parse(s->open_msg, s->open_len, &mine) == -1)
		return;
	if (s->peer.open != NULL &&
	    bgp_open_parse(s->peer.open, s->peer.open_len, &orig_peer) == 0)
		orig = &orig_peer;
	if (nego_as4(&mine, orig) != nego_as4(&mine, live))
		log_warnx("%s: the captured session %s 4-byte AS numbers "
		    "(RFC 6793) but this one %s: the replayed UPDATEs' "
		    "AS_PATHs will be misread; %s 4-byte AS support on the "
		    "collector", what, nego_as4(&mine, orig) ? "negotiated" :
		    "did not negotiate", nego_as4(&mine, live) ? "does" :
		    "does not (the collector does not advertise it)",
		    nego_as4(&mine, orig) ? "enable" : "disable");
	for (size_t i = 0; i < mine.nfamilies; i++) {
		const struct bgp_open_family *f = &mine.families[i];
		bool was = bgp_add_path_negotiated(&mine, orig, f->afi, f->safi);

		if (f->multiprotocol && nego_family(&mine, orig, f->afi,
		    f->safi) && !nego_family(&mine, live, f->afi, f->safi))
			log_warnx("%s: the collector does not advertise AFI %u "
			    "SAFI %u, which the captured session used: it may "
			    "ignore or reject those UPDATEs; configure that "
			    "family on the collector", what, f->afi, f->safi);
		if (f->add_path != 0 && was !=
		    bgp_add_path_negotiated(&mine, live, f->afi, f->safi))
			log_warnx("%s: ADD-PATH (RFC 7911) for AFI %u SAFI %u "
			    "was %snegotiated in the captured session but is%s "
			    "now: the UPDATEs %s path identifiers the collector "
			    "will misread; %s ADD-PATH receive for that family "
			    "on the collector (gobgpd: add-paths in the "
			    "neighbor's afi-safi; pmacct mirrors the peer's "
			    "capabilities)", what, f->afi, f->safi,
			    was ? "" : "not ", was ? " not" : "",
			    was ? "carry" : "lack", was ? "enable" : "disable");
	}
}

/* One message from the collector: its OPEN releases our held messages; a NOTIFICATION is reported. */
static int
collector_message(void *ctx, const uint8_t *m, size_t mlen, uint8_t type)
{
	struct session *s = ctx;
	char what[128], why[160];

	if (type == BGP_OPEN && s->bgp == BGP_OPEN_SENT)
		collector_opened(s, m, mlen);
	else if (type == BGP_OPEN && s->bgp == BGP_IDLE &&
	    s->early_open == NULL) {
		if ((s->early_open = framer_copy(m, mlen)) != NULL)
			s->early_open_len = mlen;
		session_describe(s, what, sizeof(what));
		log_info("%s: the collector sent its OPEN first; it "
		    "answers ours once that is sent", what);
	} else if (type == BGP_NOTIFICATION && mlen >= BGP_HDR_LEN + 2) {
		s->notification_received = true;
		session_describe(s, what, sizeof(what));
		log_warnx("%s: the collector sent a NOTIFICATION: %s",
		    what, bgp_notification_describe(m[19], m[20], why,
		    sizeof(why)));
		s->table->rep->bgp_notifications_received++;
	}
	return 0;
}

/* Bytes from the collector that frame as no BGP message are passed over (no skipped hook): not the capture's, so not counted. */
static const struct framer_ops collector_framer_ops = {
	.message = collector_message,
};

/* What the collector sent, framed as BGP (a partial message waits for the rest). */
static void
session_bgp_received(struct session *s, const uint8_t *data, size_t len)
{
	struct stream_chunk c = { .data = data, .len = len };

	(void)framer_feed(&s->rx, &c);	/* out of memory: the bytes are dropped */
}

/* The collector's OPEN answers ours: the hold time is negotiated, what was held goes out. */
static void
collector_opened(struct session *s, const uint8_t *msg, size_t len)
{
	struct bgp_open o;
	char what[128];

	session_describe(s, what, sizeof(what));
	if (bgp_open_parse(msg, len, &o) == 0) {
		if (o.hold_time < s->hold_time)
			s->hold_time = o.hold_time;
		compare_capabilities(s, &o, what);
	}
	s->bgp = BGP_ESTABLISHED;
	s->backoff = 0;
	s->last_sent = tr_mono_now();
	keepalive_clock_starts(s);
	transport_tcp_release(s->table->tp, s->conn);
	log_info("%s: the collector answered the OPEN; hold time %u s", what,
	    s->hold_time);
}

/*
 * A BGP collector that closes the connection before it answers our OPEN,
 * without a NOTIFICATION, refuses the peer for now (gobgpd does while its
 * idle hold time runs after a reset; pmbgpd while an old session's hold
 * time runs).  A router retries, its routes not yet sent; so does the
 * replay: what the connection had not written after the OPEN is kept in
 * order, with what comes meanwhile, for the next connection (given up
 * after tcp_stall_limit).  True when the session is kept for a retry.
 */
static bool
session_bgp_keep_for_retry(struct session *s, int id, const struct transport_tcp_stats *st)
{
	struct sessions *t = s->table;
	struct msg_ring *r = &s->ring;
	const uint8_t *unsent;
	size_t n = transport_tcp_unsent(t->tp, id, &unsent), skip = 0;

	free(s->early_open);	/* it answered nothing on this connection */
	s->early_open = NULL;
	if (s->bgp != BGP_OPEN_SENT ||
	    !st->established || s->captured_end || s->stalled ||
	    s->notification_received || s->open_end > s->conn_in)
		return false;
	/* An OPEN not written whole is sent again, and counted then. */
	s->open_unwritten = st->bytes_sent < s->open_end;
	if (s->open_unwritten) {
		skip = s->open_end - st->bytes_sent;
		if (skip > n)
			return false;
		r->head = (r->head + 1) % r->cap;	/* its entry */
		r->n--;
	}
	/*
	 * What the connection did not write stays in its queue, which the
	 * transport keeps for the next connection (and queues what comes
	 * meanwhile behind it).  One mark for it all: its lag counts from the
	 * refusal.
	 */
	transport_tcp_keep(t->tp, id, skip);
	s->marks_head = s->n_marks = 0;
	if (s->conn_in > s->open_end && s->cap_marks > 0)
		s->marks[s->n_marks++] = (struct held_mark){
		    .end = s->conn_in - s->open_end, .since = tr_mono_now() };
	/* The kept messages' offsets now count from the end of the next connection's OPEN. */
	for (size_t i = 0; i < r->n; i++) {
		uint64_t *e = &r->end[(r->head + i) % r->cap];

		*e = ((*e & ~MSG_COUNTED) - s->open_end) | (*e & MSG_COUNTED);
	}
	r->written = 0;
	s->conn_in -= s->open_end;
	if (s->closing) {	/* the run ended meanwhile: close once the retry is answered */
		s->closing = false;
		s->close_after_retry = true;
	}
	if (!s->retrying)
		s->retry_since = tr_mono_now();
	s->retrying = true;
	t->n_retrying++;
	session_held_changed(s);
	session_timer_at(s, s->retry_since + t->stall_limit);
	t->rep->bgp_open_refusals++;
	return true;
}

/* ---- the hooks (proto.h) ----------------------------------------------- */

static void
session_bgp_created(struct session *s, const struct tr_packet *first)
{
	framer_init(&s->rx, protocols[SECTION_BGP]->framing,
	    &collector_framer_ops, s);
	adopt_prescan(s->table, s, first);
}

static void
session_bgp_free(struct session *s)
{
	framer_free(&s->rx);
	free(s->open_msg);
	free(s->early_open);
	bgp_open_finder_free(&s->peer);
}

static void
session_bgp_collector_segment(struct session *s, const struct tr_packet *pkt)
{
	bgp_open_finder_push(&s->peer, pkt);
}

/* pmacct refuses a peer whose old session's hold time still runs. */
static tr_ns
session_bgp_refused_for(const struct session *s, const char **why)
{
	*why = "the BGP hold time";
	return s->hold_time > 0 ? (tr_ns)(s->hold_time + 1) * TR_NS_PER_SEC :
	    0;
}

static const char *
session_bgp_stalled_why(const struct session *s)
{
	return s->bgp == BGP_OPEN_SENT ? "; it never answered the BGP OPEN" :
	    "";
}

const struct proto_session bgp_session = {
	.opening_type = BGP_OPEN,
	.opening_name = "OPEN",
	.one_at_a_time = true,
	.collector_answers = true,
	.created = session_bgp_created,
	.free = session_bgp_free,
	.gate = session_bgp_gate,
	.sent = session_bgp_sent,
	.collector_segment = session_bgp_collector_segment,
	.received = session_bgp_received,
	.timer = session_bgp_keepalive,
	.closing = session_bgp_cease,
	.keep_for_retry = session_bgp_keep_for_retry,
	.refused_for = session_bgp_refused_for,
	.reconnect = session_bgp_reconnect,
	.stalled_why = session_bgp_stalled_why,
};
