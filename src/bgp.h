/* BGP-4 (RFC 4271) message header: framing and message types. */
#ifndef TR_BGP_H
#define TR_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BGP_HDR_LEN		19
#define BGP_MAX_MSG_LEN		65535	/* RFC 8654 extended messages; 4096 without */

enum bgp_type {
	BGP_OPEN = 1,
	BGP_UPDATE = 2,
	BGP_NOTIFICATION = 3,
	BGP_KEEPALIVE = 4,
	BGP_ROUTE_REFRESH = 5,
	BGP_TYPE_MAX = 5,
};

extern const char *const bgp_type_names[BGP_TYPE_MAX + 1];	/* [0] = "unknown" */

/*
 * Look at the start of a byte stream: 1 with *type and *msg_len when a
 * header with the all-ones marker and a length valid for its type is there,
 * 0 when fewer than BGP_HDR_LEN bytes are available, -1 otherwise.
 */
int	bgp_frame(const uint8_t *p, size_t len, uint8_t *type,
	    size_t *msg_len);

/* The protocol's session hooks (session_bgp.c), for its descriptor. */
struct proto_session;
extern const struct proto_session bgp_session;

/* Capability codes the sink and the replay checks care about. */
#define BGP_CAP_MP		1	/* RFC 4760 multiprotocol */
#define BGP_CAP_ROUTE_REFRESH	2	/* RFC 2918 */
#define BGP_CAP_EXT_NEXTHOP	5	/* RFC 8950 */
#define BGP_CAP_EXT_MESSAGE	6	/* RFC 8654 */
#define BGP_CAP_GRACEFUL	64	/* RFC 4724 */
#define BGP_CAP_AS4		65	/* RFC 6793 */
#define BGP_CAP_ADD_PATH	69	/* RFC 7911 */
#define BGP_CAP_ENH_REFRESH	70	/* RFC 7313 */

#define BGP_AS_TRANS		23456	/* RFC 6793: the 2-byte stand-in for a 4-byte AS */
#define BGP_OPEN_MAX_CAPS	64	/* more is not a real speaker; the rest are counted */

struct bgp_cap {
	uint8_t		 code;
	uint8_t		 len;
	const uint8_t	*value;		/* points into the message (or the builder's data) */
};

#define BGP_OPEN_MAX_FAMILIES	64	/* AFI/SAFIs named; more is not a real speaker */

/* An AFI/SAFI an OPEN names, in a multiprotocol capability, in ADD-PATH, or in both. */
struct bgp_open_family {
	uint16_t	 afi;
	uint8_t		 safi;
	bool		 multiprotocol;	/* listed in a multiprotocol capability (RFC 4760) */
	uint8_t		 add_path;	/* RFC 7911 flags offered: 1 receive, 2 send, 3 both; 0 none */
};

/*
 * An OPEN, its capabilities decoded once: 4-byte AS, the families with
 * their ADD-PATH directions (from the first ADD-PATH capability), and the
 * raw list, kept for trimming and display.
 */
struct bgp_open {
	uint8_t		 version;
	uint16_t	 my_as;		/* 23456 when the real AS is in the AS4 capability */
	uint16_t	 hold_time;
	uint32_t	 bgp_id;	/* host order */
	bool		 has_as4;
	uint32_t	 as4;		/* from the 4-byte AS capability */
	size_t		 ncaps;
	size_t		 caps_dropped;	/* capabilities past BGP_OPEN_MAX_CAPS */
	struct bgp_cap	 caps[BGP_OPEN_MAX_CAPS];
	size_t		 nfamilies;
	size_t		 families_dropped;	/* past BGP_OPEN_MAX_FAMILIES */
	struct bgp_open_family families[BGP_OPEN_MAX_FAMILIES];
};

/*
 * Decode one whole OPEN message (header included; RFC 9072 extended optional
 * parameters understood).  0, or -1 if it is not an OPEN, is truncated, or
 * is not consumed exactly.  Capability values point into msg.
 */
int	bgp_open_parse(const uint8_t *msg, size_t len, struct bgp_open *o);
/* Decode o's raw capability list (bgp_open_parse does): an OPEN made by hand calls it once its list is filled. */
void	bgp_open_decode_caps(struct bgp_open *o);

/* The first capability with code, or NULL. */
const struct bgp_cap *bgp_open_find_cap(const struct bgp_open *o, uint8_t code);
/* Whether a multiprotocol capability lists AFI/SAFI. */
bool	bgp_open_has_family(const struct bgp_open *o, uint16_t afi,
	    uint8_t safi);
/* The ADD-PATH flags offered for AFI/SAFI (RFC 7911: 1 receive, 2 send, 3 both); 0 for none. */
uint8_t	bgp_open_add_path_mode(const struct bgp_open *o, uint16_t afi,
	    uint8_t safi);

/*
 * Copy the OPEN msg into out (at least len bytes) without what the session
 * with peer would not have negotiated: a capability whose code peer does
 * not offer, a multiprotocol family peer does not list, and per ADD-PATH
 * family only the directions peer completes (our send with its receive,
 * our receive with its send).  Other optional parameters, the capabilities
 * kept and their order stay as they were; the optional parameters length
 * and the message length are recomputed.  What was removed is described in
 * removed ("" for nothing).  Returns the new length, or -1 (EBADMSG) if msg
 * is not a well-formed OPEN, or ENOBUFS if out is too small.
 */
int	bgp_open_trim(const uint8_t *msg, size_t len,
	    const struct bgp_open *peer, uint8_t *out, size_t size,
	    char *removed, size_t removed_len);

/*
 * Whether UPDATEs from `sender` to `receiver` carry ADD-PATH path
 * identifiers for AFI/SAFI: the sender may send and the receiver receive.
 * With no receiver OPEN (a capture without that side), the sender's offer
 * stands for the negotiation.
 */
bool	bgp_add_path_negotiated(const struct bgp_open *sender,
	    const struct bgp_open *receiver, uint16_t afi, uint8_t safi);
/* A capability code's name ("multiprotocol", "4-octet-as", ...), NULL if unassigned here. */
const char *bgp_cap_name(uint8_t code);

/*
 * Encode an OPEN (one capability per optional parameter) or a KEEPALIVE into
 * buf.  The message length, or -1 (ENOBUFS) if it does not fit in size or
 * the capabilities exceed the 255-byte parameter area.
 */
int	bgp_open_build(uint8_t *buf, size_t size, const struct bgp_open *o);
int	bgp_keepalive_build(uint8_t *buf, size_t size);
int	bgp_notification_build(uint8_t *buf, size_t size, uint8_t code,
	    uint8_t subcode);

/* A NOTIFICATION's code and subcode in words, e.g. "Cease: Administrative Shutdown (code 6, subcode 2)". */
const char *bgp_notification_describe(uint8_t code, uint8_t subcode,
	    char *buf, size_t len);

/* ---- UPDATE contents, counted (RFC 4271 4.3, RFC 4760 MP_REACH/MP_UNREACH, RFC 7911 ADD-PATH) ---- */

#define BGP_AFI_IPV4		1
#define BGP_AFI_IPV6		2
#define BGP_AFI_L2VPN		25
#define BGP_AFI_LS		16388
#define BGP_SAFI_UNICAST	1
#define BGP_ATTR_MP_REACH	14
#define BGP_ATTR_MP_UNREACH	15

/* The AFI/SAFI pairs whose NLRI carry ADD-PATH path identifiers in one direction of a session. */
#define BGP_ADDPATH_MAX		32
struct bgp_addpath {
	size_t		n;
	struct {
		uint16_t	afi;
		uint8_t		safi;
	} fam[BGP_ADDPATH_MAX];
};

/*
 * Fill *ap with the families whose UPDATEs from `sender` carry path
 * identifiers (bgp_add_path_negotiated for each family the sender's
 * ADD-PATH capability lists); receiver may be NULL.
 */
void	bgp_addpath_from_opens(const struct bgp_open *sender,
	    const struct bgp_open *receiver, struct bgp_addpath *ap);
bool	bgp_addpath_has(const struct bgp_addpath *ap, uint16_t afi,
	    uint8_t safi);

/* What one UPDATE does to one address family. */
struct bgp_family_count {
	uint16_t	afi;
	uint8_t		safi;
	uint32_t	announced;	/* NLRI (classic field or MP_REACH_NLRI) */
	uint32_t	withdrawn;	/* withdrawn routes (classic field or MP_UNREACH_NLRI) */
	bool		end_of_rib;	/* RFC 4724 End-of-RIB marker */
	bool		add_path_guessed;	/* NLRI read with path identifiers ap did not list */
};

#define BGP_UPDATE_MAX_FAMILIES	4	/* classic IPv4 + one MP_REACH + one MP_UNREACH, and a spare */

struct bgp_update_counts {
	size_t			 n;
	struct bgp_family_count	 fam[BGP_UPDATE_MAX_FAMILIES];
	const char		*error;	/* why the UPDATE does not parse (set when -1) */
};

/*
 * Count the prefixes one whole UPDATE (header included) announces and
 * withdraws, per AFI/SAFI.  ap (may be NULL) says which families carry
 * ADD-PATH path identifiers.  For the other families, an NLRI field
 * (withdrawn routes, NLRI, MP_REACH/MP_UNREACH) that does not read cleanly
 * without path identifiers (a prefix past the field or its family's
 * length, shorter than its label and RD, or with bits set past its length)
 * but reads exactly with 4-byte ones is counted with them, and its family's
 * add_path_guessed is set; one that reads both ways is read without.  NLRI are walked by their family's encoding
 * (prefixes with a bit length: unicast, multicast, labelled, VPN, RT
 * constraint; type-length routes: EVPN, MCAST-VPN, BGP-LS; FlowSpec's
 * one- or two-byte lengths); a family not known here is walked as
 * prefixes.  0, or -1 with counts->error in words (what was counted
 * before the fault stays in *counts).
 */
int	bgp_update_count(const uint8_t *msg, size_t len,
	    const struct bgp_addpath *ap, struct bgp_update_counts *counts);

/* A short stable name for AFI/SAFI ("ipv4-unicast", "l2vpn-evpn"), or NULL when not known here. */
const char *bgp_family_name(uint16_t afi, uint8_t safi);

#define BGP_CEASE		6
#define BGP_CEASE_ADMIN_SHUTDOWN 2

#endif
