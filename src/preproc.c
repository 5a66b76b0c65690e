/*
 * Pre-processing (-p).  Two passes, so that nothing holds a whole capture:
 *
 *  1. The config's captures are read once, merged by timestamp (a k-way
 *     merge holding one packet per capture).  Each selected packet goes to
 *     its section: UDP datagrams at once (IPFIX/NetFlow through flowfix in
 *     drop-orphans mode; another protocol's as captured, if its descriptor's
 *     keep hook takes them), TCP segments through reassembly and, for BMP/BGP,
 *     the framer; each message is written as soon as it completes (packed
 *     into a pending segment of at most desired_tcp_payload_size bytes per
 *     session).  Every section runs its own clock (0 for its first frame,
 *     then inter_packet_delay and the extra BGP/BMP delays).  The first
 *     section in config order writes straight into traffic.pcap, at
 *     PREPROC_REF_SECS + initial_delay + its clock; every other one into
 *     its own temporary pcap in the output folder, on its clock alone.
 *  2. The temporary pcaps are appended in config order to traffic.pcap:
 *     section k starts inter_protocol_delay after the last frame of
 *     section k-1.
 *
 * Every output is written under a temporary name in the output folder and
 * renamed into place only when all three are complete, under a lock on the
 * folder: a failed, stopped or concurrent run never leaves a half-written
 * or mismatched set behind.
 *
 * Output TCP: SYN, SYN-ACK, ACK, then the exporter's data segments, each
 * followed by an ACK of the collector with the same timestamp (so that no
 * analysis sees a window fill up, and the replay, which sends only the
 * exporter's side, ignores them), and FIN/FIN-ACK/ACK where the captured
 * session was closed; for BGP also the captured collector's OPEN.  Sequence
 * numbers start at the captured ISN (or the first byte's seq - 1 when the
 * SYN was not captured) and run on continuously over the bytes that are
 * kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "bgp.h"
#include "bmp.h"
#include "bytebuf.h"
#include "flowfix.h"
#include "flowkey.h"
#include "frame_build.h"
#include "framer.h"
#include "grow.h"
#include "hash.h"
#include "info.h"
#include "log.h"
#include "pcapw.h"
#include "preproc.h"
#include "report.h"
#include "select.h"
#include "source.h"
#include "stream.h"

#define NS_PER_SEC	1000000000LL
#define PP_MAX_HELD	(8u << 20)	/* out-of-order bytes held per stream */
#define PP_MAX_SEG	60000u		/* largest TCP payload of one frame (IPv6 + TCP headers fit in 64 KiB) */
#define PP_SESS_BUCKETS	16384u		/* session table; chains stay short up to ~100k sessions */
#define PP_OPEN_DELAY	(1 * NS_PER_SEC)
#define PP_PEER_DELAY	(5 * NS_PER_SEC)
/*
 * Caps on the state a capture decides the size of, so that memory stays
 * bounded whatever it holds (issue 10).  Real captures stay far below them
 * (the corpus: 14 exporters, 22 sessions, 42 BMP peers).  Past one, the
 * packets that needed more are not kept: counted in
 * pcap_processing.not_tracked, and the cap named once.
 */
#define PP_MAX_ADDRS	4096u		/* exporters, and collectors per section: the config's map and select lists */
#define PP_MAX_SESSIONS	16384u		/* TCP sessions, ended ones too */
#define PP_MAX_HELD_TOTAL (64u << 20)	/* out-of-order bytes held by every stream together (each: PP_MAX_HELD) */
#define PP_MAX_DOWN	4096u		/* BMP peers down per session, waiting for their Peer Up (else no delay) */

enum pp_cap { PP_CAP_ADDRS, PP_CAP_SESSIONS, PP_CAP_DOWN, PP_CAP_COUNT };

struct addr_list {
	struct tr_addr	*v;
	size_t		 n, cap;
};

struct u16_list {
	uint16_t	*v;
	size_t		 n, cap;
};

/* What one section found and dropped. */
struct pp_section {
	struct pcapw	*w;
	char		 path[PATH_MAX];	/* its temporary pcap; empty when direct */
	bool		 direct;	/* the first section: written straight into traffic.pcap */
	tr_ns		 base;		/* direct: the output time of its clock's 0 */
	tr_ns		 t;		/* section clock of the last frame */
	tr_ns		 extra;		/* added before its next frame */
	uint64_t	 frames;
	uint64_t	 packets;	/* captured packets selected */
	uint64_t	 messages;	/* messages (datagrams) kept */
	uint64_t	 before_start;	/* BMP before Initiation, BGP before OPEN */
	uint64_t	 filtered;	/* message filters (NAME_h) */
	uint64_t	 emptied;	/* IPFIX messages left without sets */
	uint64_t	 malformed;	/* datagrams its protocol's keep hook refused */
	uint64_t	 split;		/* messages too big for one frame, written over several */
	uint64_t	 peer_opens;	/* BGP: the collectors' OPENs written */
	struct addr_list src, dst;
	struct u16_list	 dports;
};

struct preproc;

struct pp_sess {
	struct pp_sess	*next;		/* hash chain, newest first */
	struct preproc	*pp;
	enum section_id	 sec;
	struct flow_key	 key;		/* the exporter's direction */
	struct stream	*st;
	struct framer	 fr;
	bool		 framed;
	bool		 started;	/* cleaning passed: Initiation/OPEN seen (always for generic) */
	bool		 opened;	/* handshake written */
	bool		 done;		/* captured stream closed: output closed */
	uint8_t		(*down)[BMP_PEER_KEY_LEN]; /* BMP: peers down, their Peer Up to come */
	size_t		 n_down, cap_down;
	bool		 isn_set;
	uint32_t	 isn, snd, rcv;
	struct bytebuf	 seg;		/* the pending segment; grown to the largest message packed */
	tr_ns		 seg_extra;	/* delay before the pending segment */
	bool		 seg_open;	/* the pending segment ends with an OPEN */
	uint64_t	 before_start;
	/*
	 * BGP: the collector's side is read up to its OPEN, which is written
	 * right after the exporter's (the replay's trim_capabilities and the
	 * summary read it); the rest of that side is not kept.
	 */
	struct bgp_open_finder peer;
	bool		 open_written;	/* the exporter's OPEN is in the output */
	bool		 peer_written;	/* and the collector's after it */
};

struct pp_in {
	struct source	*s;
	const char	*path;
	struct tr_packet pkt;
	struct bytebuf	 buf;		/* a copy of the packet's payload */
	bool		 has;
};

/* The three outputs. */
enum pp_out_id { PP_OUT_PCAP, PP_OUT_YML, PP_OUT_INFO, PP_OUT_COUNT };

static const char *const pp_out_names[PP_OUT_COUNT] = {
	"traffic.pcap", "traffic-reproducer.yml", "traffic-info.json",
};

struct pp_out {
	char	path[PATH_MAX];		/* its name in the output folder */
	char	tmp[PATH_MAX];		/* written here; empty once renamed, or before it exists */
};

struct preproc {
	const struct config	*cfg;
	volatile sig_atomic_t	*stop;		/* set by a signal: leave the folder as it was */
	struct pp_out		 out[PP_OUT_COUNT];
	struct selector		*sel;
	struct flowfix		*ff;
	struct report		 rep;
	struct pp_section	 sec[SECTION_COUNT];
	struct pp_sess		**sess;		/* in creation order */
	size_t			 n_sess, cap_sess;
	struct pp_sess		**buckets;	/* PP_SESS_BUCKETS chains */
	struct addr_list	 exporters;
	tr_ns			 ipd;
	size_t			 segsize;
	bool			 failed;
	uint64_t		 packets, unselected, collector_side, ignored_after_close;
	uint64_t		 retransmitted, gap_bytes, skipped_bytes, unfinished_bytes;
	uint64_t		 not_tracked;	/* packets (Peer Downs) past a cap */
	struct stream_pool	 held;		/* PP_MAX_HELD_TOTAL */
	unsigned		 caps_hit;	/* 1 << enum pp_cap */
	uint8_t			 frame[FRAME_MAX_LEN];
};

/* Past a cap: counted; the first time, the cap is named. */
static void
not_tracked(struct preproc *pp, enum pp_cap cap)
{
	static const char *const what[PP_CAP_COUNT] = {
		[PP_CAP_ADDRS] = "4096 exporters (or collectors of a section)",
		[PP_CAP_SESSIONS] = "16384 TCP sessions",
		[PP_CAP_DOWN] = "4096 BMP peers down in one session",
	};
	static const char *const then[PP_CAP_COUNT] = {
		[PP_CAP_ADDRS] = "their packets are not kept",
		[PP_CAP_SESSIONS] = "the packets of the others are not kept",
		[PP_CAP_DOWN] = "the others' Peer Up gets no delay",
	};

	pp->not_tracked++;
	if (pp->caps_hit & 1u << cap)
		return;
	pp->caps_hit |= 1u << cap;
	log_warnx("-p: more than %s: %s; counted in "
	    "pcap_processing.not_tracked", what[cap], then[cap]);
}

static bool
addr_list_has(const struct addr_list *l, const struct tr_addr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (addr_equal(&l->v[i], a))
			return true;
	return false;
}

static int
addr_list_add(struct addr_list *l, const struct tr_addr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (addr_equal(&l->v[i], a))
			return (int)i;
	if (grow_array(&l->v, &l->cap, sizeof(*l->v), l->n + 1,
	    SIZE_MAX) == -1)
		return -1;
	l->v[l->n] = *a;
	return (int)l->n++;
}

static void
u16_list_add(struct u16_list *l, uint16_t x)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == x)
			return;
	if (grow_array(&l->v, &l->cap, sizeof(*l->v), l->n + 1,
	    SIZE_MAX) == -1)
		return;
	l->v[l->n++] = x;
}

static tr_ns
secs_to_ns(double s)
{
	return (tr_ns)(s * 1e9 + 0.5);
}

/* One frame on the section's clock; same_time puts it at the previous frame's time (a collector ACK). */
static void
emit_frame(struct preproc *pp, enum section_id id, struct frame_spec *s,
    bool same_time)
{
	struct pp_section *sec = &pp->sec[id];
	ssize_t n;

	s->link = FRAME_LINK_EN10MB;
	if ((n = frame_build(s, pp->frame, sizeof(pp->frame))) < 0) {
		/* Payloads are capped at PP_MAX_SEG: this cannot happen. */
		log_warnx("internal error: a %zu-byte payload does not fit "
		    "into a frame", s->payload_len);
		pp->failed = true;
		return;
	}
	if (!same_time) {
		if (sec->frames > 0)
			sec->t += pp->ipd + sec->extra;
		sec->extra = 0;
	}
	if (pcapw_write(sec->w, sec->base + sec->t, pp->frame, (uint32_t)n,
	    (uint32_t)n) == -1)
		pp->failed = true;
	sec->frames++;
}

static void
tcp_frame(struct pp_sess *ss, bool from_exporter, uint8_t flags,
    const uint8_t *data, size_t len, bool same_time)
{
	struct frame_tcp c = {
		.a = ss->key.src, .b = ss->key.dst,
		.aport = ss->key.sport, .bport = ss->key.dport,
		.a_nxt = ss->snd, .b_nxt = ss->rcv,
	};
	struct frame_spec s;

	memset(&s, 0, sizeof(s));
	frame_tcp_segment(&c, from_exporter, flags, data, len, &s);
	emit_frame(ss->pp, ss->sec, &s, same_time);
	ss->snd = c.a_nxt;
	ss->rcv = c.b_nxt;
}

static void
sess_handshake(struct pp_sess *ss)
{
	if (ss->opened)
		return;
	ss->snd = ss->isn;
	/* A fixed collector ISN per session keeps the output deterministic. */
	ss->rcv = 2000000000u + 1000u * (uint32_t)ss->pp->n_sess;
	tcp_frame(ss, true, TR_TCP_SYN, NULL, 0, false);
	tcp_frame(ss, false, TR_TCP_SYN | TR_TCP_ACK, NULL, 0, false);
	tcp_frame(ss, true, TR_TCP_ACK, NULL, 0, false);
	ss->opened = true;
}

/* One data segment of the exporter and the collector's ACK of it. */
static void
sess_segment(struct pp_sess *ss, const uint8_t *data, size_t len)
{
	sess_handshake(ss);
	tcp_frame(ss, true, TR_TCP_PSH | TR_TCP_ACK, data, len, false);
	tcp_frame(ss, false, TR_TCP_ACK, NULL, 0, true);
}

/*
 * The collector's OPEN, once both it and the exporter's are known: at the
 * time of the frame before (the replay does not send this side), acked.
 */
static void
sess_peer_open(struct pp_sess *ss)
{
	if (ss->peer.open == NULL || ss->peer_written || !ss->open_written ||
	    ss->done)
		return;
	tcp_frame(ss, false, TR_TCP_PSH | TR_TCP_ACK, ss->peer.open,
	    ss->peer.open_len, true);
	tcp_frame(ss, true, TR_TCP_ACK, NULL, 0, true);
	ss->pp->sec[ss->sec].peer_opens++;
	ss->peer_written = true;
}

static void
sess_flush(struct pp_sess *ss)
{
	struct pp_section *sec = &ss->pp->sec[ss->sec];

	if (bytebuf_len(&ss->seg) == 0)
		return;
	sec->extra += ss->seg_extra;
	sess_segment(ss, bytebuf_data(&ss->seg), bytebuf_len(&ss->seg));
	if (ss->seg_open) {
		ss->open_written = true;
		sess_peer_open(ss);
		sec->extra += PP_OPEN_DELAY;
	}
	bytebuf_consume(&ss->seg, SIZE_MAX);
	ss->seg_extra = 0;
	ss->seg_open = false;
}

/*
 * A message larger than one frame can carry (a BMP Route Monitoring of a
 * big extended BGP message, say): the only case where a message is split,
 * over full segments of its own.  The replay reassembles it.
 */
static void
sess_big_message(struct pp_sess *ss, const uint8_t *msg, size_t len,
    tr_ns before)
{
	struct pp_section *sec = &ss->pp->sec[ss->sec];

	sess_flush(ss);
	sec->extra += before;
	for (size_t off = 0; off < len; off += PP_MAX_SEG)
		sess_segment(ss, msg + off, len - off < PP_MAX_SEG ?
		    len - off : PP_MAX_SEG);
	sec->split++;
	sec->messages++;
}

/* One kept message (or a generic chunk): into the pending segment. */
static void
sess_message(struct pp_sess *ss, const uint8_t *msg, size_t len,
    tr_ns before, bool is_open)
{
	struct preproc *pp = ss->pp;

	if (len > PP_MAX_SEG) {
		sess_big_message(ss, msg, len, before);
		return;
	}
	if (before > 0 || (bytebuf_len(&ss->seg) > 0 &&
	    bytebuf_len(&ss->seg) + len > pp->segsize))
		sess_flush(ss);
	ss->seg_extra += before;
	if (bytebuf_append(&ss->seg, msg, len) == -1) {
		pp->failed = true;
		return;
	}
	pp->sec[ss->sec].messages++;
	if (is_open) {
		ss->seg_open = true;
		sess_flush(ss);
	} else if (bytebuf_len(&ss->seg) >= pp->segsize)
		sess_flush(ss);
}

/*
 * Peer Down of a monitored peer (true: 5 s before it), or Peer Up (true when
 * that peer went down before: 5 s before it too).  Peers are told apart by
 * their per-peer header, so that one peer's Peer Up does not end another's
 * wait.
 */
static bool
peer_went_down(struct pp_sess *ss, const uint8_t *msg, size_t len, bool down)
{
	uint8_t key[BMP_PEER_KEY_LEN];
	size_t i;

	if (len < BMP_COMMON_HDR_LEN + BMP_PEER_HDR_LEN ||
	    !bmp_peer_key(msg, len, key))
		return down;	/* malformed: the delay, no peer to track */
	for (i = 0; i < ss->n_down; i++)
		if (memcmp(ss->down[i], key, sizeof(key)) == 0)
			break;
	if (!down) {
		if (i == ss->n_down)
			return false;
		memmove(ss->down[i], ss->down[i + 1], (ss->n_down - i - 1) *
		    sizeof(ss->down[0]));
		ss->n_down--;
		return true;
	}
	if (i < ss->n_down)
		return true;	/* a second Peer Down: one Peer Up ends both */
	if (ss->n_down == PP_MAX_DOWN) {
		not_tracked(ss->pp, PP_CAP_DOWN);
		return true;
	}
	if (grow_array(&ss->down, &ss->cap_down, sizeof(*ss->down),
	    ss->n_down + 1, PP_MAX_DOWN) == -1) {
		ss->pp->failed = true;
		return true;
	}
	memcpy(ss->down[ss->n_down++], key, sizeof(key));
	return true;
}

/*
 * The cleaning rule: a session is kept from the message that opens a
 * router's session (BMP Initiation, BGP OPEN: its descriptor's opening),
 * or from its first message when its protocol names none.
 */
static bool
opens_session(const struct pp_sess *ss, uint8_t type)
{
	const struct proto_session *ps = protocols[ss->sec]->session;

	return ps == NULL || ps->opening_name == NULL ||
	    type == ps->opening_type;
}

/* The opening message a collector answers (BGP OPEN): the captured collector's answer is written after it. */
static bool
answered_by_collector(const struct pp_sess *ss, uint8_t type)
{
	const struct proto_session *ps = protocols[ss->sec]->session;

	return ps != NULL && ps->collector_answers && type == ps->opening_type;
}

static int
on_message(void *ctx, const uint8_t *msg, size_t len, uint8_t type)
{
	struct pp_sess *ss = ctx;
	struct preproc *pp = ss->pp;
	bool bmp = ss->sec == SECTION_BMP;
	tr_ns before = 0;

	if (!ss->started) {
		if (!opens_session(ss, type)) {
			ss->before_start++;
			pp->sec[ss->sec].before_start++;
			return 0;
		}
		ss->started = true;
	}
	if (!select_message_type(&pp->cfg->section[ss->sec], type)) {
		pp->sec[ss->sec].filtered++;
		return 0;
	}
	if (bmp && (type == BMP_PEER_DOWN || type == BMP_PEER_UP) &&
	    peer_went_down(ss, msg, len, type == BMP_PEER_DOWN))
		before = PP_PEER_DELAY;
	sess_message(ss, msg, len, before, answered_by_collector(ss, type));
	return 0;
}

static void
on_skipped(void *ctx, size_t n, const char *why)
{
	struct pp_sess *ss = ctx;

	ss->pp->skipped_bytes += n;
	if (why != NULL)
		log_info("%s session: %zu bytes skipped: %s",
		    protocols[ss->sec]->name, n, why);
}

static const struct framer_ops pp_framer_ops = {
	.message = on_message,
	.skipped = on_skipped,
};

static void
sess_chunk(struct pp_sess *ss, const struct stream_chunk *c)
{
	if (c->gap_before)
		ss->pp->gap_bytes += c->gap_bytes;
	if (ss->framed) {
		if (framer_feed(&ss->fr, c) == -1)
			ss->pp->failed = true;
		return;
	}
	for (size_t off = 0; off < c->len; off += PP_MAX_SEG) {
		size_t n = c->len - off < PP_MAX_SEG ? c->len - off :
		    PP_MAX_SEG;

		sess_message(ss, c->data + off, n, 0, false);
	}
}

/* End of the captured session: what is held, the pending segment, and FIN if it closed. */
static void
sess_finish(struct pp_sess *ss, bool closed)
{
	struct stream_chunk out[2];
	int n;

	while ((n = stream_finish(ss->st, out)) > 0)
		for (int i = 0; i < n; i++)
			sess_chunk(ss, &out[i]);
	if (ss->framed) {
		ss->pp->unfinished_bytes += framer_pending(&ss->fr);
		framer_discard(&ss->fr);
	}
	sess_flush(ss);
	if (closed && ss->opened) {
		tcp_frame(ss, true, TR_TCP_FIN | TR_TCP_ACK, NULL, 0, false);
		tcp_frame(ss, false, TR_TCP_FIN | TR_TCP_ACK, NULL, 0, false);
		tcp_frame(ss, true, TR_TCP_ACK, NULL, 0, false);
	}
	ss->pp->retransmitted += stream_stats(ss->st)->retransmitted;
	ss->done = true;
	bgp_open_finder_free(&ss->peer);	/* the collector's side is read no further */
	if (ss->before_start > 0) {
		char a[TR_ADDR_STRLEN];

		log_warnx("%s session from %s port %u: %" PRIu64 " messages "
		    "before its first %s were dropped (the capture starts "
		    "mid-session)%s", protocols[ss->sec]->name,
		    addr_format(&ss->key.src, a, sizeof(a)), ss->key.sport,
		    ss->before_start, protocols[ss->sec]->session->opening_name,
		    ss->started ? "" : "; it has none: nothing kept");
	}
}

static uint32_t
sess_bucket(const struct tr_packet *pkt)
{
	struct flow_key k = flow_key_of(pkt);

	return flow_key_hash(&k, FNV1A_BASIS) & (PP_SESS_BUCKETS - 1);
}

/* The newest session of pkt's direction (addresses and ports). */
static struct pp_sess *
sess_find(struct preproc *pp, const struct tr_packet *pkt)
{
	struct flow_key k = flow_key_of(pkt);

	for (struct pp_sess *ss = pp->buckets[sess_bucket(pkt)]; ss != NULL;
	    ss = ss->next)
		if (flow_key_equal(&ss->key, &k))
			return ss;
	return NULL;
}

static struct pp_sess *
sess_new(struct preproc *pp, enum section_id id, const struct tr_packet *pkt)
{
	struct pp_sess *ss;

	if (grow_array(&pp->sess, &pp->cap_sess, sizeof(*pp->sess),
	    pp->n_sess + 1, PP_MAX_SESSIONS) == -1 ||
	    (ss = calloc(1, sizeof(*ss))) == NULL)
		return NULL;
	if ((ss->st = stream_new(PP_MAX_HELD)) == NULL) {
		free(ss);
		return NULL;
	}
	stream_set_pool(ss->st, &pp->held);
	ss->pp = pp;
	ss->sec = id;
	bytebuf_init(&ss->seg, PP_MAX_SEG);
	ss->key = flow_key_of(pkt);
	ss->framed = protocols[id]->framing != NULL;
	ss->started = !ss->framed;
	if (ss->framed)
		framer_init(&ss->fr, protocols[id]->framing, &pp_framer_ops,
		    ss);
	pp->sess[pp->n_sess++] = ss;
	ss->next = pp->buckets[sess_bucket(pkt)];
	pp->buckets[sess_bucket(pkt)] = ss;
	return ss;
}

static void
sess_free(struct pp_sess *ss)
{
	if (ss->framed)
		framer_free(&ss->fr);
	bgp_open_finder_free(&ss->peer);
	stream_free(ss->st);
	bytebuf_free(&ss->seg);
	free(ss->down);
	free(ss);
}

/* A segment of the captured collector's side of a BGP session: read up to its OPEN. */
static void
peer_packet(struct preproc *pp, const struct tr_packet *pkt)
{
	struct tr_packet rev = tr_packet_reversed(pkt);
	struct pp_sess *ss = sess_find(pp, &rev);

	if (ss == NULL || ss->sec != SECTION_BGP || ss->done)
		return;
	bgp_open_finder_push(&ss->peer, pkt);
	sess_peer_open(ss);
}

static void
tcp_packet(struct preproc *pp, enum section_id id, const struct tr_packet *pkt)
{
	struct pp_sess *ss = sess_find(pp, pkt);
	struct stream_chunk out[2];
	int n;

	if (ss != NULL && ss->done) {
		if (!(pkt->tcp_flags & TR_TCP_SYN) ||
		    (pkt->tcp_flags & TR_TCP_ACK)) {
			pp->ignored_after_close++;
			return;
		}
		ss = NULL;	/* a new session on the same ports */
	}
	if (ss != NULL && (pkt->tcp_flags & (TR_TCP_SYN | TR_TCP_ACK)) ==
	    TR_TCP_SYN && ss->isn_set && pkt->tcp_seq != ss->isn) {
		/* The exporter connected again from the same port: the old connection is gone. */
		sess_finish(ss, true);
		ss = NULL;
	}
	if (ss == NULL && pp->n_sess == PP_MAX_SESSIONS) {
		not_tracked(pp, PP_CAP_SESSIONS);
		return;
	}
	if (ss == NULL && (ss = sess_new(pp, id, pkt)) == NULL) {
		pp->failed = true;
		return;
	}
	if (!ss->isn_set && ((pkt->tcp_flags & TR_TCP_SYN) ||
	    pkt->payload_len > 0)) {
		ss->isn = pkt->tcp_seq - ((pkt->tcp_flags & TR_TCP_SYN) ? 0 : 1);
		ss->isn_set = true;
	}
	if ((n = stream_push(ss->st, pkt, out)) == -1) {
		pp->failed = true;
		return;
	}
	for (int i = 0; i < n; i++)
		sess_chunk(ss, &out[i]);
	if (stream_closed(ss->st))
		sess_finish(ss, true);
}

static void
udp_packet(struct preproc *pp, enum section_id id, const struct tr_packet *pkt)
{
	struct pp_section *sec = &pp->sec[id];
	struct frame_spec s;
	struct proto_out out;

	memset(&s, 0, sizeof(s));
	s.l4proto = FRAME_IPPROTO_UDP;
	s.src = pkt->src;
	s.dst = pkt->dst;
	s.sport = pkt->sport;
	s.dport = pkt->dport;
	if (!select_datagram(&pp->cfg->section[id], id, pkt->payload,
	    pkt->payload_len)) {
		sec->filtered++;
		return;
	}
	if (id != SECTION_IPFIX) {
		/* Kept byte for byte, when its protocol's keep hook (if any) takes it. */
		if (protocols[id]->keep != NULL &&
		    !protocols[id]->keep(pkt->payload, pkt->payload_len)) {
			sec->malformed++;
			return;
		}
		s.payload = pkt->payload;
		s.payload_len = pkt->payload_len;
		sec->messages++;
		emit_frame(pp, id, &s, false);
		return;
	}
	{
		struct proto_origin o = {
			.exporter = (uint32_t)addr_list_add(&pp->exporters,
			    &pkt->src),
			.sport = pkt->sport,
			.socket = (uint32_t)addr_list_add(&pp->exporters,
			    &pkt->src) * 65536u + pkt->sport,
			.frame = pkt->frame,
		};

		flowfix_message(pp->ff, &o, pkt->payload, pkt->payload_len, 0,
		    &out);
	}
	if (out.n == 0) {
		sec->emptied++;
		return;
	}
	for (size_t i = 0; i < out.n; i++) {
		s.payload = out.msg[i];
		s.payload_len = out.len[i];
		sec->messages++;
		emit_frame(pp, id, &s, false);
	}
}

/*
 * A section whose select takes both directions of a TCP session (none: it
 * takes every packet of its transport) would make the collector's segments
 * an exporter's session.  The collector's side is the one whose reverse
 * already has a session, else the one that answered a SYN, else the one on
 * the lower port (BGP's 179 and BMP collectors' ports are low, a router's
 * ephemeral), as --info without a config tells them apart.
 */
static bool
collector_of_both(struct preproc *pp, const struct tr_packet *pkt, int id)
{
	struct tr_packet rev = tr_packet_reversed(pkt);
	struct pp_sess *ss;
	uint8_t f = pkt->tcp_flags & (TR_TCP_SYN | TR_TCP_ACK);

	if (pkt->l4proto != TR_IPPROTO_TCP ||
	    select_section(pp->sel, &rev) != id)
		return false;
	if ((ss = sess_find(pp, pkt)) != NULL && !ss->done)
		return false;
	if ((ss = sess_find(pp, &rev)) != NULL && !ss->done)
		return true;
	if (f == TR_TCP_SYN)
		return false;
	if (f == (TR_TCP_SYN | TR_TCP_ACK))
		return true;
	return pkt->sport < pkt->dport;
}

static void
packet(struct preproc *pp, const struct tr_packet *pkt)
{
	int id = select_section(pp->sel, pkt);
	struct pp_section *sec;

	pp->packets++;
	if (id >= 0 && collector_of_both(pp, pkt, id)) {
		pp->collector_side++;
		if (id == SECTION_BGP)
			peer_packet(pp, pkt);
		return;
	}
	if (id < 0) {
		/* The collector's side: its packets selected as if reversed (no map here). */
		struct tr_packet rev = tr_packet_reversed(pkt);

		if (pkt->l4proto == TR_IPPROTO_TCP &&
		    (id = select_section(pp->sel, &rev)) >= 0) {
			pp->collector_side++;
			if (id == SECTION_BGP)
				peer_packet(pp, pkt);
		} else
			pp->unselected++;
		return;
	}
	sec = &pp->sec[id];
	if ((pp->exporters.n == PP_MAX_ADDRS &&
	    !addr_list_has(&pp->exporters, &pkt->src)) ||
	    (sec->dst.n == PP_MAX_ADDRS && !addr_list_has(&sec->dst, &pkt->dst))) {
		not_tracked(pp, PP_CAP_ADDRS);
		return;
	}
	sec->packets++;
	if (addr_list_add(&pp->exporters, &pkt->src) < 0 ||
	    addr_list_add(&sec->src, &pkt->src) < 0 ||
	    addr_list_add(&sec->dst, &pkt->dst) < 0) {
		pp->failed = true;
		return;
	}
	u16_list_add(&sec->dports, pkt->dport);
	if (pkt->l4proto == TR_IPPROTO_UDP)
		udp_packet(pp, (enum section_id)id, pkt);
	else
		tcp_packet(pp, (enum section_id)id, pkt);
}

/* ---- input: k-way merge by timestamp ---- */

static int
in_advance(struct pp_in *in, bool *damaged)
{
	int rc = source_next(in->s, &in->pkt);

	in->has = rc == 1;
	if (rc == -1) {
		log_warnx("%s: %s: what came before is used", in->path,
		    source_error(in->s));
		*damaged = true;
	}
	if (!in->has)
		return 0;
	bytebuf_consume(&in->buf, SIZE_MAX);
	if (bytebuf_append(&in->buf, in->pkt.payload,
	    in->pkt.payload_len) == -1)
		return -1;
	in->pkt.payload = bytebuf_data(&in->buf);
	return 0;
}

/* ---- outputs ---- */

static int
mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		errno = len == 0 ? ENOENT : ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0777) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static char *
default_folder(const char *pcap)
{
	const char *slash = strrchr(pcap, '/');
	const char *dot = strrchr(pcap, '.');
	size_t len = strlen(pcap);

	if (dot != NULL && (slash == NULL || dot > slash + 1))
		len = (size_t)(dot - pcap);
	return strndup(pcap, len);
}

/*
 * FOLDER/NAME into buf.  A path that does not fit is an error naming the
 * folder and the limit (truncated, it would name another file), and buf is
 * left empty.
 */
static int
path_join(char *buf, size_t len, const char *folder, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", folder, name);

	if (n >= 0 && (size_t)n < len)
		return 0;
	buf[0] = '\0';
	log_errorx("output folder %s: its path is too long: with /%s it "
	    "would be %d bytes, over the limit of %zu", folder, name, n,
	    len - 1);
	return -1;
}

/* The mkstemp template of WHAT's temporary: a dot name, which listings skip. */
static int
tmp_template(char *buf, size_t len, const char *folder, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), ".%s.XXXXXX", what);
	return path_join(buf, len, folder, name);
}

/* What a section's temporary pcap is named after. */
static void
section_tmp_what(char *buf, size_t len, enum section_id id)
{
	snprintf(buf, len, "traffic-%s.pcap", protocols[id]->name);
}

/*
 * The outputs' names, and a check that every temporary's fits too: a
 * folder whose path is too long fails before anything is touched.
 */
static int
out_paths(struct preproc *pp, const char *folder,
    const enum section_id *order, size_t n)
{
	char buf[PATH_MAX], what[32];

	for (size_t i = 0; i < PP_OUT_COUNT; i++)
		if (path_join(pp->out[i].path, sizeof(pp->out[i].path),
		    folder, pp_out_names[i]) == -1 ||
		    tmp_template(buf, sizeof(buf), folder,
		    pp_out_names[i]) == -1)
			return -1;
	/* The first section goes straight into traffic.pcap's temporary. */
	for (size_t k = 1; k < n; k++) {
		section_tmp_what(what, sizeof(what), order[k]);
		if (tmp_template(buf, sizeof(buf), folder, what) == -1)
			return -1;
	}
	return 0;
}

/*
 * An exclusive lock on the output folder for the whole run, so that two
 * runs into one folder cannot mix their files: the second fails at once.
 * Returns the folder's descriptor (closing it releases the lock), or -1.
 */
static int
folder_lock(const char *folder, bool by_default)
{
	int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1) {
		int e = errno;

		log_errorx("output folder %s: %s%s", folder, e == ENOTDIR ?
		    "not a folder" : strerror(e), by_default ? " (no "
		    "pcap_processing.output_folder: the first capture's path "
		    "without its extension)" : "");
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int e = errno;

		if (e == EWOULDBLOCK)
			log_errorx("another -p run is writing into %s; try "
			    "again when it is done", folder);
		else
			log_errorx("output folder %s: cannot lock it: %s",
			    folder, strerror(e));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * No output may be an input: an output folder holding a capture or the
 * config under an output's name would have -p replace what it reads.
 * Compared by device and inode, so that other spellings of a path, links
 * and symbolic links count too.  The temporaries are new files (mkstemp),
 * never an input.
 */
static int
outputs_not_inputs(const struct preproc *pp)
{
	const struct config *cfg = pp->cfg;

	for (size_t o = 0; o < PP_OUT_COUNT; o++) {
		struct stat so, si;

		if (stat(pp->out[o].path, &so) == -1)
			continue;	/* not there: nothing to replace */
		for (size_t i = 0; i <= cfg->n_pcaps; i++) {
			const char *in = i < cfg->n_pcaps ? cfg->pcaps[i] :
			    cfg->path;

			if (stat(in, &si) == 0 && si.st_dev == so.st_dev &&
			    si.st_ino == so.st_ino) {
				log_errorx("output %s is %s %s (the same "
				    "file): -p would replace its own input; "
				    "set pcap_processing.output_folder to "
				    "another folder", pp->out[o].path,
				    i < cfg->n_pcaps ? "the capture" :
				    "the config", in);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Create WHAT's temporary in the folder, its name into path (mkstemp: a
 * name of its own, never a capture being read nor a stale file), with the
 * given mode rather than mkstemp's 0600 (an output gets the mode any new
 * file would).  path is non-empty only when the file was made, so that
 * nothing else is ever removed in its name.
 */
static int
tmp_create(char *path, size_t len, const char *folder, const char *what,
    mode_t mode)
{
	int fd;

	if (tmp_template(path, len, folder, what) == -1)
		return -1;
	if ((fd = mkstemp(path)) == -1) {
		log_errorx("output folder %s: cannot create a file in it: %s",
		    folder, strerror(errno));
		path[0] = '\0';
		return -1;
	}
	/* At best: a file system without modes (vfat) refuses, and 0600 does no harm. */
	(void)fchmod(fd, mode);
	close(fd);
	return 0;
}

/*
 * The end of a run that succeeded: the temporaries renamed over the
 * outputs, one right after the other.  Without a config (nothing kept) a
 * previous run's one goes, since it describes another traffic.pcap.
 */
static int
out_commit(struct preproc *pp, bool with_yml)
{
	for (size_t i = 0; i < PP_OUT_COUNT; i++) {
		struct pp_out *o = &pp->out[i];

		if (i == PP_OUT_YML && !with_yml)
			continue;
		if (rename(o->tmp, o->path) == -1) {
			log_errorx("cannot rename %s to %s: %s", o->tmp,
			    o->path, strerror(errno));
			return -1;
		}
		o->tmp[0] = '\0';
	}
	if (!with_yml && unlink(pp->out[PP_OUT_YML].path) == -1 &&
	    errno != ENOENT) {
		log_errorx("cannot remove the previous %s: %s",
		    pp->out[PP_OUT_YML].path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Sections in the order the config file lists them. */
static size_t
section_order(const struct config *cfg, enum section_id order[SECTION_COUNT])
{
	size_t n = 0;

	for (int i = 0; i < SECTION_COUNT; i++)
		if (cfg->section[i].enabled)
			order[n++] = (enum section_id)i;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && cfg->section[order[j]].pos.line <
		    cfg->section[order[j - 1]].pos.line; j--) {
			enum section_id t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	return n;
}

/*
 * Pass 2: append the other sections' pcaps to traffic.pcap (the writer of
 * the first section, which went there directly), laid out one after another.
 * -1 on an error, or when stopped.
 */
static int
concat(struct preproc *pp, const enum section_id *order, size_t n,
    struct pcapw *w, json_t *layout)
{
	const struct cfg_pcap_processing *pc = &pp->cfg->pcap_processing;
	char perr[PCAP_ERRBUF_SIZE];
	tr_ns base = pp->sec[order[0]].base;
	tr_ns last = -1;

	for (size_t k = 0; k < n; k++) {
		struct pp_section *sec = &pp->sec[order[k]];
		struct pcap_pkthdr *h;
		const u_char *data;
		pcap_t *p;
		tr_ns first = -1, t = 0;

		if (sec->frames == 0)
			continue;
		if (sec->direct) {
			/* As pcapw stored them: microseconds, rounded down. */
			first = base - base % 1000;
			t = base + sec->t;
			t -= t % 1000;
			goto done;
		}
		if (last >= 0)
			base = last + secs_to_ns(pc->inter_protocol_delay);
		if ((p = pcap_open_offline_with_tstamp_precision(sec->path,
		    PCAP_TSTAMP_PRECISION_NANO, perr)) == NULL) {
			log_errorx("%s: %s", sec->path, perr);
			pcapw_close(w);
			return -1;
		}
		while (!*pp->stop && pcap_next_ex(p, &h, &data) == 1) {
			t = base + (tr_ns)h->ts.tv_sec * NS_PER_SEC +
			    h->ts.tv_usec;
			/* Microseconds in the output: round down, keep the order. */
			t -= t % 1000;
			if (first < 0)
				first = t;
			pcapw_write(w, t, data, h->caplen, h->len);
		}
		pcap_close(p);
		if (*pp->stop) {
			pcapw_close(w);
			return -1;
		}
done:
		last = t;
		json_array_append_new(layout, json_pack("{s:s, s:I, s:I, s:I}",
		    "section", protocols[order[k]]->name, "frames",
		    (json_int_t)sec->frames, "first_us", (json_int_t)(first /
		    1000), "last_us", (json_int_t)(t / 1000)));
	}
	if (pcapw_close(w) == -1) {
		log_errorx("%s: %s", pp->out[PP_OUT_PCAP].tmp, strerror(errno));
		return -1;
	}
	return 0;
}

static void
yml_addr_list(FILE *f, const char *indent, const struct addr_list *l)
{
	char a[TR_ADDR_STRLEN];

	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s- %s\n", indent, addr_format(&l->v[i], a,
		    sizeof(a)));
}

/*
 * The input's repeat.  Its captures are merged into one, so a count carries
 * over only when every capture had the same; else the user picks one.
 */
static void
yml_repeat(FILE *f, const struct config *cfg, const char *path)
{
	bool same = true;

	if (!cfg->has_repeat)
		return;
	for (size_t i = 1; i < cfg->n_pcaps; i++)
		same = same && cfg->repeat_count[i] == cfg->repeat_count[0];
	if (same) {
		fprintf(f, "repeat:\n  count: [%" PRIu32 "]\n",
		    cfg->repeat_count[0]);
		return;
	}
	fprintf(f, "# repeat: the input's captures had different counts and "
	    "are merged into one\n# here: give it one count, e.g.\n"
	    "# repeat: {count: [%" PRIu32 "]}\n", cfg->repeat_count[0]);
	log_warnx("%s: the input's repeat counts differ per capture, and the "
	    "captures are merged into one: repeat is left out (see the "
	    "comment there)", path);
}

/* A socket buffer size of optimize.network; 0 is the system default. */
static void
yml_bufsize(FILE *f, const char *key, int v)
{
	if (v == 0)
		fprintf(f, "    %s: null\n", key);
	else
		fprintf(f, "    %s: %d\n", key, v);
}

/* Into the config's temporary; it names the outputs by their final paths. */
static int
write_yml(struct preproc *pp, const enum section_id *order, size_t n)
{
	const struct config *cfg = pp->cfg;
	const struct cfg_pcap_processing *pc = &cfg->pcap_processing;
	const char *path = pp->out[PP_OUT_YML].path;
	const char *tmp = pp->out[PP_OUT_YML].tmp;
	bool missing = false, bad;
	char a[TR_ADDR_STRLEN];
	FILE *f;

	if ((f = fopen(tmp, "w")) == NULL) {
		log_errorx("%s: %s", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "# Written by traffic-reproducer -p from %s.\n", cfg->path);
	fprintf(f, "pcap: %s\n", pp->out[PP_OUT_PCAP].path);
	/* The replay settings of the input config (defaults included). */
	fprintf(f, "time_factor: %g\nno_sync: %s\nkeep_open: %s\n",
	    cfg->time_factor, cfg->no_sync ? "true" : "false",
	    cfg->keep_open ? "true" : "false");
	yml_repeat(f, cfg, path);
	fprintf(f, "optimize:\n  threading: %s\n  preload: %s\n  network:\n",
	    cfg->threading ? "true" : "false", cfg->preload ? "true" : "false");
	yml_bufsize(f, "so_sndbuf", cfg->so_sndbuf);
	yml_bufsize(f, "so_rcvbuf", cfg->so_rcvbuf);
	fputc('\n', f);
	fprintf(f, "pcap_processing:\n  initial_delay: %g\n"
	    "  inter_packet_delay: %g\n  inter_protocol_delay: %g\n"
	    "  desired_tcp_payload_size: %" PRIu32 "\n\n", pc->initial_delay,
	    pc->inter_packet_delay, pc->inter_protocol_delay,
	    pc->desired_tcp_payload_size);
	fprintf(f, "network:\n  map:\n");
	for (size_t i = 0; i < pp->exporters.n; i++) {
		const struct tr_addr *e = &pp->exporters.v[i];
		const struct cfg_map_entry *m = NULL;

		for (size_t j = 0; j < cfg->n_map && m == NULL; j++)
			if (addr_equal(&cfg->map[j].src_ip, e))
				m = &cfg->map[j];
		fprintf(f, "  - src_ip: %s\n", addr_format(e, a, sizeof(a)));
		if (m != NULL)
			fprintf(f, "    repro_ip: %s\n", addr_format(&m->repro_ip,
			    a, sizeof(a)));
		else {
			fprintf(f, "    repro_ip: " CFG_MISSING_PARAM "\n");
			missing = true;
		}
	}
	if (cfg->interface != NULL)
		fprintf(f, "  interface: %s\n", cfg->interface);
	for (size_t k = 0; k < n; k++) {
		const struct cfg_section *cs = &cfg->section[order[k]];
		struct pp_section *sec = &pp->sec[order[k]];
		bool udp = protocols[order[k]]->l4proto == TR_IPPROTO_UDP;

		if (sec->frames == 0)
			continue;
		fprintf(f, "\n%s:\n  select:\n    ip:\n      src:\n",
		    protocols[order[k]]->name);
		yml_addr_list(f, "      ", &sec->src);
		fprintf(f, "    %s:\n      dport:\n", udp ? "udp" : "tcp");
		for (size_t i = 0; i < sec->dports.n; i++)
			fprintf(f, "      - %u\n", sec->dports.v[i]);
		fprintf(f, "  collector:\n");
		if (cs->has_collector)
			fprintf(f, "    ip: %s\n    port: %u\n",
			    cs->collector_host, cs->collector_port);
		else {
			fprintf(f, "    # the captured collector: %s\n",
			    sec->dst.n > 0 ? addr_format(&sec->dst.v[0], a,
			    sizeof(a)) : "?");
			fprintf(f, "    ip: " CFG_MISSING_PARAM "\n");
			if (sec->dports.n == 1)
				fprintf(f, "    port: %u\n", sec->dports.v[0]);
			else
				fprintf(f, "    port: " CFG_MISSING_PARAM "\n");
			missing = true;
		}
		/* The input's replay settings of the section: the flow fidelity keys its protocol takes. */
		config_print_flow_keys(f, protocols[order[k]]->keys, &cs->flow,
		    false);
		if (order[k] == SECTION_BGP && (cs->open.has_bgp_id ||
		    cs->open.has_hold_time || cs->open.trim_capabilities)) {
			fprintf(f, "  open:\n");
			if (cs->open.has_bgp_id)
				fprintf(f, "    bgp_id: %s\n", addr_format(
				    &cs->open.bgp_id, a, sizeof(a)));
			if (cs->open.has_hold_time)
				fprintf(f, "    hold_time: %u\n",
				    cs->open.hold_time);
			if (cs->open.trim_capabilities)
				fprintf(f, "    trim_capabilities: true\n");
		}
	}
	if (missing)
		fprintf(f, "\n# Replace every MISSING_PARAM placeholder (the "
		    "address each exporter is\n# replayed from, the collector) "
		    "before replaying: traffic-reproducer -t %s\n", path);
	/* A write that failed earlier sets the error flag, not fclose's result. */
	bad = ferror(f) != 0;
	if (fclose(f) == EOF || bad) {
		log_errorx("%s: cannot write it: %s", tmp, strerror(errno));
		return -1;
	}
	if (missing)
		log_warnx("%s: fill in every " CFG_MISSING_PARAM " before replaying "
		    "it", path);
	return 0;
}

static json_t *
stats_json(struct preproc *pp, const enum section_id *order, size_t n,
    json_t *layout)
{
	json_t *o = json_object(), *secs = json_object();

	json_object_set_new(o, "packets_read", json_integer((json_int_t)
	    pp->packets));
	json_object_set_new(o, "packets_unselected", json_integer(
	    (json_int_t)pp->unselected));
	json_object_set_new(o, "collector_segments", json_integer(
	    (json_int_t)pp->collector_side));
	json_object_set_new(o, "tcp_retransmitted_bytes", json_integer(
	    (json_int_t)pp->retransmitted));
	json_object_set_new(o, "tcp_gap_bytes", json_integer((json_int_t)
	    pp->gap_bytes));
	json_object_set_new(o, "tcp_skipped_bytes", json_integer((json_int_t)
	    pp->skipped_bytes));
	json_object_set_new(o, "tcp_unfinished_bytes", json_integer(
	    (json_int_t)pp->unfinished_bytes));
	json_object_set_new(o, "tcp_after_close", json_integer((json_int_t)
	    pp->ignored_after_close));
	/* Only when a cap was reached: the summary of every real capture stays as it was. */
	if (pp->not_tracked + pp->rep.flows.not_tracked > 0)
		json_object_set_new(o, "not_tracked", json_integer((json_int_t)
		    (pp->not_tracked + pp->rep.flows.not_tracked)));
	for (size_t k = 0; k < n; k++) {
		struct pp_section *sec = &pp->sec[order[k]];
		json_t *s = json_object();

		json_object_set_new(s, "packets_selected", json_integer(
		    (json_int_t)sec->packets));
		json_object_set_new(s, "messages_kept", json_integer(
		    (json_int_t)sec->messages));
		if (order[k] == SECTION_BMP)
			json_object_set_new(s, "dropped_before_initiation",
			    json_integer((json_int_t)sec->before_start));
		if (order[k] == SECTION_BGP)
			json_object_set_new(s, "dropped_before_open",
			    json_integer((json_int_t)sec->before_start));
		json_object_set_new(s, "dropped_by_filter", json_integer(
		    (json_int_t)sec->filtered));
		if (order[k] == SECTION_IPFIX) {
			json_object_set_new(s, "orphan_sets_dropped",
			    json_integer((json_int_t)
			    pp->rep.flows.orphan_sets_dropped));
			json_object_set_new(s, "messages_emptied",
			    json_integer((json_int_t)sec->emptied));
		}
		if (protocols[order[k]]->keep != NULL)
			json_object_set_new(s, "dropped_malformed",
			    json_integer((json_int_t)sec->malformed));
		if (order[k] == SECTION_BGP)
			json_object_set_new(s, "collector_opens_kept",
			    json_integer((json_int_t)sec->peer_opens));
		json_object_set_new(s, "messages_split", json_integer(
		    (json_int_t)sec->split));
		json_object_set_new(s, "frames_written", json_integer(
		    (json_int_t)sec->frames));
		json_object_set_new(secs, protocols[order[k]]->name, s);
	}
	json_object_set_new(o, "sections", secs);
	json_object_set_new(o, "layout", json_incref(layout));
	return o;
}

/*
 * info names the file it read, traffic.pcap's temporary; the summary is
 * of traffic.pcap, so every string naming the one names the other.
 */
static void
json_rename_file(json_t *j, const char *from, const char *to)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j) && strcmp(json_string_value(j), from) == 0)
		json_string_set(j, to);
	else if (json_is_object(j))
		json_object_foreach(j, k, v)
			json_rename_file(v, from, to);
	else if (json_is_array(j))
		json_array_foreach(j, i, v)
			json_rename_file(v, from, to);
}

/* The summary of traffic.pcap's temporary into the summary's temporary. */
static int
write_info(struct preproc *pp, json_t *pstats)
{
	const char *pcap_tmp = pp->out[PP_OUT_PCAP].tmp;
	const char *tmp = pp->out[PP_OUT_INFO].tmp;
	/*
	 * The input config, with every exporter found mapped (to itself), so
	 * that the summary counts them although a raw config has no map.
	 */
	struct config view = *pp->cfg;
	struct cfg_map_entry *map = calloc(pp->exporters.n + 1, sizeof(*map));
	struct info *inf;
	char err[1024];
	json_t *root = NULL;
	FILE *f;
	int rc;

	if (map == NULL)
		return -1;
	for (size_t i = 0; i < pp->exporters.n; i++) {
		map[i].src_ip = pp->exporters.v[i];
		map[i].repro_ip = pp->exporters.v[i];
	}
	view.map = map;
	view.n_map = pp->exporters.n;
	if ((inf = info_new(&view)) == NULL) {
		free(map);
		return -1;
	}
	/* 1 (damaged) leaves err unset: the file just written does not read back. */
	if ((rc = info_add_capture(inf, pcap_tmp, err, sizeof(err))) != 0) {
		if (rc == -1)
			log_errorx("%s", err);
		else
			log_errorx("%s: the capture just written reads back "
			    "damaged", pcap_tmp);
		rc = -1;
	} else if ((root = info_json(inf)) == NULL) {
		log_errorx("%s: out of memory", tmp);
		rc = -1;
	} else if ((f = fopen(tmp, "w")) == NULL) {
		log_errorx("%s: %s", tmp, strerror(errno));
		rc = -1;
	} else {
		json_rename_file(root, pcap_tmp, pp->out[PP_OUT_PCAP].path);
		json_object_set(root, "pcap_processing", pstats);
		rc = json_dumpf(root, f, JSON_PRESERVE_ORDER | JSON_INDENT(2));
		if (fputc('\n', f) == EOF)
			rc = -1;
		if (fclose(f) == EOF)
			rc = -1;
		if (rc == -1)
			log_errorx("%s: cannot write the summary: %s", tmp,
			    strerror(errno));
	}
	json_decref(root);
	info_free(inf);
	free(map);
	return rc;
}

enum preproc_result
preproc_run(const struct config *cfg, char *yml_path, size_t yml_len,
    volatile sig_atomic_t *stop)
{
	const struct cfg_pcap_processing *pc = &cfg->pcap_processing;
	struct cfg_flow_fidelity ffo = {
		.templates = TEMPLATES_DROP_ORPHANS,
		.sequence = SEQUENCE_CONTINUE,	/* no gap where messages were emptied */
		.timestamps = TIMESTAMPS_AS_CAPTURED,
	};
	enum section_id order[SECTION_COUNT];
	enum preproc_result res = PREPROC_FAILED;
	struct preproc *pp;
	struct pp_in *in = NULL;
	char *folder = NULL, err[1024], what[32];
	bool damaged = false, committed = false;
	json_t *layout = json_array(), *pstats = NULL;
	uint64_t kept = 0;
	size_t n_order;
	mode_t mask;
	int dirfd = -1;

	if ((pp = calloc(1, sizeof(*pp))) == NULL)
		return PREPROC_FAILED;
	pp->held.max = PP_MAX_HELD_TOTAL;
	if ((pp->buckets = calloc(PP_SESS_BUCKETS, sizeof(*pp->buckets))) ==
	    NULL) {
		free(pp);
		return PREPROC_FAILED;
	}
	pp->cfg = cfg;
	pp->stop = stop;
	pp->ipd = secs_to_ns(pc->inter_packet_delay);
	pp->segsize = pc->desired_tcp_payload_size > 0 ?
	    pc->desired_tcp_payload_size : 1;
	if (pp->segsize > PP_MAX_SEG)
		pp->segsize = PP_MAX_SEG;
	n_order = section_order(cfg, order);
	report_init(&pp->rep, cfg, false);
	if ((pp->sel = selector_new(cfg)) == NULL ||
	    (pp->ff = flowfix_new(&ffo, &pp->rep)) == NULL ||
	    (in = calloc(cfg->n_pcaps, sizeof(*in))) == NULL)
		goto out;
	folder = pc->output_folder != NULL ? strdup(pc->output_folder) :
	    default_folder(cfg->pcaps[0]);
	if (folder == NULL)
		goto out;
	if (n_order == 0) {
		log_errorx("%s: no protocol section (ipfix, bmp, bgp, "
		    "udp_generic, tcp_generic): nothing to select", cfg->path);
		res = PREPROC_BAD_INPUT;
		goto out;
	}
	/*
	 * What can be checked before writing is: the paths fit, the folder
	 * is one and no other run writes into it, no output is an input.
	 */
	if (out_paths(pp, folder, order, n_order) == -1 ||
	    path_join(yml_path, yml_len, folder,
	    pp_out_names[PP_OUT_YML]) == -1) {
		res = PREPROC_BAD_INPUT;
		goto out;
	}
	if (mkdir_p(folder) == -1) {
		log_errorx("cannot make the output folder %s: %s", folder,
		    strerror(errno));
		res = PREPROC_BAD_INPUT;
		goto out;
	}
	if ((dirfd = folder_lock(folder, pc->output_folder == NULL)) == -1 ||
	    outputs_not_inputs(pp) == -1) {
		res = PREPROC_BAD_INPUT;
		goto out;
	}
	for (size_t i = 0; i < cfg->n_pcaps; i++) {
		in[i].path = cfg->pcaps[i];
		bytebuf_init(&in[i].buf, SIZE_MAX);
		if ((in[i].s = source_open(cfg->pcaps[i], err,
		    sizeof(err))) == NULL) {
			log_errorx("%s", err);
			res = PREPROC_BAD_INPUT;
			goto out;
		}
	}
	/* umask() is the only way to read it: the outputs get the mode a new file would. */
	mask = umask(0);
	umask(mask);
	for (size_t i = 0; i < PP_OUT_COUNT; i++)
		if (tmp_create(pp->out[i].tmp, sizeof(pp->out[i].tmp), folder,
		    pp_out_names[i], 0666 & ~mask) == -1) {
			res = PREPROC_BAD_INPUT;
			goto out;
		}
	for (size_t k = 0; k < n_order; k++) {
		struct pp_section *sec = &pp->sec[order[k]];

		/*
		 * The first section's place in the output is known from the
		 * start: it goes there directly; the others wait in temporary
		 * pcaps for it to end.
		 */
		sec->direct = k == 0;
		if (sec->direct)
			sec->base = (tr_ns)PREPROC_REF_SECS * NS_PER_SEC +
			    secs_to_ns(pc->initial_delay);
		else {
			section_tmp_what(what, sizeof(what), order[k]);
			if (tmp_create(sec->path, sizeof(sec->path), folder,
			    what, 0600) == -1) {
				res = PREPROC_BAD_INPUT;
				goto out;
			}
		}
		if ((sec->w = pcapw_open(sec->direct ? pp->out[PP_OUT_PCAP].tmp :
		    sec->path, DLT_EN10MB, !sec->direct, err,
		    sizeof(err))) == NULL) {
			log_errorx("%s", err);
			res = PREPROC_BAD_INPUT;
			goto out;
		}
	}

	/* Pass 1. */
	for (size_t i = 0; i < cfg->n_pcaps; i++)
		if (in_advance(&in[i], &damaged) == -1)
			goto out;
	while (!*stop) {
		struct pp_in *best = NULL;

		for (size_t i = 0; i < cfg->n_pcaps; i++)
			if (in[i].has && (best == NULL ||
			    in[i].pkt.ts < best->pkt.ts))
				best = &in[i];
		if (best == NULL)
			break;
		packet(pp, &best->pkt);
		if (pp->failed || in_advance(best, &damaged) == -1)
			goto out;
	}
	if (*stop)
		goto out;
	for (size_t i = 0; i < pp->n_sess; i++)
		if (!pp->sess[i]->done)
			sess_finish(pp->sess[i], false);
	for (size_t k = 0; k < n_order; k++) {
		struct pp_section *sec = &pp->sec[order[k]];

		if (!sec->direct) {
			if (pcapw_close(sec->w) == -1)
				pp->failed = true;
			sec->w = NULL;
		}
		kept += sec->frames;
		if (sec->packets == 0)
			log_warnx("%s: no packet of the captures matches its "
			    "select", protocols[order[k]]->name);
		else if (sec->messages == 0)
			log_warnx("%s: %" PRIu64 " packets selected, but no "
			    "message was kept%s", protocols[order[k]]->name,
			    sec->packets, order[k] == SECTION_IPFIX ?
			    " (no data after a template: templates never "
			    "seen?)" : order[k] == SECTION_BMP ? " (no "
			    "session from its Initiation on)" :
			    order[k] == SECTION_BGP ? " (no session from "
			    "the exporter's OPEN on)" : "");
	}
	if (pp->rep.flows.orphan_sets_dropped > 0)
		log_warnx("ipfix: %" PRIu64 " data sets came before their "
		    "template and were dropped", pp->rep.flows.orphan_sets_dropped);
	if (pp->failed)
		goto out;

	/*
	 * Pass 2 and the other outputs.  With nothing kept, traffic.pcap has
	 * no frame and no config is written, but the summary says what was
	 * dropped.
	 */
	{
		struct pcapw *w = pp->sec[order[0]].w;

		pp->sec[order[0]].w = NULL;	/* concat closes it */
		if (concat(pp, order, n_order, w, layout) == -1)
			goto out;
	}
	pstats = stats_json(pp, order, n_order, layout);
	if ((kept > 0 && write_yml(pp, order, n_order) == -1) ||
	    write_info(pp, pstats) == -1)
		goto out;
	/* The last moment to stop: from here on the outputs are replaced. */
	if (*stop || out_commit(pp, kept > 0) == -1)
		goto out;
	committed = true;
	if (kept == 0) {
		log_errorx("nothing to replay: no message of the captures was "
		    "kept (%" PRIu64 " packets read, %" PRIu64 " selected by "
		    "no section); %s says what was dropped", pp->packets,
		    pp->unselected, pp->out[PP_OUT_INFO].path);
		res = PREPROC_NOTHING;
		goto out;
	}
	log_info("wrote %s, %s and %s", pp->out[PP_OUT_PCAP].path,
	    pp->out[PP_OUT_YML].path, pp->out[PP_OUT_INFO].path);
	res = damaged ? PREPROC_DAMAGED : PREPROC_OK;
out:
	if (!committed && *stop) {
		log_warnx("stopped by a signal: the output folder %s is as it "
		    "was", folder != NULL ? folder : "");
		res = PREPROC_STOPPED;
	}
	for (size_t k = 0; k < SECTION_COUNT; k++) {
		if (pp->sec[k].w != NULL)
			pcapw_close(pp->sec[k].w);
		if (pp->sec[k].path[0] != '\0')
			unlink(pp->sec[k].path);
		free(pp->sec[k].src.v);
		free(pp->sec[k].dst.v);
		free(pp->sec[k].dports.v);
	}
	/* Not renamed: the run failed or stopped, and what it wrote goes. */
	for (size_t i = 0; i < PP_OUT_COUNT; i++)
		if (pp->out[i].tmp[0] != '\0')
			unlink(pp->out[i].tmp);
	if (dirfd != -1)
		close(dirfd);	/* the lock goes with it */
	for (size_t i = 0; in != NULL && i < cfg->n_pcaps; i++) {
		if (in[i].s != NULL)
			source_close(in[i].s);
		bytebuf_free(&in[i].buf);
	}
	free(in);
	for (size_t i = 0; i < pp->n_sess; i++)
		sess_free(pp->sess[i]);
	free(pp->sess);
	free(pp->buckets);
	free(pp->exporters.v);
	flowfix_free(pp->ff);
	selector_free(pp->sel);
	report_free(&pp->rep);
	json_decref(layout);
	json_decref(pstats);
	free(folder);
	free(pp);
	return res;
}
