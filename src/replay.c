/* Replay mode: reads each capture in play order and sends what it selects on the timeline, UDP and TCP. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "flowfix.h"
#include "log.h"
#include "pace.h"
#include "replay.h"
#include "sched.h"
#include "select.h"
#include "session.h"
#include "source.h"
#include "transport.h"

#define ERRLEN	512

/* What a UDP slot of the socket table can send through. */
#define SOCK_NONE		-1	/* the section is not a UDP section */
#define SOCK_WRONG_FAMILY	-2	/* the collector has no address of the exporter's family */
#define SOCK_WRONG_FAMILY_TOLD	-3	/* the same, and the user was told */
#define SOCK_READY		0	/* sockets open per captured source port */

/*
 * Collectors key flow templates and sequence numbers by exporter address
 * and source port, so each captured source port of an exporter (line cards)
 * gets a socket of its own.  Beyond this many, they share the last one.
 */
#define PORTS_PER_EXPORTER	64

/* UDP sockets are tagged with their section, for the transport's totals. */
_Static_assert(SECTION_COUNT <= TRANSPORT_UDP_TAGS, "a UDP tag per section");

/* An exporter's UDP sockets for one section: one per captured source port. */
struct udp_sockets {
	int		 state;		/* SOCK_* */
	int		 spare;		/* opened at start-up for the first captured port; -1 once given */
	size_t		 n;
	uint16_t	 sport[PORTS_PER_EXPORTER];
	int		 id[PORTS_PER_EXPORTER];	/* transport id, -1 if it could not be opened */
	bool		 warned_full;
};

struct replay {
	const struct config	*cfg;
	const struct replay_opts *opts;
	struct report		*rep;
	struct selector		*sel;
	struct transport	*tp;
	struct sessions		*sessions;	/* TCP sections */
	void			*fidelity[SECTION_COUNT];	/* its protocol's fidelity state */
	struct udp_sockets	*udp;		/* [map index][section] */
	uint64_t		 udp_unsendable[SECTION_COUNT];	/* no socket for them */
	bool			 sync;		/* wait for the minute position before each capture */
	struct sched_waiter	 waiter;
	/*
	 * The monotonic clock as last read by the loop: at each packet's
	 * deadline, or every 1024 packets at time_factor 0 (no clock read per
	 * packet); the sessions' send times and stall clocks take it.
	 */
	tr_ns			 clock;
	/* --pps / --mbps: the rate replaces the capture's timing when enabled. */
	struct pace		 pace;
	/*
	 * --duration and --limit: when the run ends (INT64_MAX until the first
	 * packet starts the clock, or without --duration), the datagrams
	 * queued so far, and whether either was reached: the replay then ends
	 * as after its last capture.
	 */
	tr_ns			 end_at;
	uint64_t		 udp_queued;
	bool			 ended;
	/*
	 * loop_exporters: shift: cfg is a copy whose network.map holds every
	 * play's exporters, play k's at k x n_base + i; `loop` is the play
	 * under way.  Without it, n_base is cfg->n_map and `shifts` 1.
	 */
	size_t			 n_base;
	size_t			 shifts;
	size_t			 loop;
	uint64_t		 handled;	/* packets sent or pushed, over the whole run */
	/*
	 * --shard: whether this process replays each exporter (by base
	 * network.map index: a shifted copy follows its exporter).  The other
	 * shards' packets are skipped but still start the timeline, so every
	 * shard keeps the capture's deadlines.
	 */
	bool			*kept;
	bool			 started_at;	/* --start-at reached: its minute sync is done */
};

static struct udp_sockets *
udp_slot(struct replay *rp, int map_index, int section)
{
	return &rp->udp[map_index * SECTION_COUNT + section];
}

static bool
preserve_src_port(const struct replay *rp, int section)
{
	/* Only the ipfix section has the key. */
	return rp->cfg->section[section].flow.preserve_src_port;
}

/* Thousands of exporters need thousands of sockets: lift the soft limit to the hard one. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Open every capture once before sending anything, so a typo in a path fails fast. */
static int
check_captures(const struct config *cfg)
{
	char err[ERRLEN];

	for (size_t i = 0; i < cfg->n_pcaps; i++) {
		struct source *src = source_open(cfg->pcaps[i], err,
		    sizeof(err));

		if (src == NULL) {
			log_errorx("%s:%d:%d: pcap[%zu]: %s%s", cfg->path,
			    cfg->pcap_pos.line, cfg->pcap_pos.col, i, err,
			    cfg->pcaps[i][0] == '/' ? "" : " (relative paths "
			    "resolve against the working directory)");
			return -1;
		}
		source_close(src);
	}
	return 0;
}

/* What to do about a socket that cannot be set up; 0 to go on, -1 to stop. */
static int
socket_error(struct replay *rp, size_t m, int s, const char *err)
{
	const struct config *cfg = rp->cfg;

	/*
	 * An IPv6 exporter next to an IPv4-only collector is fine until that
	 * exporter has traffic for that section.
	 */
	if (errno == EAFNOSUPPORT)
		return 0;
	log_errorx("%s:%d:%d: network.map[%zu] for %s: %s", cfg->path,
	    cfg->map[m].pos.line, cfg->map[m].pos.col, m, protocols[s]->name,
	    err);
	return -1;
}

/*
 * One UDP socket per (exporter, UDP section) opened before the first packet
 * is due (more open when other captured source ports show up; with
 * preserve_src_port all of them, on the captured ports); TCP connections
 * open when their sessions start.  Whether they all can is checked now, so
 * a wrong address stops the run before anything is sent.
 */
static int
open_sockets(struct replay *rp)
{
	const struct config *cfg = rp->cfg;
	char err[ERRLEN];

	rp->udp = calloc(cfg->n_map * SECTION_COUNT, sizeof(*rp->udp));
	if (rp->udp == NULL) {
		log_errorx("out of memory");
		return -1;
	}
	for (size_t m = 0; m < cfg->n_map; m++) {
		/* Another shard's exporter: its addresses may be another machine's. */
		if (!rp->kept[m % rp->n_base]) {
			for (int s = 0; s < SECTION_COUNT; s++)
				*udp_slot(rp, (int)m, s) = (struct udp_sockets){
				    .state = SOCK_NONE, .spare = -1 };
			continue;
		}
		for (int s = 0; s < SECTION_COUNT; s++) {
			const struct cfg_section *sec = &cfg->section[s];
			const struct tr_addr *repro = &cfg->map[m].repro_ip;
			struct udp_sockets *u = udp_slot(rp, (int)m, s);
			bool udp = protocols[(enum section_id)s]->l4proto ==
			    TR_IPPROTO_UDP;
			int rc;

			u->state = SOCK_NONE;
			u->spare = -1;
			if (!sec->enabled)
				continue;
			if (!udp || preserve_src_port(rp, s))
				rc = transport_check_bind(rp->tp, repro,
				    sec->collector_host, sec->collector_port,
				    !udp, err, sizeof(err));
			else if ((rc = u->spare = transport_udp_open(rp->tp,
			    repro, 0, sec->collector_host, sec->collector_port,
			    (unsigned)s, err, sizeof(err))) >= 0)
				log_debug("%s: %s", protocols[s]->name,
				    transport_describe(rp->tp, u->spare));
			if (rc == -1 && socket_error(rp, m, s, err) == -1)
				return -1;
			if (udp)
				u->state = rc == -1 ? SOCK_WRONG_FAMILY :
				    SOCK_READY;
		}
	}
	return 0;
}

static bool
ask_to_play(const char *path)
{
	char line[64];

	fprintf(stderr, "Reproduce pcap file '%s'? Enter 'y' to play it, "
	    "anything else to skip: ", path);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	return (line[0] == 'y' || line[0] == 'Y') &&
	    (line[1] == '\n' || line[1] == '\0');
}

/*
 * The UDP sections' figures come from the transport: a datagram counts as
 * sent once the kernel took it, as refused when its ICMP error came back,
 * as dropped when it could not leave (plus those that had no socket).
 */
static void
sync_udp_counts(struct replay *rp)
{
	for (int s = 0; s < SECTION_COUNT; s++) {
		const struct transport_udp_stats *st;
		struct report_section *rs = &rp->rep->section[s];

		if (protocols[(enum section_id)s]->l4proto != TR_IPPROTO_UDP)
			continue;
		st = transport_udp_totals(rp->tp, (unsigned)s);
		rs->sent = st->sent;
		rs->bytes = st->bytes;
		rs->refused = st->refused;
		rs->dropped = st->dropped + rp->udp_unsendable[s];
	}
}

static void
tick_report(struct replay *rp, tr_ns now, const struct report_progress *p)
{
	sync_udp_counts(rp);
	report_tick(rp->rep, now, p);
}

/*
 * --duration or --limit reached: say so, and stop reading captures (-1,
 * like a stop, but the run ends as after its last capture: the summary,
 * BGP Cease, exit 0).
 */
static int
end_run(struct replay *rp, const char *why)
{
	if (!rp->ended)
		log_info("%s reached: ending the replay", why);
	rp->ended = true;
	rp->rep->ended_by = why;
	return -1;
}

/* Datagrams queued and TCP messages written so far, for --limit. */
static uint64_t
limit_count(const struct replay *rp)
{
	uint64_t n = rp->udp_queued;

	for (int s = 0; s < SECTION_COUNT; s++)
		if (protocols[(enum section_id)s]->l4proto == TR_IPPROTO_TCP)
			n += rp->rep->section[s].sent;
	return n;
}

/* After each packet: -1 once --limit or --duration is reached. */
static int
check_end(struct replay *rp)
{
	if (rp->opts->limit > 0 && limit_count(rp) >= rp->opts->limit)
		return end_run(rp, "--limit");
	if (rp->clock >= rp->end_at)
		return end_run(rp, "--duration");
	return 0;
}

/*
 * Wait until a deadline while the connections live on: sleep in the
 * transport's poll (reading what collectors send, writing queued bytes,
 * BGP KEEPALIVEs when due) up to the learned margin before the deadline,
 * then spin.  The report ticks at least once a second.
 */
static int
wait_for(struct replay *rp, tr_ns deadline, const struct report_progress *p)
{
	bool ends = deadline >= rp->end_at;

	/* --duration: a wait past the end is a wait for the end. */
	if (ends)
		deadline = rp->end_at;
	for (;;) {
		tr_ns now = tr_mono_now();
		tr_ns until = deadline - rp->waiter.margin, timer;

		rp->clock = now;
		if (*rp->opts->stop)
			return -1;
		tick_report(rp, now, p);
		timer = sessions_tick(rp->sessions, now);
		if (now >= until)
			break;
		if (until - now > TR_NS_PER_SEC)
			until = now + TR_NS_PER_SEC;
		if (timer < until)
			until = timer;
		/* A poll that ended without events tells how late this machine wakes up. */
		if (transport_poll(rp->tp, until) == 0)
			sched_learn_oversleep(&rp->waiter, until, tr_mono_now());
	}
	/* What the timers queued goes out before the spin, not after it. */
	transport_tcp_flush(rp->tp);
	if (sched_spin_until(deadline, rp->opts->stop) == -1)
		return -1;
	if (ends) {
		rp->clock = tr_mono_now();
		return end_run(rp, "--duration");
	}
	return 0;
}

/*
 * Wait for the minute position of the capture's first packet, telling the
 * user why.  After --start-at the position counts from the start time, not
 * from when this process woke up: every shard then lands on the same second.
 */
static int
minute_sync(struct replay *rp, tr_ns first_ts)
{
	tr_ns now = tr_wall_now(), delay;

	if (rp->opts->start_at > 0 && !rp->started_at) {
		delay = rp->opts->start_at + sched_minute_sync_delay(
		    rp->opts->start_at, first_ts) - now;
		if (delay < 0)
			delay = 0;
	} else
		delay = sched_minute_sync_delay(now, first_ts);

	if (delay > TR_NS_PER_SEC)
		log_info("waiting %.3f s so the replay lands at second %.3f "
		    "of the minute, as in the capture (no_sync skips this)",
		    tr_ns_to_sec(delay),
		    tr_ns_to_sec(first_ts % (60 * TR_NS_PER_SEC)));
	return wait_for(rp, tr_mono_now() + delay, NULL);
}

/* A socket for another captured source port: on that port with preserve_src_port, if it is free. */
static int
open_port_socket(struct replay *rp, int exporter, int section, uint16_t sport)
{
	const struct cfg_section *sec = &rp->cfg->section[section];
	const struct tr_addr *repro = &rp->cfg->map[exporter].repro_ip;
	char err[ERRLEN], addr[TR_ADDR_STRLEN];
	uint16_t local = preserve_src_port(rp, section) ? sport : 0;
	int id;

	id = transport_udp_open(rp->tp, repro, local, sec->collector_host,
	    sec->collector_port, (unsigned)section, err, sizeof(err));
	if (id == -1 && local != 0 && errno == EADDRINUSE) {
		log_warnx("%s: preserve_src_port: port %u is in use at "
		    "repro_ip %s; sending from another port",
		    protocols[section]->name, sport,
		    addr_format(repro, addr, sizeof(addr)));
		id = transport_udp_open(rp->tp, repro, 0, sec->collector_host,
		    sec->collector_port, (unsigned)section, err, sizeof(err));
	}
	if (id == -1)
		log_errorx("%s: network.map[%d]: %s", protocols[section]->name,
		    exporter, err);
	else
		log_debug("%s: captured port %u: %s", protocols[section]->name,
		    sport, transport_describe(rp->tp, id));
	return id;
}

/* The socket of a captured source port: the spare for the first one, else a new one. */
static int
port_socket(struct replay *rp, struct udp_sockets *u, int exporter,
    int section, uint16_t sport)
{
	int id;

	for (size_t i = u->n; i-- > 0;)
		if (u->sport[i] == sport)
			return u->id[i];
	if (u->n == PORTS_PER_EXPORTER) {
		if (!u->warned_full)
			log_warnx("%s: network.map[%d] has more than %d captured "
			    "source ports; the others share one socket",
			    protocols[section]->name, exporter,
			    PORTS_PER_EXPORTER);
		u->warned_full = true;
		return u->id[u->n - 1];
	}
	if (u->spare >= 0) {
		id = u->spare;
		u->spare = -1;
	} else
		id = open_port_socket(rp, exporter, section, sport);
	u->sport[u->n] = sport;
	u->id[u->n++] = id;
	return id;
}

/* The socket for (exporter, section, captured port), or -1 after counting why there is none. */
static int
usable_socket(struct replay *rp, int exporter, int section, uint16_t sport)
{
	struct udp_sockets *u = udp_slot(rp, exporter, section);
	char repro[TR_ADDR_STRLEN];
	int id;

	if (u->state == SOCK_READY &&
	    (id = port_socket(rp, u, exporter, section, sport)) >= 0)
		return id;
	rp->udp_unsendable[section]++;
	if (u->state == SOCK_WRONG_FAMILY) {
		u->state = SOCK_WRONG_FAMILY_TOLD;
		log_errorx("%s: network.map[%d] (repro_ip %s) has packets for "
		    "collector '%s', which has no address of that family: "
		    "they are not sent; map the exporter to a repro_ip of "
		    "the collector's family", protocols[section]->name, exporter,
		    addr_format(&rp->cfg->map[exporter].repro_ip, repro,
		    sizeof(repro)), rp->cfg->section[section].collector_host);
	}
	return -1;
}

/* Where a packet goes. */
struct route {
	int	section;
	int	exporter;	/* network.map index; -1 for the collector's side */
	int	udp_sock;	/* UDP: transport id */
	bool	other_shard;	/* not replayed: another --shard's exporter */
	bool	due;		/* other_shard: it would have waited for its time */
};

/*
 * Decide what happens to one packet: true to replay it (route filled;
 * exporter -1 for a segment of the captured collector's side of a selected
 * TCP session: never sent, but it tells how the captured session went),
 * false after counting why not.
 */
static bool tcp_needs_deadline(const struct route *, const struct tr_packet *);

/*
 * Another shard's packet: skipped, but noted whether its shard waits for
 * its time (as play_capture would), so this shard's timeline starts at the
 * same packet as the unsharded run's.
 */
static bool
skip_other_shard(struct replay *rp, const struct tr_packet *pkt,
    struct route *r, bool collector_side)
{
	int exporter = r->exporter;

	if (collector_side)
		r->exporter = -1;
	r->other_shard = true;
	r->due = pkt->l4proto == TR_IPPROTO_TCP ? tcp_needs_deadline(r, pkt) :
	    select_datagram(&rp->cfg->section[r->section], r->section,
	    pkt->payload, pkt->payload_len);
	r->exporter = exporter;
	rp->rep->shard_skipped++;
	return false;
}

static bool
route_packet(struct replay *rp, const struct tr_packet *pkt, struct route *r)
{
	enum select_side side = select_side(rp->sel, pkt, &r->section,
	    &r->exporter);

	r->other_shard = false;
	/* A TCP session belongs to its exporter's shard: both of its sides. */
	if ((side == SELECT_EXPORTER || side == SELECT_COLLECTOR) &&
	    !rp->kept[r->exporter])
		return skip_other_shard(rp, pkt, r, side == SELECT_COLLECTOR);
	switch (side) {
	case SELECT_EXPORTER:
		break;
	case SELECT_COLLECTOR:
		rp->rep->tcp_collector_segments++;
		r->exporter = -1;
		return true;
	case SELECT_UNKNOWN_EXPORTER:
		rp->rep->unknown_peer++;
		return false;
	default:
		rp->rep->unknown_proto++;
		return false;
	}
	if (pkt->l4proto == TR_IPPROTO_TCP)
		return true;
	/* loop_exporters: shift: this play's copy of the exporter (UDP only: see shift_exporters). */
	if (rp->shifts > 1)
		r->exporter += (int)(rp->loop * rp->n_base);
	if (!select_datagram(&rp->cfg->section[r->section], r->section,
	    pkt->payload, pkt->payload_len)) {
		rp->rep->section[r->section].filtered++;
		return false;
	}
	return (r->udp_sock = usable_socket(rp, r->exporter, r->section,
	    pkt->sport)) >= 0;
}

/*
 * Hand a TCP segment to its session.  A slow collector holds back only its
 * own sessions (session.c), and the other sessions and UDP go on, unless
 * one session holds as much as it may: then wait for it, so memory stays
 * bounded (the timeline falls behind and the lag says so; nothing is
 * dropped).
 */
static int
push_tcp(struct replay *rp, const struct route *r, const struct tr_packet *pkt)
{
	if (r->exporter < 0) {
		/* The collector's bare ACKs (most of its frames) tell nothing. */
		if (pkt->payload_len > 0 || (pkt->tcp_flags &
		    (TR_TCP_SYN | TR_TCP_FIN | TR_TCP_RST)))
			sessions_push_collector(rp->sessions, r->section, pkt);
		return 0;
	}
	if (sessions_push(rp->sessions, r->section, r->exporter, pkt,
	    rp->clock) == -1)
		log_warn("cannot replay the TCP segment of frame %llu",
		    (unsigned long long)pkt->frame);
	while (sessions_held_full(rp->sessions))
		if (wait_for(rp, tr_mono_now() + 10 * TR_NS_PER_MS, NULL) == -1)
			return -1;
	return 0;
}

/*
 * Whether a TCP segment must wait for its time: not a bare ACK, nor the
 * collector's side but for the FIN or RST that ends its session then.
 */
static bool
tcp_needs_deadline(const struct route *r, const struct tr_packet *pkt)
{
	if (r->exporter < 0)
		return (pkt->tcp_flags & (TR_TCP_FIN | TR_TCP_RST)) != 0;
	return sessions_needs_deadline(pkt);
}

/*
 * Queue a datagram.  A full socket keeps its batch in the transport and
 * refuses more (EAGAIN) until it has room: the loop serves connections and
 * timers meanwhile, instead of blocking on that one socket.
 */
static int
queue_udp(struct replay *rp, int sock, const uint8_t *data, size_t len)
{
	while (transport_udp_queue(rp->tp, sock, data, len) == -1) {
		if (errno != EAGAIN || *rp->opts->stop)
			return -1;
		(void)sessions_tick(rp->sessions, tr_mono_now());
		if (transport_poll(rp->tp, tr_mono_now() + 100 * TR_NS_PER_MS) ==
		    -1)
			return -1;
	}
	return 0;
}

/* Queue a datagram as captured, or as its protocol's fidelity rewrites it. */
static int
send_udp(struct replay *rp, const struct route *r, const struct tr_packet *pkt)
{
	struct proto_origin o = {
		.exporter = (uint32_t)r->exporter, .sport = pkt->sport,
		.socket = (uint32_t)r->udp_sock, .frame = pkt->frame,
		.repro = &rp->cfg->map[r->exporter].repro_ip,
	};
	struct proto_out out = {
		.n = 1, .msg = { pkt->payload }, .len = { pkt->payload_len },
	};
	void *fix = rp->fidelity[r->section];

	if (fix != NULL)
		protocols[r->section]->fidelity->datagram(fix, &o,
		    pkt->payload, pkt->payload_len, tr_wall_now(), &out);
	for (size_t i = 0; i < out.n; i++) {
		/* --limit counts every datagram, primed templates included: exactly N leave. */
		if (rp->opts->limit > 0 && rp->udp_queued >= rp->opts->limit)
			return end_run(rp, "--limit");
		if (queue_udp(rp, r->udp_sock, out.msg[i], out.len[i]) == -1)
			return -1;
		rp->udp_queued++;
	}
	return 0;
}

/*
 * templates: prime needs a template's first definition before the data that
 * uses it, and the capture may show it only later.  This second reader
 * goes through the capture list only as far as flowfix asks (data whose
 * template is not known yet), keeping nothing but templates.
 */
struct lookahead {
	struct replay	*rp;
	size_t		 next;		/* the capture to open next */
	struct source	*src;		/* the one being read, or NULL */
};

static bool
lookahead_pkt(struct lookahead *la, const struct tr_packet *pkt)
{
	struct replay *rp = la->rp;
	struct proto_origin o = { .sport = pkt->sport };
	size_t learned = 0;
	int exporter;

	if (pkt->l4proto != TR_IPPROTO_UDP ||
	    select_section(rp->sel, pkt) != SECTION_IPFIX ||
	    (exporter = select_exporter(rp->sel, &pkt->src)) < 0 ||
	    !rp->kept[exporter] ||
	    !select_datagram(&rp->cfg->section[SECTION_IPFIX], SECTION_IPFIX,
	    pkt->payload, pkt->payload_len))
		return false;
	/* Every play's copy of the exporter (loop_exporters: shift) primes from the same templates. */
	for (size_t k = 0; k < rp->shifts; k++) {
		o.exporter = (uint32_t)(exporter + k * rp->n_base);
		learned += flowfix_learn(rp->fidelity[SECTION_IPFIX], &o,
		    pkt->payload, pkt->payload_len);
	}
	return learned > 0;
}

/* Read on until a new template definition turns up; false at the end of the list. */
static bool
lookahead_read(void *ctx)
{
	struct lookahead *la = ctx;
	const struct config *cfg = la->rp->cfg;
	char err[ERRLEN];
	struct tr_packet pkt;

	for (;;) {
		while (la->src == NULL) {
			if (la->next == cfg->n_pcaps)
				return false;
			/* Damage and missing files are reported when the capture plays. */
			la->src = source_open(cfg->pcaps[la->next++], err,
			    sizeof(err));
		}
		while (source_next(la->src, &pkt) == 1)
			if (lookahead_pkt(la, &pkt))
				return true;
		source_close(la->src);
		la->src = NULL;
	}
}

/* A TCP segment of a selected BGP session: 1 from the exporter, 2 from the captured collector, else 0. */
static int
bgp_side(struct replay *rp, const struct tr_packet *pkt)
{
	int section;

	int exporter;

	if (pkt->l4proto != TR_IPPROTO_TCP)
		return 0;
	switch (select_side(rp->sel, pkt, &section, &exporter)) {
	case SELECT_EXPORTER:
		if (!rp->kept[exporter])
			return 0;
		return section == SECTION_BGP ? 1 : 0;
	case SELECT_COLLECTOR:
		if (!rp->kept[exporter])
			return 0;
		return section == SECTION_BGP ? 2 : 0;
	default:
		return 0;
	}
}

/*
 * bgp.open.trim_capabilities needs the captured collector's OPEN when the
 * exporter's OPEN is due, but the capture has it after: read the captures
 * once before the replay (streaming, as the replay does) for those OPENs.
 * A capture that fails here fails again in the replay, which reports it.
 */
static void
prescan_captures(struct replay *rp)
{
	char err[ERRLEN];
	struct tr_packet pkt;
	tr_ns started = tr_mono_now();

	for (size_t i = 0; i < rp->cfg->n_pcaps && !*rp->opts->stop; i++) {
		struct source *src = source_open(rp->cfg->pcaps[i], err,
		    sizeof(err));
		int side;

		if (src == NULL)
			continue;
		while (!*rp->opts->stop && source_next(src, &pkt) == 1)
			if ((side = bgp_side(rp, &pkt)) != 0)
				sessions_prescan(rp->sessions, &pkt, side == 2);
		source_close(src);
	}
	sessions_prescan_done(rp->sessions);
	log_info("bgp.open.trim_capabilities: the captures' BGP OPENs read "
	    "in %.3f s", tr_ns_to_sec(tr_mono_now() - started));
}

/* The first packet of a capture starts its timeline, after the minute sync. */
static int
start_timeline(struct replay *rp, struct timeline *tl, tr_ns first_ts)
{
	if (rp->sync && minute_sync(rp, first_ts) == -1)
		return -1;
	rp->started_at = true;
	rp->clock = tr_mono_now();
	timeline_start(tl, first_ts, rp->clock);
	if (rp->rep->first_sent_wall == 0)
		rp->rep->first_sent_wall = tr_wall_now();
	/* --duration runs from the first packet, after any minute sync. */
	if (rp->opts->duration > 0 && rp->end_at == INT64_MAX)
		rp->end_at = rp->clock + rp->opts->duration;
	return 0;
}

/*
 * When a packet is due: at the rate (--pps, --mbps) when one is set, else
 * at its capture time on the timeline.  The rate counts what carries data
 * from an exporter (a datagram, a TCP segment with payload) by its payload
 * bytes; a bare SYN or FIN, or the captured collector's FIN, goes at once.
 */
static tr_ns
packet_deadline(struct replay *rp, const struct timeline *tl,
    const struct route *r, const struct tr_packet *pkt, tr_ns now)
{
	if (!pace_enabled(&rp->pace))
		return timeline_deadline(tl, pkt->ts);
	if (r->exporter < 0 || pkt->payload_len == 0)
		return now;
	return pace_deadline(&rp->pace, pkt->payload_len, now);
}

/* Play one capture on its own timeline.  Returns 1 played, 0 damaged (played up to the damage), -1 stopped. */
static int
play_capture(struct replay *rp, const char *path, size_t index, size_t total)
{
	struct report_progress prog = {
		.path = path, .index = index, .total = total,
		.file_started = tr_mono_now(),
	};
	char err[ERRLEN];
	struct timeline tl;
	struct tr_packet pkt;
	struct route r = { .udp_sock = -1 };
	struct source *src;
	uint64_t handled = 0;
	int rc, result = 1;

	rp->clock = prog.file_started;
	if ((src = source_open(path, err, sizeof(err))) == NULL) {
		log_errorx("%s", err);
		return 0;
	}
	timeline_init(&tl, rp->cfg->time_factor);
	for (int id = 0; id < SECTION_COUNT; id++)
		if (rp->fidelity[id] != NULL)
			protocols[id]->fidelity->capture_start(rp->fidelity[id]);
	log_info("reproducing '%s' (%zu of %zu)", path, index, total);
	while ((rc = source_next(src, &pkt)) == 1) {
		bool tcp = pkt.l4proto == TR_IPPROTO_TCP;
		tr_ns deadline, now;

		if (!route_packet(rp, &pkt, &r)) {
			/* --shard: the capture's first due packet starts every shard's timeline. */
			if (r.other_shard && r.due && !tl.started &&
			    start_timeline(rp, &tl, pkt.ts) == -1) {
				result = -1;
				break;
			}
			continue;
		}
		/* A segment that sends nothing needs not wait for its time. */
		if (tcp && !tcp_needs_deadline(&r, &pkt)) {
			if (push_tcp(rp, &r, &pkt) == -1) {
				result = -1;
				break;
			}
			continue;
		}
		if (!tl.started && start_timeline(rp, &tl, pkt.ts) == -1) {
			result = -1;
			break;
		}
		/*
		 * With time_factor 0 every packet is due at the start: no clock
		 * to read per packet, and lag would only measure throughput.
		 */
		if (pace_enabled(&rp->pace) || tl.factor > 0) {
			now = tr_mono_now();
			deadline = packet_deadline(rp, &tl, &r, &pkt, now);
			if (now < deadline) {
				source_progress(src, &prog.offset, &prog.size);
				/* Send what is batched before sleeping: it is due already. */
				transport_tcp_flush(rp->tp);
				if (transport_flush(rp->tp) == -1 ||
				    wait_for(rp, deadline, &prog) == -1) {
					result = -1;
					break;
				}
				now = tr_mono_now();
			} else if (*rp->opts->stop) {
				result = -1;
				break;
			}
			report_lag(rp->rep, now - deadline);
			rp->clock = now;
		} else if (*rp->opts->stop) {
			result = -1;
			break;
		}
		if (tcp) {
			/* UDP batches go out before TCP bytes that come after them in the capture. */
			if (transport_flush(rp->tp) == -1 ||
			    push_tcp(rp, &r, &pkt) == -1) {
				result = -1;
				break;
			}
		} else if (send_udp(rp, &r, &pkt) == -1) {
			result = -1;
			break;
		}
		/*
		 * --limit counts TCP messages once written: write what this
		 * segment queued now rather than coalesced later, so the count
		 * is current (bytes held for BGP's OPEN or a slow collector still
		 * count late).
		 */
		if (tcp && rp->opts->limit > 0) {
			transport_tcp_flush(rp->tp);
			(void)transport_poll(rp->tp, 0);
		}
		if (check_end(rp) == -1) {
			result = -1;
			break;
		}
		/* Packets sent back to back leave no wait for the report: tick every so often. */
		rp->handled++;
		if ((++handled & 1023) == 0) {
			source_progress(src, &prog.offset, &prog.size);
			rp->clock = tr_mono_now();
			tick_report(rp, rp->clock, &prog);
			/* And let the connections breathe: read collectors, write queues, release held messages. */
			(void)transport_poll(rp->tp, 0);
			(void)sessions_tick(rp->sessions, rp->clock);
		}
	}
	if (transport_flush(rp->tp) == -1)
		result = -1;
	sessions_end_of_capture(rp->sessions);
	transport_tcp_flush(rp->tp);
	if (rc == -1) {
		log_errorx("%s", source_error(src));
		rp->rep->captures_damaged++;
		result = result == -1 ? -1 : 0;
	}
	report_add_source(rp->rep, source_stats(src));
	source_close(src);
	return result;
}

/* keep_open: the connections stay up (BGP KEEPALIVEs included) until a signal. */
static void
wait_keep_open(struct replay *rp)
{
	log_warnx("keep_open: all captures played; sockets stay open until "
	    "SIGINT or SIGTERM");
	while (wait_for(rp, tr_mono_now() + TR_NS_PER_SEC, NULL) == 0)
		;
}

/*
 * Let every TCP connection write its queue and close: as long as the
 * collectors take bytes (one that takes nothing for tcp_stall_limit is
 * ended by the sessions' housekeeping), or for a short grace after a
 * signal; then give the collectors a moment to answer our FIN.
 */
#define DRAIN_STOPPED	(2 * TR_NS_PER_SEC)
#define DRAIN_FIN_WAIT	(1 * TR_NS_PER_SEC)

static void
drain_connections(struct replay *rp)
{
	tr_ns now = tr_mono_now();
	tr_ns give_up = *rp->opts->stop ? now + DRAIN_STOPPED : INT64_MAX;
	tr_ns fin_wait = 0;

	sessions_close_all(rp->sessions);
	while (sessions_active(rp->sessions) > 0 &&
	    (now = tr_mono_now()) < give_up) {
		if (*rp->opts->stop && give_up == INT64_MAX)
			give_up = now + DRAIN_STOPPED;	/* a signal during the drain */
		if (transport_tcp_unwritten(rp->tp) == 0 &&
		    sessions_retrying(rp->sessions) == 0) {
			if (fin_wait == 0)
				fin_wait = now + DRAIN_FIN_WAIT;
			if (now >= fin_wait)
				return;
		}
		(void)sessions_tick(rp->sessions, now);
		(void)transport_poll(rp->tp, now + 100 * TR_NS_PER_MS);
	}
	if (transport_tcp_unwritten(rp->tp) > 0) {
		log_warnx("stopped with %zu bytes still to send on TCP "
		    "connections: they are lost",
		    transport_tcp_unwritten(rp->tp));
		/* Reset them, so their loss is counted (and the exit code says so). */
		sessions_abort_all(rp->sessions);
	}
}

/*
 * Whether anything could not be delivered: a TCP message lost, or a
 * datagram that could not leave (a collector's refusal is its own business:
 * routers send on regardless).
 */
static bool
lost_anything(const struct report *rep)
{
	for (int i = 0; i < SECTION_COUNT; i++)
		if (rep->section[i].dropped > 0)
			return true;
	return rep->tcp_lost_bytes > 0;
}

/* a + n, within its family: -1 past the family's last address. */
static int
addr_add(const struct tr_addr *a, uint64_t n, struct tr_addr *out)
{
	*out = *a;
	if (a->family == AF_INET) {
		uint64_t v = (uint64_t)ntohl(a->v4.s_addr) + n;

		if (v > UINT32_MAX)
			return -1;
		out->v4.s_addr = htonl((uint32_t)v);
		return 0;
	}
	/* IPv6: add from the last byte up, with carry. */
	for (int i = 15; i >= 0 && n > 0; i--) {
		uint64_t v = out->v6.s6_addr[i] + (n & 0xff);

		out->v6.s6_addr[i] = (uint8_t)v;
		n = (n >> 8) + (v >> 8);
	}
	return n > 0 ? -1 : 0;
}

/* A bound on the exporters a shift makes: its tables are per exporter and section. */
#define SHIFT_EXPORTERS_MAX	200000

/*
 * --shard: which exporters this process replays, by the hash of their
 * captured address; the summary says how many.
 */
static int
choose_shard(struct replay *rp, const struct config *cfg)
{
	const struct shard *sh = &rp->opts->shard;
	size_t kept = 0;

	if ((rp->kept = calloc(cfg->n_map > 0 ? cfg->n_map : 1,
	    sizeof(*rp->kept))) == NULL)
		return -1;
	for (size_t m = 0; m < cfg->n_map; m++)
		if ((rp->kept[m] = shard_keeps(sh, &cfg->map[m].src_ip)))
			kept++;
	rp->rep->shard_k = sh->k;
	rp->rep->shard_n = sh->n;
	rp->rep->shard_exporters = kept;
	rp->rep->shard_exporters_total = cfg->n_map;
	if (sh->n > 0)
		log_info("--shard %u/%u: %zu of %zu exporters", sh->k, sh->n,
		    kept, cfg->n_map);
	return 0;
}

/*
 * --start-at: sleep until the wall-clock start, so processes on several
 * machines begin together.  Nothing is open that needs serving yet (TCP
 * sessions connect with their first packet); a signal cuts the sleep short.
 */
static int
wait_start_at(struct replay *rp)
{
	struct timespec ts = {
		.tv_sec = (time_t)(rp->opts->start_at / TR_NS_PER_SEC),
		.tv_nsec = (long)(rp->opts->start_at % TR_NS_PER_SEC),
	};
	tr_ns now = tr_wall_now();
	int rc;

	if (rp->opts->start_at <= now) {
		if (now - rp->opts->start_at > TR_NS_PER_SEC)
			log_warnx("--start-at: the start time passed %.3f s ago "
			    "during set-up; starting now",
			    tr_ns_to_sec(now - rp->opts->start_at));
		return 0;
	}
	log_info("--start-at: waiting %.3f s for the start time",
	    tr_ns_to_sec(rp->opts->start_at - now));
	while ((rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts,
	    NULL)) != 0) {
		if (rc != EINTR || *rp->opts->stop)
			return -1;
	}
	return 0;
}

/*
 * loop_exporters: shift: a copy of the config whose network.map holds each
 * play's exporters, play k's repro_ip moved by k x loop_block addresses
 * (default: the number of map entries), so N plays of M routers look like
 * N x M routers.  Each copy is an exporter of its own to the replay's
 * sockets and to flowfix (templates primed, sequence numbers of its own).
 * TCP sessions are found by their captured addresses, so they play again
 * on their first play's connections, as with same.  0, or -1 said why.
 */
static int
shift_exporters(const struct config *cfg, uint64_t loops,
    struct config *ext)
{
	uint64_t block = cfg->loop_block > 0 ? cfg->loop_block : cfg->n_map;
	char a[TR_ADDR_STRLEN];

	if (loops == 0) {
		log_errorx("%s: loop_exporters: shift needs a number of plays: "
		    "--loop N with N above 0", cfg->path);
		return -1;
	}
	if (loops * cfg->n_map > SHIFT_EXPORTERS_MAX) {
		log_errorx("%s: loop_exporters: shift: %llu plays of %zu "
		    "exporters make more than %d exporters", cfg->path,
		    (unsigned long long)loops, cfg->n_map, SHIFT_EXPORTERS_MAX);
		return -1;
	}
	*ext = *cfg;
	ext->n_map = (size_t)loops * cfg->n_map;
	if ((ext->map = calloc(ext->n_map, sizeof(*ext->map))) == NULL) {
		log_errorx("out of memory");
		return -1;
	}
	for (uint64_t k = 0; k < loops; k++) {
		for (size_t i = 0; i < cfg->n_map; i++) {
			struct cfg_map_entry *e = &ext->map[k * cfg->n_map + i];

			*e = cfg->map[i];
			if (addr_add(&cfg->map[i].repro_ip, k * block,
			    &e->repro_ip) == -1) {
				log_errorx("%s: loop_exporters: shift: play "
				    "%llu of network.map[%zu] (repro_ip %s) "
				    "runs past the last address",
				    cfg->path, (unsigned long long)k + 1, i,
				    addr_format(&cfg->map[i].repro_ip, a,
				    sizeof(a)));
				free(ext->map);
				ext->map = NULL;
				return -1;
			}
		}
	}
	return 0;
}

enum replay_result
replay_run(const struct config *cfg, const struct replay_opts *opts,
    struct report *rep)
{
	struct transport_opts topts = {
		.interface = cfg->interface,
		.spoof = cfg->spoof == CFG_SPOOF_RAW ? TRANSPORT_SPOOF_RAW :
		    cfg->spoof == CFG_SPOOF_FREEBIND ?
		    TRANSPORT_SPOOF_FREEBIND : TRANSPORT_SPOOF_NONE,
		.so_sndbuf = cfg->so_sndbuf,
		.so_rcvbuf = cfg->so_rcvbuf,
		.stop = opts->stop,
	};
	struct replay rp = {
		.cfg = cfg, .opts = opts, .rep = rep,
		.sync = !(opts->no_sync || cfg->no_sync),
		.end_at = INT64_MAX,
		.n_base = cfg->n_map, .shifts = 1,
	};
	struct config shifted = { .map = NULL };
	enum replay_result result = REPLAY_OK;
	size_t *order = NULL, n_order = 0;
	struct lookahead ahead = { .rp = &rp };
	bool halted = false;	/* a capture stopped the play: a signal, an error, --duration or --limit */

	sched_waiter_init(&rp.waiter);
	pace_init(&rp.pace, opts->pps, opts->mbps);
	/* A rate replaces the capture's timing, its position in the minute too. */
	if (pace_enabled(&rp.pace))
		rp.sync = false;
	raise_fd_limit();
	/*
	 * The kernel may delay a timer wake-up by the thread's timer slack
	 * (50 us by default) to batch wake-ups; the timeline wants them on time.
	 */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	if (check_captures(cfg) == -1)
		return REPLAY_SETUP_FAILED;
	if (cfg->loop_exporters == LOOP_EXPORTERS_SHIFT && opts->loops != 1) {
		if (shift_exporters(cfg, opts->loops, &shifted) == -1)
			return REPLAY_SETUP_FAILED;
		rp.cfg = &shifted;
		rp.shifts = (size_t)opts->loops;
		log_info("loop_exporters: shift: %zu exporters over %zu plays",
		    shifted.n_map, rp.shifts);
	}
	if (choose_shard(&rp, cfg) == -1) {
		log_errorx("out of memory");
		result = REPLAY_SETUP_FAILED;
		goto done;
	}
	topts.tcp = sessions_tcp_events();
	if (sched_playlist(cfg, &order, &n_order) == -1 ||
	    (rp.sel = selector_new(cfg)) == NULL ||
	    (rp.sessions = sessions_new(rp.cfg,
	    config_reconnect(cfg, opts->keep_open), rep)) == NULL ||
	    (rp.tp = transport_new(&topts)) == NULL) {
		log_errorx("out of memory");
		result = REPLAY_SETUP_FAILED;
		goto done;
	}
	sessions_attach(rp.sessions, rp.tp);
	if (open_sockets(&rp) == -1) {
		result = REPLAY_SETUP_FAILED;
		goto done;
	}
	for (int id = 0; id < SECTION_COUNT; id++) {
		const struct proto_fidelity *fid = protocols[id]->fidelity;

		if (!cfg->section[id].enabled || fid == NULL)
			continue;
		rp.fidelity[id] = fid->new(&cfg->section[id], rep);
		if (rp.fidelity[id] == NULL) {
			log_errorx("out of memory");
			result = REPLAY_SETUP_FAILED;
			goto done;
		}
	}
	/* prime may need a template before the data that comes first: a look-ahead feeds flowfix. */
	if (rp.fidelity[SECTION_IPFIX] != NULL &&
	    cfg->section[SECTION_IPFIX].flow.templates == TEMPLATES_PRIME)
		flowfix_set_lookahead(rp.fidelity[SECTION_IPFIX], lookahead_read,
		    &ahead);
	if (cfg->section[SECTION_BGP].enabled &&
	    cfg->section[SECTION_BGP].open.trim_capabilities)
		prescan_captures(&rp);

	if (opts->start_at > 0 && wait_start_at(&rp) == -1)
		n_order = 0;	/* stopped while waiting: nothing plays */

	/* --loop N plays the whole list N times over (0: until stopped), as repeat's bulk would. */
	for (uint64_t loop = 0; (opts->loops == 0 || loop < opts->loops) &&
	    !*opts->stop && !halted && n_order > 0; loop++) {
		/* --loop 0 over captures that send nothing would spin for ever. */
		if (loop == 1 && rp.handled == 0) {
			log_warnx("--loop: the captures have nothing to send; "
			    "playing them once");
			break;
		}
		for (size_t i = 0; i < n_order && !*opts->stop; i++) {
			const char *path = cfg->pcaps[order[i]];
			int rc;

			report_clear_bar(rep);
			if (opts->ask_for_input && !ask_to_play(path)) {
				log_info("skipping '%s'", path);
				rep->captures_skipped++;
				continue;
			}
			rp.loop = (size_t)loop;
			rc = play_capture(&rp, path, i + 1, n_order);
			if (rc == -1) {
				/* Ended by --duration or --limit: it played as far as asked. */
				if (rp.ended)
					rep->captures_played++;
				halted = true;
				break;
			}
			rep->captures_played++;
			if (rc == 0)
				result = REPLAY_DAMAGED;
		}
	}
	if (*opts->stop)
		result = REPLAY_STOPPED;
	else if ((opts->keep_open || cfg->keep_open) && !rp.ended)
		wait_keep_open(&rp);
	drain_connections(&rp);
	transport_udp_finish(rp.tp);
	sync_udp_counts(&rp);
	sessions_report_losses(rp.sessions);
	if (result == REPLAY_OK && lost_anything(rep))
		result = REPLAY_INCOMPLETE;
done:
	free(order);
	free(rp.udp);
	free(rp.kept);
	free(shifted.map);
	for (int id = 0; id < SECTION_COUNT; id++)
		if (rp.fidelity[id] != NULL)
			protocols[id]->fidelity->free(rp.fidelity[id]);
	if (ahead.src != NULL)
		source_close(ahead.src);
	transport_free(rp.tp);
	sessions_free(rp.sessions);
	selector_free(rp.sel);
	return result;
}
