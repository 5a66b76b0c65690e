/*
 * BMP messages pseudonymized in place: per-peer headers, Peer Up's local
 * address and OPENs, the BGP PDUs of Route Monitoring and Route Mirroring,
 * and the strings of Initiation, Termination and Peer Up as keyed tokens.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "anon_walk.h"
#include "bgp_anon.h"
#include "bmp.h"
#include "bmp_anon.h"
#include "hash.h"
#include "writer.h"

/* Peers learned from Peer Ups per router session: as session_bmp's prologue, no more (hostile input). */
#define MAX_PEERS	16384

#define PEER_UP_FIXED	20	/* local address, local and remote ports */
#define MIRROR_BGP_PDU	0	/* Route Mirroring TLV: a BGP message */
#define INFO_ADMIN_LABEL 4	/* Peer Up TLVs: 3 (RFC 9069) a VRF or table name, 4 an admin label */

/* What a monitored peer's Peer Up said: the families whose UPDATEs carry path identifiers, each way. */
struct peer {
	uint8_t			key[BMP_PEER_KEY_LEN];
	bool			used;
	struct bgp_addpath	from_peer;	/* Adj-RIB-In: the peer sends */
	struct bgp_addpath	to_peer;	/* Adj-RIB-Out: the router sends */
};

/* Open addressing; cap 0 or a power of two, at least twice n. */
struct bmp_anon_state {
	struct peer	*slots;
	size_t		 cap, n;
};

struct walk {
	const struct anon_rewriter	*rw;
	struct bmp_anon_state		*s;
	struct anon_walk		 how;	/* how it went so far */
};

static void *
state_new(void)
{
	return calloc(1, sizeof(struct bmp_anon_state));
}

static void
state_free(void *state)
{
	struct bmp_anon_state *s = state;

	if (s != NULL)
		free(s->slots);
	free(s);
}

static struct peer *
peer_slot(struct peer *slots, size_t cap, const uint8_t *key)
{
	size_t i = fnv1a(FNV1A_BASIS, key, BMP_PEER_KEY_LEN) & (cap - 1);

	for (;; i = (i + 1) & (cap - 1))
		if (!slots[i].used ||
		    memcmp(slots[i].key, key, BMP_PEER_KEY_LEN) == 0)
			return &slots[i];
}

static struct peer *
peer_find(const struct bmp_anon_state *s, const uint8_t *key)
{
	struct peer *p;

	if (s == NULL || s->cap == 0)
		return NULL;
	p = peer_slot(s->slots, s->cap, key);
	return p->used ? p : NULL;
}

/* The peer's entry, made on its first Peer Up; NULL past the cap or out of memory (its UPDATEs are then read by guess). */
static struct peer *
peer_get(struct bmp_anon_state *s, const uint8_t *key)
{
	struct peer *p = peer_find(s, key);

	if (p != NULL || s == NULL || s->n >= MAX_PEERS)
		return p;
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct peer *slots = calloc(cap, sizeof(*slots));

		if (slots == NULL)
			return NULL;
		for (size_t i = 0; i < s->cap; i++)
			if (s->slots[i].used)
				*peer_slot(slots, cap, s->slots[i].key) =
				    s->slots[i];
		free(s->slots);
		s->slots = slots;
		s->cap = cap;
	}
	p = peer_slot(s->slots, s->cap, key);
	memcpy(p->key, key, BMP_PEER_KEY_LEN);
	p->used = true;
	s->n++;
	return p;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* An address field that says "none" with zeros (Loc-RIB's peer, a router without an id) stays so. */
static bool
map_addr(struct walk *w, uint8_t *p, size_t len)
{
	if (all_zero(p, len))
		return true;
	if (anon_addr_map_bytes(w->rw->addr, p, p, len) == -1) {
		anon_walk_fail(&w->how, ANON_MSG_FAILED);
		return false;
	}
	return true;
}

/* A 16-byte address field: IPv6 when the per-peer header's V flag says so, else IPv4 in its last 4 bytes. */
static bool
map_addr16(struct walk *w, uint8_t *p, bool v6)
{
	return v6 ? map_addr(w, p, 16) : map_addr(w, p + 12, 4);
}

/* The per-peer header at h (BMP_PEER_HDR_LEN bytes there): address, AS, BGP identifier. */
static bool
rewrite_peer_header(struct walk *w, uint8_t *h)
{
	uint32_t as;

	if (!map_addr16(w, h + 10, (h[1] & BMP_PEER_FLAG_V) != 0) ||
	    !map_addr(w, h + 30, 4))
		return false;
	if (w->rw->as != NULL) {
		if (anon_as_map(w->rw->as, be32_load(h + 26), &as) == -1) {
			anon_walk_fail(&w->how, ANON_MSG_FAILED);
			return false;
		}
		be32_store(h + 26, as);
	}
	return true;
}

static void
pdu_result(struct walk *w, enum anon_msg_result r)
{
	/* A PDU cut inside a whole BMP message is a length that lies. */
	if (r == ANON_MSG_CUT)
		r = w->how.cut ? ANON_MSG_CUT : ANON_MSG_MALFORMED;
	if (r != ANON_MSG_REWRITTEN)
		anon_walk_fail(&w->how, r);
}

/* Whether [p, p + n) is type-length-value items (2-byte type and length) to its end exactly. */
static bool
tlvs_fill(const uint8_t *p, size_t n)
{
	size_t at = 0;

	while (n - at >= 4 && be16_load(p + at + 2) <= n - at - 4)
		at += 4 + be16_load(p + at + 2);
	return at == n;
}

/*
 * BGP PDUs back to back filling [p, p + n).  Some routers put TLVs of
 * their own after the PDU (BMP v4's TLVs, enterprise ones: no addresses
 * known): bytes without a BGP marker that read as TLVs stay as they are.
 */
static void
rewrite_pdus(struct walk *w, uint8_t *p, size_t n,
    const struct bgp_anon_view *v)
{
	static const uint8_t marker[4] = { 0xff, 0xff, 0xff, 0xff };

	while (n > 0 && w->how.result != ANON_MSG_FAILED) {
		size_t mlen;

		if (memcmp(p, marker, n < 4 ? n : 4) != 0 && tlvs_fill(p, n))
			return;
		if (n < BGP_HDR_LEN) {
			anon_walk_overrun(&w->how);
			return;
		}
		mlen = be16_load(p + 16);
		pdu_result(w, bgp_anon_pdu(w->rw, p, n, v));
		if (mlen < BGP_HDR_LEN || mlen > n)
			return;
		p += mlen;
		n -= mlen;
	}
}

/* What a peer's UPDATEs look like: the A flag says 2-byte AS_PATHs; its Peer Up, which families carry path identifiers. */
static void
peer_view(const struct walk *w, const uint8_t *msg, size_t len,
    struct bgp_anon_view *v)
{
	const uint8_t *h = msg + BMP_COMMON_HDR_LEN;
	uint8_t key[BMP_PEER_KEY_LEN];
	const struct peer *p = NULL;

	v->as4 = (h[1] & BMP_PEER_FLAG_A) ? 0 : 1;
	v->addpath = NULL;
	if (bmp_peer_key(msg, len, key))
		p = peer_find(w->s, key);
	if (p != NULL)
		v->addpath = (h[1] & BMP_PEER_FLAG_O) ? &p->to_peer :
		    &p->from_peer;
}

/* Peer Up's two OPENs say what the session negotiated: read before they are rewritten. */
static void
learn_peer_up(struct walk *w, const uint8_t *msg, size_t len,
    const uint8_t *sent, size_t sent_len, const uint8_t *recv,
    size_t recv_len)
{
	struct bgp_open os, orc;
	uint8_t key[BMP_PEER_KEY_LEN];
	struct peer *p;

	if (!bmp_peer_key(msg, len, key) ||
	    bgp_open_parse(sent, sent_len, &os) == -1 ||
	    bgp_open_parse(recv, recv_len, &orc) == -1 ||
	    (p = peer_get(w->s, key)) == NULL)
		return;
	bgp_addpath_from_opens(&orc, &os, &p->from_peer);
	bgp_addpath_from_opens(&os, &orc, &p->to_peer);
}

/* The OPEN at p (n bytes left); its length, or 0 when none is whole there. */
static size_t
open_len(const uint8_t *p, size_t n)
{
	uint8_t type;
	size_t mlen;

	if (bgp_frame(p, n, &type, &mlen) != 1 || type != BGP_OPEN ||
	    mlen > n)
		return 0;
	return mlen;
}

/* Type-length-value items (2-byte type and length) over [p, p + n): information TLVs, Route Mirroring's. */
struct tlv_iter {
	uint8_t	*p;
	size_t	 n, at;
};

struct tlv {
	uint16_t type;
	uint8_t	*val;
	size_t	 len;
};

/*
 * The next item; false at the end, once libcrypto failed, or when not even
 * an item's header is left (an overrun).  An item whose length runs past
 * the end is an overrun too, and its value what is there of it.
 */
static bool
tlv_next(struct walk *w, struct tlv_iter *it, struct tlv *t)
{
	size_t left = it->n - it->at;

	if (left == 0 || w->how.result == ANON_MSG_FAILED)
		return false;
	if (left < 4) {
		anon_walk_overrun(&w->how);
		return false;
	}
	t->type = be16_load(it->p + it->at);
	t->len = be16_load(it->p + it->at + 2);
	if (t->len > left - 4) {
		anon_walk_overrun(&w->how);
		t->len = left - 4;
	}
	t->val = it->p + it->at + 4;
	it->at += 4 + t->len;
	return true;
}

/* Information TLVs: text types become tokens (which ones: `text`; what is there of a cut one too), the others stay. */
static void
rewrite_tlvs(struct walk *w, uint8_t *p, size_t n, bool (*text)(uint16_t))
{
	struct tlv_iter it = { .p = p, .n = n };
	struct tlv t;

	while (tlv_next(w, &it, &t))
		if (text(t.type) &&
		    anon_text_token(w->rw->text, t.val, t.len) == -1)
			anon_walk_fail(&w->how, ANON_MSG_FAILED);
}

/* Initiation (RFC 7854 4.3): string, sysDescr, sysName, and any type defined later: all text. */
static bool
initiation_text(uint16_t type)
{
	(void)type;
	return true;
}

/* Termination (4.5): strings; type 1 is a reason code. */
static bool
termination_text(uint16_t type)
{
	return type != 1;
}

/* Peer Up (4.10; RFC 9069 4.4): strings, sysDescr, sysName, the VRF/table name, an admin label (4): all text. */
static bool
peer_up_text(uint16_t type)
{
	return type <= INFO_ADMIN_LABEL;
}

/* body: the Peer Up after the per-peer header (n bytes there). */
static void
rewrite_peer_up(struct walk *w, uint8_t *msg, size_t len, uint8_t *body,
    size_t n)
{
	bool v6 = (msg[BMP_COMMON_HDR_LEN + 1] & BMP_PEER_FLAG_V) != 0;
	size_t sent, recv;
	uint8_t *so, *ro;

	if (n < PEER_UP_FIXED) {
		if (n >= 16 && !map_addr16(w, body, v6))
			return;
		anon_walk_overrun(&w->how);
		return;
	}
	if (!map_addr16(w, body, v6))
		return;
	so = body + PEER_UP_FIXED;
	if ((sent = open_len(so, n - PEER_UP_FIXED)) == 0) {
		rewrite_pdus(w, so, n - PEER_UP_FIXED, &(struct bgp_anon_view){ .as4 = -1 });
		anon_walk_overrun(&w->how);
		return;
	}
	ro = so + sent;
	if ((recv = open_len(ro, n - PEER_UP_FIXED - sent)) == 0) {
		pdu_result(w, bgp_anon_pdu(w->rw, so, sent,
		    &(struct bgp_anon_view){ .as4 = -1 }));
		rewrite_pdus(w, ro, n - PEER_UP_FIXED - sent,
		    &(struct bgp_anon_view){ .as4 = -1 });
		anon_walk_overrun(&w->how);
		return;
	}
	learn_peer_up(w, msg, len, so, sent, ro, recv);
	pdu_result(w, bgp_anon_pdu(w->rw, so, sent,
	    &(struct bgp_anon_view){ .as4 = -1 }));
	pdu_result(w, bgp_anon_pdu(w->rw, ro, recv,
	    &(struct bgp_anon_view){ .as4 = -1 }));
	rewrite_tlvs(w, ro + recv, n - PEER_UP_FIXED - sent - recv,
	    peer_up_text);
}

/* Route Mirroring (4.7): TLVs, type 0 a BGP message. */
static void
rewrite_mirroring(struct walk *w, uint8_t *p, size_t n,
    const struct bgp_anon_view *v)
{
	struct tlv_iter it = { .p = p, .n = n };
	struct tlv t;

	while (tlv_next(w, &it, &t))
		if (t.type == MIRROR_BGP_PDU)
			rewrite_pdus(w, t.val, t.len, v);
}

/*
 * Route Policy and Attribute Trace (type 100, draft-xu-grow-bmp-route-
 * policy-attr-trace, as Wireshark reads it): flags (V), RD, the prefix
 * (length, a 16-byte field), route origin, event count and length, then
 * events of a fixed part and TLVs: VRF/table (id, name), policy (flags,
 * count, class, peer address, peer router id, peer AS, then names and item
 * ids), pre- and post-policy path attributes, a string.
 */
#define RPAT_FIXED		33
#define RPAT_EVENT_FIXED	18
enum { RPAT_VRF, RPAT_POLICY, RPAT_PRE_POLICY, RPAT_POST_POLICY, RPAT_STRING };

static void
token(struct walk *w, uint8_t *p, size_t n)
{
	if (anon_text_token(w->rw->text, p, n) == -1)
		anon_walk_fail(&w->how, ANON_MSG_FAILED);
}

/* A policy TLV's value (n bytes). */
static void
rewrite_rpat_policy(struct walk *w, uint8_t *p, size_t n)
{
	size_t at = 27;

	if (n < at) {
		anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
		return;
	}
	if (!map_addr16(w, p + 3, (p[0] & BMP_PEER_FLAG_V) != 0) ||
	    !map_addr(w, p + 19, 4))
		return;
	for (unsigned i = 0; i < p[1]; i++) {
		size_t name, id;

		if (n - at < 4) {
			anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
			return;
		}
		name = be16_load(p + at);
		id = be16_load(p + at + 2);
		at += 4;
		if (name + id + 1 > n - at) {
			anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
			return;
		}
		token(w, p + at, name);
		token(w, p + at + name, id);
		at += name + id + 1;
	}
}

static void
rewrite_rpat_event(struct walk *w, uint8_t *p, size_t n)
{
	struct bgp_anon_view v = { .as4 = -1 };
	size_t at = RPAT_EVENT_FIXED;

	while (at < n && w->how.result != ANON_MSG_FAILED) {
		uint16_t type;
		size_t vlen;
		uint8_t *val;

		if (n - at < 4 || be16_load(p + at + 2) > n - at - 4) {
			anon_walk_fail(&w->how, ANON_MSG_MALFORMED);
			return;
		}
		type = be16_load(p + at);
		vlen = be16_load(p + at + 2);
		val = p + at + 4;
		switch (type) {
		case RPAT_VRF:
			if (vlen >= 4)
				token(w, val + 4, vlen - 4);
			break;
		case RPAT_POLICY:
			rewrite_rpat_policy(w, val, vlen);
			break;
		case RPAT_PRE_POLICY:
		case RPAT_POST_POLICY:
			pdu_result(w, bgp_anon_attrs(w->rw, val, vlen, &v));
			break;
		case RPAT_STRING:
			token(w, val, vlen);
			break;
		default:
			break;
		}
		at += 4 + vlen;
	}
}

static void
rewrite_rpat(struct walk *w, uint8_t *p, size_t n)
{
	bool v6;
	size_t at = RPAT_FIXED, bits;
	uint8_t *a;

	if (n < RPAT_FIXED) {
		memset(p, 0, n);	/* a cut prefix or address: nothing of it is left */
		anon_walk_overrun(&w->how);
		return;
	}
	v6 = (p[0] & BMP_PEER_FLAG_V) != 0;
	bits = p[9];
	a = v6 ? p + 10 : p + 22;
	if (!map_addr16(w, p + 10, v6))
		return;
	/* A prefix: its bits past the length stay zero. */
	for (size_t i = bits; i < (v6 ? 128u : 32u); i++)
		a[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	for (unsigned e = 0; e < p[30] && w->how.result != ANON_MSG_FAILED; e++) {
		size_t elen;

		if (n - at < 2 || (elen = be16_load(p + at)) < RPAT_EVENT_FIXED ||
		    elen > n - at) {
			anon_walk_overrun(&w->how);
			return;
		}
		rewrite_rpat_event(w, p + at, elen);
		at += elen;
	}
}

enum anon_msg_result
bmp_anon_message(struct bmp_anon_state *s, const struct anon_rewriter *rw,
    uint8_t *msg, size_t len)
{
	struct walk w = { .rw = rw, .s = s, .how.result = ANON_MSG_REWRITTEN };
	struct bgp_anon_view v;
	uint8_t *body;
	size_t mlen, n;

	if (len < BMP_COMMON_HDR_LEN)
		return ANON_MSG_CUT;
	mlen = be32_load(msg + 1);
	if (msg[0] != BMP_VERSION || mlen < BMP_COMMON_HDR_LEN)
		return ANON_MSG_MALFORMED;
	w.how.cut = mlen > len;
	if (!w.how.cut)
		len = mlen;
	body = msg + BMP_COMMON_HDR_LEN;
	n = len - BMP_COMMON_HDR_LEN;
	if (bmp_type_has_peer(msg[5])) {
		if (n < BMP_PEER_HDR_LEN) {
			/* What is there of the header's addresses is not left as it was: it is zeroed. */
			memset(body, 0, n);
			anon_walk_overrun(&w.how);
			return w.how.result;
		}
		if (!rewrite_peer_header(&w, body))
			return w.how.result;
		peer_view(&w, msg, len, &v);
		body += BMP_PEER_HDR_LEN;
		n -= BMP_PEER_HDR_LEN;
	}
	switch (msg[5]) {
	case BMP_ROUTE_MONITORING:
		rewrite_pdus(&w, body, n, &v);
		break;
	case BMP_PEER_UP:
		rewrite_peer_up(&w, msg, len, body, n);
		break;
	case BMP_ROUTE_MIRRORING:
		rewrite_mirroring(&w, body, n, &v);
		break;
	case BMP_INITIATION:
		rewrite_tlvs(&w, body, n, initiation_text);
		break;
	case BMP_TERMINATION:
		rewrite_tlvs(&w, body, n, termination_text);
		break;
	case BMP_RPAT:
		rewrite_rpat(&w, body, n);
		break;
	default:	/* Statistics, Peer Down (a NOTIFICATION or a code): no addresses past the per-peer header; other types unknown */
		break;
	}
	return anon_walk_end(&w.how);
}

static enum anon_msg_result
message(void *state, const struct anon_rewriter *rw, struct anon_msg *m)
{
	return bmp_anon_message(state, rw, m->data, m->len);
}

const struct proto_anon bmp_anon = {
	.new = state_new,
	.free = state_free,
	.message = message,
};
