/*
 * NetFlow v5, v9 and IPFIX datagrams pseudonymized in place: every address
 * field of v5's flow records, and of v9/IPFIX data and options data records
 * laid out by the templates the same exporter sent before.
 */
#include <errno.h>
#include <stdlib.h>

#include "netflow_anon.h"
#include "nf_templates.h"

/* One exporter's templates: a capture may not make it hold more (hostile input). */
#define MAX_TEMPLATES		4096
#define MAX_TEMPLATE_BYTES	(4u << 20)

/* v5 flow record: srcaddr, dstaddr, nexthop at its start. */
#define V5_ADDRESSES		3

/*
 * The IANA registry's information elements of abstract type ipv4Address
 * (4 bytes) and ipv6Address (16 bytes).  Prefixes (44, 45, 169, 170) are
 * addresses too: Crypto-PAn keeps prefixes, so mapping them is enough.
 * Checked against the registry as Debian's python3-ipfix ships it
 * (ipfix/iana.iespec); elements registered since are not listed yet.
 */
static const uint16_t ipv4_ies[] = {
	8,	/* sourceIPv4Address */
	12,	/* destinationIPv4Address */
	15,	/* ipNextHopIPv4Address */
	18,	/* bgpNextHopIPv4Address */
	43,	/* ipv4RouterSc */
	44,	/* sourceIPv4Prefix */
	45,	/* destinationIPv4Prefix */
	47,	/* mplsTopLabelIPv4Address */
	130,	/* exporterIPv4Address */
	211,	/* collectorIPv4Address */
	225,	/* postNATSourceIPv4Address */
	226,	/* postNATDestinationIPv4Address */
	366,	/* staIPv4Address */
	403,	/* originalExportersIPv4Address */
	432,	/* pseudoWireDestinationIPv4Address */
};

static const uint16_t ipv6_ies[] = {
	27,	/* sourceIPv6Address */
	28,	/* destinationIPv6Address */
	62,	/* ipNextHopIPv6Address */
	63,	/* bgpNextHopIPv6Address */
	131,	/* exporterIPv6Address */
	140,	/* mplsTopLabelIPv6Address */
	169,	/* destinationIPv6Prefix */
	170,	/* sourceIPv6Prefix */
	212,	/* collectorIPv6Address */
	281,	/* postNATSourceIPv6Address */
	282,	/* postNATDestinationIPv6Address */
	404,	/* originalExportersIPv6Address */
};

/* Abstract type macAddress (6 bytes): mapped as a frame's MACs are (anon_mac_map). */
static const uint16_t mac_ies[] = {
	56,	/* sourceMacAddress */
	57,	/* postDestinationMacAddress */
	80,	/* destinationMacAddress */
	81,	/* postSourceMacAddress */
	365,	/* staMacAddress */
	367,	/* wtpMacAddress */
	414,	/* dot1qCustomerSourceMacAddress */
	415,	/* dot1qCustomerDestinationMacAddress */
};

static bool
listed(const uint16_t *ies, size_t n, uint16_t ie)
{
	for (size_t i = 0; i < n; i++)
		if (ies[i] == ie)
			return true;
	return false;
}

static uint8_t
listed_len(uint16_t ie)
{
	if (listed(ipv4_ies, sizeof(ipv4_ies) / sizeof(ipv4_ies[0]), ie))
		return 4;
	if (listed(ipv6_ies, sizeof(ipv6_ies) / sizeof(ipv6_ies[0]), ie))
		return 16;
	if (listed(mac_ies, sizeof(mac_ies) / sizeof(mac_ies[0]), ie))
		return 6;
	return 0;
}

/*
 * The lists as a table by element id, made on first use: the question is
 * asked for every field of every record (scanning the lists was a fifth
 * of a run).  Elements past the table are looked up in the lists.
 */
#define IE_TABLE	1024
static uint8_t ie_len[IE_TABLE];	/* 0: not an address */
static bool ie_table_made;

bool
nf_anon_address_ie(uint16_t ie, uint16_t *len)
{
	uint8_t l;

	if (!ie_table_made) {
		for (uint16_t i = 0; i < IE_TABLE; i++)
			ie_len[i] = listed_len(i);
		ie_table_made = true;
	}
	l = ie < IE_TABLE ? ie_len[ie] : listed_len(ie);
	if (l == 0)
		return false;
	*len = l;
	return true;
}

static void *
state_new(void)
{
	struct nf_templates *s = malloc(sizeof(*s));

	if (s != NULL)
		nf_templates_init(s, MAX_TEMPLATES, MAX_TEMPLATE_BYTES,
		    NF_TEMPLATES_FIELDS);
	return s;
}

static void
state_free(void *state)
{
	if (state != NULL)
		nf_templates_free(state);
	free(state);
}

/* An address, or a MAC (len 6); -1 when libcrypto failed (errno set). */
static int
map_in_place(const struct anon_rewriter *rw, uint8_t *p, size_t len)
{
	if (len == 6)
		return anon_mac_map(rw->addr, p, p);
	return anon_addr_map_bytes(rw->addr, p, p, len);
}

/* h: the datagram's header, which it holds whole. */
static enum anon_msg_result
rewrite_v5(const struct anon_rewriter *rw, struct anon_msg *m,
    const struct nf_header *h)
{
	size_t fit = (m->len - NF_V5_HDR_LEN) / NF_V5_RECORD_LEN;
	size_t records = h->count < fit ? h->count : fit;

	for (size_t i = 0; i < records; i++) {
		uint8_t *r = m->data + NF_V5_HDR_LEN + i * NF_V5_RECORD_LEN;

		for (size_t a = 0; a < V5_ADDRESSES; a++)
			if (map_in_place(rw, r + 4 * a, 4) == -1)
				return ANON_MSG_FAILED;
	}
	return records == h->count ? ANON_MSG_REWRITTEN : ANON_MSG_MALFORMED;
}

/* One v9/IPFIX datagram being rewritten. */
struct walk {
	struct nf_templates		*templates;
	const struct anon_rewriter	*rw;
	struct nf_header		 h;
};

/* Templates are the exporter's (the state is): scope 0, by domain and id. */
static struct nf_template_key
template_key(const struct nf_header *h, uint16_t id)
{
	struct nf_template_key k = { .scope = 0, .domain = h->domain,
	    .version = h->version, .id = id };

	return k;
}

/* A definition or withdrawal; one over the caps is not kept (its data stays as captured, counted). */
static enum anon_msg_result
learn_template(struct walk *w, uint16_t set_id, const struct nf_template *nt,
    const uint8_t *rec)
{
	struct nf_template_key k = template_key(&w->h, nt->id);

	if (nt->field_count == 0) {
		/* IPFIX: naming the set id withdraws all of its kind (RFC 7011 8.1). */
		if (nt->id < NF_MIN_DATA_SET_ID)
			(void)nf_templates_withdraw_all(w->templates, 0,
			    w->h.version, w->h.domain, set_id);
		else
			(void)nf_templates_withdraw(w->templates, &k);
		return ANON_MSG_REWRITTEN;
	}
	if (nf_templates_define(w->templates, &k, set_id, nt, rec) ==
	    NF_DEFINE_NO_MEMORY) {
		errno = ENOMEM;
		return ANON_MSG_FAILED;
	}
	return ANON_MSG_REWRITTEN;
}

/* Template records hold no addresses: only learnt.  Fewer than 4 bytes left is set padding. */
static enum anon_msg_result
template_set(struct walk *w, const struct nf_set *set)
{
	const uint8_t *p = set->body;
	size_t left = set->body_len;
	struct nf_template nt;
	enum anon_msg_result rc;

	while (left >= 4) {
		if (nf_template_parse(w->h.version, set->id, p, left,
		    &nt) == -1)
			return ANON_MSG_MALFORMED;
		if ((rc = learn_template(w, set->id, &nt, p)) !=
		    ANON_MSG_REWRITTEN)
			return rc;
		p += nt.consumed;
		left -= nt.consumed;
	}
	return ANON_MSG_REWRITTEN;
}

/* One field's value: its length read from the record when variable (RFC 7011 7); false when it runs past the set. */
static bool
field_value(uint16_t version, const struct nf_field *f, struct cursor *c,
    size_t *len)
{
	*len = f->len;
	if (version == NF_VERSION_IPFIX && f->len == IPFIX_VARLEN) {
		*len = cur_u8(c);
		if (*len == 255)
			*len = cur_u16(c);
	}
	return cur_need(c, *len);
}

/* An IETF address field of its type's length; anything else (enterprise, variable or odd lengths) is not one. */
static bool
is_address(const struct nf_field *f, size_t len)
{
	uint16_t want;

	return f->pen == 0 && nf_anon_address_ie(f->ie, &want) &&
	    len == want;
}

/* Map the address fields of the record at the start of rec, as far as its len bytes hold them. */
static enum anon_msg_result
map_fields(struct walk *w, const struct nf_stored_template *t, uint8_t *rec,
    size_t len)
{
	struct cursor c = cur_init(rec, len);
	size_t vlen;

	for (size_t i = 0; i < t->field_count; i++) {
		if (!field_value(w->h.version, &t->fields[i], &c, &vlen))
			break;
		if (is_address(&t->fields[i], vlen) &&
		    map_in_place(w->rw, rec + (len - cur_left(&c)), vlen) == -1)
			return ANON_MSG_FAILED;
		(void)cur_skip(&c, vlen);
	}
	return ANON_MSG_REWRITTEN;
}

static bool
all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/*
 * The record at the start of rec, its length into *used (0: the rest of
 * the set).  One that runs past the set is padding when all zeros (left
 * as it is), else malformed: mapped as far as it goes.
 */
static enum anon_msg_result
rewrite_record(struct walk *w, const struct nf_stored_template *t,
    uint8_t *rec, size_t len, size_t *used)
{
	enum anon_msg_result rc;

	*used = nf_record_len(w->h.version, t->fields, t->field_count, rec,
	    len, NULL);
	if (*used != 0)
		return map_fields(w, t, rec, *used);
	if (all_zero(rec, len))
		return ANON_MSG_REWRITTEN;
	rc = map_fields(w, t, rec, len);
	return rc == ANON_MSG_FAILED ? rc : ANON_MSG_MALFORMED;
}

/*
 * Data or options data records, laid out by their template; without one
 * the set stays as captured (counted).  What is left shorter than the
 * shortest record is padding.
 */
static enum anon_msg_result
data_set(struct walk *w, uint8_t *msg, const struct nf_set *set)
{
	struct nf_template_key k = template_key(&w->h, set->id);
	const struct nf_stored_template *t;
	uint8_t *body = msg + (set->body - msg);	/* the caller's bytes, writable */
	size_t off = 0, used;
	enum anon_msg_result rc;

	if ((t = nf_templates_find(w->templates, &k)) == NULL) {
		w->rw->counts->no_layout++;
		return ANON_MSG_REWRITTEN;
	}
	while (off < set->body_len && set->body_len - off >= t->min_record_len) {
		rc = rewrite_record(w, t, body + off, set->body_len - off,
		    &used);
		if (rc != ANON_MSG_REWRITTEN || used == 0)
			return rc;
		off += used;
	}
	return ANON_MSG_REWRITTEN;
}

static enum anon_msg_result
rewrite_sets(struct walk *w, struct anon_msg *m)
{
	struct nf_set_iter it;
	struct nf_set set;
	enum anon_msg_result rc = ANON_MSG_REWRITTEN;
	int more = 0;

	if (nf_sets_begin(m->data, m->len, &it) == -1)
		return ANON_MSG_MALFORMED;
	while (rc == ANON_MSG_REWRITTEN && (more = nf_set_next(&it, &set)) == 1) {
		if (nf_is_template_set(w->h.version, set.id))
			rc = template_set(w, &set);
		else if (set.id >= NF_MIN_DATA_SET_ID)
			rc = data_set(w, m->data, &set);
	}
	if (rc == ANON_MSG_REWRITTEN && more == -1)
		rc = ANON_MSG_MALFORMED;
	return rc;
}

static enum anon_msg_result
rewrite_message(void *state, const struct anon_rewriter *rw,
    struct anon_msg *m)
{
	struct walk w = { .templates = state, .rw = rw };

	if (nf_parse_header(m->data, m->len, &w.h) == -1)
		return ANON_MSG_MALFORMED;
	if (w.h.version == NF_VERSION_5)
		return rewrite_v5(rw, m, &w.h);
	return rewrite_sets(&w, m);
}

/* The ipfix descriptor's (netflow.c): templates per exporter, as a collector keeps them. */
const struct proto_anon ipfix_anon = {
	.new = state_new,
	.free = state_free,
	.message = rewrite_message,
};
