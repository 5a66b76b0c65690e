/*
 * BGP messages pseudonymized in place: the OPEN's identifier and AS, and
 * every address, prefix and (with as_numbers: map) AS an UPDATE carries.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "anon_walk.h"
#include "bgp_anon.h"
#include "writer.h"

#define ATTR_FLAG_EXTLEN	0x10

enum {
	ATTR_AS_PATH = 2,
	ATTR_NEXT_HOP = 3,
	ATTR_AGGREGATOR = 7,
	ATTR_ORIGINATOR_ID = 9,
	ATTR_CLUSTER_LIST = 10,
	ATTR_MP_REACH = 14,
	ATTR_MP_UNREACH = 15,
	ATTR_AS4_PATH = 17,
	ATTR_AS4_AGGREGATOR = 18,
	ATTR_PREFIX_SID = 40,
};

/* BGP Prefix-SID (RFC 8669) TLVs that carry SRv6 SIDs (RFC 9252): L3 and L2 service. */
#define SID_SRV6_L3		5
#define SID_SRV6_L2		6
#define SID_INFORMATION		1	/* its sub-TLV: reserved, the SID, flags, behaviour, ... */

enum {
	SAFI_UNICAST = 1,
	SAFI_MULTICAST = 2,
	SAFI_LABELED = 4,
	SAFI_VPN = 128,
	SAFI_VPN_MULTICAST = 129,
};

#define LABEL_LEN	3
#define RD_LEN		8
#define PATH_ID_LEN	4
#define OPEN_CAPS_PARAM	2

/* One message being rewritten: how far it is there, and how it went so far. */
struct walk {
	const struct anon_rewriter	*rw;
	const struct bgp_anon_view	*view;
	struct anon_walk		 how;	/* how it went so far */
};

static bool
map_addr(struct walk *w, uint8_t *p, size_t len)
{
	if (anon_addr_map_bytes(w->rw->addr, p, p, len) == -1) {
		anon_walk_fail(&w->how, ANON_MSG_FAILED);
		return false;
	}
	return true;
}

/*
 * A prefix of bits bits, of which have bytes are there, mapped as the
 * address it starts (alen bytes) and written back with its bits past the
 * length zero, so the pseudonym is the prefix of the address's pseudonym.
 */
static bool
map_prefix(struct walk *w, uint8_t *p, size_t have, unsigned bits,
    size_t alen)
{
	uint8_t full[16];
	uint64_t word[2] = { 0, 0 };
	size_t n = (bits + 7) / 8;

	if (have > n)
		have = n;
	/*
	 * The prefix's bytes gathered in registers and stored as whole
	 * words: a copy of a variable length, then the mapper's loads of
	 * words, stalls on store forwarding.
	 */
	for (size_t i = 0; i < have; i++)
		word[i / 8] |= (uint64_t)p[i] << (56 - 8 * (i % 8));
	word[0] = htobe64(word[0]);
	word[1] = htobe64(word[1]);
	memcpy(full, word, sizeof(full));
	if (anon_addr_map_prefix(w->rw->addr, full, full, alen, bits) == -1) {
		anon_walk_fail(&w->how, ANON_MSG_FAILED);
		return false;
	}
	if (bits % 8 != 0)
		full[n - 1] &= (uint8_t)(0xff << (8 - bits % 8));
	memcpy(p, full, have);
	return true;
}

/* An AS of size bytes (2 or 4) at p, with as_numbers: map. */
static bool
map_as(struct walk *w, uint8_t *p, size_t size)
{
	uint32_t as, out;

	if (w->rw->as == NULL)
		return true;
	as = size == 2 ? be16_load(p) : be32_load(p);
	if (anon_as_map(w->rw->as, as, &out) == -1) {
		anon_walk_fail(&w->how, ANON_MSG_FAILED);
		return false;
	}
	/* A 2-byte AS maps within the 2-byte ranges. */
	if (size == 2)
		be16_store(p, (uint16_t)out);
	else
		be32_store(p, out);
	return true;
}

/* ---- NLRI --------------------------------------------------------------- */

/* The families whose prefixes are rewritten: IP unicast, multicast, labelled, VPN. */
static bool
family_rewritten(uint16_t afi, uint8_t safi)
{
	return (afi == BGP_AFI_IPV4 || afi == BGP_AFI_IPV6) &&
	    (safi == SAFI_UNICAST || safi == SAFI_MULTICAST ||
	    safi == SAFI_LABELED || safi == SAFI_VPN ||
	    safi == SAFI_VPN_MULTICAST);
}

static bool
family_labeled(uint8_t safi)
{
	return safi == SAFI_LABELED || safi == SAFI_VPN ||
	    safi == SAFI_VPN_MULTICAST;
}

static bool
family_vpn(uint8_t safi)
{
	return safi == SAFI_VPN || safi == SAFI_VPN_MULTICAST;
}

/* Where one NLRI's prefix starts and how long it is: past its labels (to the bottom of the stack, or a withdrawal's 0x800000 / 0) and its RD. */
struct nlri {
	size_t		skip;		/* bytes of labels and RD after the length byte */
	unsigned	bits;		/* of the address prefix */
};

/* The NLRI whose length byte is p[0] (n bytes from there); false when it cannot be one of the family. */
static bool
nlri_layout(const uint8_t *p, size_t n, uint16_t afi, uint8_t safi,
    struct nlri *out)
{
	unsigned total = p[0], max = afi == BGP_AFI_IPV4 ? 32 : 128;
	size_t at = 1;

	out->skip = 0;
	if (family_labeled(safi)) {
		for (;;) {
			uint32_t label;

			if (total < 8 * (out->skip + LABEL_LEN) ||
			    at + LABEL_LEN > n)
				return false;
			label = (uint32_t)p[at] << 16 | (uint32_t)p[at + 1] << 8 |
			    p[at + 2];
			at += LABEL_LEN;
			out->skip += LABEL_LEN;
			if ((label & 1) || label == 0x800000 || label == 0)
				break;
			/* Room for the prefix: a long stack is a misread. */
			if (out->skip >= 8 * LABEL_LEN)
				return false;
		}
	}
	if (family_vpn(safi))
		out->skip += RD_LEN;
	if (total < 8 * out->skip)
		return false;
	out->bits = total - 8 * (unsigned)out->skip;
	return out->bits <= max;
}

/* Whether a field of NLRI reads exactly one way (with or without path identifiers), each prefix within the field, no bits set past its length. */
static bool
nlri_field_reads(const uint8_t *p, size_t n, uint16_t afi, uint8_t safi,
    bool path_ids)
{
	size_t at = 0;

	while (at < n) {
		struct nlri l;
		size_t bytes;

		if (path_ids && (at += PATH_ID_LEN) >= n)
			return false;
		if (!nlri_layout(p + at, n - at, afi, safi, &l))
			return false;
		bytes = (p[at] + 7u) / 8;
		if (bytes > n - at - 1)
			return false;
		if (p[at] % 8 != 0 &&
		    (p[at + bytes] & (0xff >> (p[at] % 8))) != 0)
			return false;
		at += 1 + bytes;
	}
	return true;
}

/*
 * Rewrite a field of NLRI of a family (withdrawn routes, NLRI, or an
 * MP_REACH/MP_UNREACH's).  Path identifiers where the view says the
 * session negotiated them, unless the field reads cleanly only without
 * them; elsewhere, as --info reads them, with them only when the field
 * reads cleanly with them and not without (BMP's Peer Ups do not always
 * say, Loc-RIB's least).
 */
static void
rewrite_nlri(struct walk *w, uint8_t *p, size_t n, uint16_t afi,
    uint8_t safi)
{
	size_t alen = afi == BGP_AFI_IPV4 ? 4 : 16, at = 0;
	bool path_ids;

	if (!family_rewritten(afi, safi))
		return;
	path_ids = bgp_addpath_has(w->view->addpath, afi, safi);
	if (!nlri_field_reads(p, n, afi, safi, path_ids) &&
	    nlri_field_reads(p, n, afi, safi, !path_ids))
		path_ids = !path_ids;
	while (at < n) {
		struct nlri l;
		size_t bytes;

		if (path_ids && (at += PATH_ID_LEN) >= n) {
			anon_walk_overrun(&w->how);
			return;
		}
		if (!nlri_layout(p + at, n - at, afi, safi, &l)) {
			anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
			return;
		}
		bytes = (p[at] + 7u) / 8;
		if (bytes > n - at - 1) {
			/* What is there of a cut prefix is mapped as a prefix. */
			if (n - at - 1 > l.skip)
				(void)map_prefix(w, p + at + 1 + l.skip,
				    n - at - 1 - l.skip, l.bits, alen);
			anon_walk_overrun(&w->how);
			return;
		}
		if (l.bits > 0 && !map_prefix(w, p + at + 1 + l.skip,
		    bytes - l.skip, l.bits, alen))
			return;
		at += 1 + bytes;
	}
}

/* ---- path attributes ---------------------------------------------------- */

/*
 * A next hop: one address, or a global and a link-local one (RFC 2545),
 * each behind a route distinguisher for VPN families (RFC 4364, 4659),
 * IPv4 or IPv6 whatever the NLRI's family (RFC 8950).  A length that is
 * none of these is left as it is.
 */
static void
rewrite_next_hop(struct walk *w, uint8_t *p, size_t n)
{
	switch (n) {
	case 4:			/* IPv4 */
	case 16:		/* IPv6 */
		(void)map_addr(w, p, n);
		break;
	case 12:		/* RD + IPv4 */
	case 24:		/* RD + IPv6 */
		(void)map_addr(w, p + RD_LEN, n - RD_LEN);
		break;
	case 32:		/* IPv6 global + link-local */
		if (map_addr(w, p, 16))
			(void)map_addr(w, p + 16, 16);
		break;
	case 48:		/* (RD + IPv6) twice */
		if (map_addr(w, p + RD_LEN, 16))
			(void)map_addr(w, p + 24 + RD_LEN, 16);
		break;
	default:		/* none (0: Loc-RIB's own routes), or unknown */
		break;
	}
}

static void
rewrite_mp_reach(struct walk *w, uint8_t *v, size_t n)
{
	uint16_t afi;
	uint8_t safi;
	size_t nh;

	if (n < 5) {
		anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
		return;
	}
	afi = be16_load(v);
	safi = v[2];
	nh = v[3];
	if (4 + nh + 1 > n) {
		anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
		return;
	}
	rewrite_next_hop(w, v + 4, nh);
	rewrite_nlri(w, v + 4 + nh + 1, n - 4 - nh - 1, afi, safi);
}

static void
rewrite_mp_unreach(struct walk *w, uint8_t *v, size_t n)
{
	if (n < 3) {
		anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
		return;
	}
	rewrite_nlri(w, v + 3, n - 3, be16_load(v), v[2]);
}

/* Whether AS path segments read exactly with ASes of size bytes. */
static bool
as_path_reads(const uint8_t *p, size_t n, size_t size)
{
	size_t at = 0;

	while (at < n) {
		if (n - at < 2 || p[at] < 1 || p[at] > 4)
			return false;
		at += 2 + (size_t)p[at + 1] * size;
	}
	return at == n;
}

/* AS_PATH (4-byte ASes when asked, or as the view says) or AS4_PATH: each segment's ASes mapped. */
static void
rewrite_as_path(struct walk *w, uint8_t *p, size_t n, bool four)
{
	size_t at = 0, size;

	if (w->rw->as == NULL)
		return;
	if (!four && w->view->as4 == 1)
		four = true;
	else if (!four && w->view->as4 == -1)	/* not known: the size that reads */
		four = as_path_reads(p, n, 4) || !as_path_reads(p, n, 2);
	size = four ? 4 : 2;
	if (!as_path_reads(p, n, size)) {
		anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
		return;
	}
	while (at < n) {
		size_t count = p[at + 1];

		at += 2;
		for (size_t i = 0; i < count; i++, at += size)
			if (!map_as(w, p + at, size))
				return;
	}
}

/* AGGREGATOR (2- or 4-byte AS by its length) and AS4_AGGREGATOR: the AS and the address. */
static void
rewrite_aggregator(struct walk *w, uint8_t *p, size_t n)
{
	if (n != 6 && n != 8) {
		anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
		return;
	}
	if (map_as(w, p, n - 4))
		(void)map_addr(w, p + n - 4, 4);
}

/*
 * Prefix-SID: TLVs of a type byte and a 2-byte length; in the SRv6
 * services ones, after a reserved byte, sub-TLVs alike, whose SID
 * information holds the SID, an IPv6 address of the node (mapped as one).
 */
static void
rewrite_prefix_sid(struct walk *w, uint8_t *p, size_t n)
{
	size_t at = 0;

	while (at < n) {
		size_t tlen, sub;

		if (n - at < 3 || (tlen = be16_load(p + at + 1)) > n - at - 3) {
			anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
			return;
		}
		if ((p[at] == SID_SRV6_L3 || p[at] == SID_SRV6_L2) && tlen >= 1) {
			uint8_t *v = p + at + 3;

			for (sub = 1; sub < tlen; ) {
				size_t slen;

				if (tlen - sub < 3 ||
				    (slen = be16_load(v + sub + 1)) > tlen - sub - 3) {
					anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
					return;
				}
				if (v[sub] == SID_INFORMATION && slen >= 17 &&
				    !map_addr(w, v + sub + 4, 16))
					return;
				sub += 3 + slen;
			}
		}
		at += 3 + tlen;
	}
}

static void
rewrite_attr(struct walk *w, uint8_t code, uint8_t *v, size_t n)
{
	switch (code) {
	case ATTR_AS_PATH:
		rewrite_as_path(w, v, n, false);
		break;
	case ATTR_AS4_PATH:
		rewrite_as_path(w, v, n, true);
		break;
	case ATTR_NEXT_HOP:
		if (n == 4 || n == 16)
			(void)map_addr(w, v, n);
		else
			anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
		break;
	case ATTR_AGGREGATOR:
	case ATTR_AS4_AGGREGATOR:
		rewrite_aggregator(w, v, n);
		break;
	case ATTR_ORIGINATOR_ID:
	case ATTR_CLUSTER_LIST:		/* router ids: IPv4 addresses, as the OPEN's */
		if (n % 4 != 0 || (code == ATTR_ORIGINATOR_ID && n != 4)) {
			anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
			break;
		}
		for (size_t i = 0; i < n; i += 4)
			if (!map_addr(w, v + i, 4))
				break;
		break;
	case ATTR_MP_REACH:
		rewrite_mp_reach(w, v, n);
		break;
	case ATTR_MP_UNREACH:
		rewrite_mp_unreach(w, v, n);
		break;
	case ATTR_PREFIX_SID:
		rewrite_prefix_sid(w, v, n);
		break;
	default:
		break;
	}
}

static void
rewrite_attrs(struct walk *w, uint8_t *p, size_t n)
{
	size_t at = 0;

	while (at < n && w->how.result != ANON_MSG_FAILED) {
		uint8_t flags, code;
		size_t hlen, alen;

		if (n - at < 3) {
			anon_walk_overrun(&w->how);
			return;
		}
		flags = p[at];
		code = p[at + 1];
		hlen = flags & ATTR_FLAG_EXTLEN ? 4 : 3;
		if (n - at < hlen) {
			anon_walk_overrun(&w->how);
			return;
		}
		alen = hlen == 4 ? be16_load(p + at + 2) : p[at + 2];
		at += hlen;
		if (alen > n - at) {
			anon_walk_overrun(&w->how);
			return;
		}
		rewrite_attr(w, code, p + at, alen);
		at += alen;
	}
}

/* body: the UPDATE after its header, n bytes of it there. */
static void
rewrite_update(struct walk *w, uint8_t *body, size_t n)
{
	size_t wd, attrs;

	if (n < 2) {
		anon_walk_overrun(&w->how);
		return;
	}
	wd = be16_load(body);
	if (wd > n - 2) {
		rewrite_nlri(w, body + 2, n - 2, BGP_AFI_IPV4, SAFI_UNICAST);
		anon_walk_overrun(&w->how);
		return;
	}
	rewrite_nlri(w, body + 2, wd, BGP_AFI_IPV4, SAFI_UNICAST);
	body += 2 + wd;
	n -= 2 + wd;
	if (n < 2) {
		anon_walk_overrun(&w->how);
		return;
	}
	attrs = be16_load(body);
	if (attrs > n - 2) {
		rewrite_attrs(w, body + 2, n - 2);
		anon_walk_overrun(&w->how);
		return;
	}
	rewrite_attrs(w, body + 2, attrs);
	rewrite_nlri(w, body + 2 + attrs, n - 2 - attrs, BGP_AFI_IPV4,
	    SAFI_UNICAST);
}

/* ---- OPEN --------------------------------------------------------------- */

#define CAP_FQDN	73	/* draft-walton-bgp-hostname-capability: host and domain names */

/* Text that names things, as a keyed token of its length. */
static bool
token(struct walk *w, uint8_t *p, size_t n)
{
	if (w->rw->text == NULL || n == 0)
		return true;
	if (anon_text_token(w->rw->text, p, n) == -1) {
		anon_walk_fail(&w->how, ANON_MSG_FAILED);
		return false;
	}
	return true;
}

/* The FQDN capability's value: a host name and a domain name, each after its 1-byte length. */
static void
rewrite_fqdn(struct walk *w, uint8_t *p, size_t n)
{
	for (size_t at = 0, i = 0; i < 2 && at < n; i++) {
		size_t len = p[at];

		if (len > n - at - 1) {
			anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
			return;
		}
		if (!token(w, p + at + 1, len))
			return;
		at += 1 + len;
	}
}

/* Capabilities (RFC 5492) in one optional parameter: the 4-byte AS one, and the FQDN one's names. */
static void
rewrite_caps(struct walk *w, uint8_t *p, size_t n)
{
	size_t at = 0;

	while (at < n) {
		if (n - at < 2 || p[at + 1] > n - at - 2) {
			anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
			return;
		}
		if (p[at] == BGP_CAP_AS4 && p[at + 1] == 4 &&
		    !map_as(w, p + at + 2, 4))
			return;
		if (p[at] == CAP_FQDN)
			rewrite_fqdn(w, p + at + 2, p[at + 1]);
		at += 2 + p[at + 1];
	}
}

/* A Cease's shutdown communication (RFC 9003, subcodes 2 and 4): free text after its length byte. */
static void
rewrite_notification(struct walk *w, uint8_t *body, size_t n)
{
	if (n < 3 || body[0] != BGP_CEASE || (body[1] != 2 && body[1] != 4))
		return;
	if (body[2] > n - 3) {
		anon_walk_overrun(&w->how);
		(void)token(w, body + 3, n - 3);
		return;
	}
	(void)token(w, body + 3, body[2]);
}

/* body: the OPEN after its header: version, My AS, hold time, BGP identifier, optional parameters (RFC 9072's extended form too). */
static void
rewrite_open(struct walk *w, uint8_t *body, size_t n)
{
	size_t at, end, plen_size = 1;

	if (n < 10) {
		if (n >= 9)
			(void)map_addr(w, body + 5, 4);
		anon_walk_overrun(&w->how);
		return;
	}
	if (!map_as(w, body + 1, 2) || !map_addr(w, body + 5, 4))
		return;
	at = 10;
	end = at + body[9];
	if (body[9] == 255 && n >= 13 && body[10] == 255) {
		/* RFC 9072: type 255, then a 2-byte length; parameters with 2-byte lengths. */
		plen_size = 2;
		end = 13 + be16_load(body + 11);
		at = 13;
	}
	if (end > n) {
		anon_walk_overrun(&w->how);
		end = n;
	}
	while (at < end) {
		size_t plen;

		if (end - at < 1 + plen_size) {
			anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
			return;
		}
		plen = plen_size == 2 ? be16_load(body + at + 1) : body[at + 1];
		if (plen > end - at - 1 - plen_size) {
			anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
			return;
		}
		if (body[at] == OPEN_CAPS_PARAM)
			rewrite_caps(w, body + at + 1 + plen_size, plen);
		at += 1 + plen_size + plen;
	}
}

enum anon_msg_result
bgp_anon_pdu(const struct anon_rewriter *rw, uint8_t *msg, size_t len,
    const struct bgp_anon_view *view)
{
	struct walk w = { .rw = rw, .view = view, .how.result = ANON_MSG_REWRITTEN };
	size_t mlen, n;

	if (len < BGP_HDR_LEN)
		return ANON_MSG_CUT;
	mlen = be16_load(msg + 16);
	if (mlen < BGP_HDR_LEN)
		return ANON_MSG_MALFORMED;
	w.how.cut = mlen > len;
	n = (w.how.cut ? len : mlen) - BGP_HDR_LEN;
	switch (msg[18]) {
	case BGP_OPEN:
		rewrite_open(&w, msg + BGP_HDR_LEN, n);
		break;
	case BGP_UPDATE:
		rewrite_update(&w, msg + BGP_HDR_LEN, n);
		break;
	case BGP_NOTIFICATION:
		rewrite_notification(&w, msg + BGP_HDR_LEN, n);
		break;
	default:		/* KEEPALIVE, ROUTE-REFRESH: no addresses */
		break;
	}
	return anon_walk_end(&w.how);
}

enum anon_msg_result
bgp_anon_attrs(const struct anon_rewriter *rw, uint8_t *p, size_t n,
    const struct bgp_anon_view *view)
{
	struct walk w = { .rw = rw, .view = view, .how.result = ANON_MSG_REWRITTEN };

	rewrite_attrs(&w, p, n);
	return w.how.result;
}

/* ---- the descriptor's hook: one session's messages ---------------------- */

/* Per session: each side's OPEN (its families only: the capability pointers are not kept). */
struct bgp_anon_state {
	bool		 seen[2];	/* [0] the exporter's (speaker's) OPEN, [1] the collector's */
	struct bgp_open	 open[2];
};

static void *
state_new(void)
{
	return calloc(1, sizeof(struct bgp_anon_state));
}

static void
state_free(void *state)
{
	free(state);
}

/* An OPEN read before it is rewritten: what the session will negotiate. */
static void
learn_open(struct bgp_anon_state *s, int side, const uint8_t *msg,
    size_t len)
{
	struct bgp_open o;

	if (bgp_open_parse(msg, len, &o) == -1)
		return;
	o.ncaps = 0;		/* its capability values point into msg */
	s->open[side] = o;
	s->seen[side] = true;
}

/* What the OPENs seen say of this side's UPDATEs: 4-byte AS when both (or the only one seen) offer it. */
static void
session_view(const struct bgp_anon_state *s, int side,
    struct bgp_addpath *ap, struct bgp_anon_view *v)
{
	int other = !side;

	v->as4 = -1;
	v->addpath = NULL;
	if (s->seen[side] && s->seen[other])
		v->as4 = s->open[side].has_as4 && s->open[other].has_as4;
	else if (s->seen[side] || s->seen[other])
		v->as4 = s->open[s->seen[side] ? side : other].has_as4;
	if (s->seen[side]) {
		bgp_addpath_from_opens(&s->open[side],
		    s->seen[other] ? &s->open[other] : NULL, ap);
		v->addpath = ap;
	}
}

static enum anon_msg_result
message(void *state, const struct anon_rewriter *rw, struct anon_msg *m)
{
	struct bgp_anon_state *s = state;
	int side = m->from_exporter ? 0 : 1;
	struct bgp_addpath ap;
	struct bgp_anon_view v = { .as4 = -1 };

	if (s != NULL && m->len >= BGP_HDR_LEN && m->data[18] == BGP_OPEN)
		learn_open(s, side, m->data, m->len);
	if (s != NULL)
		session_view(s, side, &ap, &v);
	return bgp_anon_pdu(rw, m->data, m->len, &v);
}

const struct proto_anon bgp_anon = {
	.new = state_new,
	.free = state_free,
	.message = message,
};
