/* BGP-4 (RFC 4271) framing, OPEN decoding and trimming, and the OPEN/KEEPALIVE a passive speaker sends. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bgp.h"
#include "bgp_anon.h"
#include "cursor.h"
#include "gen_proto.h"
#include "proto.h"
#include "writer.h"

#define BGP_MARKER_LEN		16
#define BGP_OPEN_MIN_LEN	29
#define BGP_UPDATE_MIN_LEN	23
#define BGP_NOTIFICATION_MIN_LEN 21
#define BGP_ROUTE_REFRESH_LEN	23
#define BGP_OPT_CAPABILITIES	2	/* optional parameter type (RFC 5492) */
#define BGP_OPT_EXTENDED	255	/* RFC 9072 extended optional parameters */

_Static_assert(BGP_HDR_LEN == BGP_MARKER_LEN + 3, "marker, length, type");

/* Stable snake_case names: they are JSON keys in the sink's summary and the report. */
const char *const bgp_type_names[BGP_TYPE_MAX + 1] = {
	[0] = "unknown",
	[BGP_OPEN] = "open",
	[BGP_UPDATE] = "update",
	[BGP_NOTIFICATION] = "notification",
	[BGP_KEEPALIVE] = "keepalive",
	[BGP_ROUTE_REFRESH] = "route_refresh",
};

/* RFC 4271 4.1 and 6.1: each type has a fixed or minimum length. */
static bool
length_ok(uint8_t type, uint16_t len)
{
	switch (type) {
	case BGP_OPEN:
		return len >= BGP_OPEN_MIN_LEN;
	case BGP_UPDATE:
		return len >= BGP_UPDATE_MIN_LEN;
	case BGP_NOTIFICATION:
		return len >= BGP_NOTIFICATION_MIN_LEN;
	case BGP_KEEPALIVE:
		return len == BGP_HDR_LEN;
	case BGP_ROUTE_REFRESH:
		return len == BGP_ROUTE_REFRESH_LEN;
	default:
		return false;
	}
}

int
bgp_frame(const uint8_t *p, size_t len, uint8_t *type, size_t *msg_len)
{
	struct cursor c = cur_init(p, len);
	uint16_t mlen;
	uint8_t t;

	if (len < BGP_HDR_LEN)
		return 0;
	for (size_t i = 0; i < BGP_MARKER_LEN; i++)
		if (cur_u8(&c) != 0xff)
			goto bad;
	mlen = cur_u16(&c);
	t = cur_u8(&c);
	/* BGP_MAX_MSG_LEN is the u16 limit, so only the floor needs a check. */
	_Static_assert(BGP_MAX_MSG_LEN == UINT16_MAX, "length field is u16");
	if (!cur_ok(&c) || mlen < BGP_HDR_LEN || !length_ok(t, mlen))
		goto bad;
	*type = t;
	*msg_len = mlen;
	return 1;
bad:
	errno = EBADMSG;
	return -1;
}

/* The framing hooks of the protocol table: bgp_frame; any header it takes will do to resynchronise (the marker is strict). */
static const struct proto_framing bgp_framing = {
	.header = bgp_frame,
	.first_byte = 0xff,	/* the marker's */
	.max_len = BGP_MAX_MSG_LEN,
};

const struct proto bgp_proto = {
	.name = "bgp",
	.what = "BGP sessions",
	.l4proto = IPPROTO_TCP,
	.framing = &bgp_framing,
	.session = &bgp_session,
	.anon = &bgp_anon,		/* bgp_anon.c */
	.gen = &bgp_gen,		/* gen_bgp.c */
	.filter = &(const struct proto_filter){ .key = "bgp_h", .n_keys = 1,
	    .keys = { { "type", false, 1, 5, 0,
	    "a BGP message type from 1 to 5" } } },
};

/* Where AFI/SAFI is in o->families; o->nfamilies when it is not. */
static size_t
family_index(const struct bgp_open *o, uint16_t afi, uint8_t safi)
{
	size_t i = 0;

	while (i < o->nfamilies &&
	    (o->families[i].afi != afi || o->families[i].safi != safi))
		i++;
	return i;
}

/* The entry for AFI/SAFI, added on first use; NULL past the cap. */
static struct bgp_open_family *
open_family(struct bgp_open *o, uint16_t afi, uint8_t safi)
{
	size_t i = family_index(o, afi, safi);

	if (i < o->nfamilies)
		return &o->families[i];
	if (o->nfamilies == BGP_OPEN_MAX_FAMILIES) {
		o->families_dropped++;
		return NULL;
	}
	o->families[o->nfamilies] = (struct bgp_open_family){ .afi = afi,
	    .safi = safi };
	return &o->families[o->nfamilies++];
}

/* A capability's meaning, where it has one the replay and the summary use. */
static void
decode_cap(struct bgp_open *o, uint8_t code, struct cursor v,
    bool *add_path_seen)
{
	struct bgp_open_family *f;

	if (code == BGP_CAP_AS4 && cur_left(&v) == 4) {
		o->as4 = cur_u32(&v);
		o->has_as4 = true;
	} else if (code == BGP_CAP_MP && cur_left(&v) == 4) {
		uint16_t afi = cur_u16(&v);
		uint8_t safi;

		(void)cur_u8(&v);	/* reserved */
		safi = cur_u8(&v);
		if ((f = open_family(o, afi, safi)) != NULL)
			f->multiprotocol = true;
	} else if (code == BGP_CAP_ADD_PATH && !*add_path_seen) {
		*add_path_seen = true;
		while (cur_left(&v) >= 4) {
			uint16_t afi = cur_u16(&v);
			uint8_t safi = cur_u8(&v), flags = cur_u8(&v);

			if ((f = open_family(o, afi, safi)) != NULL &&
			    f->add_path == 0)
				f->add_path = flags;
		}
	}
}

void
bgp_open_decode_caps(struct bgp_open *o)
{
	bool add_path_seen = false;

	o->has_as4 = false;
	o->as4 = 0;
	o->nfamilies = o->families_dropped = 0;
	for (size_t i = 0; i < o->ncaps; i++)
		decode_cap(o, o->caps[i].code, cur_init(o->caps[i].value,
		    o->caps[i].len), &add_path_seen);
}

/* Walk the capabilities inside one capabilities optional parameter. */
static int
parse_caps(struct cursor *c, struct bgp_open *o)
{
	while (cur_left(c) > 0) {
		uint8_t code = cur_u8(c);
		uint8_t clen = cur_u8(c);
		const uint8_t *val = c->p;

		if (!cur_skip(c, clen))
			return -1;
		if (o->ncaps < BGP_OPEN_MAX_CAPS) {
			o->caps[o->ncaps].code = code;
			o->caps[o->ncaps].len = clen;
			o->caps[o->ncaps].value = val;
			o->ncaps++;
		} else
			o->caps_dropped++;
	}
	return 0;
}

/*
 * The optional parameters area of an OPEN: one-byte length, or with RFC
 * 9072 (a first parameter type of 255 in a 255-byte area) a two-byte total,
 * and then two-byte parameter lengths.  0 with *params and *extended set,
 * or -1 if the area runs past the message.
 */
static int
open_params_area(struct cursor *c, struct cursor *params, bool *extended)
{
	size_t total = cur_u8(c);

	*extended = false;
	if (total == BGP_OPT_EXTENDED && cur_left(c) > 0 &&
	    c->p[0] == BGP_OPT_EXTENDED) {
		(void)cur_u8(c);
		total = cur_u16(c);
		*extended = true;
	}
	*params = cur_sub(c, total);
	return cur_ok(c) ? 0 : -1;
}

static int
parse_params(struct cursor *c, struct bgp_open *o)
{
	bool extended;
	struct cursor params;

	if (open_params_area(c, &params, &extended) == -1)
		return -1;
	while (cur_left(&params) > 0) {
		uint8_t ptype = cur_u8(&params);
		size_t plen = extended ? cur_u16(&params) : cur_u8(&params);
		struct cursor pv = cur_sub(&params, plen);

		if (!cur_ok(&params))
			return -1;
		if (ptype == BGP_OPT_CAPABILITIES && parse_caps(&pv, o) == -1)
			return -1;
	}
	return 0;
}

int
bgp_open_parse(const uint8_t *msg, size_t len, struct bgp_open *o)
{
	uint8_t type;
	size_t mlen;
	struct cursor c;

	memset(o, 0, sizeof(*o));
	if (bgp_frame(msg, len, &type, &mlen) != 1 || type != BGP_OPEN ||
	    mlen > len)
		goto bad;
	c = cur_init(msg + BGP_HDR_LEN, mlen - BGP_HDR_LEN);
	o->version = cur_u8(&c);
	o->my_as = cur_u16(&c);
	o->hold_time = cur_u16(&c);
	o->bgp_id = cur_u32(&c);
	if (!cur_ok(&c) || parse_params(&c, o) == -1)
		goto bad;
	/* Like OpenBGPD's parse_open: the message must be consumed exactly. */
	if (cur_left(&c) != 0)
		goto bad;
	bgp_open_decode_caps(o);
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

/* The header with its length left 0: finish_msg fills it in. */
static void
put_header(struct writer *w, uint8_t type)
{
	static const uint8_t marker[BGP_MARKER_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};

	put_bytes(w, marker, sizeof(marker));
	put_u16(w, 0);
	put_u8(w, type);
}

/* The length of the message written from the buffer's start, or -1 (ENOBUFS) if it did not fit. */
static int
finish_msg(struct writer *w)
{
	patch_u16(w, BGP_MARKER_LEN, (uint16_t)wr_len(w));
	if (!wr_ok(w)) {
		errno = ENOBUFS;
		return -1;
	}
	return (int)wr_len(w);
}

const struct bgp_cap *
bgp_open_find_cap(const struct bgp_open *o, uint8_t code)
{
	for (size_t i = 0; i < o->ncaps; i++)
		if (o->caps[i].code == code)
			return &o->caps[i];
	return NULL;
}

static const struct bgp_open_family *
find_family(const struct bgp_open *o, uint16_t afi, uint8_t safi)
{
	size_t i = family_index(o, afi, safi);

	return i < o->nfamilies ? &o->families[i] : NULL;
}

bool
bgp_open_has_family(const struct bgp_open *o, uint16_t afi, uint8_t safi)
{
	const struct bgp_open_family *f = find_family(o, afi, safi);

	return f != NULL && f->multiprotocol;
}

uint8_t
bgp_open_add_path_mode(const struct bgp_open *o, uint16_t afi, uint8_t safi)
{
	const struct bgp_open_family *f = find_family(o, afi, safi);

	return f != NULL ? f->add_path : 0;
}

bool
bgp_add_path_negotiated(const struct bgp_open *sender,
    const struct bgp_open *receiver, uint16_t afi, uint8_t safi)
{
	return (bgp_open_add_path_mode(sender, afi, safi) & 2) &&
	    (receiver == NULL || (bgp_open_add_path_mode(receiver, afi, safi) & 1));
}

/* The IANA capability codes registry's names as short stable keys, for JSON (cap_name below has words for messages). */
static const char *const cap_names[] = {
	[1] = "multiprotocol", [2] = "route-refresh",
	[3] = "outbound-route-filtering", [5] = "extended-nexthop",
	[6] = "extended-message", [7] = "bgpsec", [8] = "multiple-labels",
	[9] = "role", [64] = "graceful-restart", [65] = "4-octet-as",
	[67] = "dynamic", [68] = "multisession", [69] = "add-path",
	[70] = "enhanced-route-refresh", [71] = "long-lived-graceful-restart",
	[72] = "routing-policy-distribution", [73] = "fqdn",
	[74] = "bfd", [75] = "software-version", [128] = "route-refresh-cisco",
	[131] = "multisession-cisco",
};

const char *
bgp_cap_name(uint8_t code)
{
	return code < sizeof(cap_names) / sizeof(cap_names[0]) ?
	    cap_names[code] : NULL;
}

/* ---- trimming an OPEN to what a peer offered --------------------------- */

static const char *
cap_name(uint8_t code)
{
	switch (code) {
	case BGP_CAP_MP:		return "multiprotocol";
	case BGP_CAP_ROUTE_REFRESH:	return "route refresh";
	case BGP_CAP_EXT_NEXTHOP:	return "extended next hop";
	case BGP_CAP_EXT_MESSAGE:	return "extended message";
	case BGP_CAP_GRACEFUL:		return "graceful restart";
	case BGP_CAP_AS4:		return "4-byte AS";
	case BGP_CAP_ADD_PATH:		return "ADD-PATH";
	case BGP_CAP_ENH_REFRESH:	return "enhanced route refresh";
	default:			return "capability";
	}
}

/* Append one removal to the description, comma separated; a full buffer just stops growing. */
static void
note_removed(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
note_removed(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strnlen(buf, size);
	va_list ap;

	if (used + 3 >= size)
		return;
	if (used > 0) {
		memcpy(buf + used, ", ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

static const char *const add_path_dirs[4] = {
	"", "receive", "send", "send/receive",
};

/*
 * ADD-PATH keeps, per family, the directions the peer completes: ours to
 * send needs its receive (1), ours to receive needs its send (2).
 */
static void
trim_add_path(struct writer *w, const uint8_t *v, uint8_t len,
    const struct bgp_open *peer, char *removed, size_t rlen)
{
	size_t start = wr_len(w);

	put_u8(w, BGP_CAP_ADD_PATH);
	put_u8(w, 0);
	for (size_t at = 0; at + 4 <= len; at += 4) {
		uint16_t afi = be16_load(v + at);
		uint8_t safi = v[at + 2], mine = v[at + 3] & 3;
		uint8_t theirs = bgp_open_add_path_mode(peer, afi, safi);
		uint8_t keep = (uint8_t)(((mine & 2) && (theirs & 1) ? 2 : 0) |
		    ((mine & 1) && (theirs & 2) ? 1 : 0));

		if (keep != mine)
			note_removed(removed, rlen, "ADD-PATH (69) AFI %u SAFI "
			    "%u %s", afi, safi, add_path_dirs[mine & ~keep]);
		if (keep == 0)
			continue;
		put_bytes(w, v + at, 3);
		put_u8(w, keep);
	}
	if (wr_len(w) == start + 2)
		wr_truncate(w, start);	/* no family left: no capability */
	else
		patch_u8(w, start + 1, (uint8_t)(wr_len(w) - start - 2));
}

/* One capability of ours: copied, trimmed, or left out. */
static void
trim_cap(struct writer *w, uint8_t code, const uint8_t *v, uint8_t len,
    const struct bgp_open *peer, char *removed, size_t rlen)
{
	if (bgp_open_find_cap(peer, code) == NULL) {
		note_removed(removed, rlen, "%s (%u)", cap_name(code), code);
		return;
	}
	if (code == BGP_CAP_MP && len == 4) {
		uint16_t afi = be16_load(v);

		if (!bgp_open_has_family(peer, afi, v[3])) {
			note_removed(removed, rlen, "multiprotocol (1) AFI %u "
			    "SAFI %u", afi, v[3]);
			return;
		}
	}
	if (code == BGP_CAP_ADD_PATH && len % 4 == 0) {
		trim_add_path(w, v, len, peer, removed, rlen);
		return;
	}
	put_u8(w, code);
	put_u8(w, len);
	put_bytes(w, v, len);
}

/* The capabilities of one optional parameter, trimmed; -1 if they are malformed. */
static int
trim_caps(struct writer *w, struct cursor *c, const struct bgp_open *peer,
    char *removed, size_t rlen)
{
	while (cur_left(c) > 0) {
		uint8_t code = cur_u8(c);
		uint8_t clen = cur_u8(c);
		const uint8_t *val = c->p;

		if (!cur_skip(c, clen))
			return -1;
		trim_cap(w, code, val, clen, peer, removed, rlen);
	}
	return 0;
}

/*
 * The optional parameters, written in the format they came in (RFC 9072's
 * extended one included); a capabilities parameter left empty is dropped.
 * -1 if they are malformed; running out of room is the writer's to say.
 */
static int
trim_params(struct writer *w, struct cursor *c, const struct bgp_open *peer,
    char *removed, size_t rlen)
{
	bool extended;
	size_t len_at, start;
	struct cursor params;

	if (open_params_area(c, &params, &extended) == -1)
		return -1;
	put_u8(w, extended ? BGP_OPT_EXTENDED : 0);
	if (extended) {
		put_u8(w, BGP_OPT_EXTENDED);
		put_u16(w, 0);
	}
	len_at = wr_len(w) - (extended ? 2 : 1);
	start = wr_len(w);
	while (cur_left(&params) > 0 && wr_ok(w)) {
		uint8_t ptype = cur_u8(&params);
		size_t plen = extended ? cur_u16(&params) : cur_u8(&params);
		struct cursor pv = cur_sub(&params, plen);
		size_t pstart = wr_len(w), vstart;

		if (!cur_ok(&params))
			return -1;
		put_u8(w, ptype);
		if (extended)
			put_u16(w, 0);
		else
			put_u8(w, 0);
		vstart = wr_len(w);
		if (ptype != BGP_OPT_CAPABILITIES) {
			put_bytes(w, pv.p, cur_left(&pv));
		} else if (trim_caps(w, &pv, peer, removed, rlen) == -1) {
			return -1;
		} else if (wr_len(w) == vstart) {
			wr_truncate(w, pstart);	/* nothing left in it */
			continue;
		}
		if (extended)
			patch_u16(w, vstart - 2,
			    (uint16_t)(wr_len(w) - vstart));
		else
			patch_u8(w, vstart - 1, (uint8_t)(wr_len(w) - vstart));
	}
	/* Trimming only shrinks: the total fits where the original's did. */
	if (extended)
		patch_u16(w, len_at, (uint16_t)(wr_len(w) - start));
	else
		patch_u8(w, len_at, (uint8_t)(wr_len(w) - start));
	return 0;
}

int
bgp_open_trim(const uint8_t *msg, size_t len, const struct bgp_open *peer,
    uint8_t *out, size_t size, char *removed, size_t removed_len)
{
	struct writer w = wr_init(out, size);
	struct bgp_open check;
	struct cursor c;

	if (removed_len > 0)
		removed[0] = '\0';
	if (bgp_open_parse(msg, len, &check) == -1)
		return -1;
	len = be16_load(msg + BGP_MARKER_LEN);
	c = cur_init(msg + BGP_HDR_LEN + 9, len - BGP_HDR_LEN - 9);
	put_bytes(&w, msg, BGP_HDR_LEN + 9);
	if (!wr_ok(&w))		/* ENOBUFS before looking at the parameters */
		return finish_msg(&w);
	if (trim_params(&w, &c, peer, removed, removed_len) == -1) {
		errno = EBADMSG;
		return -1;
	}
	return finish_msg(&w);
}

int
bgp_keepalive_build(uint8_t *buf, size_t size)
{
	struct writer w = wr_init(buf, size);

	put_header(&w, BGP_KEEPALIVE);
	return finish_msg(&w);
}

/*
 * Each capability goes in its own optional parameter, as many speakers do;
 * the one-byte parameter area (255 bytes) bounds how many fit.
 */
int
bgp_open_build(uint8_t *buf, size_t size, const struct bgp_open *o)
{
	struct writer w = wr_init(buf, size);
	size_t optlen_at, params_start, params_len;

	put_header(&w, BGP_OPEN);
	put_u8(&w, o->version);
	put_u16(&w, o->my_as);
	put_u16(&w, o->hold_time);
	put_u32(&w, o->bgp_id);
	optlen_at = wr_len(&w);
	put_u8(&w, 0);
	params_start = wr_len(&w);
	for (size_t i = 0; i < o->ncaps && i < BGP_OPEN_MAX_CAPS; i++) {
		const struct bgp_cap *cap = &o->caps[i];

		put_u8(&w, BGP_OPT_CAPABILITIES);
		put_u8(&w, (uint8_t)(cap->len + 2));
		put_u8(&w, cap->code);
		put_u8(&w, cap->len);
		put_bytes(&w, cap->value, cap->len);
	}
	params_len = wr_len(&w) - params_start;
	if (params_len > 254 || wr_len(&w) > BGP_MAX_MSG_LEN) {
		errno = ENOBUFS;
		return -1;
	}
	patch_u8(&w, optlen_at, (uint8_t)params_len);
	return finish_msg(&w);
}

/* RFC 4271 section 4.5 and the IANA registry: the codes a collector sends when it ends a session. */
static const char *const notification_codes[] = {
	[1] = "Message Header Error",
	[2] = "OPEN Message Error",
	[3] = "UPDATE Message Error",
	[4] = "Hold Timer Expired",
	[5] = "Finite State Machine Error",
	[6] = "Cease",
	[7] = "ROUTE-REFRESH Message Error",
};

static const char *const header_subcodes[] = {
	[1] = "Connection Not Synchronized", [2] = "Bad Message Length",
	[3] = "Bad Message Type",
};

static const char *const open_subcodes[] = {
	[1] = "Unsupported Version Number", [2] = "Bad Peer AS",
	[3] = "Bad BGP Identifier", [4] = "Unsupported Optional Parameter",
	[6] = "Unacceptable Hold Time", [7] = "Unsupported Capability",
	[11] = "Role Mismatch",
};

static const char *const update_subcodes[] = {
	[1] = "Malformed Attribute List",
	[2] = "Unrecognized Well-known Attribute",
	[3] = "Missing Well-known Attribute", [4] = "Attribute Flags Error",
	[5] = "Attribute Length Error", [6] = "Invalid ORIGIN Attribute",
	[8] = "Invalid NEXT_HOP Attribute", [9] = "Optional Attribute Error",
	[10] = "Invalid Network Field", [11] = "Malformed AS_PATH",
};

static const char *const cease_subcodes[] = {
	[1] = "Maximum Number of Prefixes Reached",
	[2] = "Administrative Shutdown", [3] = "Peer De-configured",
	[4] = "Administrative Reset", [5] = "Connection Rejected",
	[6] = "Other Configuration Change",
	[7] = "Connection Collision Resolution", [8] = "Out of Resources",
	[9] = "Hard Reset", [10] = "BFD Down",
};

#define NAME_OR_NULL(table, i) \
	((size_t)(i) < sizeof(table) / sizeof(table[0]) ? table[i] : NULL)

const char *
bgp_notification_describe(uint8_t code, uint8_t subcode, char *buf,
    size_t len)
{
	const char *c = NAME_OR_NULL(notification_codes, code), *s = NULL;

	switch (code) {
	case 1: s = NAME_OR_NULL(header_subcodes, subcode); break;
	case 2: s = NAME_OR_NULL(open_subcodes, subcode); break;
	case 3: s = NAME_OR_NULL(update_subcodes, subcode); break;
	case 6: s = NAME_OR_NULL(cease_subcodes, subcode); break;
	}
	snprintf(buf, len, "%s%s%s (code %u, subcode %u)",
	    c ? c : "unknown error", s ? ": " : "", s ? s : "", code, subcode);
	return buf;
}

int
bgp_notification_build(uint8_t *buf, size_t size, uint8_t code,
    uint8_t subcode)
{
	struct writer w = wr_init(buf, size);

	put_header(&w, BGP_NOTIFICATION);
	put_u8(&w, code);
	put_u8(&w, subcode);
	return finish_msg(&w);
}

/* ---- UPDATE prefix counting -------------------------------------------- */

#define BGP_SAFI_MCAST_VPN	5
#define BGP_SAFI_EVPN		70
#define BGP_SAFI_LS		71
#define BGP_SAFI_LS_VPN		72
#define BGP_SAFI_FLOWSPEC	133
#define BGP_SAFI_FLOWSPEC_VPN	134
#define BGP_ATTR_FLAG_EXTLEN	0x10

void
bgp_addpath_from_opens(const struct bgp_open *sender,
    const struct bgp_open *receiver, struct bgp_addpath *ap)
{
	ap->n = 0;
	for (size_t i = 0; i < sender->nfamilies; i++) {
		const struct bgp_open_family *f = &sender->families[i];

		if (ap->n < BGP_ADDPATH_MAX &&
		    bgp_add_path_negotiated(sender, receiver, f->afi, f->safi)) {
			ap->fam[ap->n].afi = f->afi;
			ap->fam[ap->n].safi = f->safi;
			ap->n++;
		}
	}
}

bool
bgp_addpath_has(const struct bgp_addpath *ap, uint16_t afi, uint8_t safi)
{
	for (size_t i = 0; ap != NULL && i < ap->n; i++)
		if (ap->fam[i].afi == afi && ap->fam[i].safi == safi)
			return true;
	return false;
}

/* The UPDATE's entry for a family, added on first use; NULL past the cap (a malformed UPDATE). */
static struct bgp_family_count *
family_slot(struct bgp_update_counts *uc, uint16_t afi, uint8_t safi)
{
	for (size_t i = 0; i < uc->n; i++)
		if (uc->fam[i].afi == afi && uc->fam[i].safi == safi)
			return &uc->fam[i];
	if (uc->n == BGP_UPDATE_MAX_FAMILIES)
		return NULL;
	uc->fam[uc->n] = (struct bgp_family_count){ .afi = afi, .safi = safi };
	return &uc->fam[uc->n++];
}

/* The longest prefix (in bits) a family's NLRI may carry: IP unicast/multicast are exact, the rest carry labels, RDs, ASes. */
static unsigned
max_prefix_bits(uint16_t afi, uint8_t safi)
{
	if (safi == 1 || safi == 2)
		return afi == BGP_AFI_IPV4 ? 32 : afi == BGP_AFI_IPV6 ? 128 : 255;
	return 255;
}

/* The fewest bits a prefix-encoded NLRI may carry: a label (RFC 8277) before a labelled prefix, label and RD before a VPN one. */
static unsigned
min_prefix_bits(uint8_t safi)
{
	if (safi == 4)
		return 24;
	if (safi == 128 || safi == 129)
		return 24 + 64;
	return 0;
}

/*
 * Skip one NLRI of the family's encoding; false if it does not fit.  With
 * strict, a prefix-encoded NLRI must also look like a real one: no shorter
 * than its family's label and RD, and no bits set past its length.
 */
static bool
skip_nlri(struct cursor *c, uint16_t afi, uint8_t safi, bool strict)
{
	size_t n;

	if (afi == BGP_AFI_LS && (safi == BGP_SAFI_LS ||
	    safi == BGP_SAFI_LS_VPN)) {
		(void)cur_u16(c);		/* NLRI type, then a 2-byte length */
		return cur_skip(c, cur_u16(c)) && cur_ok(c);
	}
	if (safi == BGP_SAFI_EVPN || safi == BGP_SAFI_MCAST_VPN) {
		(void)cur_u8(c);		/* route type, then a 1-byte length */
		return cur_skip(c, cur_u8(c)) && cur_ok(c);
	}
	if (safi == BGP_SAFI_FLOWSPEC || safi == BGP_SAFI_FLOWSPEC_VPN) {
		/* RFC 8955 4.1: lengths from 240 take two bytes (0xfnnn). */
		n = cur_u8(c);
		if (n >= 0xf0)
			n = (n & 0x0f) << 8 | cur_u8(c);
		return cur_skip(c, n) && cur_ok(c);
	}
	n = cur_u8(c);
	if (!cur_ok(c) || n > max_prefix_bits(afi, safi) ||
	    (strict && n < min_prefix_bits(safi)))
		return false;
	if (strict && n % 8 != 0 && cur_left(c) >= (n + 7) / 8 &&
	    (c->p[n / 8] & (0xff >> (n % 8))) != 0)
		return false;
	return cur_skip(c, (n + 7) / 8);
}

/* Walk the NLRI filling c (a copy), counting into *count; false at the first that does not fit. */
static bool
walk_nlri(struct cursor c, uint16_t afi, uint8_t safi, bool path_ids,
    bool strict, uint32_t *count)
{
	while (cur_left(&c) > 0) {
		if ((path_ids && !cur_skip(&c, 4)) ||
		    !skip_nlri(&c, afi, safi, strict))
			return false;
		(*count)++;
	}
	return true;
}

/*
 * Count the NLRI filling c into *count; false (with *why) when one does not
 * fit.  Path identifiers are read where ap says the session negotiated
 * ADD-PATH.  Elsewhere (no OPEN captured, or OPENs that do not say so) a
 * field that does not read cleanly without them but does with them is read
 * with them, as Wireshark's BGP dissector guesses, and f->add_path_guessed
 * says so; a field that reads both ways stays without.
 */
static bool
count_nlri(struct cursor *c, uint16_t afi, uint8_t safi,
    const struct bgp_addpath *ap, struct bgp_family_count *f,
    uint32_t *count, const char **why)
{
	bool addpath = bgp_addpath_has(ap, afi, safi);
	uint32_t n = 0;

	if (!addpath) {
		if (walk_nlri(*c, afi, safi, false, true, &n))
			goto done;
		n = 0;
		if (walk_nlri(*c, afi, safi, true, true, &n)) {
			f->add_path_guessed = true;
			goto done;
		}
		n = 0;
	}
	if (!walk_nlri(*c, afi, safi, addpath, false, &n)) {
		*count += n;
		*why = addpath ? "NLRI does not parse (with ADD-PATH path "
		    "identifiers)" : "NLRI does not parse (a prefix "
		    "length past its family's or the field's end; "
		    "ADD-PATH not negotiated?)";
		return false;
	}
done:
	*count += n;
	(void)cur_skip(c, cur_left(c));
	return true;
}

/* MP_REACH_NLRI (RFC 4760 3): AFI, SAFI, next hop, a reserved byte, NLRI. */
static bool
mp_reach(struct cursor *v, const struct bgp_addpath *ap,
    struct bgp_update_counts *uc, const char **why)
{
	uint16_t afi = cur_u16(v);
	uint8_t safi = cur_u8(v);
	struct bgp_family_count *f;

	if (!cur_skip(v, cur_u8(v)) || !cur_skip(v, 1)) {
		*why = "MP_REACH_NLRI shorter than its next hop";
		return false;
	}
	if ((f = family_slot(uc, afi, safi)) == NULL) {
		*why = "more than one MP_REACH_NLRI";
		return false;
	}
	return count_nlri(v, afi, safi, ap, f, &f->announced, why);
}

/* MP_UNREACH_NLRI (RFC 4760 4): AFI, SAFI, withdrawn NLRI; with none at all it is an End-of-RIB. */
static bool
mp_unreach(struct cursor *v, const struct bgp_addpath *ap,
    struct bgp_update_counts *uc, bool only_attr, const char **why)
{
	uint16_t afi = cur_u16(v);
	uint8_t safi = cur_u8(v);
	struct bgp_family_count *f;

	if (!cur_ok(v)) {
		*why = "MP_UNREACH_NLRI shorter than its AFI/SAFI";
		return false;
	}
	if ((f = family_slot(uc, afi, safi)) == NULL) {
		*why = "more than one MP_UNREACH_NLRI";
		return false;
	}
	f->end_of_rib = only_attr && cur_left(v) == 0;
	return count_nlri(v, afi, safi, ap, f, &f->withdrawn, why);
}

/* Walk the path attributes: only MP_REACH/MP_UNREACH hold prefixes. */
static bool
walk_attrs(struct cursor *attrs, const struct bgp_addpath *ap,
    struct bgp_update_counts *uc, bool no_classic, const char **why)
{
	size_t total = cur_left(attrs);

	while (cur_left(attrs) > 0) {
		uint8_t flags = cur_u8(attrs);
		uint8_t code = cur_u8(attrs);
		size_t alen = flags & BGP_ATTR_FLAG_EXTLEN ? cur_u16(attrs) :
		    cur_u8(attrs);
		struct cursor v = cur_sub(attrs, alen);
		bool only = no_classic && total == alen + (flags &
		    BGP_ATTR_FLAG_EXTLEN ? 4 : 3);

		if (!cur_ok(attrs)) {
			*why = "path attribute runs past the attributes";
			return false;
		}
		if (code == BGP_ATTR_MP_REACH && !mp_reach(&v, ap, uc, why))
			return false;
		if (code == BGP_ATTR_MP_UNREACH &&
		    !mp_unreach(&v, ap, uc, only, why))
			return false;
	}
	return true;
}

int
bgp_update_count(const uint8_t *msg, size_t len,
    const struct bgp_addpath *ap, struct bgp_update_counts *uc)
{
	struct cursor c, wd, attrs;
	struct bgp_family_count *v4;
	const char *why = NULL;
	uint8_t type;
	size_t mlen;
	bool no_classic;

	memset(uc, 0, sizeof(*uc));
	if (bgp_frame(msg, len, &type, &mlen) != 1 || type != BGP_UPDATE ||
	    mlen > len) {
		why = "not a whole UPDATE";
		goto bad;
	}
	c = cur_init(msg + BGP_HDR_LEN, mlen - BGP_HDR_LEN);
	wd = cur_sub(&c, cur_u16(&c));
	attrs = cur_sub(&c, cur_u16(&c));
	if (!cur_ok(&c)) {
		why = "withdrawn routes or path attributes run past the message";
		goto bad;
	}
	/* The classic fields are IPv4 unicast (RFC 4271); list the family only when they say something. */
	no_classic = cur_left(&wd) == 0 && cur_left(&c) == 0;
	if (!no_classic || cur_left(&attrs) == 0) {
		v4 = family_slot(uc, BGP_AFI_IPV4, BGP_SAFI_UNICAST);
		if (!count_nlri(&wd, BGP_AFI_IPV4, BGP_SAFI_UNICAST, ap, v4,
		    &v4->withdrawn, &why))
			goto bad;
		/* RFC 4724 2: an UPDATE with nothing at all is the IPv4 unicast End-of-RIB. */
		v4->end_of_rib = no_classic;
	}
	if (!walk_attrs(&attrs, ap, uc, no_classic, &why))
		goto bad;
	if (cur_left(&c) > 0) {
		v4 = family_slot(uc, BGP_AFI_IPV4, BGP_SAFI_UNICAST);
		if (!count_nlri(&c, BGP_AFI_IPV4, BGP_SAFI_UNICAST, ap, v4,
		    &v4->announced, &why))
			goto bad;
	}
	return 0;
bad:
	uc->error = why;
	errno = EBADMSG;
	return -1;
}

const char *
bgp_family_name(uint16_t afi, uint8_t safi)
{
	static const struct {
		uint16_t	 afi;
		uint8_t		 safi;
		const char	*name;
	} names[] = {
		{ 1, 1, "ipv4-unicast" }, { 1, 2, "ipv4-multicast" },
		{ 1, 4, "ipv4-labeled-unicast" }, { 1, 5, "ipv4-mvpn" },
		{ 1, 73, "ipv4-sr-policy" }, { 1, 128, "ipv4-vpn" },
		{ 1, 129, "ipv4-vpn-multicast" }, { 1, 132, "rt-constraint" },
		{ 1, 133, "ipv4-flowspec" }, { 1, 134, "ipv4-vpn-flowspec" },
		{ 2, 1, "ipv6-unicast" }, { 2, 2, "ipv6-multicast" },
		{ 2, 4, "ipv6-labeled-unicast" }, { 2, 5, "ipv6-mvpn" },
		{ 2, 73, "ipv6-sr-policy" }, { 2, 128, "ipv6-vpn" },
		{ 2, 129, "ipv6-vpn-multicast" }, { 2, 133, "ipv6-flowspec" },
		{ 2, 134, "ipv6-vpn-flowspec" }, { 25, 65, "l2vpn-vpls" },
		{ 25, 70, "l2vpn-evpn" }, { 16388, 71, "bgp-ls" },
		{ 16388, 72, "bgp-ls-vpn" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].afi == afi && names[i].safi == safi)
			return names[i].name;
	return NULL;
}
