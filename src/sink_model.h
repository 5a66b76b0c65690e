/* The built-in sink's data: what sink.c counts, sink_summary.c prints and sink_cli.c configures (private to the three). */
#ifndef TR_SINK_MODEL_H
#define TR_SINK_MODEL_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "bgp.h"
#include "bmp.h"
#include "bytebuf.h"
#include "flowkey.h"
#include "framer.h"
#include "monotime.h"
#include "nf_templates.h"
#include "proto.h"

#define SINK_DEFAULT_BGP_AS	64512
#define SINK_MAX_LISTENERS	64
#define SINK_RCVBUF		(8 * 1024 * 1024)	/* absorbs a replay burst */
#define SINK_UDP_BATCH		32		/* datagrams per recvmmsg */
#define SINK_UDP_BUF		65536		/* largest UDP payload fits */
#define SINK_UDP_PASSES		8		/* recvmmsg calls per socket per loop pass */
#define SINK_READ_CHUNK		65536
#define SINK_READS_PER_PASS	16		/* so one busy connection cannot starve others */
#define SINK_ACCEPTS_PER_PASS	64
/*
 * Connections: a replay of 10,000+ sessions holds one each.  The fd limit
 * decides below this (the soft one raised to the hard one at start, less
 * SINK_FD_RESERVE for listeners and files), so that accept never meets
 * EMFILE: a listener refused that way stays readable and the loop spins.
 */
#define SINK_MAX_CONNS		(256 * 1024)
#define SINK_FD_RESERVE		128
#define SINK_MAX_EXPORTERS	65536		/* stat entries per transport */
#define SINK_MAX_NETFLOW	256		/* (version, domain) pairs per exporter */
/* Over every exporter, so that the caps above cannot multiply into gigabytes (issue 10). */
#define SINK_MAX_NETFLOW_TOTAL	65536		/* (exporter, port, version, domain) sessions: ~7 MB */
#define SINK_MAX_TEMPLATES_TOTAL (1u << 20)	/* IPFIX templates: 48 MiB */
#define SINK_MAX_NOTIFICATIONS	64
#define SINK_MAX_ERRORS		16
#define SINK_MAX_RAW		(16u * 1024 * 1024)	/* raw bytes kept for one dump line */
#define SINK_MAX_IN		(BMP_MAX_MSG_LEN + SINK_READ_CHUNK)
#define SINK_MAX_OUT		(64 * 1024)	/* only OPEN and KEEPALIVEs are queued */
#define SINK_MAX_EVENTS		64
#define SINK_TYPE_SLOTS		8		/* BMP 0..6, BGP 1..5 */
#define SINK_BGP_ID		0x7f000002u	/* 127.0.0.2 */

_Static_assert(BMP_TYPE_COUNT <= SINK_TYPE_SLOTS, "BMP types fit");
_Static_assert(BGP_TYPE_MAX < SINK_TYPE_SLOTS, "BGP types fit");

/*
 * What a TCP connection speaks: the section id of a protocol with framing
 * in the table (BMP, BGP), or one of these.
 */
enum {
	SINK_PROTO_RAW = SECTION_COUNT,	/* bytes counted, not framed */
	SINK_PROTO_UNKNOWN,		/* too few bytes seen to tell */
};

enum sink_fd_kind {
	SINK_FD_UDP,
	SINK_FD_TCP_LISTEN,
	SINK_FD_CONN,
};

enum sink_close_why {
	SINK_CLOSE_EOF,
	SINK_CLOSE_RESET,
	SINK_CLOSE_STOP,
};

/* First member of everything registered with epoll, to tell them apart. */
struct sink_fd {
	enum sink_fd_kind	kind;
	int			fd;
};

struct sink_port_opt {
	bool		tcp;
	uint16_t	port;
};

struct sink_opts {
	struct tr_addr		listen;
	bool			listen_set;
	struct sink_port_opt	ports[SINK_MAX_LISTENERS];
	size_t			nports;
	bool			json;
	const char		*dump_path;
	const char		*ready_path;
	tr_ns			duration;	/* 0: none */
	tr_ns			idle;		/* 0: none */
	uint32_t		bgp_as;
	bool			bgp_bare;	/* answer OPENs with no capability at all */
};

struct sink_listener {
	struct sink_fd	h;
	uint16_t	port;		/* really bound */
	bool		warned;		/* accept errors are logged once */
};

/*
 * What the sink counts by: the flow key of what arrives (src: the exporter,
 * dport: the local port; its source port and the sink's address stay 0,
 * as counts are per exporter and port) and, for TCP, the protocol.
 */
struct sink_key {
	struct flow_key	flow;
	uint8_t		proto;
};

struct sink_slot {
	struct sink_key	key;
	uint32_t	idx;
	bool		used;
};

/* Open addressing, so a datagram costs one hash and not a scan of every exporter. */
struct sink_index {
	struct sink_slot	*slots;
	size_t			 cap;	/* a power of two, or 0 */
	size_t			 n;
};

/*
 * One exporter's NetFlow/IPFIX transport session (RFC 7011 8.4: templates
 * and sequence numbers live per source port and domain).
 */
struct sink_nf {
	uint16_t		 version;
	uint32_t		 domain;
	uint16_t		 sport;
	uint64_t		 messages;
	uint32_t		 first_seq;
	uint32_t		 last_seq;
	uint64_t		 seq_errors;
	uint64_t		 template_sets;
	uint64_t		 data_sets;
	uint64_t		 malformed;
	bool			 expect_known;
	uint32_t		 expect;	/* the next message's sequence number */
	uint64_t		 templates_scope; /* its templates' scope in the sink's store */
};

struct sink_udp_stat {
	struct tr_addr	 exporter;
	uint16_t	 port;
	uint64_t	 datagrams;
	uint64_t	 bytes;
	uint64_t	 undecoded;
	void		*proto[SECTION_COUNT];	/* the count hook's state of each protocol that has one, once it sent */
	struct sink_nf	*nf;
	size_t		 nnf;
	size_t		 nf_cap;
};

struct sink_notification {
	uint8_t	code;
	uint8_t	subcode;
};

struct sink_error {
	uint64_t	offset;
	const char	*what;		/* a string literal */
};

struct sink_tcp_stat {
	struct tr_addr			exporter;
	uint16_t			port;
	int				proto;		/* SINK_PROTO_RAW or a section */
	uint64_t			connections;
	uint64_t			closed;
	uint64_t			resets;
	uint64_t			bytes;
	uint64_t			messages;
	uint64_t			types[SINK_TYPE_SLOTS];
	uint64_t			other_types;	/* BMP types past RFC 7854 (e.g. 100, RPAT) */
	uint64_t			framing_errors;
	struct sink_error		errors[SINK_MAX_ERRORS];
	size_t				nerrors;
	uint64_t			truncated_bytes;
	uint64_t			opens_answered;
	struct sink_notification	notes[SINK_MAX_NOTIFICATIONS];
	size_t				nnotes;
};

struct sink_conn {
	struct sink_fd		 h;
	LIST_ENTRY(sink_conn)	 entry;
	struct tr_addr		 peer;
	uint16_t		 peer_port;
	uint16_t		 local_port;
	int			 proto;		/* a section, SINK_PROTO_RAW or _UNKNOWN */
	bool			 raw;		/* only counting bytes from now on */
	bool			 failed;	/* a send failed: close after this pass */
	size_t			 stat;		/* index into tcp stats, or SIZE_MAX */
	uint64_t		 bytes;		/* before the protocol was known too */
	uint64_t		 offset;	/* stream bytes framed so far */
	struct bytebuf		 in;		/* bytes read, not yet framed */
	struct framer		 fr;		/* BMP/BGP, once known: a partial message */
	struct sink		*sink;		/* for the framer's callbacks */
	struct bytebuf		 rawdump;	/* raw bytes kept for the dump */
	bool			 raw_capped;
	struct bytebuf		 out;		/* unsent answer bytes */
	bool			 want_out;	/* EPOLLOUT is asked for */
	bool			 answered;	/* our OPEN went out */
	tr_ns			 ka_interval;	/* 0: no keepalives */
	tr_ns			 ka_next;
};

struct sink {
	struct sink_opts	 opts;
	int			 epfd;
	struct sink_listener	 listeners[SINK_MAX_LISTENERS];
	size_t			 nlisteners;
	LIST_HEAD(, sink_conn)	 conns;
	size_t			 nconns;
	size_t			 max_conns;	/* SINK_MAX_CONNS or the fd limit's */
	struct sink_udp_stat	*udp;
	size_t			 nudp;
	size_t			 udp_cap;
	struct sink_index	 udp_index;
	struct sink_tcp_stat	*tcp;
	size_t			 ntcp;
	size_t			 tcp_cap;
	struct sink_index	 tcp_index;
	uint64_t		 untracked;
	size_t			 nnf_total;	/* against SINK_MAX_NETFLOW_TOTAL */
	struct nf_templates	 templates;	/* IPFIX templates: SINK_MAX_TEMPLATES_TOTAL */
	bool			 cap_told;	/* a _TOTAL cap was named */
	FILE			*dump;
	bool			 dump_dirty;
	tr_ns			 start;
	tr_ns			 last_rx;
	bool			 got_any;
	uint8_t			*udp_bufs;	/* SINK_UDP_BATCH x SINK_UDP_BUF */
	uint8_t			*scratch;	/* SINK_READ_CHUNK, for raw reads */
	struct mmsghdr		 msgs[SINK_UDP_BATCH];
	struct iovec		 iov[SINK_UDP_BATCH];
	struct sockaddr_storage	 from[SINK_UDP_BATCH];
};

/* sink.c: the protocol of a TCP stat by name ("bmp", "raw"). */
const char *sink_proto_name(int proto);

/* sink_cli.c: 0 to run, 1 when help was printed, -1 on a bad command line (said on stderr). */
int	sink_parse_args(int argc, char **argv, struct sink_opts *o);

/* sink_summary.c: exporters sorted, then the summary as a table or as JSON. */
void	sink_sort(struct sink *s);
int	summary_json(const struct sink *s, FILE *out);
void	summary_table(const struct sink *s, FILE *out);

#endif
