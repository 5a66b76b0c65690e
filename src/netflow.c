/* NetFlow v5/v9 and IPFIX message headers, set walking and template record lengths. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "cursor.h"
#include "flowfix.h"
#include "gen_proto.h"
#include "netflow.h"
#include "netflow_anon.h"
#include "proto.h"

#define NF_V9_HDR_LEN		20
#define NF_IPFIX_HDR_LEN	16
#define NF_SET_HDR_LEN		4

#define IPFIX_ENTERPRISE_BIT	0x8000

_Static_assert(NF_SET_HDR_LEN == 4, "set header is id + length");

static size_t
nf_header_len(uint16_t version)
{
	switch (version) {
	case NF_VERSION_5:
		return NF_V5_HDR_LEN;
	case NF_VERSION_9:
		return NF_V9_HDR_LEN;
	case NF_VERSION_IPFIX:
		return NF_IPFIX_HDR_LEN;
	default:
		return 0;
	}
}

static void
parse_v5(struct cursor *c, struct nf_header *h)
{
	uint8_t engine_type, engine_id;

	h->count = cur_u16(c);
	h->uptime_ms = cur_u32(c);
	h->export_secs = cur_u32(c);
	(void)cur_u32(c);		/* unix_nsecs: not needed by anyone yet */
	h->sequence = cur_u32(c);
	engine_type = cur_u8(c);
	engine_id = cur_u8(c);
	(void)cur_u16(c);		/* sampling interval */
	h->domain = (uint32_t)engine_type << 8 | engine_id;
}

static void
parse_v9(struct cursor *c, struct nf_header *h)
{
	h->count = cur_u16(c);
	h->uptime_ms = cur_u32(c);
	h->export_secs = cur_u32(c);
	h->sequence = cur_u32(c);
	h->domain = cur_u32(c);
}

static void
parse_ipfix(struct cursor *c, struct nf_header *h)
{
	h->length = cur_u16(c);
	h->export_secs = cur_u32(c);
	h->sequence = cur_u32(c);
	h->domain = cur_u32(c);
}

int
nf_parse_header(const uint8_t *p, size_t len, struct nf_header *h)
{
	struct cursor c = cur_init(p, len);

	memset(h, 0, sizeof(*h));
	h->version = cur_u16(&c);
	h->header_len = nf_header_len(h->version);
	if (!cur_ok(&c) || h->header_len == 0 || len < h->header_len)
		goto bad;
	switch (h->version) {
	case NF_VERSION_5:
		parse_v5(&c, h);
		break;
	case NF_VERSION_9:
		parse_v9(&c, h);
		break;
	default:
		parse_ipfix(&c, h);
		/* A message shorter than its own header cannot be IPFIX. */
		if (h->length < NF_IPFIX_HDR_LEN)
			goto bad;
		break;
	}
	if (!cur_ok(&c))
		goto bad;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/*
 * The bytes that hold sets: for IPFIX the header's length says where the
 * message ends (and it must fit in the datagram); v9 has no message length,
 * so its sets run to the end of the datagram.
 */
static int
sets_region(const uint8_t *p, size_t len, struct nf_header *h,
    struct cursor *sets)
{
	size_t end;

	if (nf_parse_header(p, len, h) == -1)
		return -1;
	if (h->version == NF_VERSION_5) {
		errno = EINVAL;
		return -1;
	}
	end = h->version == NF_VERSION_IPFIX ? h->length : len;
	if (end > len) {
		errno = EMSGSIZE;
		return -1;
	}
	*sets = cur_init(p + h->header_len, end - h->header_len);
	return 0;
}

/* v9 exporters may pad the datagram after the last FlowSet with zeros. */
static bool
is_zero_padding(const struct cursor *c)
{
	for (size_t i = 0; i < cur_left(c); i++)
		if (c->p[i] != 0)
			return false;
	return true;
}

int
nf_sets_begin(const uint8_t *p, size_t len, struct nf_set_iter *it)
{
	struct nf_header h;

	memset(it, 0, sizeof(*it));
	if (sets_region(p, len, &h, &it->sets) == -1)
		return -1;
	it->start = p;
	it->version = h.version;
	return 0;
}

int
nf_set_next(struct nf_set_iter *it, struct nf_set *set)
{
	struct cursor *c = &it->sets;
	uint16_t id, slen;

	if (!cur_ok(c)) {
		errno = EBADMSG;
		return -1;
	}
	if (cur_left(c) == 0)
		return 0;
	if (cur_left(c) < NF_SET_HDR_LEN &&
	    it->version == NF_VERSION_9 && is_zero_padding(c)) {
		(void)cur_skip(c, cur_left(c));
		return 0;
	}
	set->offset = (size_t)(c->p - it->start);
	id = cur_u16(c);
	slen = cur_u16(c);
	set->body = c->p;
	if (!cur_ok(c) || slen < NF_SET_HDR_LEN ||
	    !cur_skip(c, slen - NF_SET_HDR_LEN)) {
		c->bad = true;
		errno = EBADMSG;
		return -1;
	}
	set->id = id;
	set->length = slen;
	set->body_len = slen - NF_SET_HDR_LEN;
	return 1;
}

int
nf_set_ids(const uint8_t *p, size_t len, uint16_t *ids, size_t max)
{
	struct nf_set_iter it;
	struct nf_set set;
	size_t n = 0;
	int rc;

	if (nf_sets_begin(p, len, &it) == -1)
		return -1;
	while ((rc = nf_set_next(&it, &set)) == 1) {
		if (n < max && ids != NULL)
			ids[n] = set.id;
		/* A datagram holds at most 64 KiB / 4 sets: no int overflow. */
		n++;
	}
	return rc == -1 ? -1 : (int)n;
}

/* --info without a config: the header and lengths agree with themselves. */
bool
nf_classify(const uint8_t *p, size_t len)
{
	struct nf_header h;

	if (nf_parse_header(p, len, &h) == -1)
		return false;
	switch (h.version) {
	case NF_VERSION_5:
		return h.count >= 1 && h.count <= NF_V5_MAX_RECORDS &&
		    len == NF_V5_HDR_LEN + (size_t)h.count * NF_V5_RECORD_LEN;
	case NF_VERSION_IPFIX:
		return h.length == len;
	default:
		return nf_set_ids(p, len, NULL, 0) > 0;
	}
}

bool
nf_is_template_set(uint16_t version, uint16_t set_id)
{
	if (version == NF_VERSION_9)
		return set_id == NF9_TEMPLATE_SET || set_id == NF9_OPTIONS_SET;
	return set_id == IPFIX_TEMPLATE_SET || set_id == IPFIX_OPTIONS_SET;
}

/*
 * Sum the field lengths of the template's field specifiers: the record
 * length, 0 when a variable-length field makes it depend on the record,
 * and the shortest record possible (a variable field takes at least its
 * one length byte).  IPFIX specifiers with the enterprise bit carry a
 * 4-byte enterprise number; v9 has neither that bit nor variable lengths.
 */
static void
sum_fields(struct cursor *c, struct nf_template *t)
{
	uint32_t total = 0, min = 0;
	bool varlen = false;

	t->specs = c->p;
	for (unsigned i = 0; i < t->field_count; i++) {
		uint16_t type = cur_u16(c);
		uint16_t flen = cur_u16(c);

		if (t->version == NF_VERSION_IPFIX) {
			if (type & IPFIX_ENTERPRISE_BIT)
				(void)cur_u32(c);
			if (flen == IPFIX_VARLEN) {
				varlen = true;
				min += 1;
				continue;
			}
		}
		total += flen;
		min += flen;
	}
	t->record_len = varlen ? 0 : total;
	t->min_record_len = min;
}

/* v9 options templates give the scope and option parts as byte lengths. */
static int
template_v9_options(struct cursor *c, struct nf_template *t)
{
	uint16_t scope_bytes = cur_u16(c);
	uint16_t opt_bytes = cur_u16(c);

	if (!cur_ok(c) || scope_bytes % 4 != 0 || opt_bytes % 4 != 0)
		return -1;
	t->scope_count = scope_bytes / 4;
	t->field_count = (uint16_t)((scope_bytes + opt_bytes) / 4);
	sum_fields(c, t);
	return 0;
}

int
nf_template_parse(uint16_t version, uint16_t set_id, const uint8_t *p,
    size_t len, struct nf_template *t)
{
	struct cursor c = cur_init(p, len);
	bool options = set_id == NF9_OPTIONS_SET || set_id == IPFIX_OPTIONS_SET;

	memset(t, 0, sizeof(*t));
	t->version = version;
	t->id = cur_u16(&c);
	if (version == NF_VERSION_9 && options) {
		if (template_v9_options(&c, t) == -1)
			goto bad;
	} else {
		t->field_count = cur_u16(&c);
		/* A field count of 0 withdraws the template (RFC 7011 8.1). */
		if (t->field_count != 0 && options && version ==
		    NF_VERSION_IPFIX) {
			t->scope_count = cur_u16(&c);
			/* RFC 7011 3.4.2.2: at least one scope field, and no more than fields. */
			if (t->scope_count == 0 ||
			    t->scope_count > t->field_count)
				goto bad;
		}
		sum_fields(&c, t);
	}
	if (!cur_ok(&c))
		goto bad;
	/*
	 * Template ids start at 256, except that an IPFIX withdrawal may name
	 * the set id itself to withdraw every template of that kind.
	 */
	if (t->id < NF_MIN_DATA_SET_ID && !(t->field_count == 0 &&
	    version == NF_VERSION_IPFIX && t->id == set_id))
		goto bad;
	t->consumed = len - cur_left(&c);
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

void
nf_template_fields(const struct nf_template *t, struct nf_field *f)
{
	/* The specifiers were bounds-checked by nf_template_parse. */
	struct cursor c = cur_init(t->specs, t->consumed);

	for (unsigned i = 0; i < t->field_count; i++) {
		uint16_t type = cur_u16(&c);

		f[i].len = cur_u16(&c);
		f[i].pen = 0;
		f[i].ie = type;
		if (t->version == NF_VERSION_IPFIX &&
		    (type & IPFIX_ENTERPRISE_BIT)) {
			f[i].ie = type & ~IPFIX_ENTERPRISE_BIT;
			f[i].pen = cur_u32(&c);
		}
	}
}

/* RFC 7011 7: one length byte, or 255 and then two. */
static bool
skip_varlen(struct cursor *c)
{
	uint16_t n = cur_u8(c);

	if (n == 255)
		n = cur_u16(c);
	return cur_skip(c, n);
}

size_t
nf_record_len(uint16_t version, const struct nf_field *f, size_t n,
    const uint8_t *p, size_t len, uint32_t *off)
{
	struct cursor c = cur_init(p, len);

	for (size_t i = 0; i < n; i++) {
		if (off != NULL)
			off[i] = (uint32_t)(len - cur_left(&c));
		if (version == NF_VERSION_IPFIX && f[i].len == IPFIX_VARLEN) {
			if (!skip_varlen(&c))
				return 0;
		} else if (!cur_skip(&c, f[i].len))
			return 0;
	}
	return len - cur_left(&c);
}

/* ipfix_h: version, and domain (v5 has none: its engine type and id stand in for one). */
static bool
ipfix_filter_datagram(const uint8_t *p, size_t len,
    const struct proto_filter_query *q)
{
	struct nf_header h;

	return nf_parse_header(p, len, &h) == 0 &&
	    q->passes(q->ctx, 0, h.version) && q->passes(q->ctx, 1, h.domain);
}

static const struct proto_filter ipfix_filter = {
	.key = "ipfix_h",
	.n_keys = 2,
	.keys = {
		{ "version", false, 5, 10, 1u << 5 | 1u << 9 | 1u << 10,
		    "5 (NetFlow v5), 9 (NetFlow v9) or 10 (IPFIX)" },
		{ "domain", false, 0, UINT32_MAX, 0, "an observation domain id "
		    "(IPFIX) or source id (NetFlow v9), 0 to 4294967295" },
	},
	.datagram = ipfix_filter_datagram,
};

/* NetFlow v5, v9 and IPFIX: datagrams, each whole. */
const struct proto ipfix_proto = {
	.name = "ipfix",
	.what = "NetFlow/IPFIX exports",
	.keys = PROTO_KEY_TEMPLATES | PROTO_KEY_SEQUENCE | PROTO_KEY_TIMESTAMPS |
	    PROTO_KEY_SRC_PORT,
	.l4proto = IPPROTO_UDP,
	.filter = &ipfix_filter,
	.fidelity = &ipfix_fidelity,	/* flowfix.c */
	.anon = &ipfix_anon,		/* netflow_anon.c */
	.gen = &nf_gen,			/* gen_nf.c */
};
