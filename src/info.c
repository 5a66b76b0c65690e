/* Info mode: reads captures through source, select, stream and the protocol parsers, and sums them up per exporter. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "bmp.h"
#include "flowkey.h"
#include "framer.h"
#include "grow.h"
#include "hash.h"
#include "info.h"
#include "info_model.h"
#include "netflow.h"
#include "log.h"
#include "select.h"
#include "source.h"
#include "stream.h"

/* Out-of-order bytes held per direction before a hole is declared lost (as the replay, but half: no sending waits). */
#define STREAM_MAX_HELD		(4u * 1024 * 1024)
/* Caps on what the wire decides the number of: beyond them, things are counted, not itemised (more in info_model.h). */
#define MAX_TEMPLATES		4096	/* per exporter, version and domain */
#define MAX_PEERS		65536	/* per BMP session */
#define MAX_TEXT		4096	/* bytes of sysName / sysDescr kept */
/* How far into a direction's first bytes the content is looked at to tell BGP from BMP from the rest. */

/* ---- small helpers ------------------------------------------------------ */

const unsigned info_cap_limit[CAP_COUNT] = {
	[CAP_EXPORTERS] = MAX_EXPORTERS,
	[CAP_DOMAINS] = MAX_DOMAINS,
	[CAP_TEMPLATES] = MAX_TEMPLATES_TOTAL,
	[CAP_FIELDS] = MAX_FIELDS_TOTAL,
	[CAP_CONNS] = MAX_CONNS,
	[CAP_PEERS] = MAX_PEERS_TOTAL,
};

const char *const info_cap_names[CAP_COUNT] = {
	[CAP_EXPORTERS] = "exporters",
	[CAP_DOMAINS] = "NetFlow/IPFIX domains per exporter",
	[CAP_TEMPLATES] = "templates",
	[CAP_FIELDS] = "template fields",
	[CAP_CONNS] = "TCP sessions",
	[CAP_PEERS] = "BMP peers",
};

/* Something past a cap: counted in not_tracked, and the cap named the first time. */
static void
not_tracked(struct info *inf, enum info_cap cap)
{
	inf->not_tracked++;
	if (inf->caps_hit & 1u << cap)
		return;
	inf->caps_hit |= 1u << cap;
	log_warnx("info: more than %u %s: the rest is not itemised, only "
	    "counted in not_tracked", info_cap_limit[cap],
	    info_cap_names[cap]);
}

/*
 * grow_array to hold item n, for the arrays kept per exporter, domain,
 * session or peer: most hold one or two items of up to a few hundred
 * bytes, and there can be 65,536 of them, so the first allocation holds
 * one item, not grow_array's 16 (a max of one makes grow_array stop
 * there); from then on it doubles up to max.
 */
static int
grow_one(void *arrayp, size_t *cap, size_t elem, size_t n, size_t max)
{
	return grow_array(arrayp, cap, elem, n + 1, *cap == 0 ? 1 : max);
}

static void
note(struct info *inf, struct reasons *rs, const char *why)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i].why == why) {
			rs->r[i].count++;
			return;
		}
	if (grow_one(&rs->r, &rs->cap, sizeof(rs->r[0]), rs->n,
	    MAX_REASONS) == -1) {
		rs->other++;
		return;
	}
	rs->r[rs->n++] = (struct reason){ .why = why, .count = 1,
	    .first_frame = inf->frame, .first_file = inf->nfiles - 1 };
}

/* ---- life cycle --------------------------------------------------------- */

struct info *
info_new(const struct config *cfg)
{
	struct info *inf = calloc(1, sizeof(*inf));

	if (inf == NULL)
		return NULL;
	inf->cfg = cfg;
	inf->held.max = MAX_HELD_TOTAL;
	nf_templates_init(&inf->templates, MAX_TEMPLATES_TOTAL,
	    MAX_FIELDS_TOTAL * sizeof(struct nf_field), NF_TEMPLATES_FIELDS);
	if (cfg != NULL && (inf->sel = selector_new(cfg)) == NULL) {
		free(inf);
		errno = ENOMEM;
		return NULL;
	}
	return inf;
}

static void
free_dir(struct dir *d)
{
	stream_free(d->stream);
	framer_free(&d->fr);
	sniff_free(&d->sniff);
	free(d->bad.r);
	free(d->bgp.open);
	free(d->bgp.fam.f);
	free(d->bmp.sys_name);
	free(d->bmp.sys_descr);
	for (size_t i = 0; i < d->bmp.np; i++) {
		free(d->bmp.peers[i].recv_open);
		free(d->bmp.peers[i].fam.f);
		free(d->bmp.peers[i].bad.r);
	}
	free(d->bmp.peers);
}

void
info_free(struct info *inf)
{
	if (inf == NULL)
		return;
	for (size_t i = 0; i < EXPORTER_BUCKETS; i++)
		for (struct exporter *e = inf->exp_buckets[i], *n; e; e = n) {
			n = e->next;
			for (size_t k = 0; k < e->nd; k++)
				free(e->dom[k].t);
			free(e->dom);
			for (int id = 0; id < SECTION_COUNT; id++)
				if (e->proto[id] != NULL)
					protocols[id]->count->free(e->proto[id]);
			free(e->bad.r);
			free(e);
		}
	for (size_t i = 0; i < inf->n_conns; i++) {
		free_dir(&inf->conns[i]->d[0]);
		free_dir(&inf->conns[i]->d[1]);
		free(inf->conns[i]);
	}
	free(inf->conns);
	for (size_t i = 0; i < inf->nfiles; i++) {
		free(inf->files[i].path);
		free(inf->files[i].error);
	}
	free(inf->files);
	selector_free(inf->sel);
	nf_templates_free(&inf->templates);
	free(inf);
}

struct exporter *
info_exporter_get(struct info *inf, const struct tr_addr *a)
{
	uint32_t b = addr_hash(a, FNV1A_BASIS) % EXPORTER_BUCKETS;
	struct exporter *e;

	for (e = inf->exp_buckets[b]; e != NULL; e = e->next)
		if (addr_equal(&e->addr, a))
			return e;
	if (inf->n_exporters == MAX_EXPORTERS) {
		not_tracked(inf, CAP_EXPORTERS);
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		inf->oom = true;
		return NULL;
	}
	e->addr = *a;
	e->map_index = inf->sel ? select_exporter(inf->sel, a) : -1;
	e->next = inf->exp_buckets[b];
	inf->exp_buckets[b] = e;
	inf->n_exporters++;
	return e;
}

/* ---- NetFlow / IPFIX ---------------------------------------------------- */

static struct flow_domain *
domain_get(struct info *inf, struct exporter *e, uint16_t version,
    uint32_t domain)
{
	for (size_t i = 0; i < e->nd; i++)
		if (e->dom[i].version == version && e->dom[i].domain == domain)
			return &e->dom[i];
	if (e->nd == MAX_DOMAINS) {
		not_tracked(inf, CAP_DOMAINS);
		return NULL;
	}
	if (grow_one(&e->dom, &e->capd, sizeof(*e->dom), e->nd,
	    MAX_DOMAINS) == -1) {
		inf->oom = true;
		return NULL;
	}
	e->dom[e->nd] = (struct flow_domain){ .version = version,
	    .domain = domain };
	return &e->dom[e->nd++];
}

static struct tmpl *
tmpl_get(struct info *inf, struct flow_domain *d, uint16_t id)
{
	for (size_t i = 0; i < d->nt; i++)
		if (d->t[i].id == id)
			return &d->t[i];
	if (inf->n_templates == MAX_TEMPLATES_TOTAL) {
		not_tracked(inf, CAP_TEMPLATES);
		return NULL;
	}
	if (grow_one(&d->t, &d->capt, sizeof(*d->t), d->nt,
	    MAX_TEMPLATES) == -1) {
		d->templates_not_tracked++;
		return NULL;
	}
	d->t[d->nt] = (struct tmpl){ .id = id };
	inf->n_templates++;
	return &d->t[d->nt++];
}

/*
 * Information elements that describe packet sampling (RFC 3954 and the
 * IANA IPFIX registry: samplingInterval, samplingAlgorithm, samplerId,
 * samplerMode, samplerRandomInterval, selectorId, selectorAlgorithm,
 * samplingPacketInterval ... samplingProbability): an options template
 * with one is how a router tells the collector its sampling rate.
 */
static bool
is_sampling_ie(const struct nf_field *f)
{
	return f->pen == 0 && ((f->ie >= 34 && f->ie <= 35) ||
	    (f->ie >= 48 && f->ie <= 50) || (f->ie >= 302 && f->ie <= 311));
}

/* The definition in force of template id of d is kept per exporter (which stays where it is until info_free). */
static struct nf_template_key
template_key(const struct exporter *e, const struct flow_domain *d,
    uint16_t id)
{
	struct nf_template_key k = { .scope = (uintptr_t)e,
	    .domain = d->domain, .version = d->version, .id = id };

	return k;
}

/* Store a definition: false when it was not kept (the one before stays in force). */
static bool
template_store(struct info *inf, const struct nf_template_key *k,
    uint16_t set_id, const struct nf_template *nt, const uint8_t *rec)
{
	switch (nf_templates_define(&inf->templates, k, set_id, nt, rec)) {
	case NF_DEFINE_NEW:
	case NF_DEFINE_SAME:
	case NF_DEFINE_CHANGED:
		return true;
	case NF_DEFINE_OVER_ENTRIES:
		not_tracked(inf, CAP_TEMPLATES);
		return false;
	case NF_DEFINE_OVER_BYTES:
		/* A definition with more fields than are left. */
		not_tracked(inf, CAP_FIELDS);
		return false;
	case NF_DEFINE_NO_MEMORY:
		break;
	}
	inf->oom = true;
	return false;
}

static void
template_define(struct info *inf, struct exporter *e, struct flow_domain *d,
    uint16_t set_id, const struct nf_template *nt, const uint8_t *rec)
{
	struct tmpl *t = tmpl_get(inf, d, nt->id);
	struct nf_template_key k = template_key(e, d, nt->id);
	bool options = set_id == NF9_OPTIONS_SET || set_id == IPFIX_OPTIONS_SET;
	const struct nf_field *f;

	if (t == NULL)
		return;
	if (nt->field_count == 0) {
		/* An IPFIX withdrawal; naming the set id withdraws them all (RFC 7011 8.1). */
		if (nt->id < NF_MIN_DATA_SET_ID)
			d->withdraw_all++;
		t->withdrawals++;
		(void)nf_templates_withdraw(&inf->templates, &k);
		return;
	}
	if (!template_store(inf, &k, set_id, nt, rec))
		return;
	f = nf_templates_find(&inf->templates, &k)->fields;
	t->definitions++;
	t->options = options;
	t->field_count = nt->field_count;
	t->scope_count = nt->scope_count;
	t->sampling = false;
	for (size_t i = 0; options && i < nt->field_count; i++)
		t->sampling |= is_sampling_ie(&f[i]);
}

static void
template_set(struct info *inf, struct exporter *e, struct flow_domain *d,
    const struct nf_set *set)
{
	bool options = set->id == NF9_OPTIONS_SET ||
	    set->id == IPFIX_OPTIONS_SET;
	const uint8_t *p = set->body;
	size_t left = set->body_len;
	struct nf_template nt;

	if (options)
		d->options_template_sets++;
	else
		d->template_sets++;
	/* Fewer than 4 bytes left is set padding. */
	while (left >= 4) {
		if (nf_template_parse(d->version, set->id, p, left,
		    &nt) == -1) {
			note(inf, &e->bad, "template record truncated or "
			    "impossible (an id under 256, a scope count of 0)");
			return;
		}
		template_define(inf, e, d, set->id, &nt, p);
		p += nt.consumed;
		left -= nt.consumed;
	}
}

/* Data records in a set, laid out by the template in force; trailing bytes shorter than a record are padding. */
static uint64_t
count_records(const struct flow_domain *d, const struct nf_stored_template *t,
    const struct nf_set *set)
{
	size_t off = 0, r;
	uint64_t n = 0;

	while (off < set->body_len && (r = nf_record_len(d->version,
	    t->fields, t->field_count, set->body + off, set->body_len - off,
	    NULL)) > 0) {
		off += r;
		n++;
	}
	return n;
}

static void
data_set(struct info *inf, struct exporter *e, struct flow_domain *d,
    const struct nf_set *set)
{
	struct tmpl *t = tmpl_get(inf, d, set->id);
	struct nf_template_key k = template_key(e, d, set->id);
	const struct nf_stored_template *st;

	d->data_sets++;
	if (t == NULL)
		return;
	t->data_sets++;
	if ((st = nf_templates_find(&inf->templates, &k)) == NULL) {
		d->data_sets_without_template++;
		return;
	}
	t->data_records += count_records(d, st, set);
}

static void
flow_sets(struct info *inf, struct exporter *e, struct flow_domain *d,
    const struct tr_packet *pkt)
{
	struct nf_set_iter it;
	struct nf_set set;
	int rc;

	if (nf_sets_begin(pkt->payload, pkt->payload_len, &it) == -1) {
		note(inf, &e->bad, "IPFIX message length runs past the "
		    "datagram");
		return;
	}
	while ((rc = nf_set_next(&it, &set)) == 1) {
		if (nf_is_template_set(d->version, set.id))
			template_set(inf, e, d, &set);
		else if (set.id >= NF_MIN_DATA_SET_ID)
			data_set(inf, e, d, &set);
		else
			d->other_sets++;
	}
	if (rc == -1)
		note(inf, &e->bad, "set length impossible (shorter than its "
		    "header or past the message)");
}

static void
flow_datagram(struct info *inf, struct exporter *e,
    const struct tr_packet *pkt)
{
	struct flow_domain *d;
	struct nf_header h;

	if (nf_parse_header(pkt->payload, pkt->payload_len, &h) == -1) {
		note(inf, &e->bad, "not a NetFlow v5/v9 or IPFIX header");
		return;
	}
	if ((d = domain_get(inf, e, h.version, h.domain)) == NULL)
		return;
	d->messages++;
	if (h.version != NF_VERSION_5) {
		flow_sets(inf, e, d, pkt);
		return;
	}
	if (pkt->payload_len < NF_V5_HDR_LEN +
	    (size_t)h.count * NF_V5_RECORD_LEN)
		note(inf, &e->bad, "NetFlow v5 datagram shorter than its "
		    "flow count");
	else
		d->records += h.count;
}

/* Whose datagram it is: its section's with a config, else by its content. */
static int
udp_protocol(const struct tr_packet *pkt, int section)
{
	return section >= 0 ? section :
	    proto_udp_by_content(pkt->payload, pkt->payload_len);
}

/* A datagram of a protocol with a count hook: into the exporter's state for it, made on first use. */
static void
proto_datagram(struct info *inf, struct exporter *e, int id,
    const struct tr_packet *pkt)
{
	const struct proto_count *pc = protocols[id]->count;

	if (e->proto[id] == NULL && (e->proto[id] = pc->new()) == NULL) {
		inf->oom = true;
		return;
	}
	pc->datagram(e->proto[id], pkt->payload, pkt->payload_len);
}

static void
udp_packet(struct info *inf, const struct tr_packet *pkt, int section)
{
	struct exporter *e;
	int id = udp_protocol(pkt, section);

	if (section >= 0 && !select_datagram(&inf->cfg->section[section],
	    section, pkt->payload, pkt->payload_len)) {
		inf->drop.filtered++;
		return;
	}
	if ((e = info_exporter_get(inf, &pkt->src)) == NULL)
		return;
	e->packets++;
	e->bytes += pkt->payload_len;
	if (id == SECTION_IPFIX)
		flow_datagram(inf, e, pkt);
	else if (protocols[id]->count != NULL)
		proto_datagram(inf, e, id, pkt);
	else {
		e->udp_generic_packets++;
		e->udp_generic_bytes += pkt->payload_len;
	}
}

/* ---- BGP ---------------------------------------------------------------- */

/* Add one UPDATE's counts; false when a family past MAX_FAMILIES (or memory) was left out. */
static bool
families_add(struct families *fs, const struct bgp_update_counts *uc)
{
	bool all = true;

	for (size_t i = 0; i < uc->n; i++) {
		const struct bgp_family_count *c = &uc->fam[i];
		struct family *f = NULL;

		for (size_t k = 0; k < fs->n && f == NULL; k++)
			if (fs->f[k].afi == c->afi && fs->f[k].safi == c->safi)
				f = &fs->f[k];
		if (f == NULL && grow_one(&fs->f, &fs->cap, sizeof(fs->f[0]),
		    fs->n, MAX_FAMILIES) == -1) {
			all = false;
			continue;
		}
		if (f == NULL) {
			f = &fs->f[fs->n++];
			*f = (struct family){ .afi = c->afi, .safi = c->safi };
		}
		f->updates++;
		f->announced += c->announced;
		f->withdrawn += c->withdrawn;
		f->end_of_rib += c->end_of_rib;
		f->add_path_guessed += c->add_path_guessed;
	}
	return all;
}

/* Count one UPDATE's prefixes into fs; a malformed one is noted, with what it counted before the fault. */
static void
count_update(struct info *inf, struct reasons *bad, struct families *fs,
    const uint8_t *msg, size_t len, const struct bgp_addpath *ap)
{
	struct bgp_update_counts uc;

	if (bgp_update_count(msg, len, ap, &uc) == -1)
		note(inf, bad, uc.error);
	if (!families_add(fs, &uc))
		note(inf, bad, "UPDATE of an address family past the 64 "
		    "itemised: not counted");
}

static const struct bgp_dir *
other_bgp(const struct dir *d)
{
	return &d->conn->d[1 - d->side].bgp;
}

/*
 * The ADD-PATH families of this direction's UPDATEs, from both OPENs
 * (the other side's missing means this side's offer stands).  Parsed per
 * UPDATE: OPENs are small, and this keeps no state to invalidate.
 */
bool
info_dir_addpath(const struct dir *d, struct bgp_addpath *ap)
{
	const struct bgp_dir *peer = other_bgp(d);
	struct bgp_open mine, theirs;

	ap->n = 0;
	if (d->bgp.open == NULL ||
	    bgp_open_parse(d->bgp.open, d->bgp.open_len, &mine) == -1)
		return false;
	bgp_addpath_from_opens(&mine, peer->open != NULL &&
	    bgp_open_parse(peer->open, peer->open_len, &theirs) == 0 ?
	    &theirs : NULL, ap);
	return true;
}

static void
bgp_notification(struct bgp_dir *b, const uint8_t *msg, size_t len)
{
	uint8_t code = len > BGP_HDR_LEN ? msg[BGP_HDR_LEN] : 0;
	uint8_t sub = len > BGP_HDR_LEN + 1 ? msg[BGP_HDR_LEN + 1] : 0;

	for (size_t i = 0; i < b->n_notif; i++)
		if (b->notif[i].code == code && b->notif[i].subcode == sub) {
			b->notif[i].count++;
			return;
		}
	if (b->n_notif < MAX_NOTIFICATIONS)
		b->notif[b->n_notif++] = (struct notification){ .code = code,
		    .subcode = sub, .count = 1 };
}

static int
bgp_message(void *ctx, const uint8_t *msg, size_t len, uint8_t type)
{
	struct dir *d = ctx;
	struct info *inf = d->conn->inf;
	struct bgp_dir *b = &d->bgp;
	struct bgp_addpath ap;
	struct bgp_open o;

	if (type == BGP_OPEN && b->open == NULL) {
		if (bgp_open_parse(msg, len, &o) == -1)
			note(inf, &d->bad, "OPEN does not parse");
		else if ((b->open = framer_copy(msg, len)) != NULL)
			b->open_len = len;
	}
	/* The config's bgp_h filter applies to the exporter's side; the OPENs count for ADD-PATH anyway. */
	if (d->side == 0 && d->conn->section >= 0 && !select_message_type(
	    &inf->cfg->section[d->conn->section], type)) {
		inf->drop.filtered++;
		return 0;
	}
	b->msgs[type <= BGP_TYPE_MAX ? type : 0]++;
	if (type == BGP_UPDATE) {
		if (!info_dir_addpath(d, &ap))
			b->updates_before_open++;
		count_update(inf, &d->bad, &b->fam, msg, len, &ap);
	} else if (type == BGP_NOTIFICATION)
		bgp_notification(b, msg, len);
	return 0;
}

/* ---- BMP ---------------------------------------------------------------- */

static size_t
bmp_index(uint8_t type)
{
	if (type < BMP_TYPE_COUNT)
		return type;
	return type == BMP_RPAT ? BMP_IDX_RPAT : BMP_IDX_OTHER;
}

/* A monitored peer is known by its type, distinguisher and address (RFC 7854 4.2), as the replay knows it. */
static bool
same_peer(const struct bmp_peer_hdr *a, const struct bmp_peer_hdr *b)
{
	return a->type == b->type && memcmp(a->distinguisher,
	    b->distinguisher, sizeof(a->distinguisher)) == 0 &&
	    memcmp(a->raw_addr, b->raw_addr, sizeof(a->raw_addr)) == 0;
}

static struct bmp_peer *
peer_get(struct info *inf, struct bmp_dir *m, const struct bmp_peer_hdr *h)
{
	for (size_t i = 0; i < m->np; i++)
		if (same_peer(&m->peers[i].hdr, h)) {
			m->peers[i].hdr = *h;
			return &m->peers[i];
		}
	if (m->np == MAX_PEERS) {
		m->peers_not_tracked++;
		return NULL;
	}
	if (inf->n_peers == MAX_PEERS_TOTAL) {
		not_tracked(inf, CAP_PEERS);
		return NULL;
	}
	if (grow_one(&m->peers, &m->capp, sizeof(*m->peers), m->np,
	    MAX_PEERS) == -1) {
		inf->oom = true;
		return NULL;
	}
	memset(&m->peers[m->np], 0, sizeof(m->peers[m->np]));
	m->peers[m->np].hdr = *h;
	inf->n_peers++;
	return &m->peers[m->np++];
}

static void
keep_text(uint8_t **dst, size_t *dlen, const struct cursor *v)
{
	size_t n = cur_left(v) < MAX_TEXT ? cur_left(v) : MAX_TEXT;

	free(*dst);
	*dlen = (*dst = framer_copy(v->p, n)) != NULL ? n : 0;
}

static void
bmp_initiation(struct dir *d, struct cursor *c)
{
	struct bmp_dir *m = &d->bmp;
	struct cursor v;
	uint16_t type;
	int rc;

	while ((rc = bmp_tlv_next(c, &type, &v)) == 1) {
		if (type == BMP_INFO_SYS_NAME)
			keep_text(&m->sys_name, &m->sys_name_len, &v);
		else if (type == BMP_INFO_SYS_DESCR)
			keep_text(&m->sys_descr, &m->sys_descr_len, &v);
	}
	if (rc == -1)
		note(d->conn->inf, &d->bad, "Initiation TLV runs past the "
		    "message");
}

/* Add the families of `more` that ap lacks. */
static void
addpath_merge(struct bgp_addpath *ap, const struct bgp_addpath *more)
{
	for (size_t i = 0; i < more->n && ap->n < BGP_ADDPATH_MAX; i++)
		if (!bgp_addpath_has(ap, more->fam[i].afi, more->fam[i].safi))
			ap->fam[ap->n++] = more->fam[i];
}

/*
 * The Peer Up's OPENs say what the monitored session negotiated: the
 * UPDATEs in route monitoring are the peer's (received OPEN), read by the
 * monitoring router (sent OPEN).  Some routers send a Loc-RIB Peer Up per
 * address family, each with OPENs for that family alone: their ADD-PATH
 * families add up.
 */
static void
bmp_peer_up(struct info *inf, struct bmp_peer *p, struct cursor *c)
{
	struct bmp_peer_up pu;
	struct bgp_open sent, recv;
	struct bgp_addpath now;

	if (bmp_peer_up_parse(c, &pu) == -1 ||
	    bgp_open_parse(pu.sent_open, pu.sent_len, &sent) == -1 ||
	    bgp_open_parse(pu.recv_open, pu.recv_len, &recv) == -1) {
		note(inf, &p->bad, "Peer Up without two whole OPENs");
		return;
	}
	bgp_addpath_from_opens(&recv, &sent, &now);
	addpath_merge(&p->ap, &now);
	p->ap_known = true;
	free(p->recv_open);
	p->recv_len = (p->recv_open = framer_copy(pu.recv_open,
	    pu.recv_len)) != NULL ? pu.recv_len : 0;
}

/* Route monitoring carries the peer's BGP PDUs after the per-peer header: normally one UPDATE. */
static void
bmp_route_monitoring(struct info *inf, struct bmp_peer *p, struct cursor *c)
{
	const uint8_t *first = c->p;
	uint8_t type;
	size_t mlen;

	if (cur_left(c) == 0)
		note(inf, &p->bad, "route monitoring without a BGP message");
	while (cur_left(c) > 0) {
		if (bgp_frame(c->p, cur_left(c), &type, &mlen) != 1 ||
		    mlen > cur_left(c)) {
			/* After a whole UPDATE: TLVs of newer BMP drafts, not a fault. */
			if (p->msgs[BMP_ROUTE_MONITORING] > 0 && c->p != first)
				p->rm_trailing++;
			else
				note(inf, &p->bad, "route monitoring's BGP "
				    "message truncated or without a marker");
			return;
		}
		if (type == BGP_UPDATE) {
			p->updates_before_peer_up += !p->ap_known;
			count_update(inf, &p->bad, &p->fam, c->p, mlen, &p->ap);
		}
		else
			note(inf, &p->bad, "route monitoring carries a BGP "
			    "message that is not an UPDATE");
		(void)cur_skip(c, mlen);
	}
}

static void
bmp_peer_message(struct dir *d, uint8_t type, struct cursor *c)
{
	struct info *inf = d->conn->inf;
	struct bmp_peer_hdr h;
	struct bmp_peer *p;

	if (bmp_peer_header_parse(c, &h) == -1) {
		note(inf, &d->bad, "per-peer header truncated");
		return;
	}
	if ((p = peer_get(inf, &d->bmp, &h)) == NULL)
		return;
	p->msgs[bmp_index(type)]++;
	if (type == BMP_PEER_UP)
		bmp_peer_up(inf, p, c);
	else if (type == BMP_ROUTE_MONITORING)
		bmp_route_monitoring(inf, p, c);
}

static int
bmp_message(void *ctx, const uint8_t *msg, size_t len, uint8_t type)
{
	struct dir *d = ctx;
	struct info *inf = d->conn->inf;
	struct cursor c = cur_init(msg + BMP_COMMON_HDR_LEN,
	    len - BMP_COMMON_HDR_LEN);

	if (d->conn->section >= 0 && !select_message_type(
	    &inf->cfg->section[d->conn->section], type)) {
		inf->drop.filtered++;
		return 0;
	}
	d->bmp.version = msg[0];
	d->bmp.msgs[bmp_index(type)]++;
	if (type == BMP_INITIATION)
		bmp_initiation(d, &c);
	else if (bmp_type_has_peer(type))
		bmp_peer_message(d, type, &c);
	return 0;
}

/* ---- TCP ---------------------------------------------------------------- */

static void
framing_skipped(void *ctx, size_t n, const char *why)
{
	struct dir *d = ctx;

	d->skipped_bytes += n;
	if (why == NULL)
		note(d->conn->inf, &d->bad, "impossible message header");
}

static const struct framer_ops bgp_ops = {
	.message = bgp_message,
	.skipped = framing_skipped,
};

static const struct framer_ops bmp_ops = {
	.message = bmp_message,
	.skipped = framing_skipped,
};

/* The messages --info counts itself, by the framed protocol that carries them. */
static const struct framer_ops *const counted_messages[SECTION_COUNT] = {
	[SECTION_BMP] = &bmp_ops,
	[SECTION_BGP] = &bgp_ops,
};

/* The framed protocols whose messages --info counts. */
static bool
counted(int id)
{
	return counted_messages[id] != NULL;
}

static bool
dir_framed(const struct dir *d)
{
	return d->kind < SECTION_COUNT;
}

static void
dir_set_kind(struct dir *d, int kind)
{
	d->kind = kind;
	if (dir_framed(d))
		framer_init(&d->fr, protocols[kind]->framing,
		    counted_messages[kind], d);
}

static int
dir_deliver(void *ctx, const struct stream_chunk *ch)
{
	struct dir *d = ctx;

	d->bytes += ch->len;
	if (!dir_framed(d))
		return 0;
	return framer_feed(&d->fr, ch);
}

/* Without a config, a direction's first bytes say what it carries: a framed protocol --info counts, or generic TCP. */
static int
dir_decide(void *ctx, int id)
{
	dir_set_kind(ctx, id == -1 ? KIND_GENERIC : id);
	return 0;
}

/* Bytes before a gap in the window that frame as nothing. */
static void
dir_skipped(void *ctx, size_t n)
{
	struct dir *d = ctx;

	d->bytes += n;
	d->skipped_bytes += n;
}

static const struct sniff_ops dir_sniff = {
	.wanted = counted,
	.decide = dir_decide,
	.deliver = dir_deliver,
	.skipped = dir_skipped,
};

/* Bytes of a direction, in order; until its kind is known (no config), through the sniff window. */
static int
dir_feed(struct dir *d, const struct stream_chunk *ch)
{
	if (ch->gap_before)
		d->gap_bytes += ch->gap_bytes;
	if (d->kind != KIND_NONE)
		return dir_deliver(d, ch);
	return sniff_feed(&d->sniff, &dir_sniff, d, ch);
}

/*
 * The end of a stream (its capture file, or its session): what reassembly
 * still holds goes out after its gap, and the stream is freed.  A partial
 * message stays with the framer: the next file may complete it.
 */
static void
dir_finish(struct dir *d)
{
	struct stream_chunk ch[2];
	int n;

	if (d->stream == NULL)
		return;
	while ((n = stream_finish(d->stream, ch)) > 0)
		for (int k = 0; k < n; k++)
			(void)dir_feed(d, &ch[k]);
	(void)sniff_finish(&d->sniff, &dir_sniff, d);
	d->retransmitted += stream_stats(d->stream)->retransmitted;
	stream_free(d->stream);
	d->stream = NULL;
}

/* The captured session ended (FIN/RST both ways, or a new SYN on its ports): a partial message never completes. */
static void
conn_end(struct conn *c)
{
	for (int s = 0; s < 2; s++) {
		struct dir *d = &c->d[s];

		dir_finish(d);
		d->unfinished_bytes += framer_pending(&d->fr);
		framer_free(&d->fr);
	}
	c->ended = true;
}

static uint32_t
conn_hash(const struct tr_packet *pkt)
{
	struct flow_key k = flow_key_of(pkt);

	/* Both directions of a connection land in one bucket. */
	return flow_key_hash_both_ways(&k) % CONN_BUCKETS;
}

/* Which side of c sent pkt: 0, 1, or -1 when c is another connection. */
static int
conn_side(const struct conn *c, const struct tr_packet *pkt)
{
	struct flow_key from0 = { .src = c->addr[0], .dst = c->addr[1],
	    .sport = c->port[0], .dport = c->port[1] };
	struct flow_key k = flow_key_of(pkt), r = flow_key_reversed(&k);

	if (flow_key_equal(&from0, &k))
		return 0;
	return flow_key_equal(&from0, &r) ? 1 : -1;
}

/*
 * Without a config, the exporter's side is the one that opened the
 * connection (a SYN), else the one on the higher port (BGP's 179 and BMP's
 * collector ports are low, a connecting router's ports ephemeral).
 */
static bool
sender_is_exporter(const struct tr_packet *pkt)
{
	uint8_t f = pkt->tcp_flags & (TR_TCP_SYN | TR_TCP_ACK);

	if (f == TR_TCP_SYN)
		return true;
	if (f == (TR_TCP_SYN | TR_TCP_ACK))
		return false;
	return pkt->sport >= pkt->dport;
}

/* A fresh stream for a direction (a new session, a new capture file, a SYN retried with a new ISN). */
static int
dir_open(struct dir *d)
{
	if (d->kind == KIND_IGNORED)
		return 0;
	stream_free(d->stream);
	if ((d->stream = stream_new(STREAM_MAX_HELD)) == NULL)
		return -1;
	stream_set_pool(d->stream, &d->conn->inf->held);
	return 0;
}

static uint64_t
dir_stream_bytes(const struct dir *d)
{
	return d->stream != NULL ? stream_stats(d->stream)->bytes : 0;
}

/*
 * With a config, the section says what the exporter's side carries; the
 * collector's matters only where the collector answers (BGP: its OPEN
 * says which ADD-PATH the exporter's UPDATEs use).
 */
static void
conn_set_section_kinds(struct conn *c, int section)
{
	const struct proto *p = protocols[section];
	bool framed = p->framing != NULL && counted_messages[section] != NULL;

	dir_set_kind(&c->d[0], framed ? section : KIND_GENERIC);
	if (framed && p->session != NULL && p->session->collector_answers)
		dir_set_kind(&c->d[1], section);
	else
		c->d[1].kind = KIND_IGNORED;
}

static struct conn *
conn_new(struct info *inf, const struct tr_packet *pkt, bool exporter_sent,
    int section, uint32_t bucket)
{
	struct conn *c = calloc(1, sizeof(*c));
	int me = exporter_sent ? 0 : 1;

	if (c == NULL ||
	    grow_array(&inf->conns, &inf->cap_conns, sizeof(*inf->conns),
	    inf->n_conns + 1, MAX_CONNS) == -1) {
		free(c);
		return NULL;
	}
	c->inf = inf;
	c->addr[me] = pkt->src;
	c->port[me] = pkt->sport;
	c->addr[1 - me] = pkt->dst;
	c->port[1 - me] = pkt->dport;
	c->section = section;
	c->capture_gen = inf->capture_gen;
	c->order = inf->n_conns;
	for (int s = 0; s < 2; s++) {
		c->d[s].conn = c;
		c->d[s].side = s;
		c->d[s].kind = KIND_NONE;
	}
	if (section >= 0)
		conn_set_section_kinds(c, section);
	if (dir_open(&c->d[0]) == -1 || dir_open(&c->d[1]) == -1) {
		free_dir(&c->d[0]);
		free_dir(&c->d[1]);
		free(c);
		return NULL;
	}
	inf->conns[inf->n_conns++] = c;
	c->next = inf->conn_buckets[bucket];
	inf->conn_buckets[bucket] = c;
	return c;
}

static void
conn_unlink(struct info *inf, struct conn *c, uint32_t bucket)
{
	struct conn **pp = &inf->conn_buckets[bucket];

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->next;
	if (*pp == c)
		*pp = c->next;
	c->next = NULL;
}

/*
 * Find the packet's connection, starting a new one when needed; NULL with
 * *side -1 past MAX_CONNS, else when out of memory.  As in the
 * replay: a SYN after data in the same capture file is a new session on
 * the same ports; a new file continues the session with fresh streams (the
 * older tool's pre-processed lists restart sequence numbers in each file).
 */
static struct conn *
conn_for(struct info *inf, const struct tr_packet *pkt, int section,
    bool exporter_sent, int *side)
{
	uint32_t bucket = conn_hash(pkt);
	bool syn = (pkt->tcp_flags & (TR_TCP_SYN | TR_TCP_ACK)) == TR_TCP_SYN;
	struct conn *c;

	for (c = inf->conn_buckets[bucket]; c != NULL; c = c->next)
		if ((*side = conn_side(c, pkt)) >= 0)
			break;
	if (c != NULL && syn && (c->ended || (c->capture_gen ==
	    inf->capture_gen && dir_stream_bytes(&c->d[*side]) > 0))) {
		if (!c->ended)
			conn_end(c);
		conn_unlink(inf, c, bucket);
		c = NULL;
	}
	if (c == NULL) {
		if (inf->n_conns == MAX_CONNS) {
			not_tracked(inf, CAP_CONNS);
			*side = -1;
			return NULL;
		}
		if (section < 0)
			exporter_sent = sender_is_exporter(pkt);
		*side = exporter_sent ? 0 : 1;
		return conn_new(inf, pkt, exporter_sent, section, bucket);
	}
	if (!c->ended && (c->capture_gen != inf->capture_gen ||
	    (syn && c->d[*side].stream != NULL &&
	    dir_stream_bytes(&c->d[*side]) == 0))) {
		c->capture_gen = inf->capture_gen;
		if (dir_open(&c->d[0]) == -1 || dir_open(&c->d[1]) == -1)
			return NULL;
	}
	return c;
}

static bool
dir_closed(const struct dir *d)
{
	return d->stream == NULL || stream_closed(d->stream);
}

static int
tcp_packet(struct info *inf, const struct tr_packet *pkt, int section,
    bool exporter_sent)
{
	struct stream_chunk ch[2];
	struct conn *c;
	struct dir *d;
	int side, n;

	inf->tcp_segments++;
	if ((c = conn_for(inf, pkt, section, exporter_sent, &side)) == NULL)
		return side == -1 ? 0 : -1;
	d = &c->d[side];
	d->segments++;
	if (c->ended || d->stream == NULL)
		return 0;	/* the last ACKs after the end, or a side not looked at */
	if ((n = stream_push(d->stream, pkt, ch)) == -1)
		return -1;
	for (int i = 0; i < n; i++)
		if (dir_feed(d, &ch[i]) == -1)
			return -1;
	if (stream_closed(d->stream) && dir_closed(&c->d[1 - side]))
		conn_end(c);
	return 0;
}

/* ---- packets and captures ----------------------------------------------- */

int
info_packet(struct info *inf, const struct tr_packet *pkt)
{
	int section = -1;
	bool exporter_sent = true;

	inf->frame = pkt->frame;
	inf->packets++;
	inf->payload_bytes += pkt->payload_len;
	if (inf->packets == 1 || pkt->ts < inf->first_ts)
		inf->first_ts = pkt->ts;
	if (pkt->ts > inf->last_ts)
		inf->last_ts = pkt->ts;
	if (inf->nfiles > 0)
		inf->files[inf->nfiles - 1].packets++;
	if (inf->sel != NULL) {
		int exporter;

		/*
		 * As the replay tells them apart: a section without `select`
		 * takes both directions of a session, and the collector's are
		 * its side of it, not an unknown exporter's.
		 */
		switch (select_side(inf->sel, pkt, &section, &exporter)) {
		case SELECT_NONE:
			inf->drop.not_selected++;
			return 0;
		case SELECT_UNKNOWN_EXPORTER:
			inf->drop.unknown_exporter++;
			return 0;
		case SELECT_COLLECTOR:
			/* The captured collector's side of a selected session: BGP reads its OPEN. */
			inf->drop.collector_segments++;
			exporter_sent = false;
			break;
		case SELECT_EXPORTER:
			break;
		}
	}
	if (pkt->l4proto == TR_IPPROTO_UDP) {
		inf->udp_packets++;
		udp_packet(inf, pkt, section);
		return inf->oom ? -1 : 0;
	}
	if (tcp_packet(inf, pkt, section, exporter_sent) == -1)
		inf->oom = true;
	return inf->oom ? -1 : 0;
}

void
info_begin_capture(struct info *inf, const char *path)
{
	struct capture *f;

	if ((f = reallocarray(inf->files, inf->nfiles + 1, sizeof(*f))) == NULL) {
		inf->oom = true;
		return;
	}
	inf->files = f;
	f = &inf->files[inf->nfiles++];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
}

void
info_end_capture(struct info *inf)
{
	for (size_t i = 0; i < inf->n_conns; i++) {
		struct conn *c = inf->conns[i];

		if (c->capture_gen != inf->capture_gen || c->ended)
			continue;
		dir_finish(&c->d[0]);
		dir_finish(&c->d[1]);
	}
	inf->capture_gen++;
}

static void
add_source_stats(struct info *inf, const struct source_stats *st)
{
	inf->files[inf->nfiles - 1].frames = st->frames;
	inf->drop.truncated += st->truncated;
	inf->drop.not_ip += st->not_ip;
	inf->drop.other_l4 += st->other_l4;
	inf->drop.malformed_frames += st->malformed;
	inf->drop.fragments_dropped += st->frag_dropped;
	inf->drop.reassembled_other += st->reassembled_other;
}

int
info_add_capture(struct info *inf, const char *path, char *err,
    size_t errlen)
{
	struct source *src = source_open(path, err, errlen);
	struct tr_packet pkt;
	int rc, result = 0;

	if (src == NULL) {
		errno = EINVAL;
		return -1;
	}
	info_begin_capture(inf, path);
	while (!inf->oom && (rc = source_next(src, &pkt)) == 1)
		(void)info_packet(inf, &pkt);
	if (!inf->oom && rc == -1) {
		inf->files[inf->nfiles - 1].error = strdup(source_error(src));
		result = 1;
	}
	if (!inf->oom)
		add_source_stats(inf, source_stats(src));
	source_close(src);
	info_end_capture(inf);
	if (inf->oom) {
		snprintf(err, errlen, "%s: out of memory", path);
		errno = ENOMEM;
		return -1;
	}
	return result;
}
