/* BMP messages pseudonymized in place: the bmp descriptor's anon hook. */
#ifndef TR_BMP_ANON_H
#define TR_BMP_ANON_H

#include <stddef.h>
#include <stdint.h>

#include "anon_proto.h"

/* Per router session: what each monitored peer's Peer Up negotiated (ADD-PATH), capped at 16,384 peers. */
struct bmp_anon_state;

/*
 * Rewrite one BMP message (common header included; len bytes of it are
 * there) in place: the per-peer header's address, BGP identifier and (with
 * rw->as) AS; Peer Up's local address, both OPENs and its string TLVs;
 * the BGP PDUs of Route Monitoring and Route Mirroring (bgp_anon_pdu, the
 * A flag saying the AS size and the peer's Peer Up the ADD-PATH families);
 * Initiation and Termination strings as keyed tokens of the same length.
 * Statistics and Peer Down keep all but their per-peer header.  An
 * all-zero address (Loc-RIB's peer) stays zero.  s may be NULL (nothing
 * learned).  Never reads or writes past len.
 */
enum anon_msg_result bmp_anon_message(struct bmp_anon_state *s,
		    const struct anon_rewriter *rw, uint8_t *msg, size_t len);

extern const struct proto_anon bmp_anon;

#endif
