/* BGP-4 messages written into a bounds-checked writer: a put that does not fit marks the writer bad, checked once by the caller. */
#include "bgp_encode.h"

#define ATTR_OPTIONAL	0x80
#define ATTR_TRANSITIVE	0x40
#define ATTR_EXTENDED	0x10	/* 2-byte attribute length */

#define ATTR_ORIGIN	1
#define ATTR_AS_PATH	2
#define ATTR_NEXT_HOP	3
#define ATTR_MED	4
#define ATTR_COMMUNITIES 8
#define ATTR_MP_REACH	14
#define ATTR_MP_UNREACH	15

#define AS_SEQUENCE	2

#define CAP_MP		1
#define CAP_AS4		65
#define CAP_ADD_PATH	69

void
bgp_enc_addr(struct writer *w, const struct tr_addr *a)
{
	if (a->family == AF_INET)
		put_bytes(w, &a->v4, 4);
	else
		put_bytes(w, a->v6.s6_addr, 16);
}

size_t
bgp_enc_header(struct writer *w, uint8_t type)
{
	static const uint8_t marker[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	size_t start = wr_len(w);

	put_bytes(w, marker, sizeof(marker));
	put_u16(w, 0);
	put_u8(w, type);
	return start;
}

void
bgp_enc_finish(struct writer *w, size_t start)
{
	patch_u16(w, start + 16, (uint16_t)(wr_len(w) - start));
}

static void
cap_mp(struct writer *w, uint16_t afi)
{
	put_u8(w, CAP_MP);
	put_u8(w, 4);
	put_u16(w, afi);
	put_u8(w, 0);
	put_u8(w, BGP_ENC_SAFI_UNICAST);
}

/* One capabilities parameter holding them all: multiprotocol per family, 4-byte AS, ADD-PATH. */
void
bgp_enc_open(struct writer *w, const struct bgp_enc_open *o)
{
	size_t start = bgp_enc_header(w, BGP_ENC_OPEN);
	size_t caps_len = 6 * ((size_t)o->ipv4 + (size_t)o->ipv6) + 6 +
	    (o->add_path ? 6 : 0);

	put_u8(w, 4);
	put_u16(w, o->as > 0xffff ? BGP_ENC_AS_TRANS : (uint16_t)o->as);
	put_u16(w, o->hold_time);
	bgp_enc_addr(w, o->id);
	put_u8(w, (uint8_t)(caps_len + 2));	/* optional parameters length */
	put_u8(w, 2);				/* capabilities */
	put_u8(w, (uint8_t)caps_len);
	if (o->ipv4)
		cap_mp(w, BGP_ENC_AFI_IPV4);
	if (o->ipv6)
		cap_mp(w, BGP_ENC_AFI_IPV6);
	put_u8(w, CAP_AS4);
	put_u8(w, 4);
	put_u32(w, o->as);
	if (o->add_path) {
		put_u8(w, CAP_ADD_PATH);
		put_u8(w, 4);
		put_u16(w, BGP_ENC_AFI_IPV4);
		put_u8(w, BGP_ENC_SAFI_UNICAST);
		put_u8(w, 3);			/* send/receive */
	}
	bgp_enc_finish(w, start);
}

void
bgp_enc_keepalive(struct writer *w)
{
	bgp_enc_finish(w, bgp_enc_header(w, BGP_ENC_KEEPALIVE));
}

void
bgp_enc_notification(struct writer *w, uint8_t code, uint8_t subcode)
{
	size_t start = bgp_enc_header(w, BGP_ENC_NOTIFICATION);

	put_u8(w, code);
	put_u8(w, subcode);
	bgp_enc_finish(w, start);
}

/* The 2-byte length of the part from len_at + 2 to here. */
static void
close_part(struct bgp_enc_update *u)
{
	patch_u16(u->w, u->len_at, (uint16_t)(wr_len(u->w) - u->len_at - 2));
}

void
bgp_enc_update_begin(struct bgp_enc_update *u, struct writer *w)
{
	u->w = w;
	u->start = bgp_enc_header(w, BGP_ENC_UPDATE);
	u->len_at = wr_len(w);
	put_u16(w, 0);			/* withdrawn routes length */
}

void
bgp_enc_update_attrs(struct bgp_enc_update *u)
{
	close_part(u);
	u->len_at = wr_len(u->w);
	put_u16(u->w, 0);		/* total path attribute length */
}

void
bgp_enc_update_nlri(struct bgp_enc_update *u)
{
	close_part(u);
}

void
bgp_enc_update_end(struct bgp_enc_update *u)
{
	bgp_enc_finish(u->w, u->start);
}

void
bgp_enc_prefix(struct writer *w, const uint8_t *addr, uint8_t plen)
{
	put_u8(w, plen);
	put_bytes(w, addr, (size_t)(plen + 7) / 8);
}

void
bgp_enc_origin(struct writer *w, uint8_t origin)
{
	put_u8(w, ATTR_TRANSITIVE);
	put_u8(w, ATTR_ORIGIN);
	put_u8(w, 1);
	put_u8(w, origin);
}

void
bgp_enc_as_path(struct writer *w, const uint32_t *as, size_t n)
{
	size_t len = n > 0 ? 2 + 4 * n : 0;

	if (n > 255 || len > 255) {	/* one segment, a 1-byte attribute length */
		w->bad = true;
		return;
	}
	put_u8(w, ATTR_TRANSITIVE);
	put_u8(w, ATTR_AS_PATH);
	put_u8(w, (uint8_t)len);
	if (n == 0)
		return;
	put_u8(w, AS_SEQUENCE);
	put_u8(w, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		put_u32(w, as[i]);
}

void
bgp_enc_next_hop(struct writer *w, const struct tr_addr *nh)
{
	put_u8(w, ATTR_TRANSITIVE);
	put_u8(w, ATTR_NEXT_HOP);
	put_u8(w, 4);
	bgp_enc_addr(w, nh);
}

void
bgp_enc_med(struct writer *w, uint32_t med)
{
	put_u8(w, ATTR_OPTIONAL);
	put_u8(w, ATTR_MED);
	put_u8(w, 4);
	put_u32(w, med);
}

void
bgp_enc_communities(struct writer *w, const uint32_t *c, size_t n)
{
	if (n > 63) {			/* a 1-byte attribute length */
		w->bad = true;
		return;
	}
	put_u8(w, ATTR_OPTIONAL | ATTR_TRANSITIVE);
	put_u8(w, ATTR_COMMUNITIES);
	put_u8(w, (uint8_t)(4 * n));
	for (size_t i = 0; i < n; i++)
		put_u32(w, c[i]);
}

size_t
bgp_enc_mp_reach_begin(struct writer *w, uint16_t afi, uint8_t safi,
    const struct tr_addr *nh)
{
	size_t at;

	put_u8(w, ATTR_OPTIONAL | ATTR_EXTENDED);
	put_u8(w, ATTR_MP_REACH);
	at = wr_len(w);
	put_u16(w, 0);
	put_u16(w, afi);
	put_u8(w, safi);
	put_u8(w, nh->family == AF_INET ? 4 : 16);
	bgp_enc_addr(w, nh);
	put_u8(w, 0);			/* reserved */
	return at;
}

size_t
bgp_enc_mp_unreach_begin(struct writer *w, uint16_t afi, uint8_t safi)
{
	size_t at;

	put_u8(w, ATTR_OPTIONAL | ATTR_EXTENDED);
	put_u8(w, ATTR_MP_UNREACH);
	at = wr_len(w);
	put_u16(w, 0);
	put_u16(w, afi);
	put_u8(w, safi);
	return at;
}

void
bgp_enc_attr_end(struct writer *w, size_t at)
{
	patch_u16(w, at, (uint16_t)(wr_len(w) - at - 2));
}

void
bgp_enc_end_of_rib(struct writer *w, uint16_t afi, uint8_t safi)
{
	struct bgp_enc_update u;

	bgp_enc_update_begin(&u, w);
	bgp_enc_update_attrs(&u);
	if (afi != BGP_ENC_AFI_IPV4 || safi != BGP_ENC_SAFI_UNICAST)
		bgp_enc_attr_end(w, bgp_enc_mp_unreach_begin(w, afi, safi));
	bgp_enc_update_nlri(&u);
	bgp_enc_update_end(&u);
}
