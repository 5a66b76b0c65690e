/* BGP-4 messages written (RFC 4271): OPEN, UPDATE (IPv4 NLRI, MP_REACH/MP_UNREACH for IPv6, path attributes), End-of-RIB, KEEPALIVE, NOTIFICATION; the one encoder of generate and tr-pcapgen. */
#ifndef TR_BGP_ENCODE_H
#define TR_BGP_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "writer.h"

#define BGP_ENC_OPEN		1
#define BGP_ENC_UPDATE		2
#define BGP_ENC_NOTIFICATION	3
#define BGP_ENC_KEEPALIVE	4
#define BGP_ENC_HDR_LEN		19
#define BGP_ENC_MAX_LEN		4096	/* without the extended message capability */
#define BGP_ENC_AS_TRANS	23456
#define BGP_ENC_AFI_IPV4	1
#define BGP_ENC_AFI_IPV6	2
#define BGP_ENC_SAFI_UNICAST	1

/* An address as it goes on the wire: 4 or 16 bytes by family. */
void	bgp_enc_addr(struct writer *, const struct tr_addr *);

/* A message's 19-byte header; returns where it starts, for bgp_enc_finish to write its length. */
size_t	bgp_enc_header(struct writer *, uint8_t type);
void	bgp_enc_finish(struct writer *, size_t start);

/* What an OPEN offers: 4-byte AS, multiprotocol per family, ADD-PATH (send/receive, IPv4 unicast). */
struct bgp_enc_open {
	uint32_t		 as;	/* 4-byte; AS_TRANS in the 2-byte field above 65535 */
	uint16_t		 hold_time;
	const struct tr_addr	*id;	/* IPv4 */
	bool			 ipv4, ipv6;	/* unicast multiprotocol capabilities */
	bool			 add_path;
};

void	bgp_enc_open(struct writer *, const struct bgp_enc_open *);
void	bgp_enc_keepalive(struct writer *);
void	bgp_enc_notification(struct writer *, uint8_t code, uint8_t subcode);

/*
 * An UPDATE in the order of its parts: begin (withdrawn IPv4 routes may
 * follow, bgp_enc_prefix), attrs (path attributes follow), nlri (IPv4 NLRI
 * may follow, bgp_enc_prefix), end.  Each step writes the length of the
 * part before it.
 */
struct bgp_enc_update {
	struct writer	*w;
	size_t		 start;		/* of the message */
	size_t		 len_at;	/* the length field of the part being written */
};

void	bgp_enc_update_begin(struct bgp_enc_update *, struct writer *);
void	bgp_enc_update_attrs(struct bgp_enc_update *);
void	bgp_enc_update_nlri(struct bgp_enc_update *);
void	bgp_enc_update_end(struct bgp_enc_update *);

/* A prefix: its length in bits, then only the bytes that hold them. */
void	bgp_enc_prefix(struct writer *, const uint8_t *addr, uint8_t plen);

/* Path attributes (AS numbers 4-byte, as both OPENs offer it). */
void	bgp_enc_origin(struct writer *, uint8_t origin);
/* One AS_SEQUENCE of n ASes (n <= 255); an empty AS_PATH when n is 0. */
void	bgp_enc_as_path(struct writer *, const uint32_t *as, size_t n);
void	bgp_enc_next_hop(struct writer *, const struct tr_addr *);	/* IPv4 */
void	bgp_enc_med(struct writer *, uint32_t);
void	bgp_enc_communities(struct writer *, const uint32_t *, size_t n);
/*
 * MP_REACH_NLRI (next hop nh) and MP_UNREACH_NLRI: the attribute's header
 * with an extended (2-byte) length; the prefixes follow (bgp_enc_prefix),
 * then bgp_enc_attr_end with the returned position writes its length.
 */
size_t	bgp_enc_mp_reach_begin(struct writer *, uint16_t afi, uint8_t safi,
	    const struct tr_addr *nh);
size_t	bgp_enc_mp_unreach_begin(struct writer *, uint16_t afi, uint8_t safi);
void	bgp_enc_attr_end(struct writer *, size_t at);

/* End-of-RIB (RFC 4724): an empty UPDATE for IPv4 unicast, an empty MP_UNREACH_NLRI for another family. */
void	bgp_enc_end_of_rib(struct writer *, uint16_t afi, uint8_t safi);

#endif
