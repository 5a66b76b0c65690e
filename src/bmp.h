/* BMP (RFC 7854) common header: framing and message types. */
#ifndef TR_BMP_H
#define TR_BMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	    uint32_t *msg_len);

/*
 * A type some specification defines (RFC 7854, RPAT): looking for a message
 * boundary in the middle of a stream, only these make a header plausible.
 */
bool	bmp_type_known(uint8_t type);

#endif
