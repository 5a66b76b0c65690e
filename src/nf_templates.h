/* NetFlow v9 / IPFIX templates as a collector learns them: one store for the replay, --info and the sink. */
#ifndef TR_NF_TEMPLATES_H
#define TR_NF_TEMPLATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netflow.h"

/*
 * What a template belongs to.  The scope is the caller's: an exporter and
 * source port (the replay), an exporter (--info), a session (the sink).
 * No padding: keys hash and compare as bytes.
 */
struct nf_template_key {
	uint64_t	scope;
	uint32_t	domain;		/* v9 source id / IPFIX observation domain */
	uint16_t	version;
	uint16_t	id;
};

/* A definition in force.  Read-only to callers; valid until the store changes. */
struct nf_stored_template {
	struct nf_template_key key;
	uint16_t	 set_id;	/* the set it came in: template or options template */
	uint16_t	 field_count;
	uint32_t	 record_len;	/* bytes per data record; 0: variable length */
	uint32_t	 min_record_len; /* the shortest record it allows */
	uint32_t	 record_bytes;	/* of the template record; 0 unless kept */
	/* NF_TEMPLATES_FIELDS: field_count fields, then (NF_TEMPLATES_RECORD) the record. */
	struct nf_field	*fields;
};

/* What a store keeps besides the lengths (a flag at creation): */
#define NF_TEMPLATES_FIELDS	0x1	/* the layout, to walk data records */
#define NF_TEMPLATES_RECORD	0x2	/* the template record's bytes (and the fields), to send it again */

/*
 * The store: entries[0..n) in no particular order (callers may iterate
 * them) and an open-addressing index into them.  Caps bound what a
 * capture can make it hold: entries, and bytes of fields and records.
 */
struct nf_templates {
	struct nf_stored_template *entries;
	size_t		 n, cap;
	uint32_t	*index;		/* entry + 1; 0: empty */
	size_t		 index_cap;	/* 0 or a power of two */
	size_t		 bytes;		/* of fields and records kept */
	size_t		 max_entries, max_bytes;
	unsigned	 keep;		/* NF_TEMPLATES_FIELDS, NF_TEMPLATES_RECORD or 0 */
};

enum nf_define {
	NF_DEFINE_NEW,
	NF_DEFINE_SAME,		/* as stored: nothing changed */
	NF_DEFINE_CHANGED,	/* replaced the definition stored */
	NF_DEFINE_OVER_ENTRIES,	/* not stored: max_entries reached */
	NF_DEFINE_OVER_BYTES,	/* not stored (the one before stays): max_bytes */
	NF_DEFINE_NO_MEMORY,	/* not stored (the one before stays) */
};

/* An empty store; nothing is allocated until the first definition. */
void	nf_templates_init(struct nf_templates *s, size_t max_entries,
	    size_t max_bytes, unsigned keep);
void	nf_templates_free(struct nf_templates *s);

/*
 * Store definition t (field_count > 0: a withdrawal is not one) that came
 * in set set_id, rec being the template record's first t->consumed bytes.
 * Comparing with what is stored takes what the store keeps: without the
 * fields, a change that keeps the lengths is SAME.
 */
enum nf_define nf_templates_define(struct nf_templates *s,
	    const struct nf_template_key *k, uint16_t set_id,
	    const struct nf_template *t, const uint8_t *rec);

/* The definition in force for k, or NULL. */
const struct nf_stored_template *nf_templates_find(const struct nf_templates *s,
	    const struct nf_template_key *k);

/* Forget k: whether it was there. */
bool	nf_templates_withdraw(struct nf_templates *s,
	    const struct nf_template_key *k);

/*
 * Forget every template of one kind of a (scope, version, domain), those
 * that came in set set_id: an IPFIX withdraw-all (RFC 7011 8.1, template
 * id = set id).  How many were forgotten.
 */
size_t	nf_templates_withdraw_all(struct nf_templates *s, uint64_t scope,
	    uint16_t version, uint32_t domain, uint16_t set_id);

/* The template record's bytes of a store made with NF_TEMPLATES_RECORD. */
static inline const uint8_t *
nf_templates_record(const struct nf_stored_template *t)
{
	return (const uint8_t *)(t->fields + t->field_count);
}

#endif
