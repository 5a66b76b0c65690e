/* BMP (RFC 7854) common header: framing and message types. */
#ifndef TR_BMP_H
#define TR_BMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cursor.h"

#define BMP_VERSION		3
#define BMP_COMMON_HDR_LEN	6
#define BMP_MAX_MSG_LEN		(16u * 1024 * 1024)	/* cap: a BMP message carries at most a few BGP PDUs */

enum bmp_type {
	BMP_ROUTE_MONITORING = 0,
	BMP_STATISTICS = 1,
	BMP_PEER_DOWN = 2,
	BMP_PEER_UP = 3,
	BMP_INITIATION = 4,
	BMP_TERMINATION = 5,
	BMP_ROUTE_MIRRORING = 6,
	BMP_TYPE_COUNT,
	BMP_RPAT = 100,		/* route policy and attribute trace (draft-xu-grow-bmp-route-policy-attr-trace) */
};

extern const char *const bmp_type_names[BMP_TYPE_COUNT];

/*
 * Look at the start of a byte stream: 1 with *type and *msg_len (the whole
 * message, header included) when a sane common header is there, 0 when fewer
 * than BMP_COMMON_HDR_LEN bytes are available, -1 when the bytes cannot be a
 * BMP header (version or length impossible).  Any type is framed: the length
 * says where the message ends, whatever the type.
 */
int	bmp_frame(const uint8_t *p, size_t len, uint8_t *type,
	    size_t *msg_len);

/*
 * A type some specification defines (RFC 7854, RPAT): looking for a message
 * boundary in the middle of a stream, only these make a header plausible.
 */
bool	bmp_type_known(uint8_t type);

/* The protocol's session hooks (session_bmp.c), for its descriptor. */
struct proto_session;
extern const struct proto_session bmp_session;

/* ---- message bodies (RFC 7854 4.2-4.4, 4.10; Loc-RIB RFC 9069) ---- */

#define BMP_PEER_HDR_LEN	42

enum bmp_peer_type {
	BMP_PEER_GLOBAL = 0,
	BMP_PEER_RD = 1,
	BMP_PEER_LOCAL = 2,
	BMP_PEER_LOC_RIB = 3,
};

#define BMP_PEER_FLAG_V		0x80	/* the peer address is IPv6 */
#define BMP_PEER_FLAG_L		0x40	/* post-policy Adj-RIB-In */
#define BMP_PEER_FLAG_A		0x20	/* AS_PATHs in 2-byte form */
#define BMP_PEER_FLAG_O		0x10	/* Adj-RIB-Out (RFC 8671) */
#define BMP_LOC_RIB_FLAG_F	0x80	/* Loc-RIB: filtered (RFC 9069 4.2) */

/* Message types that carry a per-peer header after the common one. */
bool	bmp_type_has_peer(uint8_t type);

struct bmp_peer_hdr {
	uint8_t		type;		/* enum bmp_peer_type, or what the router sent */
	uint8_t		flags;
	uint8_t		distinguisher[8];
	uint8_t		raw_addr[16];	/* as sent: with the type and distinguisher, the peer's identity */
	struct tr_addr	addr;		/* IPv4 from the last 4 bytes unless the V flag says IPv6 */
	uint32_t	as;
	uint32_t	bgp_id;		/* host order */
	uint32_t	ts_sec, ts_usec;
};

/* The per-peer header at the start of c (after the common header); 0, or -1 if it is short. */
int	bmp_peer_header_parse(struct cursor *c, struct bmp_peer_hdr *h);

/*
 * A monitored peer's identity (RFC 7854 4.2) out of a whole message with a
 * per-peer header: peer type, distinguisher and address, not the flags.
 * False when the message is too short to hold them.
 */
#define BMP_PEER_KEY_LEN	25
bool	bmp_peer_key(const uint8_t *msg, size_t len,
	    uint8_t key[BMP_PEER_KEY_LEN]);

/*
 * A Peer Up's body after the per-peer header: the local address and ports,
 * then the sent and received OPENs (each a whole BGP message, pointing into
 * the caller's bytes); 0, or -1 when the OPENs are not both there.
 */
struct bmp_peer_up {
	uint16_t	 local_port, remote_port;
	const uint8_t	*sent_open, *recv_open;
	size_t		 sent_len, recv_len;
};

int	bmp_peer_up_parse(struct cursor *c, struct bmp_peer_up *pu);

/* Initiation/Termination information TLV types (RFC 7854 4.4). */
#define BMP_INFO_STRING		0
#define BMP_INFO_SYS_DESCR	1
#define BMP_INFO_SYS_NAME	2

/*
 * The next TLV of an information-TLV list (Initiation, Termination, Peer
 * Up): 1 with *type and *value (pointing into c's bytes), 0 at the end,
 * -1 when a TLV runs past the message.
 */
int	bmp_tlv_next(struct cursor *c, uint16_t *type, struct cursor *value);

#endif
