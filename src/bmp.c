/* BMP (RFC 7854, RFC 9069) framing of a byte stream, and the per-peer header, Peer Up and information TLVs. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "bgp.h"
#include "bmp.h"
#include "bmp_anon.h"
#include "cursor.h"
#include "gen_proto.h"
#include "proto.h"

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
bmp_frame(const uint8_t *p, size_t len, uint8_t *type, size_t *msg_len)
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

/* The framing hooks of the protocol table: bmp_frame, and a known type after the version to resynchronise on. */
static const struct proto_framing bmp_framing = {
	.header = bmp_frame,
	.type_known = bmp_type_known,
	.first_byte = BMP_VERSION,
	.max_len = BMP_MAX_MSG_LEN,
};

const struct proto bmp_proto = {
	.name = "bmp",
	.what = "BMP sessions",
	.l4proto = IPPROTO_TCP,
	.framing = &bmp_framing,
	.session = &bmp_session,
	.anon = &bmp_anon,		/* bmp_anon.c */
	.gen = &bmp_gen,		/* gen_bmp.c */
	.filter = &(const struct proto_filter){ .key = "bmp_h", .n_keys = 1,
	    .keys = { { "type", false, 0, 6, 0,
	    "a BMP message type from 0 to 6" } } },
};

bool
bmp_type_has_peer(uint8_t type)
{
	return type == BMP_ROUTE_MONITORING || type == BMP_STATISTICS ||
	    type == BMP_PEER_DOWN || type == BMP_PEER_UP ||
	    type == BMP_ROUTE_MIRRORING;
}

bool
bmp_peer_key(const uint8_t *msg, size_t len, uint8_t key[BMP_PEER_KEY_LEN])
{
	const uint8_t *h = msg + BMP_COMMON_HDR_LEN;

	if (len < BMP_COMMON_HDR_LEN + 2 + BMP_PEER_KEY_LEN - 1)
		return false;
	key[0] = h[0];					/* peer type */
	memcpy(key + 1, h + 2, BMP_PEER_KEY_LEN - 1);	/* distinguisher, address */
	return true;
}

int
bmp_peer_header_parse(struct cursor *c, struct bmp_peer_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->type = cur_u8(c);
	h->flags = cur_u8(c);
	(void)cur_copy(c, h->distinguisher, sizeof(h->distinguisher));
	(void)cur_copy(c, h->raw_addr, sizeof(h->raw_addr));
	h->as = cur_u32(c);
	h->bgp_id = cur_u32(c);
	h->ts_sec = cur_u32(c);
	h->ts_usec = cur_u32(c);
	if (!cur_ok(c)) {
		errno = EBADMSG;
		return -1;
	}
	/* The V flag means IPv6 for the peer types RFC 7854 defines; Loc-RIB has no peer address. */
	if ((h->flags & BMP_PEER_FLAG_V) && h->type != BMP_PEER_LOC_RIB) {
		h->addr.family = AF_INET6;
		memcpy(&h->addr.v6, h->raw_addr, 16);
	} else {
		h->addr.family = AF_INET;
		memcpy(&h->addr.v4, h->raw_addr + 12, 4);
	}
	return 0;
}

/* One whole BGP OPEN at the front of c. */
static int
take_open(struct cursor *c, const uint8_t **msg, size_t *len)
{
	uint8_t type;
	size_t mlen;

	if (bgp_frame(c->p, cur_left(c), &type, &mlen) != 1 ||
	    type != BGP_OPEN || mlen > cur_left(c))
		return -1;
	*msg = c->p;
	*len = mlen;
	return cur_skip(c, mlen) ? 0 : -1;
}

int
bmp_peer_up_parse(struct cursor *c, struct bmp_peer_up *pu)
{
	memset(pu, 0, sizeof(*pu));
	(void)cur_skip(c, 16);		/* local address */
	pu->local_port = cur_u16(c);
	pu->remote_port = cur_u16(c);
	if (!cur_ok(c) || take_open(c, &pu->sent_open, &pu->sent_len) == -1 ||
	    take_open(c, &pu->recv_open, &pu->recv_len) == -1) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

int
bmp_tlv_next(struct cursor *c, uint16_t *type, struct cursor *value)
{
	if (cur_left(c) == 0)
		return cur_ok(c) ? 0 : -1;
	*type = cur_u16(c);
	*value = cur_sub(c, cur_u16(c));
	if (!cur_ok(c)) {
		errno = EBADMSG;
		return -1;
	}
	return 1;
}
