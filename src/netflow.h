/* NetFlow v5, v9 and IPFIX message headers and set walking (RFC 3954, RFC 7011); prefix nf_, as its types. */
#ifndef TR_NETFLOW_H
#define TR_NETFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

#define NF_VERSION_5	5
#define NF_VERSION_9	9
#define NF_VERSION_IPFIX 10

/* NetFlow v5: a fixed header, then up to 30 fixed-size flow records. */
#define NF_V5_HDR_LEN		24
#define NF_V5_RECORD_LEN	48
#define NF_V5_MAX_RECORDS	30

/* Set ids: templates and options templates (v9: 0 and 1; IPFIX: 2 and 3), data from 256. */
#define NF9_TEMPLATE_SET	0
#define NF9_OPTIONS_SET		1
#define IPFIX_TEMPLATE_SET	2
#define IPFIX_OPTIONS_SET	3
#define NF_MIN_DATA_SET_ID	256

struct nf_header {
	uint16_t	version;	/* 5, 9 or 10 */
	uint16_t	count;		/* v5: flows; v9: records; IPFIX: 0 */
	uint16_t	length;		/* IPFIX: message length; else 0 */
	uint32_t	uptime_ms;	/* v5/v9 sysUptime; IPFIX: 0 */
	uint32_t	export_secs;	/* unix seconds / export time */
	uint32_t	sequence;	/* v5: flow sequence; v9: packet sequence; IPFIX: data record sequence */
	uint32_t	domain;		/* v9 source id; IPFIX observation domain; v5: engine_type << 8 | engine_id */
	size_t		header_len;	/* 24 (v5), 20 (v9), 16 (IPFIX) */
};

/* Decode the message header: 0, or -1 if this is not a NetFlow/IPFIX header. */
int	nf_parse_header(const uint8_t *p, size_t len, struct nf_header *h);

/* Whether a datagram is NetFlow/IPFIX by its content alone: its header and lengths agree with themselves. */
bool	nf_classify(const uint8_t *p, size_t len);

/*
 * Walk the sets (v9 FlowSets / IPFIX sets) after the header and store up to
 * max set ids into ids.  Returns the number of sets found (which may exceed
 * max), or -1 when a set length is impossible (shorter than its header or
 * running past the datagram).  Not for v5, which has no sets.
 */
int	nf_set_ids(const uint8_t *p, size_t len, uint16_t *ids, size_t max);

/* One set as found in a datagram; body points into the caller's bytes. */
struct nf_set {
	uint16_t	 id;
	uint16_t	 length;	/* set header included */
	size_t		 offset;	/* of the set header, from the datagram start */
	const uint8_t	*body;		/* after the 4-byte set header */
	size_t		 body_len;
};

struct nf_set_iter {
	struct cursor	 sets;		/* what is left of the set region */
	const uint8_t	*start;		/* the datagram, for set offsets */
	uint16_t	 version;
};

/*
 * Iterate the sets of a v9 or IPFIX datagram: begin returns 0, or -1 if the
 * header is not v9/IPFIX or (IPFIX) its length runs past the datagram; next
 * returns 1 with *set filled, 0 at the end, -1 on an impossible set length
 * (and keeps returning -1).
 */
int	nf_sets_begin(const uint8_t *p, size_t len, struct nf_set_iter *it);
int	nf_set_next(struct nf_set_iter *it, struct nf_set *set);

/* Whether a set id carries templates or options templates for this version. */
bool	nf_is_template_set(uint16_t version, uint16_t set_id);

struct nf_template {
	uint16_t	 id;		/* >= 256; an IPFIX withdraw-all names the set id */
	uint16_t	 field_count;	/* 0: a withdrawal (IPFIX) */
	uint16_t	 scope_count;	/* options templates: how many leading fields are scope */
	uint32_t	 record_len;	/* bytes per data record; 0 if variable or withdrawn */
	uint32_t	 min_record_len; /* the shortest record it allows (variable fields empty) */
	size_t		 consumed;	/* bytes of this template record */
	const uint8_t	*specs;		/* its field specifiers, in the caller's bytes */
	uint16_t	 version;
};

/*
 * Decode the template record at the start of p (the rest of a template or
 * options template set body).  0 with *t filled, or -1 if it is truncated or
 * names an impossible template id.  Callers stop at fewer than 4 bytes left:
 * that is set padding.
 */
int	nf_template_parse(uint16_t version, uint16_t set_id,
	    const uint8_t *p, size_t len, struct nf_template *t);

/* One field of a template: information element, length, enterprise number (0: IETF). */
struct nf_field {
	uint16_t	ie;		/* without the enterprise bit */
	uint16_t	len;		/* IPFIX_VARLEN: the record says */
	uint32_t	pen;
};

#define IPFIX_VARLEN		65535

/* The fields of a parsed template, into f (t->field_count entries). */
void	nf_template_fields(const struct nf_template *t, struct nf_field *f);

/*
 * The length of the data record at the start of p, laid out by the fields
 * (variable-length IPFIX fields read from the record), and each field's
 * offset into off when it is not NULL; 0 when the record does not fit in len.
 */
size_t	nf_record_len(uint16_t version, const struct nf_field *f,
	    size_t n, const uint8_t *p, size_t len, uint32_t *off);

#endif
