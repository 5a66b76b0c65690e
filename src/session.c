/*
 * TCP sessions: reassembly, message framing, bmp_h/bgp_h filters, and the
 * routing of a router's sessions to connections (one session per collector,
 * joined continuations), per-session backpressure, reconnects and the stall
 * limit.  What a protocol adds comes from its descriptor's session hooks
 * (proto.h): session_bgp.c, session_bmp.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hash.h"
#include "log.h"
#include "select.h"
#include "session_priv.h"

/* Out-of-order bytes held per stream before a hole is declared lost, and by all streams together. */
#define STREAM_MAX_HELD		(8u * 1024 * 1024)
#define STREAMS_MAX_HELD	(64u * 1024 * 1024)
/* Marks closer together than this share one: the lag needs no finer grain. */
#define HELD_MARK_GRAIN		TR_NS_PER_MS
/*
 * What one session may hold back for a slow collector before the replay
 * waits for it (sessions_held_full): memory stays bounded per session,
 * while a collector's backlog under it holds back none of the others.
 */
#define SESSION_HELD_MAX	(64u * 1024 * 1024)
#define BACKOFF_FIRST		(1 * TR_NS_PER_SEC)
#define BACKOFF_MAX		(30 * TR_NS_PER_SEC)
/* After our FIN, how long the collector's is awaited before the socket is let go (the next session of the feed waits for it). */
#define CLOSE_GRACE		(2 * TR_NS_PER_SEC)
/* A connection that waits for an older one to be gone is looked at this often, for its stall clock. */
#define WAITING_CHECK		TR_NS_PER_SEC

struct sessions *
sessions_new(const struct config *cfg, bool reconnect, struct report *rep)
{
	struct sessions *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->cfg = cfg;
	t->rep = rep;
	t->reconnect = reconnect;
	t->stall_limit = (tr_ns)(cfg->tcp_stall_limit * (double)TR_NS_PER_SEC);
	t->held_pool.max = STREAMS_MAX_HELD;
	t->n_buckets = TABLE_BUCKETS;
	if ((t->buckets = calloc(t->n_buckets, sizeof(*t->buckets))) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

/* A reassembly stream, its out-of-order bytes counted in the table's pool. */
static struct stream *
new_stream(struct sessions *t)
{
	struct stream *st = stream_new(STREAM_MAX_HELD);

	if (st != NULL)
		stream_set_pool(st, &t->held_pool);
	return st;
}

void
sessions_attach(struct sessions *t, struct transport *tp)
{
	t->tp = tp;
}

/* The session hooks of s's protocol (proto.h); NULL: it adds nothing. */
static const struct proto_session *
hooks(const struct session *s)
{
	return protocols[s->section]->session;
}

/* Whether s's protocol is cut into messages (BMP, BGP), or its bytes go on as they come. */
static bool
framed(const struct session *s)
{
	return protocols[s->section]->framing != NULL;
}

void
sessions_free(struct sessions *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_all; i++) {
		struct session *s = t->all[i];

		if (hooks(s) != NULL && hooks(s)->free != NULL)
			hooks(s)->free(s);
		stream_free(s->stream);
		framer_free(&s->fr);
		free(s->marks);
		free(s->ring.end);
		free(s);
	}
	for (size_t b = 0; b < TABLE_BUCKETS; b++) {
		struct feed *f = t->feeds[b], *next;

		for (; f != NULL; f = next) {
			next = f->next;
			free(f);
		}
	}
	free(t->all);
	free(t->buckets);
	timer_heap_free(&t->timers);
	session_bgp_prescan_free(t->pre);
	free(t);
}

/* An address as one word (IPv6: its four words xor'ed). */
static uint32_t
addr_word(const struct tr_addr *a)
{
	const uint32_t *w = a->v6.s6_addr32;

	return a->family == AF_INET ? a->v4.s_addr : w[0] ^ w[1] ^ w[2] ^ w[3];
}

/*
 * Word-wise, not FNV-1a's byte by byte: it runs for every captured segment
 * (sixteen dependent multiplications there, two here).
 */
uint32_t
session_hash(int section, const struct flow_key *k)
{
	uint32_t h = addr_word(&k->src) * 0x9e3779b1u;

	h ^= (addr_word(&k->dst) << 16 | addr_word(&k->dst) >> 16);
	h ^= (uint32_t)k->sport << 16 | k->dport;
	h ^= (uint32_t)section * 0x27d4eb2fu;
	return hash_fmix32(h);
}

/* The chain of a section's 4-tuple in the session table. */
static struct session **
bucket_of(struct sessions *t, int section, const struct flow_key *k)
{
	return &t->buckets[session_hash(section, k) & (t->n_buckets - 1)];
}

/*
 * Twice the buckets once there are more sessions than buckets: chains stay
 * short, and a lookup (one per captured segment, both sides) reads about
 * one session.  Out of memory: the chains just grow longer.
 */
static void
grow_buckets(struct sessions *t)
{
	size_t n = t->n_buckets * 2;
	struct session **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		struct session *s = t->buckets[i], *next;

		for (; s != NULL; s = next) {
			struct session **to = &b[session_hash(s->section,
			    &s->key) & (n - 1)];

			next = s->next;
			s->next = *to;
			*to = s;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = n;
}

static bool
session_matches(const struct session *s, int section,
    const struct flow_key *k)
{
	return s->section == section && flow_key_equal(&s->key, k);
}

/* Defined with the framing callbacks, further down. */
static const struct framer_ops session_framer_ops;

static struct session *
session_new(struct sessions *t, int section, int exporter,
    const struct tr_packet *pkt)
{
	struct session **chain;
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if ((s->stream = new_stream(t)) == NULL) {
		free(s);
		return NULL;
	}
	if (grow_array(&t->all, &t->cap_all, sizeof(*t->all), t->n_all + 1,
	    SIZE_MAX) == -1) {
		stream_free(s->stream);
		free(s);
		return NULL;
	}
	t->all[t->n_all++] = s;
	s->table = t;
	s->section = section;
	s->exporter = exporter;
	s->key = flow_key_of(pkt);
	s->capture_gen = t->capture_gen;
	s->syn_start = (pkt->tcp_flags & (TR_TCP_SYN | TR_TCP_ACK)) ==
	    TR_TCP_SYN;
	s->last_active = pkt->ts;
	if (framed(s))
		framer_init(&s->fr, protocols[section]->framing,
		    &session_framer_ops, s);
	s->conn = -1;
	chain = bucket_of(t, section, &s->key);
	s->next = *chain;
	*chain = s;
	if (++t->n_linked > t->n_buckets)
		grow_buckets(t);
	t->rep->tcp_sessions++;
	if (hooks(s) != NULL && hooks(s)->created != NULL)
		hooks(s)->created(s, pkt);
	return s;
}

/* Unhook a session replaced by a new one on the same ports (it stays in `all`, for its connection). */
static void
session_unlink(struct sessions *t, struct session *s)
{
	struct session **pp = bucket_of(t, s->section, &s->key);

	while (*pp != NULL && *pp != s)
		pp = &(*pp)->next;
	if (*pp == s) {
		*pp = s->next;
		t->n_linked--;
	}
	s->next = NULL;
}

void
session_describe(const struct session *s, char *buf, size_t len)
{
	char src[TR_ENDPOINT_STRLEN];

	snprintf(buf, len, "%s session %s -> port %u",
	    protocols[s->section]->name, addr_format_endpoint(&s->key.src,
	    s->key.sport, src, sizeof(src)), s->key.dport);
}

static void arm_stall_check(struct session *, tr_ns now);

/* Connect, once the connection `after` (-1: none) is gone; a failure is counted and named. */
static int
open_connection(struct session *s, int after)
{
	struct sessions *t = s->table;
	const struct cfg_section *sec = &t->cfg->section[s->section];
	char err[512], what[128];

	s->conn = transport_tcp_open(t->tp, &t->cfg->map[s->exporter].repro_ip,
	    sec->collector_host, sec->collector_port, after, s, err,
	    sizeof(err));
	if (s->conn == -1) {
		session_describe(s, what, sizeof(what));
		log_errorx("%s: %s", what, err);
		s->conn_dead = true;
		t->rep->tcp_connect_failures++;
		return -1;
	}
	arm_stall_check(s, tr_mono_now());
	return 0;
}

/* ---- what a connection was given, message by message ------------------- */

/* Room for one more entry, so that a message queued is always recorded. */
static int
ring_reserve(struct msg_ring *r)
{
	uint64_t *e;
	size_t cap;

	if (r->n < r->cap)
		return 0;
	cap = r->cap ? r->cap * 2 : 16;
	if ((e = reallocarray(NULL, cap, sizeof(*e))) == NULL)
		return -1;
	for (size_t i = 0; i < r->n; i++)
		e[i] = r->end[(r->head + i) % r->cap];
	free(r->end);
	r->end = e;
	r->cap = cap;
	r->head = 0;
	return 0;
}

static void
ring_push(struct msg_ring *r, uint64_t end)
{
	r->end[(r->head + r->n++) % r->cap] = end;
}

/*
 * The connection is gone: how many of the capture's messages it never
 * wrote whole, and their bytes (what the replay added itself, KEEPALIVEs
 * and the closing Cease, is no loss).
 */
static uint64_t
session_ring_reset(struct msg_ring *r, uint64_t *bytes)
{
	uint64_t counted = 0, prev = r->written;

	*bytes = 0;
	for (size_t i = 0; i < r->n; i++) {
		uint64_t e = r->end[(r->head + i) % r->cap];

		if (e & MSG_COUNTED) {
			counted++;
			*bytes += (e & ~MSG_COUNTED) - prev;
		}
		prev = e & ~MSG_COUNTED;
	}
	r->head = r->n = 0;
	r->written = 0;
	return counted;
}

/* Messages that never reached the collector: `unsendable` ones no collector would take. */
void
session_count_not_sent(struct session *o, uint64_t n, bool unsendable)
{
	struct report_section *rs = &o->table->rep->section[o->section];

	if (unsendable)
		rs->not_replayed += n;
	else
		rs->dropped += n;
	o->not_sent += n;
}

/* ---- per-session backpressure ------------------------------------------ */

/*
 * A session's bytes wait in one place, its connection's queue in the
 * transport: before the connect, behind BGP's OPEN gate, for a slow
 * collector, and (kept by the transport) for a refused OPEN's retry.
 * Past the high water mark what it queues counts as held: marks say since
 * when (the lag, the stall limit), and past SESSION_QUEUE_MAX its feed
 * waits (sessions_held_full).
 */
#define SESSION_QUEUE_MAX	(TRANSPORT_TCP_HIGH_WATER + SESSION_HELD_MAX)

/* Bytes waiting in s's queue: on its connection, or kept for its retry. */
static size_t
session_queued(const struct session *s)
{
	if (s->conn < 0 || (s->conn_dead && !s->retrying))
		return 0;
	return transport_tcp_queued(s->table->tp, s->conn);
}

/* Whether s's queue holds SESSION_QUEUE_MAX, counted in the table for sessions_held_full(). */
void
session_held_changed(struct session *s)
{
	bool full = session_queued(s) >= SESSION_QUEUE_MAX;

	if (full != s->held_full)
		s->table->n_held_full += full ? 1 : (size_t)-1;
	s->held_full = full;
}

bool
sessions_held_full(const struct sessions *t)
{
	return t->n_held_full > 0;
}

/* Bytes up to `end` of the connection's stream are held since `now`. */
static int
mark_held(struct session *s, uint64_t end, tr_ns now)
{
	if (s->n_marks > s->marks_head &&
	    now - s->marks[s->n_marks - 1].since < HELD_MARK_GRAIN) {
		s->marks[s->n_marks - 1].end = end;
		return 0;
	}
	if (grow_array(&s->marks, &s->cap_marks, sizeof(*s->marks),
	    s->n_marks + 1, SIZE_MAX) == -1)
		return -1;
	s->marks[s->n_marks++] = (struct held_mark){ .end = end, .since = now };
	return 0;
}

/* The first time a slow collector holds the session: said once. */
static void
note_slow(struct session *s)
{
	struct sessions *t = s->table;
	char what[128];

	if (s->held_slow || s->retrying)
		return;
	s->held_slow = true;
	t->rep->tcp_sessions_held++;
	session_describe(s, what, sizeof(what));
	log_warnx("%s: the collector takes the session's bytes slower "
	    "than the capture has them (%u MiB queued): its messages "
	    "wait in order, nothing is dropped, the other sessions go "
	    "on; the lag says how late they are",
	    what, TRANSPORT_TCP_CONN_QUEUE_MAX >> 20);
}

/* The connection wrote up to `total`: held bytes now written, and how long they waited. */
static void
held_written(struct session *s, uint64_t total, tr_ns now)
{
	struct report *rep = s->table->rep;
	char what[128];

	if (s->marks_head == s->n_marks)
		return;
	while (s->marks_head < s->n_marks &&
	    s->marks[s->marks_head].end <= total) {
		tr_ns lag = now - s->marks[s->marks_head++].since;

		if (lag > s->held_lag_max)
			s->held_lag_max = lag;
		if (lag > rep->tcp_held_lag_max)
			rep->tcp_held_lag_max = lag;
		/* With time_factor 0 nothing has a deadline to be late for. */
		if (s->table->cfg->time_factor > 0)
			report_lag(rep, lag);
	}
	if (s->marks_head < s->n_marks)
		return;
	s->marks_head = s->n_marks = 0;
	if (!s->held_slow)
		return;
	session_describe(s, what, sizeof(what));
	log_info("%s: the collector caught up; messages waited up to %.3f s",
	    what, tr_ns_to_sec(s->held_lag_max));
}

/* Nothing held any more: written, or lost with the connection. */
static void
session_held_empty(struct session *s)
{
	s->marks_head = s->n_marks = 0;
	session_held_changed(s);
}

/*
 * Give bytes to the connection of o (an owner): queued behind what waits
 * already (kept for a retry, before the connect, behind the OPEN gate, or
 * for a slow collector).  `counted`: a message of the capture, counted as
 * sent once the socket has taken all of it.  -1 with errno ENOTCONN (the
 * connection is closing or gone) or ENOMEM.
 */
int
session_queue(struct session *o, const uint8_t *p, size_t len, tr_ns now,
    bool counted)
{
	struct transport *tp = o->table->tp;
	bool held;

	if (ring_reserve(&o->ring) == -1)
		return -1;
	if (o->conn < 0 || (o->conn_dead && !o->retrying)) {
		errno = ENOTCONN;
		return -1;
	}
	held = o->retrying || transport_tcp_above_high(tp, o->conn);
	/* Recorded first: the send may write it at once, and `written` count it. */
	o->conn_in += len;
	ring_push(&o->ring, o->conn_in | (counted ? MSG_COUNTED : 0));
	if (transport_tcp_send(tp, o->conn, p, len) == -1) {
		o->ring.n--;	/* nothing was written: it is still the last */
		o->conn_in -= len;
		return -1;
	}
	/* Out of memory for a mark: only the lag and the stall limit miss it. */
	if (held)
		(void)mark_held(o, o->conn_in, now);
	if (held || transport_tcp_above_high(tp, o->conn))
		note_slow(o);
	session_held_changed(o);
	/* A queue that was empty starts its stall clock (a busy one's timer is armed). */
	if (held || transport_tcp_queued(tp, o->conn) == len)
		arm_stall_check(o, now);
	return 0;
}

/*
 * Put bytes on a new connection before anything it was given already (the
 * OPEN of a retry, ahead of the messages kept for it): the ring's offsets
 * move up by len.
 */
int
session_queue_first(struct session *o, const uint8_t *p, size_t len, bool counted)
{
	struct msg_ring *r = &o->ring;

	if (ring_reserve(r) == -1 ||
	    transport_tcp_send(o->table->tp, o->conn, p, len) == -1)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		uint64_t *e = &r->end[(r->head + i) % r->cap];

		*e = ((*e & ~MSG_COUNTED) + len) | (*e & MSG_COUNTED);
	}
	r->head = (r->head + r->cap - 1) % r->cap;
	r->end[r->head] = (uint64_t)len | (counted ? MSG_COUNTED : 0);
	r->n++;
	for (size_t i = o->marks_head; i < o->n_marks; i++)
		o->marks[i].end += len;
	o->conn_in += len;
	return 0;
}

/* A message of the capture for s's connection: queued or held, or counted as not sent. */
static int
send_message(struct session *s, const uint8_t *p, size_t len, tr_ns now)
{
	struct session *o = session_owner(s);

	o->msgs++;
	if (session_queue(o, p, len, now, true) == -1) {
		if (errno == ENOMEM)
			return -1;
		session_count_not_sent(o, 1, false);
		return 0;
	}
	o->last_sent = now;
	return 0;
}

static void end_session(struct session *);
static int own_connection(struct session *);

/* A message that starts a session of its own: a joined capture that begins with one is not a continuation. */
static bool
starts_session(const struct session *s, uint8_t type)
{
	return hooks(s) != NULL && hooks(s)->opening_name != NULL &&
	    type == hooks(s)->opening_type;
}

/*
 * The first message of a joined capture decides: a continuation stays on
 * its host's connection (counted, and said once); an Initiation or an OPEN
 * is a new session of the router, which gets a connection of its own.
 */
static int
first_message(struct session *s, bool new_session)
{
	struct sessions *t = s->table;
	const char *opening;
	char what[128], host[128];

	s->delivered = true;
	if (s->host == NULL)
		return 0;
	session_describe(s, what, sizeof(what));
	session_describe(s->host, host, sizeof(host));
	opening = hooks(s) != NULL ? hooks(s)->opening_name : NULL;
	if (new_session) {
		log_info("%s: starts with its own %s, though the capture has "
		    "no SYN for it: a new session of the router, after %s",
		    what, opening, host);
		s->host = NULL;
		return own_connection(s);
	}
	t->rep->tcp_sessions_joined++;
	log_info("%s: continues the router's feed mid-stream (no SYN%s%s): "
	    "its bytes go on the connection of %s, as a collector needs "
	    "them", what, opening != NULL ? ", no " : "",
	    opening != NULL ? opening : "", host);
	return 0;
}

/* A message of a session that has ended (in the capture, or by the stall limit): a collector would not take it. */
static void
after_end(struct session *s)
{
	struct session *o = session_owner(s);
	char what[128];

	o->msgs++;
	session_count_not_sent(o, 1, true);
	if (s->told_after_end)
		return;
	s->told_after_end = true;
	session_describe(s, what, sizeof(what));
	log_info("%s: has messages after its end%s: they are not sent",
	    what, o->stalled ? " (the stall limit ended it)" :
	    " (a FIN or RST in the capture)");
}

/* One whole message: filter, the protocol's gate and bookkeeping, send. */
static int
deliver_message(struct session *s, const uint8_t *msg, size_t len,
    uint8_t type, tr_ns now)
{
	const struct proto_session *h = hooks(s);
	struct session *o;

	if (!select_message_type(&s->table->cfg->section[s->section], type)) {
		s->table->rep->section[s->section].filtered++;
		return 0;
	}
	if (!s->delivered && first_message(s, starts_session(s, type)) == -1)
		return -1;
	o = session_owner(s);
	if (o->captured_end) {
		after_end(s);
		return 0;
	}
	if (h != NULL && h->gate != NULL && !h->gate(o, type, &msg, &len))
		return 0;
	if (send_message(s, msg, len, now) == -1)
		return -1;
	if (h != NULL && h->sent != NULL)
		h->sent(o, msg, len, type);
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
	session_describe(s, what, sizeof(what));
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

/* Bytes from reassembly: generic TCP passes them on, framed protocols (BMP, BGP) frame them first. */
static int
feed(struct session *s, const struct stream_chunk *c, tr_ns now)
{
	if (c->gap_before) {
		char what[128];

		session_describe(s, what, sizeof(what));
		log_warnx("%s: %llu bytes were never captured: the stream "
		    "resumes at the next message boundary", what,
		    (unsigned long long)c->gap_bytes);
		s->table->rep->tcp_gap_bytes += c->gap_bytes;
	}
	if (framed(s)) {
		s->now = now;
		return framer_feed(&s->fr, c);
	}
	if (c->len == 0)
		return 0;
	if (!s->delivered && first_message(s, false) == -1)
		return -1;
	if (session_owner(s)->captured_end) {
		after_end(s);
		return 0;
	}
	return send_message(s, c->data, c->len, now);
}

/* What reassembly still holds after a hole goes out now: the stream ends here. */
static void
finish_stream(struct session *s, tr_ns now)
{
	struct stream_chunk chunks[2];
	int n;

	while ((n = stream_finish(s->stream, chunks)) > 0)
		for (int k = 0; k < n; k++)
			(void)feed(s, &chunks[k], now);
}

/* A fresh stream for a new capture file: the older tool's multi-file sessions restart sequence numbers in each file. */
static int
renew_stream(struct session *s)
{
	struct stream *fresh = new_stream(s->table);

	if (fresh == NULL)
		return -1;
	stream_free(s->stream);
	s->stream = fresh;
	s->capture_gen = s->table->capture_gen;
	return 0;
}

/*
 * Close o's connection once what it was given is written: held messages
 * go on its queue, then what the protocol says goodbye with (BGP: a Cease).
 */
static void
close_connection(struct session *o)
{
	struct transport *tp = o->table->tp;

	if (o->retrying) {
		o->close_after_retry = true;
		return;
	}
	if (o->closing)
		return;
	o->closing = true;
	o->reconnect_at = 0;
	if (o->conn < 0 || o->conn_dead || !transport_tcp_can_send(tp, o->conn))
		return;
	if (hooks(o) != NULL && hooks(o)->closing != NULL)
		hooks(o)->closing(o);
	transport_tcp_close(tp, o->conn, false);
	arm_stall_check(o, tr_mono_now());	/* its FIN, or what it still writes */
}

/*
 * The captured session ended (a FIN or RST from either side): its
 * connection closes once its queue is written.  A joined capture ends its
 * host's: they were one connection of the router's.
 */
static void
end_session(struct session *s)
{
	struct session *o = session_owner(s);

	s->captured_end = true;
	o->captured_end = true;
	close_connection(o);
}

/* ---- a router's feed to a collector: one session at a time -------------- */

static uint32_t
feed_hash(const struct session *s)
{
	uint32_t h = FNV1A_BASIS;

	h = fnv1a(h, &s->section, sizeof(s->section));
	h = fnv1a(h, &s->exporter, sizeof(s->exporter));
	h = addr_hash(&s->key.dst, h);
	h = fnv1a(h, &s->key.dport, sizeof(s->key.dport));
	return h % TABLE_BUCKETS;
}

static struct feed *
feed_of(struct sessions *t, const struct session *s)
{
	uint32_t b = feed_hash(s);
	struct feed *f;

	for (f = t->feeds[b]; f != NULL; f = f->next)
		if (f->section == s->section && f->exporter == s->exporter &&
		    f->dport == s->key.dport &&
		    addr_equal(&f->dst, &s->key.dst))
			return f;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->section = s->section;
	f->exporter = s->exporter;
	f->dst = s->key.dst;
	f->dport = s->key.dport;
	f->next = t->feeds[b];
	t->feeds[b] = f;
	return f;
}

/*
 * A session that gets a connection of its own: the router's older session
 * to the collector, if still open here, is closed first, and the new
 * connection starts once the old one is gone (a collector that still has
 * the old session refuses the peer's new one).
 */
static int
own_connection(struct session *s)
{
	struct session *prev = s->feed->current;
	int after = -1;

	if (prev != NULL && prev != s) {
		if (!prev->captured_end) {
			char what[128], old[128];

			session_describe(s, what, sizeof(what));
			session_describe(prev, old, sizeof(old));
			log_info("%s: a new session of the router to the "
			    "collector: %s, still open here, is closed first",
			    what, old);
			end_session(prev);
		}
		if (prev->conn >= 0 && !prev->conn_dead)
			after = prev->conn;
	}
	s->feed->current = s;
	return open_connection(s, after);
}

/*
 * Whether a router's new session (SYN) replaces its older one to the
 * collector, still open here: some protocols allow one session between two
 * speakers (BGP); a BMP (or other) speaker may run several at once, so an
 * older one active within the last second is taken for one of those, and
 * one silent for longer as gone in the router (a crash or a capture that
 * missed its end).
 */
static bool
replaces_older(const struct session *s, const struct session *prev)
{
	return (hooks(s) != NULL && hooks(s)->one_at_a_time) ||
	    s->last_active - prev->last_active >= TR_NS_PER_SEC;
}

/*
 * A new captured session: a capture that continues the router's feed
 * without a SYN while its session is live joins that session (decided for
 * good on its first message); one with a SYN replaces it, or runs beside
 * it; anything else gets a connection of its own.
 */
static int
start_session(struct session *s)
{
	struct session *prev;

	if ((s->feed = feed_of(s->table, s)) == NULL)
		return -1;
	prev = s->feed->current;
	if (prev != NULL && !prev->captured_end && !prev->closing) {
		if (!s->syn_start) {
			s->host = prev;
			return 0;
		}
		if (!replaces_older(s, prev)) {
			char what[128], old[128];

			/* Every session of a speaker that opens many: formatted only when printed. */
			if (log_enabled(LOG_LEVEL_INFO)) {
				session_describe(s, what, sizeof(what));
				session_describe(prev, old, sizeof(old));
				log_info("%s: runs beside %s, active less than "
				    "a second before: each keeps its connection",
				    what, old);
			}
			s->feed->current = s;
			(void)open_connection(s, -1);
			return 0;
		}
	}
	(void)own_connection(s);	/* a failure is counted and named */
	return 0;
}

void
sessions_push_collector(struct sessions *t, int section,
    const struct tr_packet *pkt)
{
	const struct proto_session *h = protocols[section]->session;
	struct flow_key from, k;
	struct session *s;
	char what[128];

	/*
	 * Most of the collector's segments are ACKs nothing here needs: no
	 * lookup for them (a cache miss per segment over thousands of sessions).
	 */
	if (!(pkt->tcp_flags & (TR_TCP_FIN | TR_TCP_RST)) &&
	    (h == NULL || h->collector_segment == NULL))
		return;
	from = flow_key_of(pkt);
	k = flow_key_reversed(&from);
	for (s = *bucket_of(t, section, &k); s != NULL; s = s->next)
		if (session_matches(s, section, &k))
			break;
	if (s == NULL)
		return;
	if (hooks(s) != NULL && hooks(s)->collector_segment != NULL)
		hooks(s)->collector_segment(s, pkt);
	if (!(pkt->tcp_flags & (TR_TCP_FIN | TR_TCP_RST)) || s->captured_end)
		return;
	session_describe(s, what, sizeof(what));
	log_info("%s: the captured collector ended the session (%s, frame "
	    "%llu): the connection is closed here too", what,
	    pkt->tcp_flags & TR_TCP_RST ? "RST" : "FIN",
	    (unsigned long long)pkt->frame);
	finish_stream(s, tr_mono_now());
	end_session(s);
}

bool
sessions_needs_deadline(const struct tr_packet *pkt)
{
	return pkt->payload_len > 0 ||
	    (pkt->tcp_flags & (TR_TCP_SYN | TR_TCP_FIN | TR_TCP_RST));
}

int
sessions_push(struct sessions *t, int section, int exporter,
    const struct tr_packet *pkt, tr_ns now)
{
	struct flow_key k = flow_key_of(pkt);
	struct session *s = *bucket_of(t, section, &k);
	struct stream_chunk chunks[2];
	bool syn = (pkt->tcp_flags & (TR_TCP_SYN | TR_TCP_ACK)) == TR_TCP_SYN;
	int n;

	while (s != NULL && !session_matches(s, section, &k))
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
			end_session(s);
		session_unlink(t, s);
		s = NULL;
	}
	if (s == NULL) {
		if ((s = session_new(t, section, exporter, pkt)) == NULL ||
		    start_session(s) == -1)
			return -1;
	} else if ((s->capture_gen != t->capture_gen ||
	    (syn && stream_stats(s->stream)->bytes == 0)) &&
	    renew_stream(s) == -1)
		return -1;	/* a new file, or a SYN retried with a new ISN before any data */

	if (pkt->payload_len > 0 || syn)
		s->last_active = pkt->ts;
	if ((n = stream_push(s->stream, pkt, chunks)) == -1)
		return -1;
	for (int i = 0; i < n; i++)
		if (feed(s, &chunks[i], now) == -1)
			return -1;
	/* Segments after the end (the last ACKs) stay with the ended session. */
	if (stream_closed(s->stream) && !s->captured_end)
		end_session(s);
	return 0;
}

/*
 * A refused session's retries end: by the stall limit, or when no new
 * connection can be opened.  What it kept is not sent.
 */
static void
give_up_retry(struct session *s, const char *why)
{
	struct sessions *t = s->table;
	uint64_t lost, msgs = session_ring_reset(&s->ring, &lost);
	char what[128];

	t->rep->tcp_lost_bytes += lost;
	if (s->retrying) {
		s->retrying = false;
		t->n_retrying--;
	}
	if (s->close_after_retry)
		s->closing = true;
	s->close_after_retry = false;
	s->reconnect_at = 0;
	s->conn_dead = true;
	s->captured_end = true;
	session_count_not_sent(s, msgs, false);
	if (s->conn >= 0)
		transport_tcp_discard(t->tp, s->conn);
	session_held_empty(s);
	s->conn_in = 0;
	session_describe(s, what, sizeof(what));
	log_errorx("%s: the collector still refuses the session: %s; its %llu "
	    "kept messages are not sent", what, why, (unsigned long long)msgs);
}

/* Start a new connection and send the prologue the collector must hear first. */
static void
reconnect(struct session *s, tr_ns now)
{
	struct sessions *t = s->table;
	int kept = s->retrying ? s->conn : -1;	/* its queue waits for the new connection */
	char what[128];

	s->reconnect_at = 0;
	s->conn_dead = false;
	s->notification_received = false;
	if (open_connection(s, -1) == -1) {
		s->conn = kept;
		give_up_retry(s, "the new connection cannot be opened");
		return;
	}
	if (s->retrying) {
		s->retrying = false;
		t->n_retrying--;
	}
	t->rep->tcp_reconnects++;
	session_describe(s, what, sizeof(what));
	if (hooks(s) != NULL && hooks(s)->reconnect != NULL)
		hooks(s)->reconnect(s, now, what);
	else
		log_warnx("%s: reconnecting", what);
	/* What was kept goes behind the prologue (BGP: the OPEN, and its gate). */
	if (kept >= 0) {
		transport_tcp_adopt(t->tp, s->conn, kept);
		session_held_changed(s);
	}
	/* The run ended while a refused session waited: it closes behind its prologue. */
	if (s->close_after_retry) {
		s->close_after_retry = false;
		close_connection(s);
	}
	s->last_sent = now;
}

/*
 * The collector closed or refused a session the capture still has: try
 * again after a backoff that doubles up to BACKOFF_MAX, or past the time
 * the collector refuses the peer for (pmacct refuses a BGP peer whose old
 * session's hold time still runs).
 */
static void
schedule_reconnect(struct session *s, const char *what)
{
	tr_ns now = tr_mono_now(), cap = BACKOFF_MAX, refused = 0;
	const char *why = NULL;

	if (hooks(s) != NULL && hooks(s)->refused_for != NULL &&
	    (refused = hooks(s)->refused_for(s, &why)) > cap)
		cap = refused;
	s->backoff = s->backoff == 0 ? BACKOFF_FIRST : s->backoff * 2;
	if (s->backoff > cap)
		s->backoff = cap;
	s->reconnect_at = now + s->backoff;
	session_timer_at(s, s->reconnect_at);
	if (s->backoff == cap && cap > BACKOFF_MAX)
		log_warnx("%s: reconnecting in %.0f s (past %s, after which "
		    "the collector accepts the peer again)", what,
		    tr_ns_to_sec(s->backoff), why);
	else
		log_warnx("%s: reconnecting in %.0f s", what,
		    tr_ns_to_sec(s->backoff));
}

/*
 * Timers (reconnects, KEEPALIVEs) wait in the table's heap, one per
 * session.  Those due within TIMER_SLACK are served together (a KEEPALIVE
 * that much early is still well inside a hold time of at least 3 s; a
 * reconnect backoff is at least 1 s), so that thousands of BGP sessions
 * whose KEEPALIVEs fall due one after another wake the loop once per
 * TIMER_SLACK, not once per KEEPALIVE.
 */
#define TIMER_SLACK	(100 * TR_NS_PER_MS)

/*
 * A session ended for its collector: what it still had is counted as not
 * sent (an RST ends the connection), so the run cannot end as if all
 * arrived.
 */
static void
end_stalled(struct session *o)
{
	struct sessions *t = o->table;

	t->rep->tcp_sessions_stalled++;
	o->stalled = true;
	o->captured_end = true;
	o->closing = true;
	o->reconnect_at = 0;
	transport_tcp_close(t->tp, o->conn, true);
}

/*
 * The collector has taken nothing for tcp_stall_limit while bytes wait:
 * a collector that stopped reading, or a BGP collector that never answered
 * the OPEN.
 */
static void
stall_end(struct session *o, tr_ns idle)
{
	struct sessions *t = o->table;
	char what[128];

	session_describe(o, what, sizeof(what));
	log_errorx("%s: the collector has taken nothing for %.0f s with %zu "
	    "bytes waiting%s (tcp_stall_limit): the session is ended, and what "
	    "it still had is not sent", what, tr_ns_to_sec(idle),
	    transport_tcp_queued(t->tp, o->conn),
	    hooks(o) != NULL && hooks(o)->stalled_why != NULL ?
	    hooks(o)->stalled_why(o) : "");
	end_stalled(o);
}

/* The collector takes bytes, but so slowly that a message has waited past tcp_stall_limit. */
static void
held_too_long_end(struct session *o, tr_ns waited)
{
	char what[128];

	session_describe(o, what, sizeof(what));
	log_errorx("%s: the collector is so slow that a message has waited "
	    "%.0f s with %zu bytes queued (tcp_stall_limit): the session is "
	    "ended, and what it still had is not sent", what,
	    tr_ns_to_sec(waited), session_queued(o));
	end_stalled(o);
}

/*
 * Since when the oldest message held for a slow collector waits; 0: none,
 * or time_factor 0, where messages have no time to be late for.
 */
static tr_ns
held_since(const struct session *s)
{
	if (s->table->cfg->time_factor <= 0 || s->retrying ||
	    s->marks_head >= s->n_marks)
		return 0;
	return s->marks[s->marks_head].since;
}

static tr_ns
earlier(tr_ns a, tr_ns b)
{
	return a < b ? a : b;
}

/*
 * The limits of one session, from its timer: a refused session's retries,
 * a connection that takes nothing, a message held too long (tcp_stall_limit),
 * a closed connection whose collector never sends its FIN (CLOSE_GRACE).
 * A limit passed by `soon` counts as passed (TIMER_SLACK).  Returns when
 * to look again; INT64_MAX: nothing to watch until the session queues
 * bytes, connects or closes again (each of which arms the timer).
 */
static tr_ns
check_limits(struct session *s, tr_ns now, tr_ns soon)
{
	struct sessions *t = s->table;
	tr_ns since, due = INT64_MAX;

	if (s->retrying) {
		if (s->retry_since + t->stall_limit > soon)
			return s->retry_since + t->stall_limit;
		give_up_retry(s, "tcp_stall_limit has passed");
		return INT64_MAX;
	}
	if (s->conn < 0 || s->conn_dead)
		return INT64_MAX;
	/* Its clock starts with the connect, once the older connection is gone. */
	if (transport_tcp_waiting(t->tp, s->conn))
		return now + WAITING_CHECK;
	if ((since = transport_tcp_stalled_since(t->tp, s->conn)) != 0) {
		if (since + t->stall_limit <= soon) {
			stall_end(s, now - since);
			return INT64_MAX;
		}
		due = since + t->stall_limit;
	}
	if ((since = held_since(s)) != 0) {
		if (since + t->stall_limit <= soon) {
			held_too_long_end(s, now - since);
			return INT64_MAX;
		}
		due = earlier(due, since + t->stall_limit);
	}
	/* Let the socket go: the next session of the feed waits for it. */
	if ((since = transport_tcp_closing_since(t->tp, s->conn)) != 0) {
		if (since + CLOSE_GRACE <= soon) {
			transport_tcp_close(t->tp, s->conn, true);
			return INT64_MAX;
		}
		due = earlier(due, since + CLOSE_GRACE);
	}
	return due;
}

/* s has something to watch from `now` on: its limits are checked by then. */
static void
arm_stall_check(struct session *s, tr_ns now)
{
	session_timer_at(s, now + earlier(s->table->stall_limit, CLOSE_GRACE));
}

/*
 * Arm s's timer at `due` unless it is armed sooner: sending only postpones
 * a KEEPALIVE, so an early timer just asks the hook again (serve_timers).
 */
void
session_timer_at(struct session *s, tr_ns due)
{
	struct timer_heap *h = &s->table->timers;

	if (s->timer_pos != 0 && h->e[s->timer_pos - 1].due <= due)
		return;
	if (timer_heap_set(h, s, &s->timer_pos, due) == -1)
		log_warn("cannot arm a session's timer (its KEEPALIVE or "
		    "reconnect is late)");
}

/* s's timer is due by soon: a reconnect, or what its protocol does when idle. */
static void
serve_timers(struct session *s, tr_ns now, tr_ns soon)
{
	tr_ns due = INT64_MAX;

	if (s->reconnect_at != 0 && s->reconnect_at <= soon)
		reconnect(s, now);
	if (s->reconnect_at != 0)
		due = s->reconnect_at;
	else if (hooks(s) != NULL && hooks(s)->timer != NULL)
		due = hooks(s)->timer(s, now, soon);
	due = earlier(due, check_limits(s, now, soon));
	if (due != INT64_MAX)
		session_timer_at(s, due);
}

tr_ns
sessions_tick(struct sessions *t, tr_ns now)
{
	tr_ns soon = now + TIMER_SLACK;
	struct session *s;

	while ((s = timer_heap_pop_due(&t->timers, soon)) != NULL)
		serve_timers(s, now, soon);
	return timer_heap_next(&t->timers);
}

void
sessions_end_of_capture(struct sessions *t)
{
	tr_ns now = tr_mono_now();

	/* What reassembly still holds after a hole goes out now, after the gap. */
	for (size_t i = 0; i < t->n_all; i++) {
		struct session *s = t->all[i];

		if (s->capture_gen != t->capture_gen)
			continue;
		finish_stream(s, now);
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

			session_describe(s, what, sizeof(what));
			log_warnx("%s: the captures end inside a message: its "
			    "%zu bytes were not sent", what,
			    framer_pending(&s->fr));
			t->rep->tcp_unfinished_bytes += framer_pending(&s->fr);
			framer_discard(&s->fr);
		}
		if (s->host == NULL)
			close_connection(s);
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
	return (t->tp != NULL ? transport_tcp_active(t->tp) : 0) +
	    t->n_retrying;
}

size_t
sessions_retrying(const struct sessions *t)
{
	return t->n_retrying;
}

void
sessions_report_losses(const struct sessions *t)
{
	size_t failed = 0, named = 0, sessions = 0;
	uint64_t messages = 0;

	if (t->connect_failures > SESSIONS_NAMED)
		failed = t->connect_failures - SESSIONS_NAMED;
	if (failed > 0)
		log_warnx("%zu more sessions could not connect to the "
		    "collector", failed);
	for (size_t i = 0; i < t->n_all; i++) {
		const struct session *s = t->all[i];
		char what[128];

		if (s->host != NULL || s->not_sent == 0)
			continue;
		sessions++;
		messages += s->not_sent;
		if (named++ >= SESSIONS_NAMED)
			continue;
		session_describe(s, what, sizeof(what));
		if (s->not_sent == s->msgs)
			log_warnx("%s: none of its %llu messages were sent", what,
			    (unsigned long long)s->msgs);
		else
			log_warnx("%s: %llu of its %llu messages were not sent",
			    what, (unsigned long long)s->not_sent,
			    (unsigned long long)s->msgs);
	}
	if (named > SESSIONS_NAMED)
		log_warnx("%zu more sessions did not send everything (%zu "
		    "sessions, %llu messages in all)", named - SESSIONS_NAMED,
		    sessions, (unsigned long long)messages);
}

/* ---- what the transport tells about a connection ---------------------- */

static void
on_connected(void *ctx, int id)
{
	struct session *s = ctx;
	char what[128];

	(void)id;
	/* Only when it is printed: 10,000 sessions are 10,000 formats. */
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		session_describe(s, what, sizeof(what));
		log_debug("%s: connected to the collector", what);
	}
	/* A collector that answers (BGP) has to, before the connection counts as good. */
	if (hooks(s) == NULL || !hooks(s)->collector_answers)
		s->backoff = 0;
}

static void
on_received(void *ctx, int id, const uint8_t *data, size_t len)
{
	struct session *s = ctx;

	(void)id;
	if (hooks(s) != NULL && hooks(s)->received != NULL)
		hooks(s)->received(s, data, len);
}

/* The socket took more of the connection's bytes: the messages now written whole count as sent. */
static void
on_written(void *ctx, int id, uint64_t total)
{
	struct session *s = ctx;
	struct report_section *rs = &s->table->rep->section[s->section];
	struct msg_ring *r = &s->ring;

	if (id != s->conn)
		return;
	while (r->n > 0) {
		uint64_t e = r->end[r->head], end = e & ~MSG_COUNTED;

		if (end > total)
			break;
		if (e & MSG_COUNTED) {
			rs->sent++;
			rs->bytes += end - r->written;
		}
		r->written = end;
		r->head = (r->head + 1) % r->cap;
		r->n--;
	}
	/* An idle session keeps no ring: its next burst allocates one again. */
	if (r->n == 0 && r->cap > 0) {
		free(r->end);
		r->end = NULL;
		r->head = r->cap = 0;
	}
	held_written(s, total, tr_mono_now());
	session_held_changed(s);
}

/*
 * What a closed connection took with it: every message of the capture it
 * had not written whole (queued, held, or cut by the close) is not sent,
 * and its bytes are lost.
 */
static void
account_loss(struct session *s, const char *what)
{
	uint64_t lost, msgs = session_ring_reset(&s->ring, &lost);

	if (msgs > 0) {
		session_count_not_sent(s, msgs, false);
		s->table->rep->tcp_lost_bytes += lost;
		log_info("%s: %llu messages (%llu bytes) given to the "
		    "connection never reached the collector", what,
		    (unsigned long long)msgs, (unsigned long long)lost);
	}
	session_held_empty(s);
	s->conn_in = 0;
}

static void
on_closed(void *ctx, int id, int err)
{
	struct session *s = ctx;
	struct sessions *t = s->table;
	const struct transport_tcp_stats *st = transport_tcp_stats(t->tp, id);
	char what[128];

	s->conn_dead = true;
	session_describe(s, what, sizeof(what));
	if (hooks(s) != NULL && hooks(s)->keep_for_retry != NULL &&
	    hooks(s)->keep_for_retry(s, id, st)) {
		log_warnx("%s: the collector closed the connection before it "
		    "answered the OPEN (it refuses the peer for now); the "
		    "session's messages are kept for a new connection", what);
		schedule_reconnect(s, what);
		return;
	}
	if (!st->established && err != 0) {	/* err 0: we gave up on it before it connected */
		t->rep->tcp_connect_failures++;
		if (++t->connect_failures <= SESSIONS_NAMED)
			log_warnx("%s: cannot connect to the collector (%s): %s; "
			    "the session's messages are not sent (the summary "
			    "counts them)", what, transport_tcp_describe(t->tp, id),
			    strerror(err));
	} else if (st->established && !s->closing) {
		/* Not the end we asked for (a reset while we close is the collector's way to end it sooner). */
		t->rep->tcp_closed_by_collector++;
		if (err == 0)
			log_warnx("%s: the collector closed the connection; "
			    "what follows in this session is not sent", what);
		else
			log_warnx("%s: the connection to the collector failed: "
			    "%s; what follows in this session is not sent",
			    what, strerror(err));
	}
	account_loss(s, what);
	if (t->reconnect && !s->closing && !s->captured_end)
		schedule_reconnect(s, what);
}

struct transport_tcp_events
sessions_tcp_events(void)
{
	struct transport_tcp_events ev = {
		.connected = on_connected,
		.received = on_received,
		.written = on_written,
		.closed = on_closed,
	};
	return ev;
}
