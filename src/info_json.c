/* Info mode's JSON: the summary info.c counted, as one document with a stable key order. */
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
#include "info_model.h"
#include "netflow.h"

/*
 * The document's value budget: the tree is built in memory before it is
 * printed (~100 bytes a value), so past MAX_JSON_VALUES values no list
 * item is added.  Items are charged when appended, less what their own
 * lists were charged already.
 */
struct jbudget {
	size_t		 used;
	uint64_t	 cut;	/* list items left out */
};

static size_t
json_values(json_t *j)
{
	size_t n = 1, i;
	const char *k;
	json_t *v;

	if (json_is_object(j))
		json_object_foreach(j, k, v)
			n += json_values(v);
	else if (json_is_array(j))
		json_array_foreach(j, i, v)
			n += json_values(v);
	return n;
}

/* Whether one more list item may be built; when not, it is counted as cut. */
static bool
budget_room(struct jbudget *b)
{
	if (b->used < MAX_JSON_VALUES)
		return true;
	b->cut++;
	return false;
}

/* Append item, built since mark = b->used, to list. */
static void
budget_append(struct jbudget *b, size_t mark, json_t *list, json_t *item)
{
	size_t inner = b->used - mark, n = json_values(item);

	b->used += n > inner ? n - inner : 0;
	json_array_append_new(list, item);
}

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

	(void)info_dir_addpath(d, &ap);
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
json_bmp_dir(const struct info *inf, struct dir *d, struct jbudget *b)
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
	for (size_t i = 0; i < m->np; i++) {
		size_t mark = b->used;

		if (budget_room(b))
			budget_append(b, mark, peers, json_bmp_peer(inf,
			    &m->peers[i]));
	}
	json_object_set_new(o, "peers", peers);
	json_object_set_new(o, "peer_messages_not_tracked",
	    json_integer((json_int_t)m->peers_not_tracked));
	return o;
}

/* The side a connection is reported under: the exporter's, unless only the other side spoke BMP (a collector that connected to the router). */
static int
conn_owner(const struct conn *c)
{
	return c->section < 0 && c->d[0].kind != SECTION_BMP &&
	    c->d[1].kind == SECTION_BMP ? 1 : 0;
}

static json_t *
json_session(const struct info *inf, struct conn *c, struct jbudget *b)
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
	if (d->kind == SECTION_BMP)
		json_object_update_new(o, json_bmp_dir(inf, d, b));
	if (d->kind == SECTION_BGP) {
		json_object_update_new(o, json_bgp_dir(d));
		json_object_set_new(o, "collector_side",
		    peer->kind == SECTION_BGP ? json_bgp_dir(peer) :
		    json_null());
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
json_domain(struct flow_domain *d, struct jbudget *b)
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
		records += d->t[i].data_records;
		if (budget_room(b))
			budget_append(b, b->used, tmpls,
			    json_template(&d->t[i]));
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
json_flows(struct exporter *e, struct jbudget *b)
{
	json_t *versions = json_array(), *domains = json_array();
	int last = -1;

	sort_items(e->dom, e->nd, sizeof(e->dom[0]), domain_cmp);
	for (size_t i = 0; i < e->nd; i++) {
		size_t mark = b->used;

		if (e->dom[i].version != last)
			json_array_append_new(versions,
			    json_integer(last = e->dom[i].version));
		if (budget_room(b))
			budget_append(b, mark, domains,
			    json_domain(&e->dom[i], b));
	}
	return json_pack("{s:o, s:o}", "versions", versions, "domains",
	    domains);
}

/* An exporter's share of the totals: flow, BMP, BGP messages; malformed (conns[0..n) are its own). */
static void
exporter_totals(const struct exporter *e, struct conn **conns, size_t n,
    uint64_t *totals)
{
	for (size_t i = 0; i < e->nd; i++)
		totals[0] += e->dom[i].messages;
	totals[3] += reasons_total(&e->bad);
	for (size_t i = 0; i < n; i++) {
		const struct dir *d = &conns[i]->d[conn_owner(conns[i])];

		totals[3] += reasons_total(&d->bad);
		for (size_t k = 0; k < d->bmp.np; k++)
			totals[3] += reasons_total(&d->bmp.peers[k].bad);
		if (d->kind == SECTION_BMP)
			for (size_t k = 0; k < BMP_IDX_COUNT; k++)
				totals[1] += d->bmp.msgs[k];
		else if (d->kind == SECTION_BGP)
			for (size_t k = 0; k <= BGP_TYPE_MAX; k++)
				totals[2] += d->bgp.msgs[k];
	}
}

/* Each protocol with a count hook under its name: its counts, or null when the exporter sent none of it. */
static void
json_protocols(const struct exporter *e, json_t *o)
{
	for (int id = 0; id < SECTION_COUNT; id++) {
		const struct proto_count *pc = protocols[id]->count;

		if (pc != NULL)
			json_object_set_new(o, protocols[id]->name,
			    e->proto[id] != NULL ? pc->json(e->proto[id]) :
			    json_null());
	}
}

/* Everything one exporter sent: flows, then its TCP sessions by kind (conns[0..n) are its own, sorted). */
static json_t *
json_exporter(const struct info *inf, struct exporter *e, struct conn **conns,
    size_t n, struct jbudget *b)
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
	json_object_set_new(o, "flows", json_flows(e, b));
	json_protocols(e, o);
	json_object_set_new(o, "udp_generic", json_pack("{s:I, s:I}",
	    "packets", (json_int_t)e->udp_generic_packets,
	    "bytes", (json_int_t)e->udp_generic_bytes));
	for (size_t i = 0; i < n; i++) {
		int kind = conns[i]->d[conn_owner(conns[i])].kind;
		size_t mark = b->used;

		if (!budget_room(b))
			continue;
		budget_append(b, mark, kind == SECTION_BMP ? bmp :
		    kind == SECTION_BGP ? bgp : tcp,
		    json_session(inf, conns[i], b));
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
		/* Past MAX_EXPORTERS, a session of a new exporter is not itemised. */
		if (info_exporter_get(inf, &c->addr[conn_owner(c)]) == NULL) {
			if (inf->oom)
				break;
			continue;
		}
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
json_exporters(struct info *inf, uint64_t *totals, struct jbudget *b)
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

		size_t mark = b->used;

		while (at < nc && addr_equal(&conns[at]->addr[
		    conn_owner(conns[at])], &exps[i]->addr))
			at++;
		exporter_totals(exps[i], conns + from, at - from, totals);
		if (budget_room(b))
			budget_append(b, mark, a, json_exporter(inf, exps[i],
			    conns + from, at - from, b));
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

/*
 * Said only when it happened, so that the summary of a capture under every
 * cap is what it always was: what a cap left out, and what the value
 * budget cut from the lists.
 */
static void
json_limits(const struct info *inf, const struct jbudget *b, json_t *root)
{
	json_t *caps;

	if (inf->caps_hit != 0) {
		caps = json_array();
		for (int i = 0; i < CAP_COUNT; i++)
			if (inf->caps_hit & 1u << i)
				json_array_append_new(caps, json_pack("{s:s, s:i}",
				    "cap", info_cap_names[i], "limit",
				    (int)info_cap_limit[i]));
		json_object_set_new(root, "not_tracked", json_pack("{s:I, s:o}",
		    "count", (json_int_t)inf->not_tracked, "caps", caps));
	}
	if (b->cut > 0)
		json_object_set_new(root, "cut", json_pack("{s:i, s:I}",
		    "max_values", MAX_JSON_VALUES, "items_left_out",
		    (json_int_t)b->cut));
}

json_t *
info_json(struct info *inf)
{
	uint64_t frames = 0, totals[4] = { 0 };	/* flow, BMP, BGP messages; malformed */
	json_t *root = json_object(), *errors = json_array(), *exps;
	struct jbudget b = { .used = 0 };

	for (size_t i = 0; i < inf->nfiles; i++)
		frames += inf->files[i].frames;
	json_object_set_new(root, "config", inf->cfg ? json_string(
	    inf->cfg->path) : json_null());
	json_object_set_new(root, "captures", json_captures(inf, errors));
	json_object_set_new(root, "time", inf->packets == 0 ? json_null() :
	    json_pack("{s:o, s:o, s:I}", "first", json_time(inf->first_ts),
	    "last", json_time(inf->last_ts), "duration_us",
	    (json_int_t)((inf->last_ts - inf->first_ts) / TR_NS_PER_US)));
	exps = json_exporters(inf, totals, &b);
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
	json_limits(inf, &b, root);
	if (inf->oom) {
		json_decref(root);
		errno = ENOMEM;
		return NULL;
	}
	return root;
}
