/* NetFlow v9 / IPFIX templates as a collector learns them: one store for the replay, --info and the sink. */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hash.h"
#include "nf_templates.h"

_Static_assert(sizeof(struct nf_template_key) == 16,
    "template keys have no padding: they hash and compare as bytes");

#define INDEX_MIN	16

void
nf_templates_init(struct nf_templates *s, size_t max_entries, size_t max_bytes,
    unsigned keep)
{
	memset(s, 0, sizeof(*s));
	/* The index holds entry + 1 in 32 bits. */
	s->max_entries = max_entries < UINT32_MAX / 4 ? max_entries :
	    UINT32_MAX / 4;
	s->max_bytes = max_bytes;
	if (keep & NF_TEMPLATES_RECORD)
		keep |= NF_TEMPLATES_FIELDS;
	s->keep = keep;
}

void
nf_templates_free(struct nf_templates *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->entries[i].fields);
	free(s->entries);
	free(s->index);
	memset(s, 0, sizeof(*s));
}

/* ---- the index ---------------------------------------------------------- */

static bool
key_equal(const struct nf_template_key *a, const struct nf_template_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static size_t
home_slot(const struct nf_templates *s, const struct nf_template_key *k)
{
	return fnv1a(FNV1A_BASIS, k, sizeof(*k)) & (s->index_cap - 1);
}

/* The index slot of k: the one naming its entry, or the empty one where it would go. */
static size_t
slot_of(const struct nf_templates *s, const struct nf_template_key *k)
{
	size_t i = home_slot(s, k);

	while (s->index[i] != 0 && !key_equal(&s->entries[s->index[i] - 1].key,
	    k))
		i = (i + 1) & (s->index_cap - 1);
	return i;
}

/* The index at half load at most, for n entries: rebuilt from the entries when it doubles. */
static int
index_reserve(struct nf_templates *s, size_t n)
{
	size_t ncap = s->index_cap ? s->index_cap : INDEX_MIN;
	uint32_t *old = s->index;

	while (n > ncap / 2)
		ncap *= 2;
	if (ncap == s->index_cap)
		return 0;
	if ((s->index = calloc(ncap, sizeof(*s->index))) == NULL) {
		s->index = old;
		return -1;
	}
	free(old);
	s->index_cap = ncap;
	for (size_t e = 0; e < s->n; e++)
		s->index[slot_of(s, &s->entries[e].key)] = (uint32_t)(e + 1);
	return 0;
}

/*
 * Empty slot i, moving later entries of its probe run back into the hole
 * so that every key stays reachable from its home slot without tombstones
 * (Knuth's algorithm R for linear probing).
 */
static void
index_remove(struct nf_templates *s, size_t i)
{
	size_t mask = s->index_cap - 1, j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (s->index[j] == 0)
			break;
		home = home_slot(s, &s->entries[s->index[j] - 1].key);
		/* j stays when its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		s->index[i] = s->index[j];
		i = j;
	}
	s->index[i] = 0;
}

/* ---- entries ------------------------------------------------------------ */

static size_t
kept_bytes(const struct nf_templates *s, uint16_t field_count,
    size_t record_bytes)
{
	size_t n = 0;

	if (s->keep & NF_TEMPLATES_FIELDS)
		n += field_count * sizeof(struct nf_field);
	if (s->keep & NF_TEMPLATES_RECORD)
		n += record_bytes;
	return n;
}

static size_t
entry_bytes(const struct nf_templates *s, const struct nf_stored_template *e)
{
	return kept_bytes(s, e->field_count, e->record_bytes);
}

/* The fields and record bytes of t in one allocation, as the store keeps them: 0, or -1 out of memory. */
static int
kept_copy(const struct nf_templates *s, const struct nf_template *t,
    const uint8_t *rec, struct nf_field **fields)
{
	size_t n = kept_bytes(s, t->field_count, t->consumed);

	*fields = NULL;
	if (n == 0)
		return 0;
	if ((*fields = malloc(n)) == NULL)
		return -1;
	nf_template_fields(t, *fields);
	if (s->keep & NF_TEMPLATES_RECORD)
		memcpy(*fields + t->field_count, rec, t->consumed);
	return 0;
}

/* Whether t defines e again, as far as the store can tell from what it keeps (fields: t's, decoded, when only they are kept). */
static bool
entry_same(const struct nf_templates *s, const struct nf_stored_template *e,
    uint16_t set_id, const struct nf_template *t, const uint8_t *rec,
    const struct nf_field *fields)
{
	if (e->set_id != set_id || e->field_count != t->field_count ||
	    e->record_len != t->record_len ||
	    e->min_record_len != t->min_record_len)
		return false;
	if (s->keep & NF_TEMPLATES_RECORD)
		return e->record_bytes == t->consumed &&
		    memcmp(nf_templates_record(e), rec, t->consumed) == 0;
	if (s->keep & NF_TEMPLATES_FIELDS)
		return memcmp(e->fields, fields,
		    t->field_count * sizeof(*fields)) == 0;
	return true;
}

static void
entry_set(const struct nf_templates *s, struct nf_stored_template *e,
    uint16_t set_id, const struct nf_template *t, struct nf_field *fields)
{
	free(e->fields);
	e->fields = fields;
	e->set_id = set_id;
	e->field_count = t->field_count;
	e->record_len = t->record_len;
	e->min_record_len = t->min_record_len;
	e->record_bytes = s->keep & NF_TEMPLATES_RECORD ?
	    (uint32_t)t->consumed : 0;
}

/* A definition of a template the store has. */
static enum nf_define
redefine(struct nf_templates *s, struct nf_stored_template *e,
    uint16_t set_id, const struct nf_template *t, const uint8_t *rec)
{
	size_t need = kept_bytes(s, t->field_count, t->consumed);
	bool fields_only = (s->keep & (NF_TEMPLATES_FIELDS |
	    NF_TEMPLATES_RECORD)) == NF_TEMPLATES_FIELDS;
	struct nf_field *fields;

	/*
	 * A resent template (the usual case) is told without an allocation,
	 * but by fields alone, which must be decoded to be compared.
	 */
	if (!fields_only && entry_same(s, e, set_id, t, rec, NULL))
		return NF_DEFINE_SAME;
	if (s->bytes - entry_bytes(s, e) + need > s->max_bytes)
		return NF_DEFINE_OVER_BYTES;
	if (kept_copy(s, t, rec, &fields) == -1)
		return NF_DEFINE_NO_MEMORY;
	if (fields_only && entry_same(s, e, set_id, t, rec, fields)) {
		free(fields);
		return NF_DEFINE_SAME;
	}
	s->bytes = s->bytes - entry_bytes(s, e) + need;
	entry_set(s, e, set_id, t, fields);
	return NF_DEFINE_CHANGED;
}

enum nf_define
nf_templates_define(struct nf_templates *s, const struct nf_template_key *k,
    uint16_t set_id, const struct nf_template *t, const uint8_t *rec)
{
	size_t need = kept_bytes(s, t->field_count, t->consumed), i;
	struct nf_stored_template *e;
	struct nf_field *fields;

	if (s->index_cap > 0 && s->index[i = slot_of(s, k)] != 0)
		return redefine(s, &s->entries[s->index[i] - 1], set_id, t,
		    rec);
	if (s->n >= s->max_entries)
		return NF_DEFINE_OVER_ENTRIES;
	if (s->bytes + need > s->max_bytes)
		return NF_DEFINE_OVER_BYTES;
	if (grow_array(&s->entries, &s->cap, sizeof(*s->entries), s->n + 1,
	    s->max_entries) == -1 || index_reserve(s, s->n + 1) == -1 ||
	    kept_copy(s, t, rec, &fields) == -1)
		return NF_DEFINE_NO_MEMORY;
	e = &s->entries[s->n];
	memset(e, 0, sizeof(*e));
	e->key = *k;
	entry_set(s, e, set_id, t, fields);
	i = slot_of(s, k);
	s->index[i] = (uint32_t)(s->n + 1);
	s->n++;
	s->bytes += need;
	return NF_DEFINE_NEW;
}

const struct nf_stored_template *
nf_templates_find(const struct nf_templates *s, const struct nf_template_key *k)
{
	size_t i;

	if (s->index_cap == 0 || s->index[i = slot_of(s, k)] == 0)
		return NULL;
	return &s->entries[s->index[i] - 1];
}

/* Remove the entry named by index slot i; the last entry moves into its place. */
static void
remove_at(struct nf_templates *s, size_t i)
{
	size_t e = s->index[i] - 1, last = s->n - 1;

	s->bytes -= entry_bytes(s, &s->entries[e]);
	free(s->entries[e].fields);
	index_remove(s, i);
	if (e != last) {
		s->index[slot_of(s, &s->entries[last].key)] = (uint32_t)(e + 1);
		s->entries[e] = s->entries[last];
	}
	s->n--;
}

bool
nf_templates_withdraw(struct nf_templates *s, const struct nf_template_key *k)
{
	size_t i;

	if (s->index_cap == 0 || s->index[i = slot_of(s, k)] == 0)
		return false;
	remove_at(s, i);
	return true;
}

size_t
nf_templates_withdraw_all(struct nf_templates *s, uint64_t scope,
    uint16_t version, uint32_t domain, uint16_t set_id)
{
	size_t gone = 0;

	/* From the end: what moves into a hole has been looked at. */
	for (size_t e = s->n; e-- > 0;) {
		const struct nf_stored_template *t = &s->entries[e];

		if (t->key.scope != scope || t->key.version != version ||
		    t->key.domain != domain || t->set_id != set_id)
			continue;
		remove_at(s, slot_of(s, &t->key));
		gone++;
	}
	return gone;
}
