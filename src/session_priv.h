/*
 * The insides of the TCP session table, shared by session.c (the table,
 * routing a router's sessions to connections, backpressure, reconnects)
 * and the protocols' session hooks (proto.h's struct proto_session):
 * session_bgp.c (the OPEN gate, trimming, capability comparison,
 * KEEPALIVEs, a refused OPEN's retry) and session_bmp.c (the prologue of a
 * reconnect).  Nothing else includes it.
 */
#ifndef TR_SESSION_PRIV_H
#define TR_SESSION_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp.h"
#include "bmp.h"
#include "bytebuf.h"
#include "flowkey.h"
#include "framer.h"
#include "session.h"
#include "stream.h"
#include "timer_heap.h"

enum bgp_phase {
	BGP_IDLE,		/* no OPEN sent yet */
	BGP_OPEN_SENT,		/* our OPEN is out; the rest is held until the collector's OPEN */
	BGP_ESTABLISHED,
};

/* Bytes held up to `end` (of the connection's stream, as conn_in) have waited since `since`. */
struct held_mark {
	uint64_t	 end;
	tr_ns		 since;
};

/*
 * What a connection was given, message by message, by where each ends in
 * its byte stream (bit 63: a message of the capture, counted in the report
 * once the socket took all of it; else one the replay added, such as a
 * KEEPALIVE or a reconnect's prologue).  Only messages not yet written are
 * kept, so it is short unless the collector is slow.
 */
#define MSG_COUNTED	(UINT64_C(1) << 63)

struct msg_ring {
	uint64_t	*end;
	size_t		 head, n, cap;	/* entries end[(head + i) % cap], i < n */
	uint64_t	 written;	/* where the last written one ended */
};

/*
 * A router's feed to a collector: the captured sessions of one section from
 * one exporter to one captured collector address and port.  A router keeps
 * one session per collector, so they are replayed one after another.
 */
struct feed {
	int		 section, exporter;
	struct tr_addr	 dst;
	uint16_t	 dport;
	struct session	*current;	/* the latest session with a connection of its own */
	struct feed	*next;		/* hash chain */
};

struct session {
	struct sessions	*table;
	/* The captured session: section, exporter (network.map index) and its 4-tuple. */
	int		 section;
	int		 exporter;
	struct flow_key	 key;		/* the exporter's direction */
	struct session	*next;		/* hash chain (beside the key: a lookup reads one cache line per session) */
	uint64_t	 capture_gen;	/* the capture file whose segments the stream holds */

	struct stream	*stream;
	bool		 captured_end;	/* FIN or RST captured, from either side */
	bool		 syn_start;	/* the capture has the session's SYN */
	tr_ns		 last_active;	/* capture time of the exporter's latest segment with a SYN or payload */
	bool		 delivered;	/* a message of it was handed on */
	bool		 told_after_end;	/* said once that messages came after its end */
	struct feed	*feed;
	/*
	 * Joined: a capture that continues the feed mid-stream from another
	 * port (no SYN, Initiation or OPEN) while the feed's session is live
	 * goes on the host's connection, as the router's bytes did.
	 */
	struct session	*host;

	struct framer	 fr;		/* framed protocols: the message being completed */
	tr_ns		 now;		/* when the bytes being framed are due */

	int		 conn;		/* transport id, -1 before/after */
	/*
	 * Backpressure: the session's bytes wait in one queue, its
	 * connection's (transport.c).  What it queues while that is over its
	 * high water mark (or kept for a retry) is held: marks say since
	 * when, for the lag and the stall limit, until written; past
	 * SESSION_QUEUE_MAX queued the replay waits (sessions_held_full).
	 */
	struct held_mark *marks;
	size_t		 marks_head, n_marks, cap_marks;
	bool		 held_full;	/* queues SESSION_QUEUE_MAX: the replay waits (sessions_held_full) */
	bool		 held_slow;	/* held once because the collector was slow (said once) */
	tr_ns		 held_lag_max;
	struct msg_ring	 ring;		/* what the connection was given and has not written */
	uint64_t	 conn_in;	/* bytes given to the connection (queued or held) */
	bool		 conn_dead;	/* the collector closed or refused it */
	bool		 closing;	/* we asked the connection to close */
	bool		 stalled;	/* ended by the stall limit */
	/*
	 * BGP: the collector closed the connection before it answered our
	 * OPEN (it refused the peer for now); the messages wait in the
	 * closed connection's queue, kept by the transport (transport_tcp_keep)
	 * for a retry, and the session closes once that is answered when the
	 * run ended meanwhile.
	 */
	bool		 retrying;
	bool		 close_after_retry;
	bool		 open_unwritten;	/* the OPEN went unwritten: its retry counts it */
	bool		 notification_received;	/* on this connection */
	tr_ns		 retry_since;
	uint64_t	 open_end;	/* where the OPEN ends in the connection's bytes */
	bool		 last_notification;	/* the last BGP message sent was a NOTIFICATION */
	uint64_t	 msgs;		/* the capture's messages for this connection (joined ones too) */
	uint64_t	 not_sent;	/* of those, never written: lost, refused, before an OPEN, after the end */

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
	bool		 peer_ups_capped;	/* said once */
	tr_ns		 reconnect_at;	/* 0: no reconnect pending */
	size_t		 timer_pos;	/* in the table's timers (timer_heap.h) */
	tr_ns		 backoff;
	struct framer	 rx;		/* BGP: what the collector sends */
};

struct peer_up {
	uint8_t	*msg;
	size_t	 len;
	uint8_t	 key[BMP_PEER_KEY_LEN];	/* bmp_peer_key */
};

#define TABLE_BUCKETS	4096	/* the feeds', the look-ahead's; the sessions' to start with */

/* Sessions named in a warning of one kind; the rest are counted in one line. */
#define SESSIONS_NAMED	5

struct sessions {
	const struct config	*cfg;
	struct report		*rep;
	struct transport	*tp;
	bool			 reconnect;
	/* Sessions by 4-tuple, one chain per bucket; the table doubles past one session per bucket. */
	struct session	       **buckets;
	size_t			 n_buckets, n_linked;
	struct stream_pool	 held_pool;	/* out-of-order bytes of every stream */
	struct session	       **all;
	size_t			 n_all, cap_all;
	uint64_t		 capture_gen;
	struct timer_heap	 timers;	/* each session's next reconnect or KEEPALIVE */
	struct prescan		*pre;	/* bgp.open.trim_capabilities' look-ahead */
	struct feed		*feeds[TABLE_BUCKETS];
	tr_ns			 stall_limit;	/* tcp_stall_limit */
	size_t			 connect_failures;	/* named or not */
	size_t			 n_retrying;
	size_t			 n_held_full;	/* sessions holding SESSION_HELD_MAX */
};

/* ---- session.c, for the hooks (session_bgp.c, session_bmp.c) --------- */

/* The session whose connection carries s's messages: its host when joined. */
static inline struct session *
session_owner(struct session *s)
{
	return s->host != NULL ? s->host : s;
}

/* A session's 4-tuple's hash (callers reduce it to their table's size). */
uint32_t	session_hash(int section, const struct flow_key *k);
void		session_describe(const struct session *, char *buf, size_t len);
/* Queue bytes on o's connection (held while it is over its high water mark); counted: a message of the capture. */
int		session_queue(struct session *o, const uint8_t *p, size_t len,
		    tr_ns now, bool counted);
/* The same, ahead of anything held (a reconnect's OPEN before the messages kept for it). */
int		session_queue_first(struct session *o, const uint8_t *p,
		    size_t len, bool counted);
/* Ask for the session's timer hook (or reconnect) at `due`, or sooner. */
void		session_timer_at(struct session *, tr_ns due);
/* After s's queue changed other than through session.c. */
void		session_held_changed(struct session *);
void		session_count_not_sent(struct session *o, uint64_t n,
		    bool unsendable);

/* ---- session_bgp.c, for session.c ------------------------------------- */

/* The look-ahead of the collectors' OPENs (sessions_prescan). */
void		session_bgp_prescan_free(struct prescan *);

#endif
