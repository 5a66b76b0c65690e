/* Flow fidelity: primed templates, orphan removal, continued sequence numbers and shifted export times. */
#include <stdlib.h>
#include <string.h>

#include "flowfix.h"
#include "grow.h"
#include "netflow.h"
#include "log.h"
#include "nf_templates.h"
#include "writer.h"

#define DGRAM_MAX	65535
#define SET_HDR_LEN	4

/*
 * Caps on the state whose size a capture decides: 2,000 IPFIX domains x
 * 2,000 templates in 32 MB took 1 GB in the replay and 7 GB in -p.  Real
 * exporters define tens of templates per domain (the corpus: 15 at most,
 * 2 domains); a large network, a few thousand exporters.  Past a cap the
 * state is not kept: counted in flows.not_tracked, the cap named once, and
 * what needed it sent as captured (data never judged an orphan, numbers
 * not continued).
 */
#define FF_MAX_TEMPLATES	65536		/* definitions per table (first, in force) */
#define FF_MAX_TEMPLATE_BYTES	(32u << 20)	/* their fields and records, half in each table */
#define FF_MAX_SENT		262144		/* (socket, domain, template) the collector has */
#define FF_MAX_SEQUENCES	65536		/* (exporter, version, domain) counters */
#define FF_MAX_DOMAINS		4096		/* (version, domain) pairs in the report */

enum ff_cap { FF_CAP_TEMPLATES, FF_CAP_BYTES, FF_CAP_SENT, FF_CAP_SEQUENCES,
	FF_CAP_DOMAINS, FF_CAP_COUNT };
/* The caps that can leave a data set's template unknown. */
#define FF_TEMPLATE_CAPS	(1u << FF_CAP_TEMPLATES | 1u << FF_CAP_BYTES | \
	1u << FF_CAP_SENT)

/*
 * One table type for the state besides templates (nf_templates keeps
 * those): open addressing, linear probing, never shrinks.  The key names
 * what the state belongs to; which fields are used depends on the table.
 */
struct ff_key {
	uint32_t	who;		/* socket (sent) or exporter (sequence) */
	uint32_t	domain;
	uint16_t	version;
	uint16_t	tid;		/* sent only */
};

struct ff_slot {
	struct ff_key	key;
	bool		used;
	void		*val;
};

struct ff_table {
	struct ff_slot	*slots;
	size_t		 cap, n;	/* cap: 0 or a power of two */
};

/*
 * A template to prime the message at hand with: where it is, not a
 * pointer, since reading ahead and later template sets of the message
 * move what the stores hold.
 */
struct ff_need {
	const struct nf_templates *store;
	struct nf_template_key	 key;
};

/* Sequence numbers of one (socket, version, domain). */
struct ff_sequence {
	uint32_t	next;
};

struct flowfix {
	struct cfg_flow_fidelity opts;
	struct report_flows	*rep;
	struct nf_templates	 first;		/* (exporter and sport, version, domain, tid): first definition in the captures */
	struct nf_templates	 current;	/* the same key: the definition in force as the replay goes */
	struct ff_table		 sent;		/* (socket, version, domain, tid): the collector has it (val non-NULL) */
	struct ff_table		 seq;		/* (exporter, version, domain) */
	bool			 anchored;	/* the shift of this capture is known */
	int64_t			 shift;		/* seconds added to every absolute time */
	uint32_t		 last_export;	/* the latest export time sent, so repeats move forward */
	uint8_t			 buf[PROTO_MAX_OUT][DGRAM_MAX];
	struct nf_set		*sets;		/* the sets of the message at hand */
	bool			*keep;
	size_t			 sets_cap;
	struct ff_need		*need;		/* templates to prime for the message at hand */
	size_t			 n_need;
	uint32_t		 field_off[DGRAM_MAX / 4]; /* where each field of a record starts */
	bool			(*read_ahead)(void *); /* NULL once the captures are read to the end */
	void			*read_ahead_ctx;
	size_t			 learned;	/* first definitions found so far */
	unsigned		 caps_hit;	/* 1 << enum ff_cap, each named once */
};

/* ---- tables ---- */

static uint64_t
key_hash(const struct ff_key *k)
{
	uint64_t h = (uint64_t)k->who << 32 ^ k->domain;

	h ^= (uint64_t)k->version << 48 ^ (uint64_t)k->tid << 16;
	/* splitmix64 finalizer: every key bit moves every slot bit. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static struct ff_slot *
table_slot(const struct ff_table *t, const struct ff_key *k)
{
	size_t i = (size_t)key_hash(k) & (t->cap - 1);

	while (t->slots[i].used && memcmp(&t->slots[i].key, k, sizeof(*k)) != 0)
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static void *
table_get(const struct ff_table *t, const struct ff_key *k)
{
	struct ff_slot *s;

	if (t->cap == 0)
		return NULL;
	s = table_slot(t, k);
	return s->used ? s->val : NULL;
}

static int
table_grow(struct ff_table *t)
{
	struct ff_table bigger = { .cap = t->cap ? t->cap * 2 : 64 };

	if ((bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots))) == NULL)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		if (t->slots[i].used) {
			*table_slot(&bigger, &t->slots[i].key) = t->slots[i];
			bigger.n++;
		}
	}
	free(t->slots);
	*t = bigger;
	return 0;
}

/* The slot for k, created empty (val NULL) if new; NULL when out of memory. */
static struct ff_slot *
table_put(struct ff_table *t, const struct ff_key *k)
{
	struct ff_slot *s;

	if ((t->n + 1) * 2 > t->cap && table_grow(t) == -1)
		return NULL;
	s = table_slot(t, k);
	if (!s->used) {
		s->used = true;
		s->key = *k;
		s->val = NULL;
		t->n++;
	}
	return s;
}

static void
table_free(struct ff_table *t, void (*free_val)(void *))
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used && free_val != NULL)
			free_val(t->slots[i].val);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* ---- set up ---- */

struct flowfix *
flowfix_new(const struct cfg_flow_fidelity *opts, struct report *rep)
{
	struct flowfix *ff = calloc(1, sizeof(*ff));

	if (ff == NULL)
		return NULL;
	ff->opts = *opts;
	ff->rep = &rep->flows;
	nf_templates_init(&ff->first, FF_MAX_TEMPLATES,
	    FF_MAX_TEMPLATE_BYTES / 2, NF_TEMPLATES_RECORD);
	nf_templates_init(&ff->current, FF_MAX_TEMPLATES,
	    FF_MAX_TEMPLATE_BYTES / 2, NF_TEMPLATES_RECORD);
	return ff;
}

void
flowfix_free(struct flowfix *ff)
{
	if (ff == NULL)
		return;
	nf_templates_free(&ff->first);
	nf_templates_free(&ff->current);
	table_free(&ff->sent, NULL);
	table_free(&ff->seq, free);
	free(ff->sets);
	free(ff->keep);
	free(ff->need);
	free(ff);
}

void
flowfix_capture_start(struct flowfix *ff)
{
	ff->anchored = false;
}

/* ---- templates ---- */

/* Templates live per exporter and source port (RFC 7011 8.4: per transport session). */
static struct nf_template_key
template_key(const struct proto_origin *o, const struct nf_header *h,
    uint16_t tid)
{
	struct nf_template_key k = {
		.scope = (uint64_t)o->exporter << 16 | o->sport,
		.domain = h->domain, .version = h->version, .id = tid };

	return k;
}

static struct ff_key
socket_key(const struct proto_origin *o, const struct nf_header *h,
    uint16_t tid)
{
	struct ff_key k = { .who = o->socket, .domain = h->domain,
	    .version = h->version, .tid = tid };

	return k;
}

/* Out of memory while keeping state: say it once; the replay goes on without that state. */
static void
no_memory(void)
{
	static bool told;

	if (!told)
		log_warnx("flow fidelity: out of memory; templates and "
		    "sequence numbers may be sent as captured");
	told = true;
}

/* State past a cap: counted in flows.not_tracked; the first time, the cap is named. */
static void
not_tracked(struct flowfix *ff, enum ff_cap cap)
{
	static const char *const what[FF_CAP_COUNT] = {
		[FF_CAP_TEMPLATES] = "65536 template definitions",
		[FF_CAP_BYTES] = "32 MiB of template definitions",
		[FF_CAP_SENT] = "262144 templates at the collector",
		[FF_CAP_SEQUENCES] = "65536 sequence counters",
		[FF_CAP_DOMAINS] = "4096 NetFlow/IPFIX domains in the report",
	};

	ff->rep->not_tracked++;
	if (ff->caps_hit & 1u << cap)
		return;
	ff->caps_hit |= 1u << cap;
	log_warnx("flow fidelity: more than %s: the rest is sent as "
	    "captured, counted in flows.not_tracked", what[cap]);
}

/* Store a definition in one of the tables: true when it is new. */
static bool
template_store(struct flowfix *ff, struct nf_templates *store,
    const struct nf_template_key *k, uint16_t set_id,
    const struct nf_template *nt, const uint8_t *rec)
{
	switch (nf_templates_define(store, k, set_id, nt, rec)) {
	case NF_DEFINE_NEW:
		return true;
	case NF_DEFINE_SAME:
	case NF_DEFINE_CHANGED:
		break;
	case NF_DEFINE_OVER_ENTRIES:
		not_tracked(ff, FF_CAP_TEMPLATES);
		break;
	case NF_DEFINE_OVER_BYTES:
		not_tracked(ff, FF_CAP_BYTES);
		break;
	case NF_DEFINE_NO_MEMORY:
		no_memory();
		break;
	}
	return false;
}

/* The template a data set is read with: the one in force, else the first definition. */
static const struct nf_stored_template *
template_for(const struct flowfix *ff, const struct proto_origin *o,
    const struct nf_header *h, uint16_t tid)
{
	struct nf_template_key k = template_key(o, h, tid);
	const struct nf_stored_template *t = nf_templates_find(&ff->current,
	    &k);

	return t != NULL ? t : nf_templates_find(&ff->first, &k);
}

/* The same, reading ahead in the captures for its first definition when it is not known yet. */
static const struct nf_stored_template *
template_ahead(struct flowfix *ff, const struct proto_origin *o,
    const struct nf_header *h, uint16_t tid)
{
	const struct nf_stored_template *t;

	while ((t = template_for(ff, o, h, tid)) == NULL &&
	    ff->read_ahead != NULL)
		if (!ff->read_ahead(ff->read_ahead_ctx))
			ff->read_ahead = NULL;
	return t;
}

void
flowfix_set_lookahead(struct flowfix *ff, bool (*read_ahead)(void *ctx),
    void *ctx)
{
	ff->read_ahead = read_ahead;
	ff->read_ahead_ctx = ctx;
}

/* Calls fn for each template record of a template set; false on a malformed record. */
typedef void (*template_fn)(struct flowfix *, const struct proto_origin *,
    const struct nf_header *, const struct nf_set *,
    const struct nf_template *, const uint8_t *);

static bool
each_template(struct flowfix *ff, const struct proto_origin *o,
    const struct nf_header *h, const struct nf_set *set, template_fn fn,
    size_t *records)
{
	const uint8_t *p = set->body;
	size_t left = set->body_len;
	struct nf_template t;

	/* Fewer than 4 bytes left is padding (RFC 7011 3.3.1). */
	while (left >= 4) {
		if (nf_template_parse(h->version, set->id, p, left, &t) == -1)
			return false;
		fn(ff, o, h, set, &t, p);
		p += t.consumed;
		left -= t.consumed;
		if (records != NULL)
			(*records)++;
	}
	return true;
}

static void
learn_one(struct flowfix *ff, const struct proto_origin *o,
    const struct nf_header *h, const struct nf_set *set,
    const struct nf_template *t, const uint8_t *rec)
{
	struct nf_template_key k = template_key(o, h, t->id);

	/* The first definition stays: later ones are met as the replay goes. */
	if (t->field_count > 0 && nf_templates_find(&ff->first, &k) == NULL &&
	    template_store(ff, &ff->first, &k, set->id, t, rec))
		ff->learned++;
}

size_t
flowfix_learn(struct flowfix *ff, const struct proto_origin *o,
    const uint8_t *p, size_t len)
{
	struct nf_set_iter it;
	struct nf_header h;
	struct nf_set set;
	size_t before = ff->learned;

	if (nf_parse_header(p, len, &h) == -1 ||
	    nf_sets_begin(p, len, &it) == -1)
		return 0;
	while (nf_set_next(&it, &set) == 1)
		if (nf_is_template_set(h.version, set.id))
			(void)each_template(ff, o, &h, &set, learn_one, NULL);
	return ff->learned - before;
}

/* The collector has (or no longer has) template tid on this socket. */
static void
mark_sent(struct flowfix *ff, const struct ff_key *k, bool has)
{
	struct ff_slot *s;

	if (ff->sent.cap == 0 || !table_slot(&ff->sent, k)->used) {
		if (!has)
			return;		/* not there: nothing to forget */
		if (ff->sent.n >= FF_MAX_SENT) {
			not_tracked(ff, FF_CAP_SENT);
			return;
		}
	}
	if ((s = table_put(&ff->sent, k)) == NULL)
		no_memory();
	else
		s->val = has ? (void *)1 : NULL;
}

/* An IPFIX withdrawal of every template of one kind (RFC 7011 8.1): template id = set id. */
static void
withdraw_all(struct flowfix *ff, const struct proto_origin *o,
    const struct nf_header *h, uint16_t set_id)
{
	for (size_t i = 0; i < ff->sent.cap; i++) {
		struct ff_slot *s = &ff->sent.slots[i];
		struct nf_template_key tk;
		const struct nf_stored_template *t;

		if (!s->used || s->key.who != o->socket ||
		    s->key.version != h->version || s->key.domain != h->domain)
			continue;
		tk = template_key(o, h, s->key.tid);
		t = nf_templates_find(&ff->current, &tk);
		if (t == NULL || t->set_id == set_id)
			s->val = NULL;
	}
}

/* A template record replayed as captured: it is in force, and the collector has it. */
static void
apply_one(struct flowfix *ff, const struct proto_origin *o,
    const struct nf_header *h, const struct nf_set *set,
    const struct nf_template *t, const uint8_t *rec)
{
	struct nf_template_key tk = template_key(o, h, t->id);
	struct ff_key sk = socket_key(o, h, t->id);

	if (t->field_count == 0) {
		if (t->id == set->id)
			withdraw_all(ff, o, h, set->id);
		else
			mark_sent(ff, &sk, false);
		return;
	}
	(void)template_store(ff, &ff->current, &tk, set->id, t, rec);
	mark_sent(ff, &sk, true);
}

/* ---- data records ---- */

/* Absolute times (IANA IPFIX registry, type dateTime*): moved by the shift. */
enum time_unit { T_NONE, T_SECONDS, T_MILLISECONDS, T_NTP };

static enum time_unit
time_unit(const struct nf_field *f)
{
	if (f->pen != 0)
		return T_NONE;
	switch (f->ie) {
	case 150: case 151:		/* flowStart/EndSeconds */
	case 260: case 261:		/* maxExportSeconds, maxFlowEndSeconds */
	case 264: case 265:		/* minExportSeconds, minFlowStartSeconds */
	case 322:			/* observationTimeSeconds */
		return f->len == 4 ? T_SECONDS : T_NONE;
	case 152: case 153:		/* flowStart/EndMilliseconds */
	case 160:			/* systemInitTimeMilliseconds */
	case 258:			/* collectionTimeMilliseconds */
	case 269: case 272:		/* maxFlowEnd/minFlowStartMilliseconds */
	case 323:			/* observationTimeMilliseconds */
	case 359: case 360:		/* monitoringIntervalStart/EndMilliSeconds */
		return f->len == 8 ? T_MILLISECONDS : T_NONE;
	case 154: case 155:		/* flowStart/EndMicroseconds */
	case 156: case 157:		/* flowStart/EndNanoseconds */
	case 268: case 270:		/* maxFlowEndMicro/Nanoseconds */
	case 271: case 273:		/* minFlowStartMicro/Nanoseconds */
	case 324: case 325:		/* observationTimeMicro/Nanoseconds */
		/* NTP format: seconds since 1900 in the first 32 bits (RFC 7011 6.1.9). */
		return f->len == 8 ? T_NTP : T_NONE;
	default:
		return T_NONE;
	}
}

static void
shift_field(uint8_t *p, enum time_unit u, int64_t secs)
{
	switch (u) {
	case T_SECONDS:
		be32_store(p, (uint32_t)((int64_t)be32_load(p) + secs));
		break;
	case T_MILLISECONDS:
		be64_store(p, (uint64_t)((int64_t)be64_load(p) + secs * 1000));
		break;
	case T_NTP:
		be32_store(p, (uint32_t)((int64_t)be32_load(p) + secs));
		break;
	case T_NONE:
		break;
	}
}

/*
 * Walk the records of a data set (in place: p may be written when shift is
 * not 0): their count, or 0 when the set holds none that fit.  What is left
 * shorter than the shortest record is padding.
 */
static size_t
data_records(struct flowfix *ff, const struct nf_stored_template *t,
    uint16_t version, uint8_t *p, size_t len, int64_t shift)
{
	uint32_t *off = ff->field_off;
	bool any_time = false;
	size_t n = 0, rlen;

	if (t->min_record_len == 0)
		return 0;
	if (shift != 0)
		for (unsigned i = 0; i < t->field_count; i++)
			if (time_unit(&t->fields[i]) != T_NONE)
				any_time = true;
	if (t->record_len > 0 && !any_time)
		return len / t->record_len;
	while (len >= t->min_record_len &&
	    (rlen = nf_record_len(version, t->fields, t->field_count, p,
	    len, off)) > 0) {
		for (unsigned i = 0; any_time && i < t->field_count; i++)
			shift_field(p + off[i], time_unit(&t->fields[i]), shift);
		p += rlen;
		len -= rlen;
		n++;
	}
	return n;
}

/* ---- per message ---- */

/* Say where the first malformed message is (the rest are counted), so the user can look at it. */
static void
note_malformed(struct flowfix *ff, const struct proto_origin *o,
    const char *what)
{
	if (ff->rep->malformed++ == 0)
		log_warnx("frame %llu: %s (further malformed messages are only "
		    "counted)", (unsigned long long)o->frame, what);
	else
		log_debug("frame %llu: %s", (unsigned long long)o->frame, what);
}

static struct report_nf_domain *
domain_counters(struct flowfix *ff, const struct nf_header *h)
{
	struct report_flows *r = ff->rep;
	struct report_nf_domain *d;

	/* Linear: a replay has a handful of (version, domain) pairs, and the last one is most likely. */
	for (size_t i = r->n_domains; i-- > 0;)
		if (r->domains[i].version == h->version &&
		    r->domains[i].domain == h->domain)
			return &r->domains[i];
	if (r->n_domains == FF_MAX_DOMAINS) {
		not_tracked(ff, FF_CAP_DOMAINS);
		return NULL;
	}
	if (grow_array(&r->domains, &r->cap_domains, sizeof(*d),
	    r->n_domains + 1, FF_MAX_DOMAINS) == -1)
		return NULL;
	d = &r->domains[r->n_domains++];
	memset(d, 0, sizeof(*d));
	d->version = h->version;
	d->domain = h->domain;
	return d;
}

static int
reserve_sets(struct flowfix *ff, size_t n)
{
	struct nf_set *sets;
	bool *keep;
	struct ff_need *need;

	if (n <= ff->sets_cap)
		return 0;
	/* Three arrays share sets_cap, set only once all three have grown: not grow_array. */
	n = n < 64 ? 64 : n * 2;
	if ((sets = reallocarray(ff->sets, n, sizeof(*sets))) == NULL)
		return -1;
	ff->sets = sets;
	if ((keep = reallocarray(ff->keep, n, sizeof(*keep))) == NULL)
		return -1;
	ff->keep = keep;
	if ((need = reallocarray(ff->need, n, sizeof(*need))) == NULL)
		return -1;
	ff->need = need;
	ff->sets_cap = n;
	return 0;
}

/* The sets of a v9/IPFIX message into ff->sets; their count, or -1 if malformed. */
static long
collect_sets(struct flowfix *ff, const uint8_t *p, size_t len)
{
	struct nf_set_iter it;
	struct nf_set set;
	size_t n = 0;
	int rc;

	if (nf_sets_begin(p, len, &it) == -1)
		return -1;
	while ((rc = nf_set_next(&it, &set)) == 1) {
		if (reserve_sets(ff, n + 1) == -1) {
			no_memory();
			return -1;
		}
		ff->sets[n++] = set;
	}
	return rc == -1 ? -1 : (long)n;
}

/* What the message at hand turns into. */
struct msg_plan {
	struct nf_header h;
	size_t		 n_sets;
	size_t		 kept;		/* sets that stay */
	bool		 changed;	/* sets removed: rebuild */
	size_t		 records;	/* v9 header count / IPFIX data records, of the sets kept */
	size_t		 data_records;
	uint32_t	 export_secs;	/* after the shift */
};

/* List t, as template_for found it, to prime the message at hand with, once. */
static void
need_template(struct flowfix *ff, const struct nf_stored_template *t)
{
	const struct nf_templates *store =
	    nf_templates_find(&ff->current, &t->key) == t ?
	    &ff->current : &ff->first;

	for (size_t i = 0; i < ff->n_need; i++)
		if (ff->need[i].store == store &&
		    memcmp(&ff->need[i].key, &t->key, sizeof(t->key)) == 0)
			return;
	ff->need[ff->n_need++] = (struct ff_need){ .store = store,
	    .key = t->key };
}

/*
 * Decide each set's fate: templates are applied (the collector will have
 * them), data sets without a template at the collector are primed, dropped
 * or sent as they are.  Records are counted for the v9 header and IPFIX
 * sequence numbers.
 */
static void
plan_sets(struct flowfix *ff, const struct proto_origin *o, struct msg_plan *m)
{
	const struct nf_header *h = &m->h;

	ff->n_need = 0;
	for (size_t i = 0; i < m->n_sets; i++) {
		const struct nf_set *set = &ff->sets[i];
		const struct nf_stored_template *t;
		struct ff_key sk;
		bool at_collector;
		size_t n = 0;

		ff->keep[i] = true;
		if (nf_is_template_set(h->version, set->id)) {
			if (!each_template(ff, o, h, set, apply_one, &n))
				note_malformed(ff, o, "a template record is "
				    "truncated or names an impossible id: the "
				    "rest of its set is not learned");
			m->records += n;
			m->kept++;
			continue;
		}
		if (set->id < NF_MIN_DATA_SET_ID) {
			m->kept++;	/* reserved set ids: not ours to judge */
			continue;
		}
		sk = socket_key(o, h, set->id);
		at_collector = table_get(&ff->sent, &sk) != NULL;
		/* Past a cap, a data set without a template may have lost it to the cap: kept. */
		if (!at_collector && (ff->caps_hit & FF_TEMPLATE_CAPS) == 0 &&
		    ff->opts.templates == TEMPLATES_DROP_ORPHANS) {
			ff->keep[i] = false;
			ff->rep->orphan_sets_dropped++;
			m->changed = true;
			continue;
		}
		if (!at_collector && ff->opts.templates == TEMPLATES_PRIME) {
			if ((t = template_ahead(ff, o, h, set->id)) == NULL)
				ff->rep->orphan_sets_sent++;
			else
				need_template(ff, t);
		} else {
			t = template_for(ff, o, h, set->id);
			if (!at_collector)
				ff->rep->orphan_sets_sent++;
		}
		/*
		 * Records are counted only for what needs them: continued
		 * sequence numbers, and the v9 count of a message that lost
		 * sets.  With no shift they are only read, not written.
		 */
		if (t != NULL && (ff->opts.sequence == SEQUENCE_CONTINUE ||
		    ff->opts.templates == TEMPLATES_DROP_ORPHANS))
			n = data_records(ff, t, h->version,
			    (uint8_t *)set->body, set->body_len, 0);
		m->records += n;
		m->data_records += n;
		m->kept++;
	}
}

/*
 * Reserve the sequence number(s) of a message: IPFIX counts data records,
 * v9 messages, v5 flows.  Numbers run per exporter and domain, not per
 * captured source port: an exporter that restarted with another port in
 * the capture goes on counting where it was, which collectors that key
 * sequences by address and domain (nfacctd, nfcapd) expect.
 */
static uint32_t
next_sequence(struct flowfix *ff, const struct proto_origin *o,
    const struct nf_header *h, uint32_t advance)
{
	struct ff_key k = { .who = o->exporter, .domain = h->domain,
	    .version = h->version };
	struct ff_slot *s;
	struct ff_sequence *q;
	uint32_t v;

	if (table_get(&ff->seq, &k) == NULL && ff->seq.n >= FF_MAX_SEQUENCES) {
		not_tracked(ff, FF_CAP_SEQUENCES);
		return h->sequence;
	}
	if ((s = table_put(&ff->seq, &k)) == NULL) {
		no_memory();
		return h->sequence;
	}
	if ((q = s->val) == NULL) {
		if ((q = malloc(sizeof(*q))) == NULL) {
			no_memory();
			return h->sequence;
		}
		/* The first message keeps its number: a single play is unchanged. */
		q->next = h->sequence;
		s->val = q;
	}
	v = q->next;
	q->next += advance;
	return v;
}

/* The shift for this capture, fixed by its first message: now, and never before what was sent. */
static void
anchor_shift(struct flowfix *ff, uint32_t export_secs, int64_t now_secs)
{
	if (ff->anchored || ff->opts.timestamps != TIMESTAMPS_SHIFT)
		return;
	ff->shift = now_secs - (int64_t)export_secs;
	if (ff->rep->shifted &&
	    (int64_t)export_secs + ff->shift < (int64_t)ff->last_export)
		ff->shift = (int64_t)ff->last_export - (int64_t)export_secs;
	ff->anchored = true;
	ff->rep->shifted = true;
	ff->rep->shift_secs = ff->shift;
}

static uint32_t
shifted_export(struct flowfix *ff, uint32_t export_secs)
{
	uint32_t v = (uint32_t)((int64_t)export_secs + ff->shift);

	if (ff->opts.timestamps == TIMESTAMPS_SHIFT &&
	    (int32_t)(v - ff->last_export) > 0)
		ff->last_export = v;
	return v;
}

/* Header fields after the version: sequence and export time differ per format. */
static void
write_header(uint8_t *b, const struct nf_header *h, uint16_t count_or_len,
    uint32_t export_secs, uint32_t sequence)
{
	be16_store(b, h->version);
	be16_store(b + 2, count_or_len);
	if (h->version == NF_VERSION_IPFIX) {
		be32_store(b + 4, export_secs);
		be32_store(b + 8, sequence);
	} else {	/* v9: sysUptime stays as captured */
		be32_store(b + 8, export_secs);
		be32_store(b + 12, sequence);
	}
}

/* One message with the templates the data of this message needs, ahead of it. */
static size_t
build_prime(struct flowfix *ff, const struct proto_origin *o,
    const struct msg_plan *m, const uint8_t *orig, uint8_t *b,
    uint32_t sequence)
{
	size_t len = m->h.header_len, records = 0;

	memcpy(b, orig, m->h.header_len);
	/* Templates first, then options templates: one set of each kind at most. */
	for (int kind = 0; kind < 2; kind++) {
		size_t set_off = len;
		uint16_t set_id = 0;
		bool any = false;
		struct ff_key sk;

		for (size_t i = 0; i < ff->n_need; i++) {
			const struct nf_stored_template *t = nf_templates_find(
			    ff->need[i].store, &ff->need[i].key);
			bool options;

			/* Nothing leaves the tables: t is there. */
			if (t == NULL)
				continue;
			options = t->set_id == NF9_OPTIONS_SET ||
			    t->set_id == IPFIX_OPTIONS_SET;
			if (options != (kind == 1))
				continue;
			if (len == set_off)
				len += SET_HDR_LEN;
			if (len + t->record_bytes > DGRAM_MAX) {
				/* No room (16k-field templates): that data stays an orphan. */
				ff->rep->orphan_sets_sent++;
				continue;
			}
			sk = socket_key(o, &m->h, t->key.id);
			mark_sent(ff, &sk, true);
			memcpy(b + len, nf_templates_record(t), t->record_bytes);
			len += t->record_bytes;
			set_id = t->set_id;
			any = true;
			records++;
			ff->rep->templates_primed++;
		}
		if (any) {
			be16_store(b + set_off, set_id);
			be16_store(b + set_off + 2, (uint16_t)(len - set_off));
		} else
			len = set_off;
	}
	write_header(b, &m->h, (uint16_t)(m->h.version == NF_VERSION_IPFIX ?
	    len : records), m->export_secs, sequence);
	ff->rep->primed_messages++;
	return len;
}

/* Copy the kept sets after the header; the new length. */
static size_t
copy_kept(const struct flowfix *ff, const struct msg_plan *m,
    const uint8_t *orig, uint8_t *b)
{
	size_t len = m->h.header_len;

	memcpy(b, orig, m->h.header_len);
	for (size_t i = 0; i < m->n_sets; i++) {
		if (!ff->keep[i])
			continue;
		memcpy(b + len, orig + ff->sets[i].offset, ff->sets[i].length);
		len += ff->sets[i].length;
	}
	return len;
}

/* Shift the absolute times in the kept data sets of the copy in b. */
static void
shift_records(struct flowfix *ff, const struct proto_origin *o,
    const struct msg_plan *m, uint8_t *b)
{
	size_t off = m->h.header_len;

	for (size_t i = 0; i < m->n_sets; i++) {
		const struct nf_set *set = &ff->sets[i];
		const struct nf_stored_template *t;

		if (!ff->keep[i])
			continue;
		if (set->id >= NF_MIN_DATA_SET_ID &&
		    (t = template_for(ff, o, &m->h, set->id)) != NULL)
			(void)data_records(ff, t, m->h.version,
			    b + off + SET_HDR_LEN, set->body_len, ff->shift);
		off += set->length;
	}
}

static void
emit(struct proto_out *out, const uint8_t *p, size_t len)
{
	out->msg[out->n] = p;
	out->len[out->n] = len;
	out->n++;
}

/* NetFlow v5: no templates; the sequence counts flows. */
static void
message_v5(struct flowfix *ff, const struct proto_origin *o, struct msg_plan *m,
    const uint8_t *p, size_t len, struct proto_out *out)
{
	uint8_t *b = ff->buf[0];
	uint32_t seq = m->h.sequence;

	if (ff->opts.sequence == SEQUENCE_CONTINUE)
		seq = next_sequence(ff, o, &m->h, m->h.count);
	if (seq == m->h.sequence && m->export_secs == m->h.export_secs) {
		emit(out, p, len);
		return;
	}
	if (seq != m->h.sequence)
		ff->rep->sequence_rewritten++;
	memcpy(b, p, len);
	be32_store(b + 8, m->export_secs);
	be32_store(b + 16, seq);
	emit(out, b, len);
}

void
flowfix_message(struct flowfix *ff, const struct proto_origin *o,
    const uint8_t *p, size_t len, int64_t now_secs, struct proto_out *out)
{
	struct msg_plan m = { .changed = false };
	struct report_nf_domain *d;
	uint32_t seq, prime_seq = 0;
	long n_sets = 0;
	size_t n_prime = 0, blen;
	uint8_t *b;

	out->n = 0;
	if (nf_parse_header(p, len, &m.h) == -1 ||
	    (m.h.version != NF_VERSION_5 &&
	    (n_sets = collect_sets(ff, p, len)) < 0)) {
		/* Nothing to rewrite safely: the collector gets the bytes. */
		note_malformed(ff, o, "a NetFlow/IPFIX header or set length is "
		    "impossible: sent as captured");
		emit(out, p, len);
		return;
	}
	if ((d = domain_counters(ff, &m.h)) != NULL)
		d->messages++;
	anchor_shift(ff, m.h.export_secs, now_secs);
	m.export_secs = shifted_export(ff, m.h.export_secs);
	if (m.h.version == NF_VERSION_5) {
		message_v5(ff, o, &m, p, len, out);
		return;
	}
	m.n_sets = (size_t)n_sets;
	plan_sets(ff, o, &m);
	for (size_t i = 0; d != NULL && i < m.n_sets; i++) {
		if (nf_is_template_set(m.h.version, ff->sets[i].id))
			d->template_sets++;
		else if (ff->sets[i].id >= NF_MIN_DATA_SET_ID)
			d->data_sets++;
	}
	if (m.n_sets > 0 && m.kept == 0) {
		ff->rep->messages_emptied++;
		return;		/* nothing left: no message, no sequence number */
	}

	/* Sequence numbers: v9 counts messages (a primed one too), IPFIX data records. */
	seq = m.h.sequence;
	if (ff->opts.sequence == SEQUENCE_CONTINUE) {
		if (m.h.version == NF_VERSION_9) {
			if (ff->n_need > 0)
				prime_seq = next_sequence(ff, o, &m.h, 1);
			seq = next_sequence(ff, o, &m.h, 1);
		} else {
			seq = next_sequence(ff, o, &m.h,
			    (uint32_t)m.data_records);
			prime_seq = seq;
		}
	} else
		prime_seq = seq;
	if (ff->n_need > 0) {
		blen = build_prime(ff, o, &m, p, ff->buf[0], prime_seq);
		emit(out, ff->buf[0], blen);
		n_prime = 1;
	}
	if (!m.changed && seq == m.h.sequence &&
	    m.export_secs == m.h.export_secs) {
		emit(out, p, len);
		return;
	}
	if (seq != m.h.sequence)
		ff->rep->sequence_rewritten++;
	b = ff->buf[n_prime];
	blen = copy_kept(ff, &m, p, b);
	if (m.export_secs != m.h.export_secs)
		shift_records(ff, o, &m, b);
	write_header(b, &m.h, (uint16_t)(m.h.version == NF_VERSION_IPFIX ?
	    blen : (m.changed ? m.records : m.h.count)), m.export_secs, seq);
	emit(out, b, blen);
}

/* ---- its hooks in the protocol table ---------------------------------- */

static void *
fidelity_new(const struct cfg_section *sec, struct report *rep)
{
	return flowfix_new(&sec->flow, rep);
}

static void
fidelity_free(void *ff)
{
	flowfix_free(ff);
}

static void
fidelity_capture_start(void *ff)
{
	flowfix_capture_start(ff);
}

static void
fidelity_datagram(void *ff, const struct proto_origin *o, const uint8_t *p,
    size_t len, tr_ns wall, struct proto_out *out)
{
	flowfix_message(ff, o, p, len, wall / TR_NS_PER_SEC, out);
}

const struct proto_fidelity ipfix_fidelity = {
	.new = fidelity_new,
	.free = fidelity_free,
	.capture_start = fidelity_capture_start,
	.datagram = fidelity_datagram,
};
