/*
 * The protocol table: one descriptor per protocol, which the layers read
 * instead of switching on the protocol.  A protocol is one module, which
 * defines its descriptor (NAME_proto), and one row of TR_PROTOCOLS; the row's
 * place is the order in which sections without select claim traffic, as in
 * the older tool.  See DESIGN.md, "Adding a protocol".
 */
#ifndef TR_PROTO_H
#define TR_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "monotime.h"

/* X(ID, name): SECTION_ID, the config section `name`, the descriptor name_proto. */
#define TR_PROTOCOLS(X)				\
	X(IPFIX, ipfix)				\
	X(SFLOW, sflow)				\
	X(BMP, bmp)				\
	X(BGP, bgp)				\
	X(UDP_GENERIC, udp_generic)		\
	X(TCP_GENERIC, tcp_generic)

enum section_id {
#define TR_PROTO_ID(id, name)	SECTION_##id,
	TR_PROTOCOLS(TR_PROTO_ID)
#undef TR_PROTO_ID
	SECTION_COUNT,
};

/* How a TCP protocol's stream is cut into messages (framer.c). */
struct proto_framing {
	/*
	 * The header at the start of p: 1 with the message's type and whole
	 * length, 0 when len is too short to tell, -1 when it cannot be one.
	 */
	int	(*header)(const uint8_t *p, size_t len, uint8_t *type,
		    size_t *msg_len);
	/*
	 * Where a message may start, to resynchronise on in the middle of a
	 * stream: a header of a type it knows (NULL: any header), or a start
	 * too short to judge yet whose first byte is first_byte.
	 */
	bool	(*type_known)(uint8_t type);
	uint8_t	first_byte;
	size_t	max_len;	/* the largest message */
};

/* A protocol's header filter, select's NAME_h: {KEY: [values], ...}. */
#define PROTO_FILTER_KEYS	2

struct proto_filter_key {
	const char	*name;		/* "version" */
	bool		 addresses;	/* its values are IP addresses; else numbers: */
	uint32_t	 lo, hi;	/* the values allowed */
	uint64_t	 only;		/* if not 0: of those, only these bits' values */
	const char	*what;		/* the values in words, for errors */
};

/* What a filter asks select about a datagram's values: whether each passes its key (a key not set passes all). */
struct proto_filter_query {
	bool		(*passes)(const void *ctx, int key, uint32_t value);
	bool		(*passes_address)(const void *ctx, int key,
			    const struct tr_addr *a);
	const void	*ctx;
};

struct proto_filter {
	const char	*key;		/* "ipfix_h" */
	size_t		 n_keys;
	struct proto_filter_key keys[PROTO_FILTER_KEYS];
	/*
	 * UDP: whether a datagram passes, by its values (false when it cannot
	 * be read).  TCP protocols have none: their key 0 lists the message
	 * types to send.
	 */
	bool	(*datagram)(const uint8_t *p, size_t len,
		    const struct proto_filter_query *q);
};

/* Where a datagram came from and where it goes. */
struct proto_origin {
	uint32_t	 exporter;	/* network.map index */
	uint16_t	 sport;		/* captured source port */
	uint32_t	 socket;	/* the socket it leaves by */
	uint64_t	 frame;		/* for messages about it */
	const struct tr_addr *repro;	/* the address it leaves from (repro_ip) */
};

/* At most this many datagrams come out of one (NetFlow/IPFIX: the primed templates, then the message). */
#define PROTO_MAX_OUT	2

struct proto_out {
	size_t		 n;
	const uint8_t	*msg[PROTO_MAX_OUT];
	size_t		 len[PROTO_MAX_OUT];
};

struct cfg_section;
struct report;

/*
 * What a UDP protocol does to its datagrams on replay so that a collector
 * takes them as a live exporter's (NetFlow/IPFIX: flowfix): state per
 * section, made from its settings.
 */
struct proto_fidelity {
	/* NULL when out of memory. */
	void	*(*new)(const struct cfg_section *, struct report *);
	void	 (*free)(void *);
	/* A capture starts playing (a repeat, the next file of the list). */
	void	 (*capture_start)(void *);
	/*
	 * One captured datagram: out->n datagrams to send instead (0: none),
	 * valid until the next call; wall is the wall clock.
	 */
	void	 (*datagram)(void *, const struct proto_origin *,
		    const uint8_t *p, size_t len, tr_ns wall,
		    struct proto_out *out);
};

/* Section keys a protocol takes beyond select and collector (their values: struct cfg_flow_fidelity). */
#define PROTO_KEY_TEMPLATES	(1u << 0)
#define PROTO_KEY_SEQUENCE	(1u << 1)
#define PROTO_KEY_TIMESTAMPS	(1u << 2)
#define PROTO_KEY_SRC_PORT	(1u << 3)	/* preserve_src_port */
#define PROTO_KEY_AGENT_ADDRESS	(1u << 4)

/* ---- what a TCP protocol adds to a replayed session (session.c) ---- */

struct session;
struct tr_packet;
struct transport_tcp_stats;

/*
 * A TCP protocol's part in a replayed session: the message that opens one,
 * what the collector must hear before the capture's messages, what it
 * answers.  The hooks live next to session.c (session_bmp.c,
 * session_bgp.c) and take its private session (session_priv.h); every hook
 * may be NULL (nothing to add).  o is a session that owns its connection.
 */
struct proto_session {
	/* The message that starts a session of the router's (BMP Initiation, BGP OPEN), by name for messages. */
	uint8_t		 opening_type;
	const char	*opening_name;
	/* Two speakers have one session: a new one (SYN) replaces the older at once. */
	bool		 one_at_a_time;
	/* The collector answers the opening: only then does a connection count as good (the backoff restarts). */
	bool		 collector_answers;
	/* A new session, on its first captured segment; and its end. */
	void	(*created)(struct session *, const struct tr_packet *first);
	void	(*free)(struct session *);
	/*
	 * Before one of the capture's messages goes out: false when it cannot
	 * be sent (counted by the hook); msg and len may be pointed at what is
	 * to be sent instead.
	 */
	bool	(*gate)(struct session *o, uint8_t type, const uint8_t **msg,
		    size_t *len);
	/* After a message of the capture was given to the connection. */
	void	(*sent)(struct session *o, const uint8_t *msg, size_t len,
		    uint8_t type);
	/* A segment the captured collector sent (pkt as captured). */
	void	(*collector_segment)(struct session *,
		    const struct tr_packet *pkt);
	/* What the live collector sent on the connection. */
	void	(*received)(struct session *, const uint8_t *data, size_t len);
	/* Timers (KEEPALIVEs): serve what is due by soon; when the next is due (INT64_MAX: none). */
	tr_ns	(*timer)(struct session *, tr_ns now, tr_ns soon);
	/* Our end of the session: what goes out before our FIN (a Cease). */
	void	(*closing)(struct session *o);
	/* The collector closed the connection: true when the session's messages are kept for a retry. */
	bool	(*keep_for_retry)(struct session *, int conn,
		    const struct transport_tcp_stats *);
	/*
	 * How long the collector may refuse the peer after a session ends
	 * (BGP: the hold time), with why in words; 0 for none.  A reconnect
	 * backs off up to that.
	 */
	tr_ns	(*refused_for)(const struct session *, const char **why);
	/* A new connection: what the collector must hear first (the prologue), and the log line that says so (what names the session). */
	void	(*reconnect)(struct session *, tr_ns now, const char *what);
	/* Added to the stall message: what the collector never did ("" for nothing). */
	const char *(*stalled_why)(const struct session *);
};

/* ---- what --info, the sink and -p read of a UDP protocol --------------- */

struct json_t;	/* jansson's */

/*
 * A UDP protocol's datagrams counted per exporter: by --info (per
 * exporter) and by the sink (per exporter and local port).  The state is
 * one exporter's; the protocol caps what it holds (hostile input).
 */
struct proto_count {
	/*
	 * Whether a datagram is this protocol's by its content alone: --info
	 * without a config (after NetFlow/IPFIX), the sink (before it).  It
	 * must claim no NetFlow/IPFIX (first 16 bits: version 5, 9 or 10) and
	 * nothing likely in other UDP.
	 */
	bool	 (*classify)(const uint8_t *p, size_t len);
	void	*(*new)(void);		/* NULL when out of memory */
	void	 (*free)(void *);
	/* One datagram: classified, or selected by the protocol's section; it may not parse. */
	void	 (*datagram)(void *, const uint8_t *p, size_t len);
	/* The counts as the value of the exporter's key NAME; NULL when out of memory. */
	struct json_t *(*json)(const void *);
	/* The counts as lines of the sink's table, each indented by five spaces. */
	void	 (*text)(const void *, FILE *out);
};

/* ---- what anonymize rewrites inside a protocol's messages ------------- */

/* anon_proto.h: per-exporter state and one message rewritten in place, its length kept. */
struct proto_anon;

/* gen_proto.h: a protocol's generator for `generate`. */
struct proto_gen;

struct proto {
	const char	*name;		/* its config section */
	const char	*what;		/* in words, for messages: "NetFlow/IPFIX exports" */
	unsigned	 keys;		/* PROTO_KEY_* */
	uint8_t		 l4proto;	/* IPPROTO_UDP or IPPROTO_TCP */
	/* TCP: its messages; NULL: the bytes go on as they come. */
	const struct proto_framing *framing;
	/* TCP: what it adds to a replayed session; NULL: nothing. */
	const struct proto_session *session;
	const struct proto_filter *filter;	/* NULL: none */
	const struct proto_fidelity *fidelity;	/* NULL: sent as captured */
	/* --info, the sink and -p (NULL: generic UDP to them): */
	const struct proto_count *count;
	/* -p: whether a datagram is kept (the rest is dropped as malformed). */
	bool	(*keep)(const uint8_t *p, size_t len);
	/* anonymize: the addresses inside its messages (NULL: left as captured). */
	const struct proto_anon *anon;
	/* generate: its messages made from a spec (gen_proto.h; NULL: none). */
	const struct proto_gen *gen;
};

#define TR_PROTO_DECL(id, name)	extern const struct proto name##_proto;
TR_PROTOCOLS(TR_PROTO_DECL)
#undef TR_PROTO_DECL

/* By section id. */
extern const struct proto *const protocols[SECTION_COUNT];

/*
 * Whose UDP datagram it is by content alone (--info without a config,
 * anonymize without -t): NetFlow/IPFIX's when it looks like it, else the
 * first protocol in table order whose count hook claims it, else generic
 * UDP's.
 */
int	proto_udp_by_content(const uint8_t *p, size_t len);

/*
 * Whose TCP stream it is by its first bytes (--info without a config,
 * anonymize without -t), among the framed protocols for which wanted(id)
 * holds.  BMP route monitoring holds BGP messages, markers and all, and
 * BGP UPDATEs can hold bytes that look like a BMP header: the one whose
 * messages frame back to back over more of the bytes wins (a tie: the
 * later row, BGP).  -1: none.
 */
int	proto_tcp_by_content(const uint8_t *p, size_t len,
	    bool (*wanted)(int id));

#endif
