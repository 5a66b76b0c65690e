/*
 * Flow fidelity: what makes replayed NetFlow v5/v9 and IPFIX look live to a
 * collector.  Templates sent before the data that needs them (prime) or
 * orphan data removed (drop-orphans), sequence numbers that continue across
 * repeats and files, and export times shifted to now.  Works per datagram,
 * with state per exporter, captured source port, observation domain and
 * the socket the datagram leaves by (the collector's transport session).
 */
#ifndef TR_FLOWFIX_H
#define TR_FLOWFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "proto.h"
#include "report.h"

struct flowfix;

/*
 * Its hooks in the protocol table, for NetFlow/IPFIX (proto_origin.socket:
 * template and sequence state live there; out: the primed templates, then
 * the message).
 */
extern const struct proto_fidelity ipfix_fidelity;

/* NULL on allocation failure.  Counters go into rep->flows. */
struct flowfix	*flowfix_new(const struct cfg_flow_fidelity *, struct report *rep);
void		 flowfix_free(struct flowfix *);

/*
 * Look-ahead: remember the first definition of each template in a captured
 * datagram, so prime can send a template before data that comes first.
 * Returns how many definitions were new.
 */
size_t		 flowfix_learn(struct flowfix *, const struct proto_origin *,
		    const uint8_t *p, size_t len);

/*
 * With prime, data whose template is not known yet makes flowfix ask for
 * more of the look-ahead: read_ahead(ctx) feeds flowfix_learn() with what
 * comes next in the captures (at least one new definition, or to the end)
 * and returns false once there is nothing more.  So captures whose
 * templates come first cost no second read.
 */
void		 flowfix_set_lookahead(struct flowfix *,
		    bool (*read_ahead)(void *ctx), void *ctx);

/* A capture starts playing: its first message anchors the timestamp shift. */
void		 flowfix_capture_start(struct flowfix *);

/*
 * What to send for one captured datagram: out->n datagrams (0 when every
 * set was removed), valid until the next call.  now_secs is the wall clock
 * (Unix seconds) used by the timestamp shift.
 */
void		 flowfix_message(struct flowfix *, const struct proto_origin *,
		    const uint8_t *p, size_t len, int64_t now_secs,
		    struct proto_out *out);

#endif
