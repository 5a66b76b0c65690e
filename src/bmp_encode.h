/* BMP v3 messages written (RFC 7854, Loc-RIB peers of RFC 9069): Initiation, Peer Up, Route Monitoring around a BGP UPDATE, Statistics Report, Peer Down, Termination; the one encoder of generate and tr-pcapgen. */
#ifndef TR_BMP_ENCODE_H
#define TR_BMP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "writer.h"

#define BMP_ENC_ROUTE_MONITORING	0
#define BMP_ENC_STATISTICS		1
#define BMP_ENC_PEER_DOWN		2
#define BMP_ENC_PEER_UP			3
#define BMP_ENC_INITIATION		4
#define BMP_ENC_TERMINATION		5

#define BMP_ENC_PEER_GLOBAL		0
#define BMP_ENC_PEER_RD			1
#define BMP_ENC_PEER_LOCAL		2
#define BMP_ENC_PEER_LOC_RIB		3

#define BMP_ENC_FLAG_V			0x80	/* IPv6 peer address (set from the address) */
#define BMP_ENC_FLAG_L			0x40	/* post-policy Adj-RIB-In */

#define BMP_ENC_STAT_REJECTED		0	/* prefixes rejected by inbound policy */
#define BMP_ENC_STAT_ADJ_RIB_IN		7	/* routes in Adj-RIBs-In (64-bit gauge) */

#define BMP_ENC_PEER_HDR_LEN		42

/* The per-peer header's fields. */
struct bmp_enc_peer {
	uint8_t		 type;		/* BMP_ENC_PEER_* */
	uint8_t		 flags;		/* BMP_ENC_FLAG_L; V comes from addr */
	uint64_t	 rd;		/* route distinguisher */
	struct tr_addr	 addr;
	uint32_t	 as;
	struct tr_addr	 bgp_id;	/* IPv4 */
	uint32_t	 ts_sec, ts_usec;
};

/* The common header; returns where it starts, for bmp_enc_finish to write its length. */
size_t	bmp_enc_header(struct writer *, uint8_t type);
void	bmp_enc_finish(struct writer *, size_t start);
/* An address in a 16-byte field: IPv4 in its last 4 bytes. */
void	bmp_enc_addr16(struct writer *, const struct tr_addr *);
void	bmp_enc_peer_header(struct writer *, const struct bmp_enc_peer *);
/* An information TLV holding text. */
void	bmp_enc_tlv(struct writer *, uint16_t type, const char *text);

void	bmp_enc_initiation(struct writer *, const char *sys_descr,
	    const char *sys_name);
/*
 * Peer Up up to its OPENs: the caller writes the sent and the received
 * OPEN (bgp_enc_open), then bmp_enc_finish(start).
 */
size_t	bmp_enc_peer_up_begin(struct writer *, const struct bmp_enc_peer *,
	    const struct tr_addr *local, uint16_t local_port,
	    uint16_t remote_port);
/* Route Monitoring up to its UPDATE: the caller writes it, then bmp_enc_finish(start). */
size_t	bmp_enc_route_monitoring_begin(struct writer *,
	    const struct bmp_enc_peer *);

/* One statistics counter: 4-byte (len 4) or 8-byte gauge (len 8). */
struct bmp_enc_stat {
	uint16_t	type;
	uint16_t	len;
	uint64_t	value;
};

void	bmp_enc_statistics(struct writer *, const struct bmp_enc_peer *,
	    const struct bmp_enc_stat *, size_t n);
void	bmp_enc_peer_down(struct writer *, const struct bmp_enc_peer *,
	    uint8_t reason);
void	bmp_enc_termination(struct writer *, const char *text, uint16_t reason);

#endif
