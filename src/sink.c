/* The built-in receiving collector: UDP and TCP listeners that count, decode headers and answer BGP (its summary: sink_summary.c; its command line: sink_cli.c). */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "bgp.h"
#include "bytebuf.h"
#include "grow.h"
#include "netflow.h"
#include "log.h"
#include "monotime.h"
#include "sink.h"
#include "sink_model.h"
#include "writer.h"

/* The only mutable global: signal handlers may do nothing else safely. */
static volatile sig_atomic_t sink_stop_flag;

const char *
sink_proto_name(int proto)
{
	if (proto == SINK_PROTO_RAW)
		return "raw";
	if (proto == SINK_PROTO_UNKNOWN)
		return "unknown";
	return protocols[proto]->name;
}

/* ---- small helpers ---------------------------------------------------- */

static const char *
fmt_addr(const struct tr_addr *a, char *buf)
{
	return addr_format(a, buf, TR_ADDR_STRLEN);
}

static void
sink_mark_rx(struct sink *s)
{
	s->last_rx = tr_mono_now();
	s->got_any = true;
}

/* ---- exporter index --------------------------------------------------- */

static uint32_t
key_hash(const struct sink_key *k)
{
	return flow_key_hash(&k->flow, fnv1a(FNV1A_BASIS, &k->proto,
	    sizeof(k->proto)));
}

static bool
key_equal(const struct sink_key *a, const struct sink_key *b)
{
	return a->proto == b->proto && flow_key_equal(&a->flow, &b->flow);
}

static struct sink_slot *
index_slot(struct sink_slot *slots, size_t cap, const struct sink_key *k)
{
	size_t i = (size_t)key_hash(k) & (cap - 1);

	while (slots[i].used && !key_equal(&slots[i].key, k))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static bool
index_find(const struct sink_index *x, const struct sink_key *k,
    uint32_t *idx)
{
	struct sink_slot *slot;

	if (x->cap == 0)
		return false;
	slot = index_slot(x->slots, x->cap, k);
	if (!slot->used)
		return false;
	*idx = slot->idx;
	return true;
}

/* Keep the load under one half so probes stay short. */
static int
index_grow(struct sink_index *x)
{
	size_t ncap = x->cap ? x->cap * 2 : 64;
	struct sink_slot *slots;

	if ((slots = calloc(ncap, sizeof(*slots))) == NULL)
		return -1;
	for (size_t i = 0; i < x->cap; i++)
		if (x->slots[i].used)
			*index_slot(slots, ncap, &x->slots[i].key) =
			    x->slots[i];
	free(x->slots);
	x->slots = slots;
	x->cap = ncap;
	return 0;
}

static int
index_insert(struct sink_index *x, const struct sink_key *k, uint32_t idx)
{
	struct sink_slot *slot;

	if ((x->n + 1) * 2 > x->cap && index_grow(x) == -1)
		return -1;
	slot = index_slot(x->slots, x->cap, k);
	slot->key = *k;
	slot->idx = idx;
	slot->used = true;
	x->n++;
	return 0;
}

static struct sink_key
make_key(const struct tr_addr *a, uint16_t port, uint8_t proto)
{
	struct sink_key k;

	memset(&k, 0, sizeof(k));
	k.flow.src = *a;
	k.flow.dport = port;
	k.proto = proto;
	return k;
}

/* The stats of one (exporter, local port); NULL past the exporter cap. */
static struct sink_udp_stat *
udp_stat_get(struct sink *s, const struct tr_addr *a, uint16_t port)
{
	struct sink_key k = make_key(a, port, 0);
	struct sink_udp_stat *u;
	uint32_t idx;

	if (index_find(&s->udp_index, &k, &idx))
		return &s->udp[idx];
	if (grow_array(&s->udp, &s->udp_cap, sizeof(*s->udp),
	    s->nudp + 1, SINK_MAX_EXPORTERS) == -1 ||
	    index_insert(&s->udp_index, &k, (uint32_t)s->nudp) == -1)
		return NULL;
	u = &s->udp[s->nudp++];
	memset(u, 0, sizeof(*u));
	u->exporter = *a;
	u->port = port;
	return u;
}

/* The index of one (exporter, local port, protocol), or SIZE_MAX past the cap. */
static size_t
tcp_stat_get(struct sink *s, const struct tr_addr *a, uint16_t port,
    int proto)
{
	struct sink_key k = make_key(a, port, (uint8_t)proto);
	struct sink_tcp_stat *t;
	uint32_t idx;

	if (index_find(&s->tcp_index, &k, &idx))
		return idx;
	if (grow_array(&s->tcp, &s->tcp_cap, sizeof(*s->tcp),
	    s->ntcp + 1, SINK_MAX_EXPORTERS) == -1 ||
	    index_insert(&s->tcp_index, &k, (uint32_t)s->ntcp) == -1)
		return SIZE_MAX;
	t = &s->tcp[s->ntcp];
	memset(t, 0, sizeof(*t));
	t->exporter = *a;
	t->port = port;
	t->proto = proto;
	return s->ntcp++;
}

static struct sink_tcp_stat *
conn_stat(struct sink *s, const struct sink_conn *c)
{
	return c->stat == SIZE_MAX ? NULL : &s->tcp[c->stat];
}

/* ---- dump ------------------------------------------------------------- */

static void
dump_line(struct sink *s, const char *proto, const struct tr_addr *peer,
    uint16_t peer_port, uint16_t local_port, const uint8_t *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char abuf[TR_ADDR_STRLEN];
	char chunk[4096];
	size_t n = 0;

	if (s->dump == NULL)
		return;
	fprintf(s->dump, "%s %s %u %u ", proto, fmt_addr(peer, abuf),
	    peer_port, local_port);
	for (size_t i = 0; i < len; i++) {
		chunk[n++] = hex[p[i] >> 4];
		chunk[n++] = hex[p[i] & 0xf];
		if (n == sizeof(chunk)) {
			fwrite(chunk, 1, n, s->dump);
			n = 0;
		}
	}
	chunk[n++] = '\n';
	fwrite(chunk, 1, n, s->dump);
	s->dump_dirty = true;
}

/* Tests read the dump while the sink runs: flush once per burst of events. */
static void
dump_flush(struct sink *s)
{
	if (s->dump == NULL || !s->dump_dirty)
		return;
	if (fflush(s->dump) == EOF)
		log_warn("sink: writing %s", s->opts.dump_path);
	s->dump_dirty = false;
}

/* ---- NetFlow / IPFIX accounting --------------------------------------- */

/* Past a cap over every exporter: counted in untracked, and named the first time. */
static void
sink_untracked(struct sink *s, const char *what)
{
	s->untracked++;
	if (s->cap_told)
		return;
	s->cap_told = true;
	log_warnx("sink: more than %s: the rest is counted in untracked",
	    what);
}

static struct sink_nf *
nf_get(struct sink *s, struct sink_udp_stat *u, uint16_t version,
    uint32_t domain, uint16_t sport)
{
	struct sink_nf *nf;

	for (size_t i = 0; i < u->nnf; i++)
		if (u->nf[i].version == version &&
		    u->nf[i].domain == domain && u->nf[i].sport == sport)
			return &u->nf[i];
	if (s->nnf_total == SINK_MAX_NETFLOW_TOTAL) {
		sink_untracked(s, "65536 NetFlow/IPFIX sessions (exporter, "
		    "port, domain)");
		return NULL;
	}
	if (grow_array(&u->nf, &u->nf_cap, sizeof(*u->nf), u->nnf + 1,
	    SINK_MAX_NETFLOW) == -1)
		return NULL;
	nf = &u->nf[u->nnf++];
	memset(nf, 0, sizeof(*nf));
	nf->templates_scope = s->nnf_total++;
	nf->version = version;
	nf->domain = domain;
	nf->sport = sport;
	return nf;
}

static struct nf_template_key
nf_template_key(const struct sink_nf *nf, uint16_t id)
{
	struct nf_template_key k = { .scope = nf->templates_scope,
	    .domain = nf->domain, .version = nf->version, .id = id };

	return k;
}

static void
nf_template_learn(struct sink *s, struct sink_nf *nf, uint16_t set_id,
    const struct nf_template *t, const uint8_t *rec)
{
	struct nf_template_key k = nf_template_key(nf, t->id);

	if (t->field_count == 0) {
		/* A withdrawal: of one template, or (id == set id) of all of that kind. */
		if (t->id == set_id)
			(void)nf_templates_withdraw_all(&s->templates,
			    nf->templates_scope, nf->version, nf->domain,
			    set_id);
		else
			(void)nf_templates_withdraw(&s->templates, &k);
		return;
	}
	if (nf_templates_define(&s->templates, &k, set_id, t, rec) ==
	    NF_DEFINE_OVER_ENTRIES)
		sink_untracked(s, "1048576 templates");
}

/* Learn every template record of a template or options template set. */
static void
nf_template_set(struct sink *s, struct sink_nf *nf, const struct nf_set *set)
{
	const uint8_t *p = set->body;
	size_t left = set->body_len;
	struct nf_template t;

	/* Fewer than 4 bytes cannot hold a template header: set padding. */
	while (left >= 4) {
		if (nf_template_parse(nf->version, set->id, p, left, &t) ==
		    -1)
			return;
		nf_template_learn(s, nf, set->id, &t, p);
		p += t.consumed;
		left -= t.consumed;
	}
}

/*
 * Walk the sets: tally template and data sets and, for IPFIX, count data
 * records.  Returns the record count, or -1 when some data set's record
 * length is unknown (its template unseen or variable-length), so the next
 * sequence number cannot be predicted.  *malformed is set on a bad set.
 */
static int64_t
nf_walk_sets(struct sink *s, struct sink_nf *nf, const uint8_t *p, size_t len,
    bool *malformed)
{
	struct nf_set_iter it;
	struct nf_set set;
	int64_t records = 0;
	bool known = true;
	int rc;

	*malformed = false;
	if (nf_sets_begin(p, len, &it) == -1) {
		*malformed = true;
		return -1;
	}
	while ((rc = nf_set_next(&it, &set)) == 1) {
		if (nf_is_template_set(nf->version, set.id)) {
			nf->template_sets++;
			if (nf->version == NF_VERSION_IPFIX)
				nf_template_set(s, nf, &set);
		} else if (set.id >= NF_MIN_DATA_SET_ID) {
			struct nf_template_key k = nf_template_key(nf, set.id);
			const struct nf_stored_template *t;

			nf->data_sets++;
			t = nf_templates_find(&s->templates, &k);
			if (t == NULL || t->record_len == 0)
				known = false;
			else
				records += set.body_len / t->record_len;
		}
	}
	if (rc == -1)
		*malformed = true;
	return known && !*malformed ? records : -1;
}

static void
nf_sequence(struct sink_nf *nf, uint32_t seq)
{
	if (nf->messages == 0)
		nf->first_seq = seq;
	else if (nf->expect_known && seq != nf->expect)
		nf->seq_errors++;
	nf->last_seq = seq;
	nf->messages++;
}

/* Decode what we can of a datagram: NetFlow v5/v9/IPFIX or undecoded. */
static void
nf_account(struct sink *s, struct sink_udp_stat *u, uint16_t sport, const uint8_t *p,
    size_t len)
{
	struct nf_header h;
	struct sink_nf *nf;
	bool malformed = false;
	int64_t records;

	if (nf_parse_header(p, len, &h) == -1 ||
	    (h.version == NF_VERSION_5 &&
	    len < h.header_len + (size_t)h.count * NF_V5_RECORD_LEN) ||
	    (h.version == NF_VERSION_IPFIX && h.length > len) ||
	    (nf = nf_get(s, u, h.version, h.domain, sport)) == NULL) {
		u->undecoded++;
		return;
	}
	nf_sequence(nf, h.sequence);
	switch (h.version) {
	case NF_VERSION_5:
		nf->expect = h.sequence + h.count;
		nf->expect_known = true;
		return;
	case NF_VERSION_9:
		(void)nf_walk_sets(s, nf, p, len, &malformed);
		nf->expect = h.sequence + 1;
		nf->expect_known = true;
		break;
	default:
		records = nf_walk_sets(s, nf, p, len, &malformed);
		nf->expect = h.sequence + (uint32_t)(records < 0 ? 0 : records);
		nf->expect_known = records >= 0;
		break;
	}
	if (malformed)
		nf->malformed++;
}

/* ---- UDP -------------------------------------------------------------- */

/*
 * A datagram that a protocol's count hook claims by content goes to its
 * state for this exporter and port: true when one did (or memory ran out
 * making it).  Asked before NetFlow/IPFIX, whose first 16 bits (a version,
 * 5, 9 or 10) no classify hook may take.
 */
static bool
udp_proto_count(struct sink *s, struct sink_udp_stat *u, const uint8_t *p,
    size_t len)
{
	for (int id = 0; id < SECTION_COUNT; id++) {
		const struct proto_count *pc = protocols[id]->count;

		if (pc == NULL || !pc->classify(p, len))
			continue;
		if (u->proto[id] == NULL && (u->proto[id] = pc->new()) == NULL) {
			s->untracked++;
			return true;
		}
		pc->datagram(u->proto[id], p, len);
		return true;
	}
	return false;
}

static void
udp_proto_free(struct sink_udp_stat *u)
{
	for (int id = 0; id < SECTION_COUNT; id++)
		if (u->proto[id] != NULL)
			protocols[id]->count->free(u->proto[id]);
}

static void
udp_datagram(struct sink *s, uint16_t local_port,
    const struct sockaddr *from, const uint8_t *p, size_t len)
{
	struct sink_udp_stat *u;
	struct tr_addr peer;
	uint16_t peer_port;

	if (addr_from_sockaddr(from, &peer, &peer_port) == -1)
		return;
	dump_line(s, "udp", &peer, peer_port, local_port, p, len);
	if ((u = udp_stat_get(s, &peer, local_port)) == NULL) {
		s->untracked++;
		return;
	}
	u->datagrams++;
	u->bytes += len;
	if (!udp_proto_count(s, u, p, len))
		nf_account(s, u, peer_port, p, len);
}

static void
udp_read(struct sink *s, struct sink_listener *l)
{
	for (int pass = 0; pass < SINK_UDP_PASSES; pass++) {
		int n;

		for (size_t i = 0; i < SINK_UDP_BATCH; i++) {
			s->iov[i].iov_base = s->udp_bufs + i * SINK_UDP_BUF;
			s->iov[i].iov_len = SINK_UDP_BUF;
			memset(&s->msgs[i], 0, sizeof(s->msgs[i]));
			s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
			s->msgs[i].msg_hdr.msg_iovlen = 1;
			s->msgs[i].msg_hdr.msg_name = &s->from[i];
			s->msgs[i].msg_hdr.msg_namelen = sizeof(s->from[i]);
		}
		n = recvmmsg(l->h.fd, s->msgs, SINK_UDP_BATCH, MSG_DONTWAIT,
		    NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("sink: udp port %u: recvmmsg",
				    l->port);
			return;
		}
		if (n > 0)
			sink_mark_rx(s);
		for (int i = 0; i < n; i++)
			udp_datagram(s, l->port,
			    (const struct sockaddr *)&s->from[i],
			    s->iov[i].iov_base, s->msgs[i].msg_len);
		if (n < SINK_UDP_BATCH)
			return;
	}
}

/* ---- TCP connections: output and BGP answers --------------------------- */

/* Ask for EPOLLOUT only while something is queued, and only on a change. */
static void
conn_want_out(struct sink *s, struct sink_conn *c, bool want)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0),
		.data.ptr = &c->h,
	};

	if (c->want_out == want)
		return;
	c->want_out = want;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->h.fd, &ev) == -1)
		log_warn("sink: epoll_ctl");
}

/* Send what is queued; a failure marks the connection for closing. */
static void
conn_flush_out(struct sink *s, struct sink_conn *c)
{
	while (bytebuf_len(&c->out) > 0) {
		ssize_t n = send(c->h.fd, bytebuf_data(&c->out),
		    bytebuf_len(&c->out),
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS) {
				conn_want_out(s, c, true);
				return;
			}
			c->failed = true;
			return;
		}
		bytebuf_consume(&c->out, (size_t)n);
	}
	conn_want_out(s, c, false);
}

static void
conn_send(struct sink *s, struct sink_conn *c, const uint8_t *p, size_t len)
{
	bool idle = bytebuf_len(&c->out) == 0;

	if (bytebuf_append(&c->out, p, len) == -1) {
		/* The peer reads nothing we send: it will not miss a keepalive. */
		log_debug("sink: answer queue full, dropping %zu bytes", len);
		return;
	}
	if (idle)
		conn_flush_out(s, c);
}

/* ADD-PATH tuples are AFI(2) SAFI(1) send/receive(1): we receive what it sends. */
static void
flip_add_path(const struct bgp_cap *in, uint8_t *val)
{
	memcpy(val, in->value, in->len);
	for (size_t i = 3; i < in->len; i += 4) {
		uint8_t sr = val[i];

		val[i] = (uint8_t)(((sr & 1) << 1) | ((sr & 2) >> 1));
	}
}

static bool
mirrored_cap(uint8_t code)
{
	switch (code) {
	case BGP_CAP_MP:
	case BGP_CAP_ROUTE_REFRESH:
	case BGP_CAP_EXT_NEXTHOP:
	case BGP_CAP_EXT_MESSAGE:
	case BGP_CAP_ADD_PATH:
	case BGP_CAP_ENH_REFRESH:
		return true;
	default:
		return false;
	}
}

/*
 * Our OPEN, like pmbgpd's: mirror the peer's families and the capabilities
 * that let it send what it captured (ADD-PATH flipped to receive), always
 * with a 4-byte AS capability.  Values point into as4 and addpath.
 */
static void
bgp_answer_open(const struct sink *s, const struct bgp_open *peer,
    struct bgp_open *mine, uint8_t as4[4], uint8_t addpath[255])
{
	uint32_t as = s->opts.bgp_as;
	size_t room = 254;	/* optional parameter area, one byte length */

	memset(mine, 0, sizeof(*mine));
	mine->version = 4;
	mine->my_as = as > UINT16_MAX ? BGP_AS_TRANS : (uint16_t)as;
	mine->hold_time = peer->hold_time;
	mine->bgp_id = peer->bgp_id == SINK_BGP_ID ? SINK_BGP_ID + 1 :
	    SINK_BGP_ID;
	be32_store(as4, as);
	/* --bgp-bare plays an old speaker, to show what the replay says about it. */
	if (s->opts.bgp_bare)
		return;
	mine->caps[mine->ncaps++] = (struct bgp_cap){ BGP_CAP_AS4, 4, as4 };
	room -= 4 + 4;
	for (size_t i = 0; i < peer->ncaps; i++) {
		const struct bgp_cap *cap = &peer->caps[i];

		if (!mirrored_cap(cap->code) || (size_t)cap->len + 4 > room ||
		    mine->ncaps == BGP_OPEN_MAX_CAPS)
			continue;
		mine->caps[mine->ncaps] = *cap;
		if (cap->code == BGP_CAP_ADD_PATH) {
			flip_add_path(cap, addpath);
			mine->caps[mine->ncaps].value = addpath;
		}
		mine->ncaps++;
		room -= (size_t)cap->len + 4;
	}
}

static void
conn_bgp_open(struct sink *s, struct sink_conn *c, const uint8_t *msg,
    size_t len)
{
	struct bgp_open peer, mine;
	uint8_t as4[4], addpath[255], out[4096 + BGP_HDR_LEN];
	struct sink_tcp_stat *t = conn_stat(s, c);
	char abuf[TR_ADDR_STRLEN];
	int n, k;

	/* One BGP session per connection: a second OPEN gets no answer. */
	if (c->answered)
		return;
	if (bgp_open_parse(msg, len, &peer) == -1) {
		log_warnx("sink: BGP OPEN from %s port %u is malformed; "
		    "not answering", fmt_addr(&c->peer, abuf), c->peer_port);
		return;
	}
	bgp_answer_open(s, &peer, &mine, as4, addpath);
	if ((n = bgp_open_build(out, sizeof(out), &mine)) == -1 ||
	    (k = bgp_keepalive_build(out + n, sizeof(out) - (size_t)n)) == -1) {
		log_warn("sink: building the BGP OPEN answer");
		return;
	}
	conn_send(s, c, out, (size_t)(n + k));
	c->answered = true;
	if (t != NULL)
		t->opens_answered++;
	log_info("sink: BGP OPEN from %s port %u (AS %" PRIu32 ", hold %u s)"
	    " answered", fmt_addr(&c->peer, abuf), c->peer_port,
	    peer.has_as4 ? peer.as4 : peer.my_as, peer.hold_time);
	/* RFC 4271 10: keepalives at a third of the hold time, at most 1/s. */
	if (peer.hold_time > 0) {
		c->ka_interval = (tr_ns)(peer.hold_time / 3 ? peer.hold_time /
		    3 : 1) * TR_NS_PER_SEC;
		c->ka_next = tr_mono_now() + c->ka_interval;
	}
}

static void
conn_keepalive(struct sink *s, struct sink_conn *c, tr_ns now)
{
	uint8_t ka[BGP_HDR_LEN];
	int n;

	if (c->ka_interval == 0 || now < c->ka_next)
		return;
	if ((n = bgp_keepalive_build(ka, sizeof(ka))) > 0)
		conn_send(s, c, ka, (size_t)n);
	c->ka_next += c->ka_interval;
	if (c->ka_next <= now)
		c->ka_next = now + c->ka_interval;
}

/* ---- TCP connections: input -------------------------------------------- */

/*
 * Which protocol the first bytes of a stream speak, if they say yet: the
 * framed protocol whose messages start with that byte, if its header
 * takes them.
 */
static int
detect_proto(const uint8_t *p, size_t len)
{
	uint8_t type;
	size_t mlen;

	if (len == 0)
		return SINK_PROTO_UNKNOWN;
	for (int id = 0; id < SECTION_COUNT; id++) {
		const struct proto_framing *f = protocols[id]->framing;

		if (f == NULL || p[0] != f->first_byte)
			continue;
		switch (f->header(p, len, &type, &mlen)) {
		case 1:
			return id;
		case -1:
			return SINK_PROTO_RAW;
		default:
			return SINK_PROTO_UNKNOWN;
		}
	}
	return SINK_PROTO_RAW;
}

/* Keep raw bytes for the dump line written when the connection ends. */
static void
conn_keep_raw(struct sink *s, struct sink_conn *c, const uint8_t *p,
    size_t len)
{
	char abuf[TR_ADDR_STRLEN];

	if (s->dump == NULL || c->raw_capped || len == 0)
		return;
	if (bytebuf_append(&c->rawdump, p, len) == -1) {
		c->raw_capped = true;
		log_warnx("sink: raw stream from %s port %u passed %u bytes; "
		    "its dump line stops there", fmt_addr(&c->peer, abuf),
		    c->peer_port, SINK_MAX_RAW);
	}
}

/* From here on only count bytes; what is buffered goes to the raw dump. */
static void
conn_go_raw(struct sink *s, struct sink_conn *c)
{
	c->raw = true;
	conn_keep_raw(s, c, bytebuf_data(&c->in), bytebuf_len(&c->in));
	bytebuf_free(&c->in);
}

static void
conn_set_proto(struct sink *s, struct sink_conn *c, int proto)
{
	struct sink_tcp_stat *t;

	c->proto = proto;
	c->stat = tcp_stat_get(s, &c->peer, c->local_port, proto);
	if ((t = conn_stat(s, c)) == NULL)
		s->untracked++;
	else {
		t->connections++;
		t->bytes += c->bytes;
	}
	if (proto == SINK_PROTO_RAW)
		conn_go_raw(s, c);
}

/* A bad header at p: the rest of the connection (len bytes so far, p on) is counted raw. */
static void
conn_framing_error(struct sink *s, struct sink_conn *c, const uint8_t *p,
    size_t len)
{
	struct sink_tcp_stat *t = conn_stat(s, c);
	const char *what = c->proto == SECTION_BMP ?
	    "bad BMP common header" : "bad BGP header";
	char abuf[TR_ADDR_STRLEN];

	log_warnx("sink: %s from %s port %u at byte offset %" PRIu64
	    "; counting the rest of the connection raw", what,
	    fmt_addr(&c->peer, abuf), c->peer_port, c->offset);
	if (t != NULL) {
		t->framing_errors++;
		if (t->nerrors < SINK_MAX_ERRORS) {
			t->errors[t->nerrors].offset = c->offset;
			t->errors[t->nerrors].what = what;
			t->nerrors++;
		}
	}
	c->raw = true;
	conn_keep_raw(s, c, p, len);
}

static void
conn_message(struct sink *s, struct sink_conn *c, uint8_t type,
    const uint8_t *p, size_t len)
{
	struct sink_tcp_stat *t = conn_stat(s, c);

	dump_line(s, "tcp", &c->peer, c->peer_port, c->local_port, p, len);
	if (t != NULL) {
		t->messages++;
		if (type < SINK_TYPE_SLOTS)
			t->types[type]++;
		else
			t->other_types++;
	}
	/* A collector's part: it answers the router's BGP OPEN. */
	if (c->proto != SECTION_BGP)
		return;
	if (type == BGP_OPEN)
		conn_bgp_open(s, c, p, len);
	else if (type == BGP_NOTIFICATION && t != NULL &&
	    t->nnotes < SINK_MAX_NOTIFICATIONS) {
		t->notes[t->nnotes].code = p[BGP_HDR_LEN];
		t->notes[t->nnotes].subcode = p[BGP_HDR_LEN + 1];
		t->nnotes++;
	}
}

static int
conn_framed(void *ctx, const uint8_t *p, size_t len, uint8_t type)
{
	struct sink_conn *c = ctx;

	conn_message(c->sink, c, type, p, len);
	c->offset += len;
	return 0;
}

static void
conn_bad_header(void *ctx, const uint8_t *p, size_t len)
{
	struct sink_conn *c = ctx;

	conn_framing_error(c->sink, c, p, len);
}

/* Strict framing: a connection starts at a message, and its first bad header ends framing. */
static const struct framer_ops conn_framer_ops = {
	.message = conn_framed,
	.bad_header = conn_bad_header,
};

/* Frame every complete message of what was read (the framer keeps a partial one); -1 when out of memory. */
static int
conn_process(struct sink *s, struct sink_conn *c)
{
	struct stream_chunk in = { .data = bytebuf_data(&c->in),
	    .len = bytebuf_len(&c->in) };

	if (c->proto == SINK_PROTO_UNKNOWN) {
		int p = detect_proto(in.data, in.len);

		if (p == SINK_PROTO_UNKNOWN)
			return 0;
		conn_set_proto(s, c, p);
		if (c->raw)
			return 0;
		framer_init(&c->fr, protocols[p]->framing, &conn_framer_ops, c);
	}
	if (framer_feed(&c->fr, &in) == -1)
		return -1;
	if (!c->raw) {
		bytebuf_consume(&c->in, in.len);
		return 0;
	}
	bytebuf_free(&c->in);
	framer_free(&c->fr);
	return 0;
}

static void
conn_count(struct sink *s, struct sink_conn *c, size_t n)
{
	struct sink_tcp_stat *t = conn_stat(s, c);

	c->bytes += n;
	if (t != NULL)
		t->bytes += n;
	sink_mark_rx(s);
}

static void
conn_close(struct sink *s, struct sink_conn *c, enum sink_close_why why)
{
	struct sink_tcp_stat *t;

	/* A stream too short to recognise still counts, as raw. */
	if (c->proto == SINK_PROTO_UNKNOWN)
		conn_set_proto(s, c, SINK_PROTO_RAW);
	if ((t = conn_stat(s, c)) != NULL) {
		if (!c->raw)
			t->truncated_bytes += framer_pending(&c->fr);
		if (why == SINK_CLOSE_EOF)
			t->closed++;
		else if (why == SINK_CLOSE_RESET)
			t->resets++;
	}
	if (c->raw && bytebuf_len(&c->rawdump) > 0)
		dump_line(s, "tcp", &c->peer, c->peer_port, c->local_port,
		    bytebuf_data(&c->rawdump), bytebuf_len(&c->rawdump));
	(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->h.fd, NULL);
	close(c->h.fd);
	LIST_REMOVE(c, entry);
	s->nconns--;
	bytebuf_free(&c->in);
	framer_free(&c->fr);
	bytebuf_free(&c->rawdump);
	bytebuf_free(&c->out);
	free(c);
}

/* Where the next read goes: the frame buffer, or scratch once raw. */
static uint8_t *
conn_read_dst(struct sink *s, struct sink_conn *c, size_t *room)
{
	if (c->raw) {
		*room = SINK_READ_CHUNK;
		return s->scratch;
	}
	/* It holds one read (the framer keeps partial messages), so only ENOMEM. */
	if (bytebuf_reserve(&c->in, SINK_READ_CHUNK) == -1)
		return NULL;
	*room = bytebuf_room(&c->in);
	return bytebuf_tail(&c->in);
}

/* Read what is there (bounded per pass); returns how the connection ended, or -1 if open. */
static int
conn_read(struct sink *s, struct sink_conn *c)
{
	for (int pass = 0; pass < SINK_READS_PER_PASS; pass++) {
		size_t room;
		uint8_t *dst = conn_read_dst(s, c, &room);
		ssize_t n;

		if (dst == NULL) {
			log_warn("sink: connection buffer");
			return SINK_CLOSE_RESET;
		}
		n = recv(c->h.fd, dst, room, MSG_DONTWAIT);
		if (n == 0)
			return SINK_CLOSE_EOF;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -1;
			if (errno != ECONNRESET)
				log_warn("sink: recv");
			return SINK_CLOSE_RESET;
		}
		conn_count(s, c, (size_t)n);
		if (c->raw)
			conn_keep_raw(s, c, dst, (size_t)n);
		else {
			bytebuf_commit(&c->in, (size_t)n);
			if (conn_process(s, c) == -1) {
				log_warn("sink: connection buffer");
				return SINK_CLOSE_RESET;
			}
		}
		/* A short read means the socket is drained (level-triggered). */
		if ((size_t)n < room)
			return -1;
	}
	return -1;
}

static void
conn_event(struct sink *s, struct sink_conn *c, uint32_t events)
{
	int why = -1;

	if (events & EPOLLOUT)
		conn_flush_out(s, c);
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		why = conn_read(s, c);
	if (why == -1 && c->failed)
		why = SINK_CLOSE_RESET;
	if (why != -1)
		conn_close(s, c, (enum sink_close_why)why);
}

static void
tcp_accept(struct sink *s, struct sink_listener *l)
{
	for (int i = 0; i < SINK_ACCEPTS_PER_PASS; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct epoll_event ev;
		struct sink_conn *c;
		int fd;

		fd = accept4(l->h.fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    !l->warned) {
				log_warn("sink: tcp port %u: accept", l->port);
				l->warned = true;
			}
			return;
		}
		sink_mark_rx(s);
		if (s->nconns >= s->max_conns ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			log_warnx("sink: tcp port %u: refusing a connection "
			    "past %zu", l->port, s->max_conns);
			close(fd);
			s->untracked++;
			continue;
		}
		c->h.kind = SINK_FD_CONN;
		c->h.fd = fd;
		c->local_port = l->port;
		c->proto = SINK_PROTO_UNKNOWN;
		c->stat = SIZE_MAX;
		c->sink = s;
		bytebuf_init(&c->in, SINK_MAX_IN);
		bytebuf_init(&c->rawdump, SINK_MAX_RAW);
		bytebuf_init(&c->out, SINK_MAX_OUT);
		(void)addr_from_sockaddr((struct sockaddr *)&ss, &c->peer,
		    &c->peer_port);
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = &c->h;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			log_warn("sink: epoll_ctl");
			close(fd);
			free(c);
			continue;
		}
		LIST_INSERT_HEAD(&s->conns, c, entry);
		s->nconns++;
	}
}

/* ---- setup ------------------------------------------------------------ */

static void
set_rcvbuf(int fd)
{
	int size = SINK_RCVBUF;

	/* FORCE passes rmem_max when we may; otherwise take what is allowed. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof(size));
}

static bool
addr_is_any6(const struct tr_addr *a)
{
	return a->family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a->v6);
}

static int
socket_bound_port(int fd, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct tr_addr a;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, &a, port) == -1)
		return -1;
	return 0;
}

static int
listener_socket(const struct tr_addr *addr, bool tcp, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(addr, port, &ss);
	int fd, off = 0, on = 1;

	fd = socket(addr->family, (tcp ? SOCK_STREAM : SOCK_DGRAM) |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* "::" takes IPv4 too, whatever net.ipv6.bindv6only says. */
	if (addr_is_any6(addr) && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &off, sizeof(off)) == -1)
		goto fail;
	if (tcp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)) == -1)
		goto fail;
	/* TCP autotunes its window; setting SO_RCVBUF would pin it. */
	if (!tcp)
		set_rcvbuf(fd);
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    (tcp && listen(fd, SOMAXCONN) == -1))
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static int
listener_open(struct sink *s, const struct sink_port_opt *po)
{
	struct sink_listener *l = &s->listeners[s->nlisteners];
	struct epoll_event ev;
	char abuf[TR_ADDR_STRLEN];
	int fd;

	fd = listener_socket(&s->opts.listen, po->tcp, po->port);
	if (fd == -1) {
		log_warn("sink: cannot listen on %s %s port %u",
		    po->tcp ? "tcp" : "udp", fmt_addr(&s->opts.listen, abuf),
		    po->port);
		return -1;
	}
	l->h.kind = po->tcp ? SINK_FD_TCP_LISTEN : SINK_FD_UDP;
	l->h.fd = fd;
	s->nlisteners++;
	if (socket_bound_port(fd, &l->port) == -1) {
		log_warn("sink: getsockname");
		return -1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &l->h;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		log_warn("sink: epoll_ctl");
		return -1;
	}
	log_info("sink: listening on %s %s port %u", po->tcp ? "tcp" : "udp",
	    fmt_addr(&s->opts.listen, abuf), l->port);
	return 0;
}

/* Without IPv6 in the kernel the default "::" cannot work; use 0.0.0.0. */
static void
listen_fallback(struct sink *s)
{
	int fd;

	if (s->opts.listen_set)
		return;
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 && errno == EAFNOSUPPORT) {
		log_info("sink: no IPv6 here; listening on 0.0.0.0");
		(void)addr_parse("0.0.0.0", &s->opts.listen);
	}
	if (fd != -1)
		close(fd);
}

/* Written to a temporary name and renamed, so a reader never sees half of it. */
static int
write_ready(const struct sink *s)
{
	const char *path = s->opts.ready_path;
	char *tmp = NULL;
	FILE *f;
	int rc = -1;

	if (path == NULL)
		return 0;
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) == -1)
		return -1;
	if ((f = fopen(tmp, "w")) == NULL)
		goto out;
	for (size_t i = 0; i < s->nlisteners; i++)
		fprintf(f, "%s %u\n", s->listeners[i].h.kind ==
		    SINK_FD_UDP ? "udp" : "tcp", s->listeners[i].port);
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		(void)unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		log_warn("sink: writing %s", path);
	free(tmp);
	return rc;
}

/*
 * As many connections as file descriptors allow: the soft limit goes up to
 * the hard one (a replay of 10,000 sessions needs 10,000), and the cap
 * stays under it so that accept() never fails with EMFILE.
 */
static size_t
max_conns(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024 - SINK_FD_RESERVE;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = { rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > SINK_MAX_CONNS +
	    SINK_FD_RESERVE)
		return SINK_MAX_CONNS;
	return rl.rlim_cur > 2 * SINK_FD_RESERVE ? rl.rlim_cur - SINK_FD_RESERVE :
	    rl.rlim_cur / 2;
}

static int
sink_setup(struct sink *s)
{
	LIST_INIT(&s->conns);
	s->max_conns = max_conns();
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->udp_bufs = malloc((size_t)SINK_UDP_BATCH * SINK_UDP_BUF);
	s->scratch = malloc(SINK_READ_CHUNK);
	if (s->epfd == -1 || s->udp_bufs == NULL || s->scratch == NULL) {
		log_warn("sink: setup");
		return -1;
	}
	if (s->opts.dump_path != NULL) {
		if ((s->dump = fopen(s->opts.dump_path, "w")) == NULL) {
			log_warn("sink: cannot write %s", s->opts.dump_path);
			return -1;
		}
		/* Big buffer, flushed per burst: one write per burst, not per line. */
		setvbuf(s->dump, NULL, _IOFBF, 1 << 20);
	}
	listen_fallback(s);
	for (size_t i = 0; i < s->opts.nports; i++)
		if (listener_open(s, &s->opts.ports[i]) == -1)
			return -1;
	s->start = tr_mono_now();
	return write_ready(s);
}

/* ---- signals and the loop --------------------------------------------- */

static void
sink_on_signal(int sig)
{
	(void)sig;
	sink_stop_flag = 1;
}

struct sink_signals {
	struct sigaction	old_int;
	struct sigaction	old_term;
	sigset_t		old_mask;
	sigset_t		wait_mask;	/* what epoll_pwait unblocks */
};

/*
 * SIGINT and SIGTERM stay blocked except inside epoll_pwait, so a signal
 * that lands between the flag check and the wait still wakes the wait.  The
 * handler is installed even over an inherited SIG_IGN: bash starts
 * background jobs with SIGINT ignored, and tests stop the sink with it.
 */
static void
signals_install(struct sink_signals *sg)
{
	struct sigaction sa;
	sigset_t block;

	sink_stop_flag = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sink_on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &sg->old_mask);
	sg->wait_mask = sg->old_mask;
	sigdelset(&sg->wait_mask, SIGINT);
	sigdelset(&sg->wait_mask, SIGTERM);
	sigaction(SIGINT, &sa, &sg->old_int);
	sigaction(SIGTERM, &sa, &sg->old_term);
}

/* Unblock first: a pending signal then reaches our handler, not the default. */
static void
signals_restore(struct sink_signals *sg)
{
	sigprocmask(SIG_SETMASK, &sg->old_mask, NULL);
	sigaction(SIGINT, &sg->old_int, NULL);
	sigaction(SIGTERM, &sg->old_term, NULL);
}

/* The earliest deadline: end of duration, idle limit, or a keepalive. */
static tr_ns
sink_next_deadline(struct sink *s)
{
	tr_ns next = INT64_MAX;
	struct sink_conn *c;

	if (s->opts.duration > 0)
		next = s->start + s->opts.duration;
	if (s->opts.idle > 0 && s->got_any && s->last_rx + s->opts.idle < next)
		next = s->last_rx + s->opts.idle;
	LIST_FOREACH(c, &s->conns, entry)
		if (c->ka_interval > 0 && c->ka_next < next)
			next = c->ka_next;
	return next;
}

static bool
sink_should_stop(const struct sink *s, tr_ns now)
{
	if (sink_stop_flag)
		return true;
	if (s->opts.duration > 0 && now >= s->start + s->opts.duration)
		return true;
	return s->opts.idle > 0 && s->got_any &&
	    now >= s->last_rx + s->opts.idle;
}

static int
timeout_ms(tr_ns deadline, tr_ns now)
{
	tr_ns left;

	if (deadline == INT64_MAX)
		return -1;
	if (deadline <= now)
		return 0;
	left = (deadline - now + TR_NS_PER_MS - 1) / TR_NS_PER_MS;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static void
sink_timers(struct sink *s, tr_ns now)
{
	struct sink_conn *c, *next;

	for (c = LIST_FIRST(&s->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		conn_keepalive(s, c, now);
		if (c->failed)
			conn_close(s, c, SINK_CLOSE_RESET);
	}
}

static void
sink_dispatch(struct sink *s, struct epoll_event *ev)
{
	struct sink_fd *h = ev->data.ptr;

	switch (h->kind) {
	case SINK_FD_UDP:
		udp_read(s, (struct sink_listener *)h);
		break;
	case SINK_FD_TCP_LISTEN:
		tcp_accept(s, (struct sink_listener *)h);
		break;
	case SINK_FD_CONN:
		conn_event(s, (struct sink_conn *)h, ev->events);
		break;
	}
}

static int
sink_run(struct sink *s, const sigset_t *wait_mask)
{
	struct epoll_event evs[SINK_MAX_EVENTS];

	for (;;) {
		tr_ns now = tr_mono_now();
		int n;

		if (sink_should_stop(s, now))
			return 0;
		n = epoll_pwait(s->epfd, evs, SINK_MAX_EVENTS,
		    timeout_ms(sink_next_deadline(s), now), wait_mask);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("sink: epoll_pwait");
			return -1;
		}
		/* Each fd appears once per batch, so closing one is safe here. */
		for (int i = 0; i < n; i++)
			sink_dispatch(s, &evs[i]);
		sink_timers(s, tr_mono_now());
		dump_flush(s);
	}
}

/*
 * What the kernel already holds when the sink stops still counts: a test
 * that sends and then signals at once must not lose the last datagrams.
 * One bounded pass per socket; nothing new is waited for.
 */
static void
sink_drain(struct sink *s)
{
	struct sink_conn *c, *next;

	for (size_t i = 0; i < s->nlisteners; i++) {
		if (s->listeners[i].h.kind == SINK_FD_UDP)
			udp_read(s, &s->listeners[i]);
		else
			tcp_accept(s, &s->listeners[i]);
	}
	for (c = LIST_FIRST(&s->conns); c != NULL; c = next) {
		int why = conn_read(s, c);

		next = LIST_NEXT(c, entry);
		if (why != -1)
			conn_close(s, c, (enum sink_close_why)why);
	}
}

static void
sink_close_all(struct sink *s)
{
	sink_drain(s);
	while (!LIST_EMPTY(&s->conns))
		conn_close(s, LIST_FIRST(&s->conns), SINK_CLOSE_STOP);
	dump_flush(s);
}

/* ---- entry point ------------------------------------------------------ */

static void
sink_free(struct sink *s)
{
	for (size_t i = 0; i < s->nlisteners; i++)
		close(s->listeners[i].h.fd);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->dump != NULL && fclose(s->dump) == EOF)
		log_warn("sink: writing %s", s->opts.dump_path);
	for (size_t i = 0; i < s->nudp; i++) {
		free(s->udp[i].nf);
		udp_proto_free(&s->udp[i]);
	}
	nf_templates_free(&s->templates);
	free(s->udp);
	free(s->tcp);
	free(s->udp_index.slots);
	free(s->tcp_index.slots);
	free(s->udp_bufs);
	free(s->scratch);
	free(s);
}

int
sink_main(int argc, char **argv)
{
	struct sink_signals sg;
	struct sink *s;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("sink");
		return 1;
	}
	s->epfd = -1;
	LIST_INIT(&s->conns);
	/* Only record lengths: the sink counts data records, it does not read them. */
	nf_templates_init(&s->templates, SINK_MAX_TEMPLATES_TOTAL, SIZE_MAX, 0);
	switch (sink_parse_args(argc, argv, &s->opts)) {
	case 1:
		free(s);
		return 0;
	case -1:
		free(s);
		return 2;
	}
	/* Before the ready file exists, so a test's SIGINT is never fatal. */
	signals_install(&sg);
	rc = sink_setup(s) == -1 ? 1 : 0;
	if (rc == 0) {
		rc = sink_run(s, &sg.wait_mask) == -1 ? 1 : 0;
		sink_close_all(s);
		sink_sort(s);
		if (s->opts.json)
			summary_json(s, stdout);
		else
			summary_table(s, stdout);
		fflush(stdout);
	}
	signals_restore(&sg);
	sink_free(s);
	return rc;
}
