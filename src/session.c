/* TCP sessions: reassembly, message framing, bmp_h/bgp_h filters and BGP session behaviour, per captured session. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "bmp.h"
#include "framer.h"
#include "hash.h"
#include "log.h"
#include "select.h"
#include "session.h"
#include "stream.h"

/* Out-of-order bytes held per stream before a hole is declared lost. */
#define STREAM_MAX_HELD		(8u * 1024 * 1024)

enum framing {
	FRAMING_BMP,
	FRAMING_BGP,
	FRAMING_RAW,
};

enum bgp_phase {
	BGP_IDLE,		/* no OPEN sent yet */
	BGP_OPEN_SENT,		/* our OPEN is out; the rest is held until the collector's OPEN */
	BGP_ESTABLISHED,
};

/* Bytes held up to `end` (counted in held_in) have waited since `since`. */
struct held_mark {
	uint64_t	 end;
	tr_ns		 since;
};

/* Marks closer together than this share one: the lag needs no finer grain. */
#define HELD_MARK_GRAIN	TR_NS_PER_MS

struct session {
	struct sessions	*table;
	/* The captured session: section, exporter (network.map index) and its 4-tuple. */
	int		 section;
	int		 exporter;
	struct tr_addr	 src, dst;
	uint16_t	 sport, dport;
	uint64_t	 capture_gen;	/* the capture file whose segments the stream holds */

	struct stream	*stream;
	bool		 captured_end;	/* FIN or RST captured */

	enum framing	 framing;
	struct framer	 fr;		/* BMP/BGP: the message being completed */
	tr_ns		 now;		/* when the bytes being framed are due */

	int		 conn;		/* transport id, -1 before/after */
	/*
	 * Backpressure: while the connection's queue is over its bound, the
	 * session's messages wait here, in order (held[head, len)); marks
	 * say since when, for the lag.
	 */
	uint8_t		*held;
	size_t		 held_head, held_len, held_cap;
	uint64_t	 held_in, held_out;	/* bytes ever held, ever released */
	struct held_mark *marks;
	size_t		 marks_head, n_marks, cap_marks;
	size_t		 held_slot;	/* index + 1 in the table's held list; 0: not in it */
	tr_ns		 held_lag_max;
	uint64_t	 msgs_queued;	/* counted as sent when queued ... */
	uint64_t	 bytes_queued;	/* ... and taken back if none was written */
	bool		 conn_dead;	/* the collector closed or refused it */
	bool		 closing;	/* we asked the connection to close */
	uint64_t	 not_sent;

	enum bgp_phase	 bgp;
	uint16_t	 hold_time;	/* seconds: the exporter's OPEN, then the negotiated one */
	tr_ns		 last_sent;	/* for KEEPALIVEs while idle */
	uint8_t		*open_msg;	/* the exporter's captured OPEN: capabilities, and the BGP prologue */
	size_t		 open_len;
	/*
	 * The collector's OPEN when it came before ours: a collector may speak
	 * first once the connection is up (gobgpd does), while our OPEN waits
	 * for its captured time.  It answers ours as soon as that is sent.
	 */
	uint8_t		*early_open;
	size_t		 early_open_len;
	struct bgp_open_finder peer;	/* the captured collector's OPEN, BGP only */
	/* BMP prologue: what a collector must hear first on a new connection. */
	uint8_t		*init_msg;	/* the Initiation */
	size_t		 init_len;
	struct peer_up	*peer_ups;	/* the Peer Up of every peer now up */
	size_t		 n_peer_ups, cap_peer_ups;
	tr_ns		 reconnect_at;	/* 0: no reconnect pending */
	tr_ns		 backoff;
	uint8_t		*rx;		/* what the collector sent, framed as BGP */
	size_t		 rx_len, rx_cap;
	struct session	*next;		/* hash chain */
};

struct peer_up {
	uint8_t	*msg;
	size_t	 len;
};

#define BACKOFF_FIRST	(1 * TR_NS_PER_SEC)
#define BACKOFF_MAX	(30 * TR_NS_PER_SEC)

#define TABLE_BUCKETS	4096

struct sessions {
	const struct config	*cfg;
	struct report		*rep;
	struct transport	*tp;
	bool			 reconnect;
	struct session		*buckets[TABLE_BUCKETS];
	struct session	       **all;
	size_t			 n_all, cap_all;
	uint64_t		 capture_gen;
	/* No KEEPALIVE is due before this: sending only postpones them, so no scan is needed until then. */
	tr_ns			 next_timer;
	struct prescan		*pre;	/* bgp.open.trim_capabilities' look-ahead */
	struct session	       **held;	/* sessions with messages held back */
	size_t			 n_held, cap_held;
	size_t			 held_bytes;	/* in all of them */
};

/* A BGP session the look-ahead saw, keyed like a session (the exporter's side as source). */
struct prescan_entry {
	struct tr_addr		 src, dst;
	uint16_t		 sport, dport;
	struct bgp_open_finder	 collector;
	struct prescan_entry	*next;
};

struct prescan {
	struct prescan_entry	*buckets[TABLE_BUCKETS];
	size_t			 n;
};

static void	prescan_adopt(struct sessions *, struct session *,
		    const struct tr_packet *);
static void	prescan_free(struct prescan *);

struct sessions *
sessions_new(const struct config *cfg, bool reconnect, struct report *rep)
{
	struct sessions *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->cfg = cfg;
	t->rep = rep;
	t->reconnect = reconnect;
	t->next_timer = INT64_MAX;
	return t;
}

void
sessions_attach(struct sessions *t, struct transport *tp)
{
	t->tp = tp;
}

void
sessions_free(struct sessions *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_all; i++) {
		stream_free(t->all[i]->stream);
		framer_free(&t->all[i]->fr);
		free(t->all[i]->rx);
		free(t->all[i]->open_msg);
		free(t->all[i]->early_open);
		bgp_open_finder_free(&t->all[i]->peer);
		free(t->all[i]->held);
		free(t->all[i]->marks);
		free(t->all[i]->init_msg);
		for (size_t k = 0; k < t->all[i]->n_peer_ups; k++)
			free(t->all[i]->peer_ups[k].msg);
		free(t->all[i]->peer_ups);
		free(t->all[i]);
	}
	free(t->all);
	free(t->held);
	prescan_free(t->pre);
	free(t);
}

static uint32_t
session_hash(int section, const struct tr_packet *pkt)
{
	uint32_t h = FNV1A_BASIS;
	size_t alen = pkt->src.family == AF_INET ? 4 : 16;

	h = fnv1a(h, &section, sizeof(section));
	h = fnv1a(h, &pkt->src.v6, alen);
	h = fnv1a(h, &pkt->dst.v6, alen);
	h = fnv1a(h, &pkt->sport, sizeof(pkt->sport));
	h = fnv1a(h, &pkt->dport, sizeof(pkt->dport));
	return h % TABLE_BUCKETS;
}

static bool
session_matches(const struct session *s, int section,
    const struct tr_packet *pkt)
{
	return s->section == section && s->sport == pkt->sport &&
	    s->dport == pkt->dport && addr_equal(&s->src, &pkt->src) &&
	    addr_equal(&s->dst, &pkt->dst);
}

/* Defined with the framing callbacks, further down. */
static const struct framer_ops session_framer_ops;

static enum framing
section_framing(int section)
{
	if (section == SECTION_BMP)
		return FRAMING_BMP;
	if (section == SECTION_BGP)
		return FRAMING_BGP;
	return FRAMING_RAW;
}

static struct session *
session_new(struct sessions *t, int section, int exporter,
    const struct tr_packet *pkt, uint32_t bucket)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if ((s->stream = stream_new(STREAM_MAX_HELD)) == NULL) {
		free(s);
		return NULL;
	}
	if (t->n_all == t->cap_all) {
		size_t cap = t->cap_all ? t->cap_all * 2 : 64;
		struct session **all = realloc(t->all, cap * sizeof(*all));

		if (all == NULL) {
			stream_free(s->stream);
			free(s);
			return NULL;
		}
		t->all = all;
		t->cap_all = cap;
	}
	t->all[t->n_all++] = s;
	s->table = t;
	s->section = section;
	s->exporter = exporter;
	s->src = pkt->src;
	s->dst = pkt->dst;
	s->sport = pkt->sport;
	s->dport = pkt->dport;
	s->capture_gen = t->capture_gen;
	s->framing = section_framing(section);
	if (s->framing != FRAMING_RAW)
		framer_init(&s->fr, s->framing == FRAMING_BMP ? FRAMER_BMP :
		    FRAMER_BGP, &session_framer_ops, s);
	s->conn = -1;
	s->next = t->buckets[bucket];
	t->buckets[bucket] = s;
	t->rep->tcp_sessions++;
	prescan_adopt(t, s, pkt);
	return s;
}

/* Unhook a session replaced by a new one on the same ports (it stays in `all`, for its connection). */
static void
session_unlink(struct sessions *t, struct session *s, uint32_t bucket)
{
	struct session **pp = &t->buckets[bucket];

	while (*pp != NULL && *pp != s)
		pp = &(*pp)->next;
	if (*pp == s)
		*pp = s->next;
	s->next = NULL;
}

static void
describe(const struct session *s, char *buf, size_t len)
{
	char src[TR_ADDR_STRLEN];

	snprintf(buf, len, "%s session %s:%u -> port %u",
	    section_names[s->section], addr_format(&s->src, src, sizeof(src)),
	    s->sport, s->dport);
}

static int
open_connection(struct session *s)
{
	struct sessions *t = s->table;
	const struct cfg_section *sec = &t->cfg->section[s->section];
	char err[512], what[128];

	s->conn = transport_tcp_open(t->tp, &t->cfg->map[s->exporter].repro_ip,
	    sec->collector_host, sec->collector_port, s, err, sizeof(err));
	if (s->conn == -1) {
		describe(s, what, sizeof(what));
		log_errorx("%s: %s", what, err);
		s->conn_dead = true;
		t->rep->tcp_connect_failures++;
		return -1;
	}
	return 0;
}

/* ---- per-session backpressure ------------------------------------------ */

static void
held_list_add(struct sessions *t, struct session *s)
{
	if (s->held_slot != 0)
		return;
	if (t->n_held == t->cap_held) {
		size_t cap = t->cap_held ? t->cap_held * 2 : 16;
		struct session **h = realloc(t->held, cap * sizeof(*h));

		if (h == NULL)
			return;	/* released at the end instead (sessions_close_all) */
		t->held = h;
		t->cap_held = cap;
	}
	t->held[t->n_held++] = s;
	s->held_slot = t->n_held;
}

static void
held_list_remove(struct sessions *t, struct session *s)
{
	size_t i = s->held_slot - 1;

	if (s->held_slot == 0)
		return;
	t->held[i] = t->held[--t->n_held];
	t->held[i]->held_slot = i + 1;
	s->held_slot = 0;
}

/* Keep a message back, behind those already held. */
static int
hold_message(struct session *s, const uint8_t *p, size_t len, tr_ns now)
{
	struct sessions *t = s->table;
	char what[128];

	if (s->held_len + len > s->held_cap) {
		if (s->held_head > 0) {
			memmove(s->held, s->held + s->held_head,
			    s->held_len - s->held_head);
			s->held_len -= s->held_head;
			s->held_head = 0;
		}
		if (s->held_len + len > s->held_cap) {
			size_t cap = s->held_cap ? s->held_cap : 65536;
			uint8_t *b;

			while (cap < s->held_len + len)
				cap *= 2;
			if ((b = realloc(s->held, cap)) == NULL)
				return -1;
			s->held = b;
			s->held_cap = cap;
		}
	}
	if (s->n_marks > s->marks_head &&
	    now - s->marks[s->n_marks - 1].since < HELD_MARK_GRAIN)
		s->marks[s->n_marks - 1].end = s->held_in + len;
	else {
		if (s->n_marks == s->cap_marks) {
			size_t cap = s->cap_marks ? s->cap_marks * 2 : 16;
			struct held_mark *m = realloc(s->marks,
			    cap * sizeof(*m));

			if (m == NULL)
				return -1;
			s->marks = m;
			s->cap_marks = cap;
		}
		s->marks[s->n_marks++] = (struct held_mark){
		    .end = s->held_in + len, .since = now };
	}
	if (s->held_in == 0) {	/* the first time this session is held */
		t->rep->tcp_sessions_held++;
		describe(s, what, sizeof(what));
		log_warnx("%s: the collector takes the session's bytes slower "
		    "than the capture has them (%u MiB queued): its messages "
		    "wait in order, nothing is dropped, the other sessions go "
		    "on; the lag says how late they are",
		    what, TRANSPORT_TCP_CONN_QUEUE_MAX >> 20);
	}
	memcpy(s->held + s->held_len, p, len);
	s->held_len += len;
	s->held_in += len;
	t->held_bytes += len;
	held_list_add(t, s);
	return 0;
}

/* The marks of bytes now released: how long they waited. */
static void
held_lag(struct session *s, tr_ns now)
{
	struct report *rep = s->table->rep;

	while (s->marks_head < s->n_marks &&
	    s->marks[s->marks_head].end <= s->held_out) {
		tr_ns lag = now - s->marks[s->marks_head++].since;

		if (lag > s->held_lag_max)
			s->held_lag_max = lag;
		if (lag > rep->tcp_held_lag_max)
			rep->tcp_held_lag_max = lag;
		/* With time_factor 0 nothing has a deadline to be late for. */
		if (s->table->cfg->time_factor > 0)
			report_lag(rep, lag);
	}
	if (s->marks_head == s->n_marks)
		s->marks_head = s->n_marks = 0;
}

/* Nothing held any more: released, or lost with the connection. */
static void
held_empty(struct session *s)
{
	s->table->held_bytes -= s->held_len - s->held_head;
	s->held_out = s->held_in;
	s->held_head = s->held_len = 0;
	s->marks_head = s->n_marks = 0;
	held_list_remove(s->table, s);
}

/*
 * Move held messages to the connection as its queue empties: once under
 * half its bound, up to the bound (all of them when `all`: the session
 * ends, and its connection closes after its queue).
 */
static void
release_held(struct session *s, tr_ns now, bool all)
{
	struct sessions *t = s->table;
	size_t queued, n = s->held_len - s->held_head;
	char what[128];

	if (n == 0 || s->conn < 0 || s->conn_dead)
		return;
	queued = transport_tcp_queued(t->tp, s->conn);
	if (!all) {
		if (queued >= TRANSPORT_TCP_CONN_QUEUE_MAX / 2)
			return;
		if (n > TRANSPORT_TCP_CONN_QUEUE_MAX - queued)
			n = TRANSPORT_TCP_CONN_QUEUE_MAX - queued;
	}
	if (transport_tcp_send(t->tp, s->conn, s->held + s->held_head, n) ==
	    -1)
		return;	/* out of memory: try again later; closed: on_closed accounts */
	s->held_head += n;
	s->held_out += n;
	t->held_bytes -= n;
	held_lag(s, now);
	if (s->held_head < s->held_len)
		return;
	held_empty(s);
	describe(s, what, sizeof(what));
	log_info("%s: the collector caught up; messages waited up to %.3f s",
	    what, tr_ns_to_sec(s->held_lag_max));
}

size_t
sessions_held_bytes(const struct sessions *t)
{
	return t->held_bytes;
}

/* Queue bytes on the session's connection, or hold them (backpressure); the message is counted as sent or as not sent. */
static int
session_send(struct session *s, const uint8_t *p, size_t len, tr_ns now)
{
	struct report_section *rs = &s->table->rep->section[s->section];

	if (s->conn_dead || s->conn == -1) {
		rs->dropped++;
		s->not_sent++;
		return 0;
	}
	if (s->held_len > s->held_head || transport_tcp_queued(s->table->tp,
	    s->conn) >= TRANSPORT_TCP_CONN_QUEUE_MAX) {
		if (hold_message(s, p, len, now) == -1)
			return -1;
	} else if (transport_tcp_send(s->table->tp, s->conn, p, len) == -1) {
		if (errno == ENOMEM)
			return -1;
		rs->dropped++;
		s->not_sent++;
		return 0;
	}
	rs->sent++;
	rs->bytes += len;
	s->msgs_queued++;
	s->bytes_queued += len;
	s->last_sent = now;
	return 0;
}

/* Whether two messages are of one monitored peer (bmp_peer_key). */
static bool
same_peer(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint8_t ka[BMP_PEER_KEY_LEN], kb[BMP_PEER_KEY_LEN];

	return bmp_peer_key(a, alen, ka) && bmp_peer_key(b, blen, kb) &&
	    memcmp(ka, kb, sizeof(ka)) == 0;
}

/*
 * Keep what a new connection must start with, as the router would send it:
 * the Initiation, and the Peer Up of each peer still up (a Peer Down drops it).
 * Without memory for it, a reconnect just has a shorter prologue.
 */
static void
remember_bmp_state(struct session *s, const uint8_t *msg, size_t len,
    uint8_t type)
{
	if (type == BMP_INITIATION) {
		free(s->init_msg);
		s->init_len = (s->init_msg = framer_copy(msg, len)) ? len : 0;
		return;
	}
	if (type != BMP_PEER_UP && type != BMP_PEER_DOWN)
		return;
	for (size_t i = 0; i < s->n_peer_ups; i++) {
		if (!same_peer(s->peer_ups[i].msg, s->peer_ups[i].len, msg, len))
			continue;
		free(s->peer_ups[i].msg);
		s->peer_ups[i] = s->peer_ups[--s->n_peer_ups];
		break;
	}
	if (type == BMP_PEER_DOWN)
		return;
	if (s->n_peer_ups == s->cap_peer_ups) {
		size_t cap = s->cap_peer_ups ? s->cap_peer_ups * 2 : 8;
		struct peer_up *p = realloc(s->peer_ups, cap * sizeof(*p));

		if (p == NULL)
			return;
		s->peer_ups = p;
		s->cap_peer_ups = cap;
	}
	if ((s->peer_ups[s->n_peer_ups].msg = framer_copy(msg, len)) != NULL)
		s->peer_ups[s->n_peer_ups++].len = len;
}

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
	describe(s, what, sizeof(what));
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
		copy[OPEN_HOLD_TIME_OFF] = (uint8_t)(rw->hold_time >> 8);
		copy[OPEN_HOLD_TIME_OFF + 1] = (uint8_t)rw->hold_time;
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

static void collector_opened(struct session *, const uint8_t *, size_t);

/* One whole BMP or BGP message: filter, BGP bookkeeping, send. */
static int
deliver_message(struct session *s, const uint8_t *msg, size_t len,
    uint8_t type, tr_ns now)
{
	const struct cfg_select *sel =
	    &s->table->cfg->section[s->section].select;
	const struct cfg_u32_list *filter = s->framing == FRAMING_BMP ?
	    &sel->bmp_type : &sel->bgp_type;
	bool is_open = s->framing == FRAMING_BGP && type == BGP_OPEN;

	if (!select_u32_match(filter, type)) {
		s->table->rep->section[s->section].filtered++;
		return 0;
	}
	/*
	 * A BGP speaker rejects anything before an OPEN (a capture that
	 * starts mid-session): such messages cannot be replayed.
	 */
	if (s->framing == FRAMING_BGP && s->bgp == BGP_IDLE && !is_open) {
		if (s->not_sent++ == 0) {
			char what[128];

			describe(s, what, sizeof(what));
			log_warnx("%s: the capture has no OPEN for this session: "
			    "its messages are not sent (a collector would reject "
			    "them)", what);
		}
		s->table->rep->section[s->section].not_replayed++;
		return 0;
	}
	if (is_open) {
		struct bgp_open o;

		/* Keep it (capabilities, the reconnect prologue), rewritten as configured, and send that. */
		if (keep_open_msg(s, msg, len) == 0) {
			msg = s->open_msg;
			len = s->open_len;
		}
		if (bgp_open_parse(msg, len, &o) == 0)
			s->hold_time = o.hold_time;
	}
	if (session_send(s, msg, len, now) == -1)
		return -1;
	if (s->framing == FRAMING_BMP)
		remember_bmp_state(s, msg, len, type);
	/*
	 * After our OPEN, the collector must answer with its own before it
	 * gets anything else: hold the rest in the connection's queue.
	 */
	if (is_open && s->conn >= 0 && !s->conn_dead) {
		s->bgp = BGP_OPEN_SENT;
		transport_tcp_hold(s->table->tp, s->conn);
		if (s->early_open != NULL) {
			collector_opened(s, s->early_open, s->early_open_len);
			free(s->early_open);
			s->early_open = NULL;
		}
	}
	return 0;
}

static void
note_skipped(void *ctx, size_t n, const char *why)
{
	struct session *s = ctx;
	char what[128];

	s->table->rep->tcp_skipped_bytes += n;
	if (why == NULL) {
		s->table->rep->tcp_framing_errors++;
		return;
	}
	describe(s, what, sizeof(what));
	log_warnx("%s: skipped %zu bytes %s", what, n, why);
}

static int
framed_message(void *ctx, const uint8_t *msg, size_t len, uint8_t type)
{
	struct session *s = ctx;

	return deliver_message(s, msg, len, type, s->now);
}

static const struct framer_ops session_framer_ops = {
	.message = framed_message,
	.skipped = note_skipped,
};

/* Bytes from reassembly: generic TCP passes them on, BMP/BGP frame them first. */
static int
feed(struct session *s, const struct stream_chunk *c, tr_ns now)
{
	if (c->gap_before) {
		char what[128];

		describe(s, what, sizeof(what));
		log_warnx("%s: %llu bytes were never captured: the stream "
		    "resumes at the next message boundary", what,
		    (unsigned long long)c->gap_bytes);
		s->table->rep->tcp_gap_bytes += c->gap_bytes;
	}
	if (s->framing == FRAMING_RAW)
		return c->len == 0 ? 0 : session_send(s, c->data, c->len, now);
	s->now = now;
	return framer_feed(&s->fr, c);
}

/* A fresh stream for a new capture file: the older tool's multi-file sessions restart sequence numbers in each file. */
static int
renew_stream(struct session *s)
{
	struct stream *fresh = stream_new(STREAM_MAX_HELD);

	if (fresh == NULL)
		return -1;
	stream_free(s->stream);
	s->stream = fresh;
	s->capture_gen = s->table->capture_gen;
	return 0;
}

/* The captured session ended: its connection closes once its queue is written. */
static void
end_session(struct sessions *t, struct session *s)
{
	s->captured_end = true;
	s->closing = true;
	release_held(s, tr_mono_now(), true);
	if (s->conn >= 0 && !s->conn_dead)
		transport_tcp_close(t->tp, s->conn, false);
}

void
sessions_push_collector(struct sessions *t, int section,
    const struct tr_packet *pkt)
{
	struct tr_packet rev = tr_packet_reversed(pkt);
	struct session *s;

	for (s = t->buckets[session_hash(section, &rev)]; s != NULL; s = s->next)
		if (session_matches(s, section, &rev))
			break;
	if (s != NULL && s->framing == FRAMING_BGP)
		bgp_open_finder_push(&s->peer, pkt);
}

/* ---- look-ahead: the captured collectors' OPENs, before the replay ----- */

/* The look-ahead's entry for a session (pkt from the exporter's side), made when create is set. */
static struct prescan_entry *
prescan_find(struct prescan *pre, const struct tr_packet *pkt, bool create)
{
	uint32_t bucket = session_hash(SECTION_BGP, pkt);
	struct prescan_entry *e;

	for (e = pre->buckets[bucket]; e != NULL; e = e->next)
		if (e->sport == pkt->sport && e->dport == pkt->dport &&
		    addr_equal(&e->src, &pkt->src) &&
		    addr_equal(&e->dst, &pkt->dst))
			return e;
	if (!create || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->src = pkt->src;
	e->dst = pkt->dst;
	e->sport = pkt->sport;
	e->dport = pkt->dport;
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

static void
prescan_free(struct prescan *pre)
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
prescan_adopt(struct sessions *t, struct session *s,
    const struct tr_packet *pkt)
{
	struct prescan_entry *e;

	if (t->pre == NULL || s->framing != FRAMING_BGP ||
	    (e = prescan_find(t->pre, pkt, false)) == NULL ||
	    e->collector.open == NULL)
		return;
	if ((s->peer.open = framer_copy(e->collector.open,
	    e->collector.open_len)) != NULL)
		s->peer.open_len = e->collector.open_len;
}

bool
sessions_needs_deadline(const struct tr_packet *pkt)
{
	return pkt->payload_len > 0 ||
	    (pkt->tcp_flags & (TR_TCP_SYN | TR_TCP_FIN | TR_TCP_RST));
}

int
sessions_push(struct sessions *t, int section, int exporter,
    const struct tr_packet *pkt)
{
	uint32_t bucket = session_hash(section, pkt);
	struct session *s = t->buckets[bucket];
	struct stream_chunk chunks[2];
	tr_ns now = tr_mono_now();
	bool syn = (pkt->tcp_flags & (TR_TCP_SYN | TR_TCP_ACK)) == TR_TCP_SYN;
	int n;

	while (s != NULL && !session_matches(s, section, pkt))
		s = s->next;
	/*
	 * A SYN within the same capture starts a new session on the same
	 * ports; in a new capture file it continues the session, as in the
	 * older tool's pre-processed lists, whose every file opens with a SYN.
	 */
	if (s != NULL && syn && (s->captured_end ||
	    (s->capture_gen == t->capture_gen &&
	    stream_stats(s->stream)->bytes > 0))) {
		if (!s->captured_end)
			end_session(t, s);
		session_unlink(t, s, bucket);
		s = NULL;
	}
	if (s == NULL) {
		if ((s = session_new(t, section, exporter, pkt, bucket)) == NULL)
			return -1;
		(void)open_connection(s);
	} else if ((s->capture_gen != t->capture_gen ||
	    (syn && stream_stats(s->stream)->bytes == 0)) &&
	    renew_stream(s) == -1)
		return -1;	/* a new file, or a SYN retried with a new ISN before any data */

	if ((n = stream_push(s->stream, pkt, chunks)) == -1)
		return -1;
	for (int i = 0; i < n; i++)
		if (feed(s, &chunks[i], now) == -1)
			return -1;
	/* Segments after the end (the last ACKs) stay with the ended session. */
	if (stream_closed(s->stream) && !s->captured_end)
		end_session(t, s);
	return 0;
}

static void
send_keepalive(struct session *s, tr_ns now)
{
	uint8_t ka[BGP_HDR_LEN];

	if (bgp_keepalive_build(ka, sizeof(ka)) > 0 &&
	    transport_tcp_send(s->table->tp, s->conn, ka, sizeof(ka)) == 0) {
		s->last_sent = now;
		s->table->rep->bgp_keepalives_added++;
	}
}

/* Start a new connection and send the prologue the collector must hear first. */
static void
reconnect(struct session *s, tr_ns now)
{
	struct sessions *t = s->table;
	char what[128];

	s->reconnect_at = 0;
	s->conn_dead = false;
	s->msgs_queued = s->bytes_queued = 0;
	if (open_connection(s) == -1)
		return;
	t->rep->tcp_reconnects++;
	describe(s, what, sizeof(what));
	if (s->framing == FRAMING_BMP) {
		size_t n = 0;

		if (s->init_msg != NULL &&
		    transport_tcp_send(t->tp, s->conn, s->init_msg,
		    s->init_len) == 0)
			n++;
		for (size_t i = 0; i < s->n_peer_ups; i++)
			if (transport_tcp_send(t->tp, s->conn,
			    s->peer_ups[i].msg, s->peer_ups[i].len) == 0)
				n++;
		log_warnx("%s: reconnecting; %zu messages re-sent first "
		    "(Initiation and the Peer Up of each peer up)", what, n);
	} else if (s->framing == FRAMING_BGP && s->open_msg != NULL) {
		if (transport_tcp_send(t->tp, s->conn, s->open_msg,
		    s->open_len) == 0) {
			s->bgp = BGP_OPEN_SENT;
			transport_tcp_hold(t->tp, s->conn);
		}
		log_warnx("%s: reconnecting; the OPEN is sent again and the "
		    "session goes on once the collector answers", what);
	} else
		log_warnx("%s: reconnecting", what);
	s->last_sent = now;
}

/*
 * The collector closed or refused a session the capture still has: try
 * again after a backoff that doubles up to BACKOFF_MAX, or past the BGP hold
 * time (pmacct refuses a peer whose old session's hold time still runs).
 */
static void
schedule_reconnect(struct session *s, const char *what)
{
	tr_ns now = tr_mono_now(), cap = BACKOFF_MAX;

	if (s->framing == FRAMING_BGP && s->hold_time > 0 &&
	    (tr_ns)(s->hold_time + 1) * TR_NS_PER_SEC > cap)
		cap = (tr_ns)(s->hold_time + 1) * TR_NS_PER_SEC;
	s->backoff = s->backoff == 0 ? BACKOFF_FIRST : s->backoff * 2;
	if (s->backoff > cap)
		s->backoff = cap;
	s->reconnect_at = now + s->backoff;
	if (s->reconnect_at < s->table->next_timer)
		s->table->next_timer = s->reconnect_at;
	log_warnx("%s: reconnecting in %.0f s%s", what,
	    tr_ns_to_sec(s->backoff), s->framing == FRAMING_BGP &&
	    s->backoff == cap && cap > BACKOFF_MAX ? " (past the BGP hold "
	    "time, after which the collector accepts the peer again)" : "");
}

/*
 * A scan of every session runs each time the earliest timer is due; with
 * thousands of BGP sessions whose KEEPALIVEs fall due one after another,
 * that is one scan per KEEPALIVE.  So a scan also serves every timer due
 * within TIMER_SLACK (a KEEPALIVE that much early is still well inside a
 * hold time of at least 3 s; a reconnect backoff is at least 1 s): at most
 * one scan per TIMER_SLACK, whatever the number of sessions.
 */
#define TIMER_SLACK	(100 * TR_NS_PER_MS)

tr_ns
sessions_tick(struct sessions *t, tr_ns now)
{
	tr_ns next = INT64_MAX, soon = now + TIMER_SLACK;

	/* Backwards: a session that empties leaves the list by a swap with the last. */
	for (size_t i = t->n_held; i > 0; i--)
		release_held(t->held[i - 1], now, false);
	if (now < t->next_timer)
		return t->next_timer;

	for (size_t i = 0; i < t->n_all; i++) {
		struct session *s = t->all[i];
		tr_ns every, due;

		if (s->reconnect_at != 0) {
			if (s->reconnect_at <= soon)
				reconnect(s, now);
			else if (s->reconnect_at < next)
				next = s->reconnect_at;
			continue;
		}
		if (s->bgp != BGP_ESTABLISHED || s->conn_dead ||
		    s->hold_time == 0 || s->captured_end)
			continue;
		/* A third of the hold time, as RFC 4271 suggests for KEEPALIVEs. */
		every = (tr_ns)s->hold_time * TR_NS_PER_SEC / 3;
		due = s->last_sent + every;
		if (due <= soon) {
			send_keepalive(s, now);
			due = now + every;
		}
		if (due < next)
			next = due;
	}
	t->next_timer = next;
	return next;
}

/* The hold-time clock of an established session starts: its first KEEPALIVE may be due before any other. */
static void
keepalive_clock_starts(struct session *s)
{
	tr_ns due;

	if (s->hold_time == 0)
		return;
	due = s->last_sent + (tr_ns)s->hold_time * TR_NS_PER_SEC / 3;
	if (due < s->table->next_timer)
		s->table->next_timer = due;
}

void
sessions_end_of_capture(struct sessions *t)
{
	tr_ns now = tr_mono_now();

	/* What reassembly still holds after a hole goes out now, after the gap. */
	for (size_t i = 0; i < t->n_all; i++) {
		struct session *s = t->all[i];
		struct stream_chunk chunks[2];
		int n;

		if (s->capture_gen != t->capture_gen)
			continue;
		while ((n = stream_finish(s->stream, chunks)) > 0)
			for (int k = 0; k < n; k++)
				(void)feed(s, &chunks[k], now);
		t->rep->tcp_retransmitted +=
		    stream_stats(s->stream)->retransmitted;
	}
	t->capture_gen++;
}

void
sessions_close_all(struct sessions *t)
{
	for (size_t i = 0; i < t->n_all; i++) {
		struct session *s = t->all[i];

		if (framer_pending(&s->fr) > 0) {
			char what[128];

			describe(s, what, sizeof(what));
			log_warnx("%s: the captures end inside a message: its "
			    "%zu bytes were not sent", what,
			    framer_pending(&s->fr));
			t->rep->tcp_unfinished_bytes += framer_pending(&s->fr);
			framer_discard(&s->fr);
		}

		if (s->conn < 0 || s->conn_dead ||
		    !transport_tcp_can_send(t->tp, s->conn))
			continue;
		/* What backpressure held goes on the queue, written before the end. */
		release_held(s, tr_mono_now(), true);
		/*
		 * Cease, so the collector frees the peer at once instead of
		 * waiting out the hold time (queued behind anything held).
		 */
		if (s->bgp != BGP_IDLE) {
			uint8_t msg[BGP_HDR_LEN + 2];

			if (bgp_notification_build(msg, sizeof(msg), BGP_CEASE,
			    BGP_CEASE_ADMIN_SHUTDOWN) > 0)
				(void)transport_tcp_send(t->tp, s->conn, msg,
				    sizeof(msg));
		}
		s->closing = true;
		transport_tcp_close(t->tp, s->conn, false);
	}
}

void
sessions_abort_all(struct sessions *t)
{
	for (size_t i = 0; i < t->n_all; i++) {
		struct session *s = t->all[i];

		if (s->conn >= 0 && !s->conn_dead) {
			s->closing = true;
			transport_tcp_close(t->tp, s->conn, true);
		}
	}
}

size_t
sessions_active(const struct sessions *t)
{
	return t->tp != NULL ? transport_tcp_active(t->tp) : 0;
}

/* ---- what the transport tells about a connection ---------------------- */

static void
on_connected(void *ctx, int id)
{
	struct session *s = ctx;
	char what[128];

	(void)id;
	describe(s, what, sizeof(what));
	log_debug("%s: connected to the collector", what);
	/* Only BGP has an answer to wait for before the connection counts as good. */
	if (s->framing != FRAMING_BGP)
		s->backoff = 0;
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
	const struct bgp_cap *ap;

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
	for (size_t i = 0; i < mine.ncaps; i++) {
		const struct bgp_cap *c = &mine.caps[i];
		uint16_t afi;

		if (c->code != BGP_CAP_MP || c->len != 4)
			continue;
		afi = (uint16_t)(c->value[0] << 8 | c->value[1]);
		if (nego_family(&mine, orig, afi, c->value[3]) &&
		    !nego_family(&mine, live, afi, c->value[3]))
			log_warnx("%s: the collector does not advertise AFI %u "
			    "SAFI %u, which the captured session used: it may "
			    "ignore or reject those UPDATEs; configure that "
			    "family on the collector", what, afi, c->value[3]);
	}
	ap = bgp_open_find_cap(&mine, BGP_CAP_ADD_PATH);
	for (size_t at = 0; ap != NULL && at + 4 <= ap->len; at += 4) {
		uint16_t afi = (uint16_t)(ap->value[at] << 8 |
		    ap->value[at + 1]);
		uint8_t safi = ap->value[at + 2];
		bool was = bgp_add_path_negotiated(&mine, orig, afi, safi);

		if (was != bgp_add_path_negotiated(&mine, live, afi, safi))
			log_warnx("%s: ADD-PATH (RFC 7911) for AFI %u SAFI %u "
			    "was %snegotiated in the captured session but is%s "
			    "now: the UPDATEs %s path identifiers the collector "
			    "will misread; %s ADD-PATH receive for that family "
			    "on the collector (gobgpd: add-paths in the "
			    "neighbor's afi-safi; pmacct mirrors the peer's "
			    "capabilities)", what, afi, safi, was ? "" : "not ",
			    was ? " not" : "", was ? "carry" : "lack",
			    was ? "enable" : "disable");
	}
}

/* Parse what a BGP collector says: its OPEN releases our held messages; a NOTIFICATION is reported. */
static void
bgp_received(struct session *s, const uint8_t *data, size_t len)
{
	char what[128], why[160];
	uint8_t type;
	uint16_t mlen;

	if (s->rx_len + len > s->rx_cap) {
		size_t cap = s->rx_cap ? s->rx_cap * 2 : 4096;
		uint8_t *b;

		while (cap < s->rx_len + len)
			cap *= 2;
		if (cap > 2 * BGP_MAX_MSG_LEN || (b = realloc(s->rx, cap)) == NULL) {
			s->rx_len = 0;	/* garbage from the collector: drop it */
			return;
		}
		s->rx = b;
		s->rx_cap = cap;
	}
	memcpy(s->rx + s->rx_len, data, len);
	s->rx_len += len;
	describe(s, what, sizeof(what));
	while (bgp_frame(s->rx, s->rx_len, &type, &mlen) == 1 &&
	    mlen <= s->rx_len) {
		if (type == BGP_OPEN && s->bgp == BGP_OPEN_SENT)
			collector_opened(s, s->rx, mlen);
		else if (type == BGP_OPEN && s->bgp == BGP_IDLE &&
		    s->early_open == NULL) {
			if ((s->early_open = framer_copy(s->rx, mlen)) != NULL)
				s->early_open_len = mlen;
			log_info("%s: the collector sent its OPEN first; it "
			    "answers ours once that is sent", what);
		} else if (type == BGP_NOTIFICATION && mlen >= BGP_HDR_LEN + 2) {
			log_warnx("%s: the collector sent a NOTIFICATION: %s",
			    what, bgp_notification_describe(s->rx[19],
			    s->rx[20], why, sizeof(why)));
			s->table->rep->bgp_notifications_received++;
		}
		memmove(s->rx, s->rx + mlen, s->rx_len - mlen);
		s->rx_len -= mlen;
	}
}

/* The collector's OPEN answers ours: the hold time is negotiated, what was held goes out. */
static void
collector_opened(struct session *s, const uint8_t *msg, size_t len)
{
	struct bgp_open o;
	char what[128];

	describe(s, what, sizeof(what));
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

static void
on_received(void *ctx, int id, const uint8_t *data, size_t len)
{
	struct session *s = ctx;

	(void)id;
	if (s->framing == FRAMING_BGP)
		bgp_received(s, data, len);
}

/*
 * What a closed connection took with it: a connection that never wrote a
 * byte sent none of its messages; otherwise the bytes left in its queue are
 * lost (mid-message, so they are counted in bytes).
 */
static void
account_loss(struct session *s, const struct transport_tcp_stats *st,
    const char *what)
{
	struct report_section *rs = &s->table->rep->section[s->section];

	if (st->bytes_sent == 0 && s->msgs_queued > 0) {
		rs->sent -= s->msgs_queued;
		rs->bytes -= s->bytes_queued;
		rs->dropped += s->msgs_queued;
		log_warnx("%s: none of its %llu messages reached the collector",
		    what, (unsigned long long)s->msgs_queued);
	} else if (st->bytes_lost + (s->held_len - s->held_head) > 0) {
		uint64_t lost = st->bytes_lost + (s->held_len - s->held_head);

		s->table->rep->tcp_lost_bytes += lost;
		log_warnx("%s: %llu queued bytes never reached the collector",
		    what, (unsigned long long)lost);
	}
	held_empty(s);
	s->msgs_queued = s->bytes_queued = 0;
}

static void
on_closed(void *ctx, int id, int err)
{
	struct session *s = ctx;
	const struct transport_tcp_stats *st =
	    transport_tcp_stats(s->table->tp, id);
	char what[128];

	s->conn_dead = true;
	free(s->early_open);	/* it answered nothing on this connection */
	s->early_open = NULL;
	describe(s, what, sizeof(what));
	if (!st->established) {
		s->table->rep->tcp_connect_failures++;
		log_warnx("%s: cannot connect to the collector: %s", what,
		    strerror(err ? err : ECONNREFUSED));
	} else if (!(s->closing && err == 0)) {
		/* Not the end we asked for. */
		s->table->rep->tcp_closed_by_collector++;
		if (err == 0)
			log_warnx("%s: the collector closed the connection; "
			    "what follows in this session is not sent", what);
		else
			log_warnx("%s: the connection to the collector failed: "
			    "%s; what follows in this session is not sent",
			    what, strerror(err));
	}
	account_loss(s, st, what);
	if (s->table->reconnect && !s->closing && !s->captured_end)
		schedule_reconnect(s, what);
}

struct transport_tcp_events
sessions_tcp_events(void)
{
	struct transport_tcp_events ev = {
		.connected = on_connected,
		.received = on_received,
		.closed = on_closed,
	};
	return ev;
}
