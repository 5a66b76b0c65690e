/* BMP (RFC 7854) common header framing: find where one message ends in a byte stream. */
#include <errno.h>

#include "bmp.h"
#include "cursor.h"

/* Stable snake_case names: they are JSON keys in the sink's summary and the report. */
const char *const bmp_type_names[BMP_TYPE_COUNT] = {
	[BMP_ROUTE_MONITORING] = "route_monitoring",
	[BMP_STATISTICS] = "statistics",
	[BMP_PEER_DOWN] = "peer_down",
	[BMP_PEER_UP] = "peer_up",
	[BMP_INITIATION] = "initiation",
	[BMP_TERMINATION] = "termination",
	[BMP_ROUTE_MIRRORING] = "route_mirroring",
};

int
bmp_frame(const uint8_t *p, size_t len, uint8_t *type, uint32_t *msg_len)
{
	struct cursor c = cur_init(p, len);
	uint8_t version, t;
	uint32_t mlen;

	if (len < BMP_COMMON_HDR_LEN)
		return 0;
	version = cur_u8(&c);
	mlen = cur_u32(&c);
	t = cur_u8(&c);
	/*
	 * Judge the length before anyone buffers that much: it must cover the
	 * common header and stay under the cap.  The type is not judged:
	 * routers send types past RFC 7854's (e.g. 100, route policy and
	 * attribute trace, which pmacct decodes), and the length frames them.
	 */
	if (!cur_ok(&c) || version != BMP_VERSION ||
	    mlen < BMP_COMMON_HDR_LEN || mlen > BMP_MAX_MSG_LEN) {
		errno = EBADMSG;
		return -1;
	}
	*type = t;
	*msg_len = mlen;
	return 1;
}

bool
bmp_type_known(uint8_t type)
{
	return type < BMP_TYPE_COUNT || type == BMP_RPAT;
}
