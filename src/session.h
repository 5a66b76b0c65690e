/* TCP sessions: each captured exporter session replayed over its own connection, message by message. */
#ifndef TR_SESSION_H
#define TR_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "monotime.h"
#include "packet.h"
#include "report.h"
#include "transport.h"

struct sessions;

/*
 * The table of sessions.  It registers itself for the transport's TCP
 * events, so it must exist before the transport: create the table, then the
 * transport with sessions_tcp_events(), then attach it.
 */
/* reconnect: reopen sessions the collector closed (see config_reconnect). */
struct sessions	*sessions_new(const struct config *cfg, bool reconnect,
		    struct report *rep);
struct transport_tcp_events sessions_tcp_events(void);
void		 sessions_attach(struct sessions *, struct transport *tp);
void		 sessions_free(struct sessions *);

/*
 * One captured segment from exporter (a network.map index) for a TCP
 * section.  Reassembles it into the session's stream, frames whole BMP/BGP
 * messages (or passes generic TCP bytes), applies bmp_h/bgp_h, and queues
 * what is due on the session's connection (opened on the session's first
 * segment).  A router has one session per collector: its sessions (same
 * section, exporter, captured collector address and port) are replayed one
 * after the other, a new one's connection opening once the older one is
 * closed; a capture that continues the feed mid-stream from another port
 * (no SYN, Initiation or OPEN) goes on the live session's connection.  A
 * connection whose queue reached TRANSPORT_TCP_HIGH_WATER (a slow
 * collector) has the session's further messages held, in order,
 * and given to it as it takes them (its `drained` event); nothing is
 * dropped.  Returns 0, or -1 when out of memory.  The caller waits while
 * sessions_held_full().  now is the replay's clock, as recently read as
 * its pacing needs (at time_factor 0 it reads none per packet).
 */
int		 sessions_push(struct sessions *, int section, int exporter,
		    const struct tr_packet *pkt, tr_ns now);

/*
 * A segment the captured collector sent on a session (pkt as captured, its
 * destination the exporter).  BGP sessions read the collector's OPEN from
 * it, to know what the original session negotiated; nothing is sent.  A
 * FIN or RST ends the session, as it ended the captured one: our
 * connection closes after what it was given (BGP: with a Cease).  It is
 * due at its captured time (sessions_needs_deadline).
 */
void		 sessions_push_collector(struct sessions *, int section,
		    const struct tr_packet *pkt);

/*
 * The look-ahead for bgp.open.trim_capabilities, before the replay: every
 * captured segment of a selected BGP session, sent by the exporter or (from_collector,
 * pkt as captured) by the captured collector.  It keeps the collector's OPEN
 * per session (exporter and collector address and port), reading no
 * further once it has it; sessions created afterwards start knowing it.
 */
void		 sessions_prescan(struct sessions *, const struct tr_packet *pkt,
		    bool from_collector);
/* End of the look-ahead: says once how many sessions have no collector OPEN to trim to. */
void		 sessions_prescan_done(struct sessions *);

/*
 * A session holds as much as it may for a slow collector: the caller waits
 * (serving the loop) before it gives the sessions more.
 */
bool		 sessions_held_full(const struct sessions *);

/* A segment with no payload and no SYN/FIN/RST needs no deadline: nothing is sent for it. */
bool		 sessions_needs_deadline(const struct tr_packet *pkt);

/*
 * Timers: BGP KEEPALIVEs while a session is idle longer than a third of its
 * hold time, and reconnects after their backoff; and held messages handed
 * to connections whose queues emptied.  Returns when it wants to be called
 * next (INT64_MAX: never; held messages wait for socket events, so a
 * poll's return is reason enough to call again).
 */
tr_ns		 sessions_tick(struct sessions *, tr_ns now);

/* A capture file ended: reassembly starts afresh in the next one; connections stay. */
void		 sessions_end_of_capture(struct sessions *);

/* End of the run: BGP sessions send a Cease NOTIFICATION; every connection closes after its queue. */
void		 sessions_close_all(struct sessions *);

/* Give up on every connection still open: an RST each, and what they still had is counted as lost. */
void		 sessions_abort_all(struct sessions *);

/*
 * After the run: names the sessions that did not send everything, with
 * their figures (a few, then one line for the rest); they add up to the
 * summary's not-sent counts of the TCP sections.
 */
void		 sessions_report_losses(const struct sessions *);

/* Connections still sending or closing, and sessions waiting to retry a refused BGP session. */
size_t		 sessions_active(const struct sessions *);
/* Sessions waiting to retry a BGP session the collector refused (nothing of theirs is queued meanwhile). */
size_t		 sessions_retrying(const struct sessions *);

#endif
