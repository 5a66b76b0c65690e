/* Info mode: reads captures through source, select, stream and the protocol parsers, and sums them up per exporter. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bgp.h"
#include "bmp.h"
#include "framer.h"
#include "info.h"
#include "ipfix.h"
#include "select.h"
#include "source.h"
#include "stream.h"

/* Out-of-order bytes held per direction before a hole is declared lost (as the replay, but half: no sending waits). */
#define STREAM_MAX_HELD		(4u * 1024 * 1024)
#define CONN_BUCKETS		4096
#define EXPORTER_BUCKETS	1024
/* Caps on what the wire decides the number of: beyond them, things are counted, not itemised. */
#define MAX_REASONS		32
#define MAX_TEMPLATES		4096	/* per exporter, version and domain */
#define MAX_FAMILIES		64
#define MAX_NOTIFICATIONS	32
#define MAX_PEERS		65536	/* per BMP session */
#define MAX_TEXT		4096	/* bytes of sysName / sysDescr kept */
/* How far into a direction's first bytes the content is looked at to tell BGP from BMP from the rest. */
#define CLASSIFY_WINDOW		4096

/* ---- what is counted ---------------------------------------------------- */

/* Malformed input, by reason: a reason is a static string, so equal reasons are one pointer. */
struct reason {
	const char	*why;
	uint64_t	 count;
	uint64_t	 first_frame;
	size_t		 first_file;
};

struct reasons {
	struct reason	 r[MAX_REASONS];
	size_t		 n;
	uint64_t	 other;		/* past MAX_REASONS distinct reasons */
};

struct tmpl {
	uint16_t	 id;
	bool		 defined, options, sampling;
	uint16_t	 field_count, scope_count;
	uint64_t	 definitions, withdrawals;
	uint64_t	 data_sets, data_records;
	struct nf_field	*fields;	/* the definition in force, to walk data records */
};

/* One NetFlow/IPFIX version and observation domain (v9 source id, v5 engine type << 8 | id) of an exporter. */
struct flow_domain {
	uint16_t	 version;
	uint32_t	 domain;
	uint64_t	 messages, records;	/* records: v5 flows */
	uint64_t	 template_sets, options_template_sets, data_sets;
	uint64_t	 data_sets_without_template, other_sets, withdraw_all;
	uint64_t	 templates_not_tracked;	/* sets and definitions past MAX_TEMPLATES ids */
	struct tmpl	*t;
	size_t		 nt, capt;
};

struct family {
	uint16_t	 afi;
	uint8_t		 safi;
	uint64_t	 updates, announced, withdrawn, end_of_rib;
	uint64_t	 add_path_guessed;	/* UPDATEs read with path identifiers no OPEN announced */
};

struct families {
	struct family	 f[MAX_FAMILIES];
	size_t		 n;
};

struct notification {
	uint8_t		 code, subcode;
	uint64_t	 count;
};

/* One direction of a BGP session. */
struct bgp_dir {
	uint64_t	 msgs[BGP_TYPE_MAX + 1];	/* [0]: unknown types */
	uint8_t		*open;		/* the first OPEN, whole */
	size_t		 open_len;
	uint64_t	 updates_before_open;	/* read without the OPENs' ADD-PATH (guessed) */
	struct families	 fam;
	struct notification notif[MAX_NOTIFICATIONS];
	size_t		 n_notif;
};

#define BMP_IDX_RPAT	BMP_TYPE_COUNT
#define BMP_IDX_OTHER	(BMP_TYPE_COUNT + 1)
#define BMP_IDX_COUNT	(BMP_TYPE_COUNT + 2)

struct bmp_peer {
	struct bmp_peer_hdr hdr;	/* the latest per-peer header */
	uint64_t	 msgs[BMP_IDX_COUNT];
	struct families	 fam;
	bool		 ap_known;	/* a Peer Up told what ADD-PATH the session negotiated */
	struct bgp_addpath ap;
	uint8_t		*recv_open;	/* the Peer Up's received OPEN: the peer's own */
	size_t		 recv_len;
	uint64_t	 rm_trailing;	/* route monitoring with bytes after its BGP message */
	uint64_t	 updates_before_peer_up;	/* read without the OPENs' ADD-PATH (guessed) */
	struct reasons	 bad;
};

struct bmp_dir {
	uint8_t		 version;
	uint64_t	 msgs[BMP_IDX_COUNT];
	uint8_t		*sys_name, *sys_descr;
	size_t		 sys_name_len, sys_descr_len;
	struct bmp_peer	*peers;
	size_t		 np, capp;
	uint64_t	 peers_not_tracked;
};

enum dir_kind {
	KIND_NONE,	/* nothing carried yet */
	KIND_BMP,
	KIND_BGP,
	KIND_GENERIC,
	KIND_IGNORED,	/* the collector's side of a BMP or generic session (-t) */
};

struct conn;

struct dir {
	struct conn	*conn;
	int		 side;
	enum dir_kind	 kind;
	struct stream	*stream;	/* NULL once the connection ended */
	struct framer	 fr;
	uint64_t	 segments, bytes, gap_bytes, skipped_bytes;
	uint64_t	 retransmitted, unfinished_bytes;
	uint8_t		*held;		/* the first bytes, until the kind is known */
	size_t		 held_len;
	bool		 held_gap;	/* they follow lost bytes */
	struct bgp_dir	 bgp;
	struct bmp_dir	 bmp;
	struct reasons	 bad;
};

/* A TCP connection; side 0 is the exporter's. */
struct conn {
	struct info	*inf;
	struct tr_addr	 addr[2];
	uint16_t	 port[2];
	int		 section;	/* -t: the section that selected it; else -1 */
	uint64_t	 capture_gen;	/* the capture file its streams hold */
	uint64_t	 order;		/* creation order: a tie-break for output */
	bool		 ended;
	struct dir	 d[2];
	struct conn	*next;		/* hash chain */
};

struct exporter {
	struct tr_addr	 addr;
	int		 map_index;	/* -t: network.map entry; else -1 */
	uint64_t	 packets, bytes;	/* UDP datagrams and their payload bytes */
	uint64_t	 udp_generic_packets, udp_generic_bytes;
	struct flow_domain *dom;
	size_t		 nd, capd;
	struct reasons	 bad;
	struct exporter	*next;
};

struct capture {
	char		*path;
	uint64_t	 frames, packets;
	char		*error;
};

struct dropped {
	uint64_t	 truncated, not_ip, other_l4, malformed_frames;
	uint64_t	 fragments_dropped, reassembled_other;
	uint64_t	 not_selected, unknown_exporter, filtered;
	uint64_t	 collector_segments;
};

struct info {
	const struct config	*cfg;
	struct selector		*sel;
	struct capture		*files;
	size_t			 nfiles;
	uint64_t		 capture_gen;
	uint64_t		 frame;		/* of the packet being handled */
	uint64_t		 packets, udp_packets, tcp_segments, payload_bytes;
	tr_ns			 first_ts, last_ts;
	struct dropped		 drop;
	struct exporter		*exp_buckets[EXPORTER_BUCKETS];
	size_t			 n_exporters;
	struct conn		*conn_buckets[CONN_BUCKETS];
	struct conn	       **conns;
	size_t			 n_conns, cap_conns;
	bool			 oom;
};

/* ---- small helpers ------------------------------------------------------ */

static void
note(struct info *inf, struct reasons *rs, const char *why)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i].why == why) {
			rs->r[i].count++;
			return;
		}
	if (rs->n == MAX_REASONS) {
		rs->other++;
		return;
	}
	rs->r[rs->n++] = (struct reason){ .why = why, .count = 1,
	    .first_frame = inf->frame, .first_file = inf->nfiles - 1 };
}

static uint8_t *
copy_bytes(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	if (c != NULL)
		memcpy(c, p, len);
	return c;
}

/* Grow an array of `size`-byte items to hold one more; false when out of memory. */
static bool
grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 8;
	if ((p = realloc(*arr, ncap * size)) == NULL)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

/* ---- life cycle --------------------------------------------------------- */

struct info *
info_new(const struct config *cfg)
{
	struct info *inf = calloc(1, sizeof(*inf));

	if (inf == NULL)
		return NULL;
	inf->cfg = cfg;
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
	free(d->held);
	free(d->bgp.open);
	free(d->bmp.sys_name);
	free(d->bmp.sys_descr);
	for (size_t i = 0; i < d->bmp.np; i++)
		free(d->bmp.peers[i].recv_open);
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
			for (size_t k = 0; k < e->nd; k++) {
				for (size_t j = 0; j < e->dom[k].nt; j++)
					free(e->dom[k].t[j].fields);
				free(e->dom[k].t);
			}
			free(e->dom);
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
	free(inf);
}

static struct exporter *
exporter_get(struct info *inf, const struct tr_addr *a)
{
	uint32_t b = addr_hash(a, 2166136261u) % EXPORTER_BUCKETS;
	struct exporter *e;

	for (e = inf->exp_buckets[b]; e != NULL; e = e->next)
		if (addr_equal(&e->addr, a))
			return e;
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
	if (!grow((void **)&e->dom, &e->capd, e->nd, sizeof(*e->dom))) {
		inf->oom = true;
		return NULL;
	}
	e->dom[e->nd] = (struct flow_domain){ .version = version,
	    .domain = domain };
	return &e->dom[e->nd++];
}

static struct tmpl *
tmpl_get(struct flow_domain *d, uint16_t id)
{
	for (size_t i = 0; i < d->nt; i++)
		if (d->t[i].id == id)
			return &d->t[i];
	if (d->nt == MAX_TEMPLATES ||
	    !grow((void **)&d->t, &d->capt, d->nt, sizeof(*d->t))) {
		d->templates_not_tracked++;
		return NULL;
	}
	d->t[d->nt] = (struct tmpl){ .id = id };
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

static void
template_define(struct info *inf, struct flow_domain *d,
    const struct nf_template *nt, bool options)
{
	struct tmpl *t = tmpl_get(d, nt->id);
	struct nf_field *f;

	if (t == NULL)
		return;
	if (nt->field_count == 0) {
		/* An IPFIX withdrawal; naming the set id withdraws them all (RFC 7011 8.1). */
		if (nt->id < NF_MIN_DATA_SET_ID)
			d->withdraw_all++;
		t->withdrawals++;
		t->defined = false;
		return;
	}
	if ((f = realloc(t->fields, nt->field_count * sizeof(*f))) == NULL) {
		inf->oom = true;
		return;
	}
	ipfix_template_fields(nt, f);
	t->fields = f;
	t->definitions++;
	t->defined = true;
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
		if (ipfix_template_parse(d->version, set->id, p, left,
		    &nt) == -1) {
			note(inf, &e->bad, "template record truncated or "
			    "impossible (an id under 256, a scope count of 0)");
			return;
		}
		template_define(inf, d, &nt, options);
		p += nt.consumed;
		left -= nt.consumed;
	}
}

/* Data records in a set, laid out by the template in force; trailing bytes shorter than a record are padding. */
static uint64_t
count_records(const struct flow_domain *d, const struct tmpl *t,
    const struct nf_set *set)
{
	size_t off = 0, r;
	uint64_t n = 0;

	while (off < set->body_len && (r = ipfix_record_len(d->version,
	    t->fields, t->field_count, set->body + off, set->body_len - off,
	    NULL)) > 0) {
		off += r;
		n++;
	}
	return n;
}

static void
data_set(struct flow_domain *d, const struct nf_set *set)
{
	struct tmpl *t = tmpl_get(d, set->id);

	d->data_sets++;
	if (t == NULL)
		return;
	t->data_sets++;
	if (!t->defined) {
		d->data_sets_without_template++;
		return;
	}
	t->data_records += count_records(d, t, set);
}

static void
flow_sets(struct info *inf, struct exporter *e, struct flow_domain *d,
    const struct tr_packet *pkt)
{
	struct nf_set_iter it;
	struct nf_set set;
	int rc;

	if (ipfix_sets_begin(pkt->payload, pkt->payload_len, &it) == -1) {
		note(inf, &e->bad, "IPFIX message length runs past the "
		    "datagram");
		return;
	}
	while ((rc = ipfix_set_next(&it, &set)) == 1) {
		if (ipfix_is_template_set(d->version, set.id))
			template_set(inf, e, d, &set);
		else if (set.id >= NF_MIN_DATA_SET_ID)
			data_set(d, &set);
		else
			d->other_sets++;
	}
	if (rc == -1)
		note(inf, &e->bad, "set length impossible (shorter than its "
		    "header or past the message)");
}

#define NF_V5_HDR_LEN		24
#define NF_V5_RECORD_LEN	48
#define NF_V5_MAX_RECORDS	30

static void
flow_datagram(struct info *inf, struct exporter *e,
    const struct tr_packet *pkt)
{
	struct flow_domain *d;
	struct nf_header h;

	if (ipfix_parse_header(pkt->payload, pkt->payload_len, &h) == -1) {
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

/* Without a config: a datagram is NetFlow/IPFIX when its header and lengths agree with themselves. */
static bool
looks_like_flow(const uint8_t *p, size_t len)
{
	struct nf_header h;
	int n;

	if (ipfix_parse_header(p, len, &h) == -1)
		return false;
	switch (h.version) {
	case NF_VERSION_5:
		return h.count >= 1 && h.count <= NF_V5_MAX_RECORDS &&
		    len == NF_V5_HDR_LEN + (size_t)h.count * NF_V5_RECORD_LEN;
	case NF_VERSION_IPFIX:
		return h.length == len;
	default:
		return (n = ipfix_set_ids(p, len, NULL, 0)) > 0;
	}
}

static void
udp_packet(struct info *inf, const struct tr_packet *pkt, int section)
{
	struct exporter *e;
	bool flow = section >= 0 ? section == SECTION_IPFIX :
	    looks_like_flow(pkt->payload, pkt->payload_len);

	if (section == SECTION_IPFIX && !select_ipfix_message(
	    &inf->cfg->section[section].select, pkt->payload,
	    pkt->payload_len)) {
		inf->drop.filtered++;
		return;
	}
	if ((e = exporter_get(inf, &pkt->src)) == NULL)
		return;
	e->packets++;
	e->bytes += pkt->payload_len;
	if (flow)
		flow_datagram(inf, e, pkt);
	else {
		e->udp_generic_packets++;
		e->udp_generic_bytes += pkt->payload_len;
	}
}

/* ---- BGP ---------------------------------------------------------------- */

/* Add one UPDATE's counts; false when a family past MAX_FAMILIES was left out. */
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
		if (f == NULL && fs->n == MAX_FAMILIES) {
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
static bool
dir_addpath(const struct dir *d, struct bgp_addpath *ap)
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
		else if ((b->open = copy_bytes(msg, len)) != NULL)
			b->open_len = len;
	}
	/* The config's bgp_h filter applies to the exporter's side; the OPENs count for ADD-PATH anyway. */
	if (d->side == 0 && d->conn->section >= 0 && !select_u32_match(
	    &inf->cfg->section[d->conn->section].select.bgp_type, type)) {
		inf->drop.filtered++;
		return 0;
	}
	b->msgs[type <= BGP_TYPE_MAX ? type : 0]++;
	if (type == BGP_UPDATE) {
		if (!dir_addpath(d, &ap))
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
	if (!grow((void **)&m->peers, &m->capp, m->np, sizeof(*m->peers))) {
		inf->oom = true;
		return NULL;
	}
	memset(&m->peers[m->np], 0, sizeof(m->peers[m->np]));
	m->peers[m->np].hdr = *h;
	return &m->peers[m->np++];
}

static void
keep_text(uint8_t **dst, size_t *dlen, const struct cursor *v)
{
	size_t n = cur_left(v) < MAX_TEXT ? cur_left(v) : MAX_TEXT;

	free(*dst);
	*dlen = (*dst = copy_bytes(v->p, n)) != NULL ? n : 0;
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
	p->recv_len = (p->recv_open = copy_bytes(pu.recv_open,
	    pu.recv_len)) != NULL ? pu.recv_len : 0;
}

/* Route monitoring carries the peer's BGP PDUs after the per-peer header: normally one UPDATE. */
static void
bmp_route_monitoring(struct info *inf, struct bmp_peer *p, struct cursor *c)
{
	const uint8_t *first = c->p;
	uint8_t type;
	uint16_t mlen;

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

	if (d->conn->section >= 0 && !select_u32_match(
	    &inf->cfg->section[d->conn->section].select.bmp_type, type)) {
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

/* One message header of either protocol at p: 1 with its length, 0 too short to tell, -1 not one. */
static int
header_at(const uint8_t *p, size_t len, enum dir_kind kind, size_t *mlen)
{
	uint8_t type;
	uint32_t blen;
	uint16_t glen;
	int rc;

	if (kind == KIND_BGP) {
		rc = bgp_frame(p, len, &type, &glen);
		*mlen = glen;
		return rc;
	}
	rc = bmp_frame(p, len, &type, &blen);
	*mlen = blen;
	return rc == 1 && !bmp_type_known(type) ? -1 : rc;
}

/*
 * How many bytes from p frame as back-to-back messages of a protocol, a
 * last one that runs past the bytes seen included once the chain has a
 * whole message (or, for BGP, whose marker says enough, at once).
 */
static size_t
chain_bytes(const uint8_t *p, size_t len, enum dir_kind kind)
{
	size_t at = 0, mlen, n = 0;

	while (at < len && header_at(p + at, len - at, kind, &mlen) == 1) {
		if (mlen > len - at)
			return n > 0 || kind == KIND_BGP ? len : at;
		at += mlen;
		n++;
	}
	return at;
}

/*
 * Without a config, a direction's first bytes say what it carries.  BMP
 * route monitoring holds BGP messages, markers and all, and BGP UPDATEs
 * can hold bytes that look like a BMP header: the protocol whose messages
 * frame back to back over more of the bytes wins; neither makes it
 * generic TCP.
 */
static enum dir_kind
classify(const uint8_t *p, size_t len)
{
	size_t bmp = 0, bgp = 0, n;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == BMP_VERSION &&
		    (n = chain_bytes(p + i, len - i, KIND_BMP)) > bmp)
			bmp = n;
		if (p[i] == 0xff &&
		    (n = chain_bytes(p + i, len - i, KIND_BGP)) > bgp)
			bgp = n;
	}
	if (bmp == 0 && bgp == 0)
		return KIND_GENERIC;
	return bmp > bgp ? KIND_BMP : KIND_BGP;
}

static void
dir_set_kind(struct dir *d, enum dir_kind kind)
{
	d->kind = kind;
	if (kind == KIND_BMP)
		framer_init(&d->fr, FRAMER_BMP, &bmp_ops, d);
	else if (kind == KIND_BGP)
		framer_init(&d->fr, FRAMER_BGP, &bgp_ops, d);
}

static int
dir_deliver(struct dir *d, const struct stream_chunk *ch)
{
	d->bytes += ch->len;
	if (d->kind != KIND_BMP && d->kind != KIND_BGP)
		return 0;
	return framer_feed(&d->fr, ch);
}

/* Classify what was held, then hand it on as the direction's first bytes. */
static int
dir_classify_held(struct dir *d)
{
	struct stream_chunk held = { .data = d->held, .len = d->held_len,
	    .gap_before = d->held_gap };
	int rc;

	dir_set_kind(d, classify(d->held, d->held_len));
	rc = dir_deliver(d, &held);
	free(d->held);
	d->held = NULL;
	d->held_len = 0;
	return rc;
}

/*
 * Bytes of a direction, in order.  Until its kind is known (no config),
 * the first CLASSIFY_WINDOW bytes are held: one segment may be too little
 * to tell a BMP stream that starts mid-message from BGP.
 */
static int
dir_feed(struct dir *d, const struct stream_chunk *ch)
{
	size_t take;

	if (ch->gap_before)
		d->gap_bytes += ch->gap_bytes;
	if (d->kind != KIND_NONE)
		return dir_deliver(d, ch);
	if (ch->len == 0)
		return 0;
	if (d->held == NULL && (d->held = malloc(CLASSIFY_WINDOW)) == NULL)
		return -1;
	/* Bytes after a gap start afresh: the stream's start was lost. */
	if (ch->gap_before) {
		d->held_len = 0;
		d->held_gap = true;
	}
	take = CLASSIFY_WINDOW - d->held_len < ch->len ?
	    CLASSIFY_WINDOW - d->held_len : ch->len;
	memcpy(d->held + d->held_len, ch->data, take);
	d->held_len += take;
	if (d->held_len < CLASSIFY_WINDOW)
		return 0;
	if (dir_classify_held(d) == -1)
		return -1;
	return take == ch->len ? 0 : dir_deliver(d, &(struct stream_chunk){
	    .data = ch->data + take, .len = ch->len - take });
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
	if (d->held_len > 0)
		(void)dir_classify_held(d);
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
	/* Symmetric: both directions of a connection land in one bucket. */
	uint32_t h = addr_hash(&pkt->src, 2166136261u) ^
	    addr_hash(&pkt->dst, 2166136261u) ^ (pkt->sport ^ pkt->dport);

	return h % CONN_BUCKETS;
}

/* Which side of c sent pkt: 0, 1, or -1 when c is another connection. */
static int
conn_side(const struct conn *c, const struct tr_packet *pkt)
{
	for (int s = 0; s < 2; s++)
		if (c->port[s] == pkt->sport && c->port[1 - s] == pkt->dport &&
		    addr_equal(&c->addr[s], &pkt->src) &&
		    addr_equal(&c->addr[1 - s], &pkt->dst))
			return s;
	return -1;
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
	return 0;
}

static uint64_t
dir_stream_bytes(const struct dir *d)
{
	return d->stream != NULL ? stream_stats(d->stream)->bytes : 0;
}

static struct conn *
conn_new(struct info *inf, const struct tr_packet *pkt, bool exporter_sent,
    int section, uint32_t bucket)
{
	struct conn *c = calloc(1, sizeof(*c));
	int me = exporter_sent ? 0 : 1;

	if (c == NULL ||
	    !grow((void **)&inf->conns, &inf->cap_conns, inf->n_conns,
	    sizeof(*inf->conns))) {
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
	}
	/* With a config, the section says what the exporter's side carries; the collector's matters for BGP only. */
	if (section == SECTION_BMP)
		dir_set_kind(&c->d[0], KIND_BMP);
	else if (section == SECTION_BGP) {
		dir_set_kind(&c->d[0], KIND_BGP);
		dir_set_kind(&c->d[1], KIND_BGP);
	} else if (section >= 0)
		dir_set_kind(&c->d[0], KIND_GENERIC);
	if (section >= 0 && section != SECTION_BGP)
		c->d[1].kind = KIND_IGNORED;
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
 * Find the packet's connection, starting a new one when needed.  As in the
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
		if (section < 0)
			exporter_sent = sender_is_exporter(pkt);
		if ((c = conn_new(inf, pkt, exporter_sent, section,
		    bucket)) == NULL)
			return NULL;
		*side = exporter_sent ? 0 : 1;
		return c;
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
		return -1;
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
		if ((section = select_section(inf->sel, pkt)) < 0) {
			/* The captured collector's side of a selected session: BGP reads its OPEN. */
			if ((section = select_collector_side(inf->sel,
			    pkt)) < 0) {
				inf->drop.not_selected++;
				return 0;
			}
			inf->drop.collector_segments++;
			exporter_sent = false;
		} else if (select_exporter(inf->sel, &pkt->src) < 0) {
			inf->drop.unknown_exporter++;
			return 0;
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

	if ((f = realloc(inf->files, (inf->nfiles + 1) * sizeof(*f))) == NULL) {
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

/* ---- JSON ----------------------------------------------------------------- */

/* qsort, but an empty array may be NULL (qsort's pointer must never be). */
static void
sort_items(void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/*
 * Text from the wire as a JSON string: sysDescr can hold anything.  Valid
 * UTF-8 is kept (jansson escapes quotes and control characters); each byte
 * that is not part of a valid sequence becomes U+FFFD, so the output is
 * always valid JSON and says where the text was damaged.
 */
static size_t
utf8_seq_len(const uint8_t *p, size_t left)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (left < n)
		return 0;
	cp = p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static json_t *
json_text(const uint8_t *p, size_t len)
{
	char *out = malloc(len * 3 + 1);
	size_t o = 0;
	json_t *j;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(p + i, len - i);

		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	j = json_stringn(out, o);
	free(out);
	return j;
}

static json_t *
json_addr(const struct tr_addr *a)
{
	char buf[TR_ADDR_STRLEN];

	return json_string(addr_format(a, buf, sizeof(buf)));
}

static json_t *
json_ipv4(uint32_t host_order)
{
	struct tr_addr a = { .family = AF_INET };

	a.v4.s_addr = htonl(host_order);
	return json_addr(&a);
}

static json_t *
json_time(tr_ns t)
{
	time_t secs = (time_t)(t / TR_NS_PER_SEC);
	struct tm tm;
	char buf[64];

	gmtime_r(&secs, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(t % TR_NS_PER_SEC / TR_NS_PER_US));
	return json_string(buf);
}

static json_t *
json_hex(const uint8_t *p, size_t len)
{
	char *s = malloc(len * 2 + 1);
	json_t *j;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[len * 2] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
json_reasons(const struct info *inf, const struct reasons *rs)
{
	json_t *a = json_array();

	for (size_t i = 0; i < rs->n; i++) {
		const struct reason *r = &rs->r[i];

		json_array_append_new(a, json_pack("{s:s, s:I, s:s, s:I}",
		    "reason", r->why, "count", (json_int_t)r->count,
		    "first_file", r->first_file < inf->nfiles &&
		    inf->files[r->first_file].path ?
		    inf->files[r->first_file].path : "",
		    "first_frame", (json_int_t)r->first_frame));
	}
	if (rs->other > 0)
		json_array_append_new(a, json_pack("{s:s, s:I}", "reason",
		    "other reasons (too many distinct ones to list)", "count",
		    (json_int_t)rs->other));
	return a;
}

static uint64_t
reasons_total(const struct reasons *rs)
{
	uint64_t n = rs->other;

	for (size_t i = 0; i < rs->n; i++)
		n += rs->r[i].count;
	return n;
}

/* A counter object with one key per name, zeros included, so every key is always there. */
static json_t *
json_counts(const char *const *names, const uint64_t *v, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL)
			json_object_set_new(o, names[i], json_integer(
			    (json_int_t)v[i]));
	return o;
}

static int
family_cmp(const void *x, const void *y)
{
	const struct family *a = x, *b = y;

	if (a->afi != b->afi)
		return a->afi < b->afi ? -1 : 1;
	return a->safi < b->safi ? -1 : a->safi > b->safi;
}

static json_t *
json_family_name(uint16_t afi, uint8_t safi)
{
	const char *name = bgp_family_name(afi, safi);
	char buf[32];

	if (name == NULL) {
		snprintf(buf, sizeof(buf), "afi-%u-safi-%u", afi, safi);
		name = buf;
	}
	return json_string(name);
}

static json_t *
json_families(struct families *fs, const struct bgp_addpath *ap)
{
	json_t *a = json_array();

	sort_items(fs->f, fs->n, sizeof(fs->f[0]), family_cmp);
	for (size_t i = 0; i < fs->n; i++) {
		const struct family *f = &fs->f[i];

		json_array_append_new(a, json_pack("{s:o, s:i, s:i, s:I, s:I, "
		    "s:I, s:I, s:b, s:I}", "family", json_family_name(f->afi,
		    f->safi), "afi", f->afi, "safi", f->safi,
		    "updates", (json_int_t)f->updates,
		    "announced", (json_int_t)f->announced,
		    "withdrawn", (json_int_t)f->withdrawn,
		    "end_of_rib", (json_int_t)f->end_of_rib,
		    "add_path", bgp_addpath_has(ap, f->afi, f->safi),
		    "add_path_guessed", (json_int_t)f->add_path_guessed));
	}
	return a;
}

/* One capability in words: what it is, and its value where it has a readable one. */
static json_t *
json_capability(const struct bgp_cap *cap)
{
	const char *name = bgp_cap_name(cap->code);
	json_t *o = json_pack("{s:i, s:s}", "code", cap->code, "name",
	    name ? name : "unknown");
	static const char *const ap_modes[] = { "none", "receive", "send",
	    "send-receive" };

	if (cap->code == BGP_CAP_MP && cap->len == 4)
		json_object_set_new(o, "family", json_family_name(
		    (uint16_t)(cap->value[0] << 8 | cap->value[1]),
		    cap->value[3]));
	else if (cap->code == BGP_CAP_AS4 && cap->len == 4)
		json_object_set_new(o, "as", json_integer(
		    (json_int_t)((uint32_t)cap->value[0] << 24 |
		    (uint32_t)cap->value[1] << 16 | cap->value[2] << 8 |
		    cap->value[3])));
	else if (cap->code == BGP_CAP_ADD_PATH) {
		json_t *fams = json_array();

		for (size_t at = 0; at + 4 <= cap->len; at += 4)
			json_array_append_new(fams, json_pack("{s:o, s:s}",
			    "family", json_family_name((uint16_t)(
			    cap->value[at] << 8 | cap->value[at + 1]),
			    cap->value[at + 2]), "mode",
			    ap_modes[cap->value[at + 3] & 3]));
		json_object_set_new(o, "families", fams);
	} else if (cap->len > 0)
		json_object_set_new(o, "value", json_hex(cap->value, cap->len));
	return o;
}

static json_t *
json_open(const uint8_t *msg, size_t len)
{
	struct bgp_open o;
	json_t *caps;

	if (msg == NULL || bgp_open_parse(msg, len, &o) == -1)
		return json_null();
	caps = json_array();
	for (size_t i = 0; i < o.ncaps; i++)
		json_array_append_new(caps, json_capability(&o.caps[i]));
	return json_pack("{s:i, s:I, s:i, s:o, s:o}", "version", o.version,
	    "as", (json_int_t)(o.has_as4 ? o.as4 : o.my_as),
	    "hold_time", o.hold_time, "bgp_id", json_ipv4(o.bgp_id),
	    "capabilities", caps);
}

static json_t *
json_notifications(const struct bgp_dir *b)
{
	json_t *a = json_array();
	char words[160];

	for (size_t i = 0; i < b->n_notif; i++)
		json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:I}",
		    "text", bgp_notification_describe(b->notif[i].code,
		    b->notif[i].subcode, words, sizeof(words)), "code",
		    b->notif[i].code, "subcode", b->notif[i].subcode,
		    "count", (json_int_t)b->notif[i].count));
	return a;
}

static const char *const bgp_msg_names[BGP_TYPE_MAX + 1] = {
	[0] = "other", [BGP_OPEN] = "open", [BGP_UPDATE] = "update",
	[BGP_NOTIFICATION] = "notification", [BGP_KEEPALIVE] = "keepalive",
	[BGP_ROUTE_REFRESH] = "route_refresh",
};

static json_t *
json_bgp_dir(struct dir *d)
{
	struct bgp_addpath ap;
	json_t *o;

	(void)dir_addpath(d, &ap);
	o = json_pack("{s:o, s:o, s:o}", "open", json_open(d->bgp.open,
	    d->bgp.open_len), "messages", json_counts(bgp_msg_names,
	    d->bgp.msgs, BGP_TYPE_MAX + 1), "prefixes", json_families(
	    &d->bgp.fam, &ap));
	/* ADD-PATH is read from the OPENs: UPDATEs before this side's OPEN only had path identifiers guessed. */
	json_object_set_new(o, "updates_before_open", json_integer(
	    (json_int_t)d->bgp.updates_before_open));
	json_object_set_new(o, "notifications", json_notifications(&d->bgp));
	return o;
}

static const char *const bmp_msg_names[BMP_IDX_COUNT] = {
	[BMP_ROUTE_MONITORING] = "route_monitoring",
	[BMP_STATISTICS] = "statistics", [BMP_PEER_DOWN] = "peer_down",
	[BMP_PEER_UP] = "peer_up", [BMP_INITIATION] = "initiation",
	[BMP_TERMINATION] = "termination",
	[BMP_ROUTE_MIRRORING] = "route_mirroring",
	[BMP_IDX_RPAT] = "route_policy_attr_trace", [BMP_IDX_OTHER] = "other",
};

static const char *
peer_type_name(uint8_t type)
{
	static const char *const names[] = {
		[BMP_PEER_GLOBAL] = "global", [BMP_PEER_RD] = "rd",
		[BMP_PEER_LOCAL] = "local", [BMP_PEER_LOC_RIB] = "loc-rib",
	};

	return type <= BMP_PEER_LOC_RIB ? names[type] : "unknown";
}

static int
peer_cmp(const void *x, const void *y)
{
	const struct bmp_peer_hdr *a = &((const struct bmp_peer *)x)->hdr;
	const struct bmp_peer_hdr *b = &((const struct bmp_peer *)y)->hdr;
	int c;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if ((c = memcmp(a->distinguisher, b->distinguisher,
	    sizeof(a->distinguisher))) != 0)
		return c;
	return memcmp(a->raw_addr, b->raw_addr, sizeof(a->raw_addr));
}

static json_t *
json_bmp_peer(const struct info *inf, struct bmp_peer *p)
{
	const struct bmp_peer_hdr *h = &p->hdr;
	bool loc_rib = h->type == BMP_PEER_LOC_RIB;
	json_t *o = json_pack("{s:s, s:i, s:o, s:o, s:I, s:o, s:b}",
	    "type", peer_type_name(h->type), "type_code", h->type,
	    "distinguisher", json_hex(h->distinguisher,
	    sizeof(h->distinguisher)), "address", json_addr(&h->addr),
	    "as", (json_int_t)h->as, "bgp_id", json_ipv4(h->bgp_id),
	    "loc_rib", loc_rib);

	json_object_set_new(o, "flags", loc_rib ? json_pack("{s:b}",
	    "filtered", (h->flags & BMP_LOC_RIB_FLAG_F) != 0) :
	    json_pack("{s:b, s:b, s:b, s:b}", "ipv6",
	    (h->flags & BMP_PEER_FLAG_V) != 0, "post_policy",
	    (h->flags & BMP_PEER_FLAG_L) != 0, "as_path_2byte",
	    (h->flags & BMP_PEER_FLAG_A) != 0, "adj_rib_out",
	    (h->flags & BMP_PEER_FLAG_O) != 0));
	json_object_set_new(o, "messages", json_counts(bmp_msg_names,
	    p->msgs, BMP_IDX_COUNT));
	json_object_set_new(o, "open_received", json_open(p->recv_open,
	    p->recv_len));
	json_object_set_new(o, "prefixes", json_families(&p->fam, &p->ap));
	/* ADD-PATH is read from the Peer Up: UPDATEs before one only had path identifiers guessed. */
	json_object_set_new(o, "updates_before_peer_up", json_integer(
	    (json_int_t)p->updates_before_peer_up));
	json_object_set_new(o, "route_monitoring_with_trailing_data",
	    json_integer((json_int_t)p->rm_trailing));
	json_object_set_new(o, "malformed", json_reasons(inf, &p->bad));
	return o;
}

static json_t *
json_bmp_dir(const struct info *inf, struct dir *d)
{
	struct bmp_dir *m = &d->bmp;
	json_t *peers = json_array();
	json_t *o = json_object();

	json_object_set_new(o, "version", json_integer(m->version));
	json_object_set_new(o, "sys_name", m->sys_name ? json_text(m->sys_name,
	    m->sys_name_len) : json_null());
	json_object_set_new(o, "sys_descr", m->sys_descr ?
	    json_text(m->sys_descr, m->sys_descr_len) : json_null());
	json_object_set_new(o, "messages", json_counts(bmp_msg_names, m->msgs,
	    BMP_IDX_COUNT));
	sort_items(m->peers, m->np, sizeof(m->peers[0]), peer_cmp);
	for (size_t i = 0; i < m->np; i++)
		json_array_append_new(peers, json_bmp_peer(inf, &m->peers[i]));
	json_object_set_new(o, "peers", peers);
	json_object_set_new(o, "peer_messages_not_tracked",
	    json_integer((json_int_t)m->peers_not_tracked));
	return o;
}

/* The side a connection is reported under: the exporter's, unless only the other side spoke BMP (a collector that connected to the router). */
static int
conn_owner(const struct conn *c)
{
	return c->section < 0 && c->d[0].kind != KIND_BMP &&
	    c->d[1].kind == KIND_BMP ? 1 : 0;
}

static json_t *
json_session(const struct info *inf, struct conn *c)
{
	int me = conn_owner(c);
	struct dir *d = &c->d[me], *peer = &c->d[1 - me];
	json_t *o = json_pack("{s:i, s:o, s:i, s:I, s:I}",
	    "port", c->port[me], "collector", json_addr(&c->addr[1 - me]),
	    "collector_port", c->port[1 - me],
	    "segments", (json_int_t)d->segments,
	    "bytes", (json_int_t)d->bytes);

	json_object_set_new(o, "reassembly", json_pack("{s:I, s:I, s:I, s:I}",
	    "retransmitted_bytes", (json_int_t)d->retransmitted,
	    "gap_bytes", (json_int_t)d->gap_bytes,
	    "skipped_bytes", (json_int_t)d->skipped_bytes,
	    "unfinished_bytes", (json_int_t)(d->unfinished_bytes +
	    framer_pending(&d->fr))));
	if (d->kind == KIND_BMP)
		json_object_update_new(o, json_bmp_dir(inf, d));
	if (d->kind == KIND_BGP) {
		json_object_update_new(o, json_bgp_dir(d));
		json_object_set_new(o, "collector_side", peer->kind == KIND_BGP ?
		    json_bgp_dir(peer) : json_null());
	}
	json_object_set_new(o, "malformed", json_reasons(inf, &d->bad));
	return o;
}

/* Sessions by exporter address and port, then collector address and port, then capture order. */
static int
conn_order(const struct conn *a, const struct conn *b)
{
	int ma = conn_owner(a), mb = conn_owner(b), c;

	if ((c = addr_compare(&a->addr[ma], &b->addr[mb])) != 0)
		return c;
	if (a->port[ma] != b->port[mb])
		return a->port[ma] < b->port[mb] ? -1 : 1;
	if ((c = addr_compare(&a->addr[1 - ma], &b->addr[1 - mb])) != 0)
		return c;
	if (a->port[1 - ma] != b->port[1 - mb])
		return a->port[1 - ma] < b->port[1 - mb] ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int
conn_cmp(const void *x, const void *y)
{
	return conn_order(*(struct conn *const *)x,
	    *(struct conn *const *)y);
}

static int
exporter_cmp(const void *x, const void *y)
{
	return addr_compare(&(*(struct exporter *const *)x)->addr,
	    &(*(struct exporter *const *)y)->addr);
}

static int
domain_cmp(const void *x, const void *y)
{
	const struct flow_domain *a = x, *b = y;

	if (a->version != b->version)
		return a->version < b->version ? -1 : 1;
	return a->domain < b->domain ? -1 : a->domain > b->domain;
}

static int
tmpl_cmp(const void *x, const void *y)
{
	const struct tmpl *a = x, *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

static json_t *
json_template(const struct tmpl *t)
{
	return json_pack("{s:i, s:s, s:b, s:i, s:i, s:b, s:I, s:I, s:I, s:I}",
	    "id", t->id, "kind", t->options ? "options" : "data",
	    "defined", t->definitions > 0, "fields", t->field_count,
	    "scope_fields", t->scope_count, "sampling", t->sampling,
	    "definitions", (json_int_t)t->definitions,
	    "withdrawals", (json_int_t)t->withdrawals,
	    "data_sets", (json_int_t)t->data_sets,
	    "data_records", (json_int_t)t->data_records);
}

static json_t *
json_domain(struct flow_domain *d)
{
	uint64_t records = d->records;
	json_t *tmpls;

	if (d->version == NF_VERSION_5)
		return json_pack("{s:i, s:i, s:i, s:I, s:I}", "version", 5,
		    "engine_type", d->domain >> 8, "engine_id", d->domain & 0xff,
		    "messages", (json_int_t)d->messages,
		    "records", (json_int_t)d->records);
	tmpls = json_array();
	sort_items(d->t, d->nt, sizeof(d->t[0]), tmpl_cmp);
	for (size_t i = 0; i < d->nt; i++) {
		json_array_append_new(tmpls, json_template(&d->t[i]));
		records += d->t[i].data_records;
	}
	return json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:o}", "version", d->version, "domain", (json_int_t)d->domain,
	    "messages", (json_int_t)d->messages,
	    "template_sets", (json_int_t)d->template_sets,
	    "options_template_sets", (json_int_t)d->options_template_sets,
	    "data_sets", (json_int_t)d->data_sets,
	    "data_sets_without_template",
	    (json_int_t)d->data_sets_without_template,
	    "data_records", (json_int_t)records,
	    "other_sets", (json_int_t)d->other_sets,
	    "withdraw_all", (json_int_t)d->withdraw_all,
	    "templates_not_tracked", (json_int_t)d->templates_not_tracked,
	    "templates", tmpls);
}

static json_t *
json_flows(struct exporter *e, uint64_t *messages)
{
	json_t *versions = json_array(), *domains = json_array();
	int last = -1;

	sort_items(e->dom, e->nd, sizeof(e->dom[0]), domain_cmp);
	for (size_t i = 0; i < e->nd; i++) {
		if (e->dom[i].version != last)
			json_array_append_new(versions,
			    json_integer(last = e->dom[i].version));
		json_array_append_new(domains, json_domain(&e->dom[i]));
		*messages += e->dom[i].messages;
	}
	return json_pack("{s:o, s:o}", "versions", versions, "domains",
	    domains);
}

/* Everything one exporter sent: flows, then its TCP sessions by kind (conns[0..n) are its own, sorted). */
static json_t *
json_exporter(const struct info *inf, struct exporter *e, struct conn **conns,
    size_t n, uint64_t *totals)
{
	json_t *o = json_pack("{s:o}", "address", json_addr(&e->addr));
	json_t *bmp = json_array(), *bgp = json_array(), *tcp = json_array();

	if (inf->cfg != NULL)
		json_object_set_new(o, "repro_ip", e->map_index >= 0 ?
		    json_addr(&inf->cfg->map[e->map_index].repro_ip) :
		    json_null());
	json_object_set_new(o, "udp_packets", json_integer(
	    (json_int_t)e->packets));
	json_object_set_new(o, "udp_bytes", json_integer((json_int_t)e->bytes));
	json_object_set_new(o, "flows", json_flows(e, &totals[0]));
	json_object_set_new(o, "udp_generic", json_pack("{s:I, s:I}",
	    "packets", (json_int_t)e->udp_generic_packets,
	    "bytes", (json_int_t)e->udp_generic_bytes));
	totals[3] += reasons_total(&e->bad);
	for (size_t i = 0; i < n; i++) {
		struct dir *d = &conns[i]->d[conn_owner(conns[i])];
		json_t *s = json_session(inf, conns[i]);

		totals[3] += reasons_total(&d->bad);
		for (size_t k = 0; k < d->bmp.np; k++)
			totals[3] += reasons_total(&d->bmp.peers[k].bad);
		if (d->kind == KIND_BMP) {
			json_array_append_new(bmp, s);
			for (size_t k = 0; k < BMP_IDX_COUNT; k++)
				totals[1] += d->bmp.msgs[k];
		} else if (d->kind == KIND_BGP) {
			json_array_append_new(bgp, s);
			for (size_t k = 0; k <= BGP_TYPE_MAX; k++)
				totals[2] += d->bgp.msgs[k];
		} else
			json_array_append_new(tcp, s);
	}
	json_object_set_new(o, "bmp", bmp);
	json_object_set_new(o, "bgp", bgp);
	json_object_set_new(o, "tcp_generic", tcp);
	json_object_set_new(o, "malformed", json_reasons(inf, &e->bad));
	return o;
}

/* Connections that carried anything, sorted by their exporter; an exporter entry for each owner. */
static struct conn **
sorted_conns(struct info *inf, size_t *n)
{
	struct conn **v = calloc(inf->n_conns + 1, sizeof(*v));

	*n = 0;
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < inf->n_conns; i++) {
		struct conn *c = inf->conns[i];

		if (c->d[0].bytes + c->d[1].bytes == 0)
			continue;
		if (exporter_get(inf, &c->addr[conn_owner(c)]) == NULL)
			break;
		v[(*n)++] = c;
	}
	sort_items(v, *n, sizeof(*v), conn_cmp);
	return v;
}

static struct exporter **
sorted_exporters(struct info *inf)
{
	struct exporter **v = calloc(inf->n_exporters + 1, sizeof(*v));
	size_t n = 0;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < EXPORTER_BUCKETS; i++)
		for (struct exporter *e = inf->exp_buckets[i]; e; e = e->next)
			v[n++] = e;
	sort_items(v, n, sizeof(*v), exporter_cmp);
	return v;
}

static json_t *
json_exporters(struct info *inf, uint64_t *totals)
{
	size_t nc, at = 0;
	struct conn **conns = sorted_conns(inf, &nc);
	struct exporter **exps = sorted_exporters(inf);
	json_t *a = json_array();

	if (conns == NULL || exps == NULL) {
		free(conns);
		free(exps);
		inf->oom = true;
		return a;
	}
	for (size_t i = 0; i < inf->n_exporters; i++) {
		size_t from = at;

		while (at < nc && addr_equal(&conns[at]->addr[
		    conn_owner(conns[at])], &exps[i]->addr))
			at++;
		json_array_append_new(a, json_exporter(inf, exps[i],
		    conns + from, at - from, totals));
	}
	free(conns);
	free(exps);
	return a;
}

static json_t *
json_captures(const struct info *inf, json_t *errors)
{
	json_t *a = json_array();

	for (size_t i = 0; i < inf->nfiles; i++) {
		const struct capture *f = &inf->files[i];

		json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "file",
		    f->path ? f->path : "", "frames", (json_int_t)f->frames,
		    "packets", (json_int_t)f->packets));
		if (f->error != NULL)
			json_array_append_new(errors, json_pack("{s:s, s:s}",
			    "file", f->path ? f->path : "", "error", f->error));
	}
	return a;
}

static json_t *
json_dropped(const struct info *inf)
{
	const struct dropped *d = &inf->drop;

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "truncated_frames", (json_int_t)d->truncated,
	    "not_ip", (json_int_t)d->not_ip,
	    "other_l4", (json_int_t)d->other_l4,
	    "malformed_frames", (json_int_t)d->malformed_frames,
	    "fragments_dropped", (json_int_t)d->fragments_dropped,
	    "reassembled_not_udp_tcp", (json_int_t)d->reassembled_other,
	    "not_selected", (json_int_t)d->not_selected,
	    "unknown_exporter", (json_int_t)d->unknown_exporter,
	    "filtered", (json_int_t)d->filtered);
}

json_t *
info_json(struct info *inf)
{
	uint64_t frames = 0, totals[4] = { 0 };	/* flow, BMP, BGP messages; malformed */
	json_t *root = json_object(), *errors = json_array(), *exps;

	for (size_t i = 0; i < inf->nfiles; i++)
		frames += inf->files[i].frames;
	json_object_set_new(root, "config", inf->cfg ? json_string(
	    inf->cfg->path) : json_null());
	json_object_set_new(root, "captures", json_captures(inf, errors));
	json_object_set_new(root, "time", inf->packets == 0 ? json_null() :
	    json_pack("{s:o, s:o, s:I}", "first", json_time(inf->first_ts),
	    "last", json_time(inf->last_ts), "duration_us",
	    (json_int_t)((inf->last_ts - inf->first_ts) / TR_NS_PER_US)));
	exps = json_exporters(inf, totals);
	json_object_set_new(root, "totals", json_pack("{s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "frames", (json_int_t)frames, "packets", (json_int_t)inf->packets,
	    "udp_packets", (json_int_t)inf->udp_packets,
	    "tcp_segments", (json_int_t)inf->tcp_segments,
	    "collector_segments", (json_int_t)inf->drop.collector_segments,
	    "payload_bytes", (json_int_t)inf->payload_bytes,
	    "exporters", (json_int_t)inf->n_exporters,
	    "flow_messages", (json_int_t)totals[0],
	    "bmp_messages", (json_int_t)totals[1],
	    "bgp_messages", (json_int_t)totals[2],
	    "malformed", (json_int_t)totals[3]));
	json_object_set_new(root, "exporters", exps);
	json_object_set_new(root, "dropped", json_dropped(inf));
	json_object_set_new(root, "errors", errors);
	if (inf->oom) {
		json_decref(root);
		errno = ENOMEM;
		return NULL;
	}
	return root;
}
