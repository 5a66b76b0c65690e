/* NetFlow v5, v9 and IPFIX messages written: headers, template sets, data sets and v5 records, the one encoder of generate and tr-pcapgen. */
#ifndef TR_NF_ENCODE_H
#define TR_NF_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "writer.h"

#define NF_IPFIX_HDR_LEN	16
#define NF_V9_HDR_LEN		20
#define NF_V5_HDR_LEN		24
#define NF_V5_RECORD_LEN	48
#define NF_V5_MAX_RECORDS	30	/* the v5 header's limit */
#define NF_SET_HDR_LEN		4
#define NF_NTP_UNIX_OFFSET	2208988800ULL	/* seconds from 1900 to 1970 */

/* A template's field: information element id and length in bytes. */
struct nf_field {
	uint16_t	id;
	uint16_t	len;
};

/* IPFIX (RFC 7011) header; its length is patched by nf_ipfix_finish. */
void	nf_ipfix_header(struct writer *, uint32_t export_secs, uint32_t seq,
	    uint32_t domain);
void	nf_ipfix_finish(struct writer *);
/* NetFlow v9 (RFC 3954) header: count is the records (templates included) the packet holds. */
void	nf_v9_header(struct writer *, uint16_t count, uint32_t uptime_ms,
	    uint32_t unix_secs, uint32_t seq, uint32_t source_id);

/*
 * A set or FlowSet: nf_set_begin writes its header with the length left
 * 0 and returns where it starts; nf_set_end fills the length in, after
 * padding a v9 FlowSet to 32 bits (RFC 3954 5.3; IPFIX sets are left as
 * they are).
 */
size_t	nf_set_begin(struct writer *, uint16_t set_id);
void	nf_set_end(struct writer *, int version, size_t start);

/* One template (set id 2 for IPFIX, 0 for v9) in a set of its own. */
void	nf_template_set(struct writer *, int version, uint16_t template_id,
	    const struct nf_field *, size_t n);
/*
 * One options template (set id 3 for IPFIX, 1 for v9) in a set of its own:
 * the scope fields, then the others.  v9 gives the scopes' lengths in
 * bytes and pads the FlowSet.
 */
void	nf_options_template_set(struct writer *, int version,
	    uint16_t template_id, const struct nf_field *scope, size_t n_scope,
	    const struct nf_field *fields, size_t n);

/* An unsigned value in len bytes (1 to 8: reduced-size encoding, RFC 7011 6.2; its high bytes are cut). */
void	nf_put_uint(struct writer *, uint64_t v, uint16_t len);
/* An address field: 4 bytes for IPv4, 16 for IPv6. */
void	nf_put_addr(struct writer *, const struct tr_addr *);
/*
 * An IPFIX flow time of element id 150-157 (seconds, milliseconds,
 * microseconds, nanoseconds; the last two as NTP timestamps, their fraction
 * rounded up so that a collector rounding down gets the milliseconds back).
 */
void	nf_put_ipfix_time(struct writer *, uint16_t id, uint64_t unix_ms);

/* NetFlow v5: the header and one 48-byte record. */
struct nf_v5_header {
	uint16_t	count;
	uint32_t	uptime_ms;
	uint32_t	unix_secs;
	uint32_t	unix_nsecs;
	uint32_t	seq;		/* flows before this packet */
	uint8_t		engine_type, engine_id;
	uint16_t	sampling;
};

struct nf_v5_record {
	uint32_t	src, dst, nexthop;	/* host order */
	uint16_t	input, output;
	uint32_t	packets, octets;
	uint32_t	first_ms, last_ms;	/* sysUptime at the flow's start, end */
	uint16_t	sport, dport;
	uint8_t		tcp_flags, proto, tos;
	uint16_t	src_as, dst_as;
	uint8_t		src_mask, dst_mask;
};

void	nf_v5_header(struct writer *, const struct nf_v5_header *);
void	nf_v5_record(struct writer *, const struct nf_v5_record *);

#endif
