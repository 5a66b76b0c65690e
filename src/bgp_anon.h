/* BGP messages pseudonymized in place: the bgp descriptor's anon hook, and one PDU for BMP's. */
#ifndef TR_BGP_ANON_H
#define TR_BGP_ANON_H

#include <stddef.h>
#include <stdint.h>

#include "anon_proto.h"
#include "bgp.h"

/* What an UPDATE's encoding depends on, as the session negotiated it (or as BMP's per-peer header and Peer Up say). */
struct bgp_anon_view {
	/* 1: AS_PATH and AGGREGATOR hold 4-byte ASes; 0: 2-byte; -1: not known (guessed per attribute). */
	int			 as4;
	/* The families whose NLRI carry ADD-PATH path identifiers; NULL when not known.  Where it does not list a family, a field that only reads with them is read with them. */
	const struct bgp_addpath *addpath;
};

/*
 * Rewrite one BGP message (header included; len bytes of it are there) in
 * place: the OPEN's BGP identifier and, with rw->as, its AS and 4-byte AS
 * capability; an UPDATE's withdrawn routes and NLRI (IPv4/IPv6 unicast,
 * multicast, labelled and VPN prefixes: labels and route distinguishers
 * kept, the prefix mapped as an address and its length kept), NEXT_HOP,
 * AGGREGATOR and AS4_AGGREGATOR addresses, ORIGINATOR_ID, CLUSTER_LIST,
 * MP_REACH_NLRI next hops (one or two addresses, with or without route
 * distinguishers) and NLRI, MP_UNREACH_NLRI, Prefix-SID's SRv6 SIDs; with
 * rw->as, the ASes of AS_PATH, AS4_PATH and both aggregators; with
 * rw->text, the OPEN's FQDN capability names and a Cease's shutdown
 * communication as tokens.  Other messages and attributes stay as they
 * are.  Never reads or writes past len.
 */
enum anon_msg_result bgp_anon_pdu(const struct anon_rewriter *rw,
		    uint8_t *msg, size_t len, const struct bgp_anon_view *);

/* A list of path attributes alone (n bytes at p), as in an UPDATE: BMP's route policy trace carries them so. */
enum anon_msg_result bgp_anon_attrs(const struct anon_rewriter *rw,
		    uint8_t *p, size_t n, const struct bgp_anon_view *);

/* The per-session state: what both OPENs said (4-byte AS, ADD-PATH), for the UPDATEs that follow. */
extern const struct proto_anon bgp_anon;

#endif
