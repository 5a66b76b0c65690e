/*
 * sFlow version 5 (sflow.org, "sFlow Version 5", 2004): the datagram header,
 * its samples and their records, read bounds-checked; and its fidelity on
 * replay: sequence numbers that continue across repeats, the agent address
 * rewritten to the replay's source, an uptime that keeps running.
 */
#ifndef TR_SFLOW_H
#define TR_SFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cursor.h"

#define SFLOW_VERSION_5		5
#define SFLOW_PORT		6343
/* The header: version, address type, agent (4 or 16 bytes), sub-agent, sequence, uptime, sample count. */
#define SFLOW_HEADER_V4_LEN	28
#define SFLOW_HEADER_V6_LEN	40

/* A data format: enterprise in the top 20 bits, format in the low 12. */
#define SFLOW_ENTERPRISE(f)	((f) >> 12)
#define SFLOW_FORMAT(f)		((f) & 0xfff)

/* The standard sample formats (enterprise 0). */
#define SFLOW_FLOW_SAMPLE		1
#define SFLOW_COUNTERS_SAMPLE		2
#define SFLOW_FLOW_SAMPLE_EXPANDED	3
#define SFLOW_COUNTERS_SAMPLE_EXPANDED	4
#define SFLOW_DISCARD_SAMPLE		5	/* sFlow dropped packet notification */

struct sflow_header {
	struct tr_addr	 agent;
	uint32_t	 sub_agent;
	uint32_t	 sequence;	/* per agent and sub-agent, one per datagram */
	uint32_t	 uptime_ms;
	uint32_t	 n_samples;
	size_t		 len;		/* SFLOW_HEADER_V4_LEN or _V6_LEN */
};

/* Decode the datagram header: 0, or -1 if this is not an sFlow v5 datagram. */
int	sflow_parse_header(const uint8_t *p, size_t len, struct sflow_header *h);

/*
 * Which sequence a standard sample counts in: each data source numbers its
 * flow samples (compact or expanded), its counter samples and its discards
 * on its own.
 */
enum sflow_space {
	SFLOW_SPACE_NONE,	/* an enterprise's sample: opaque */
	SFLOW_SPACE_FLOW,
	SFLOW_SPACE_COUNTERS,
	SFLOW_SPACE_DISCARDS,
};

struct sflow_sample {
	uint32_t	 format;	/* enterprise << 12 | format */
	size_t		 offset;	/* of its format word, from the datagram start */
	size_t		 length;	/* of its data (after format and length) */
	enum sflow_space space;
	/* Standard samples only: */
	uint32_t	 sequence;	/* at offset + 8 */
	uint32_t	 source_type;	/* 0 ifIndex, 1 smonVlanDataSource, 2 entPhysicalEntry */
	uint32_t	 source_index;
	uint32_t	 n_records;
	size_t		 records_offset;	/* of its first record */
};

struct sflow_record {
	uint32_t	 format;	/* enterprise << 12 | format */
	size_t		 offset;	/* of its format word, from the datagram start */
	size_t		 length;	/* of its data */
};

struct sflow_iter {
	const uint8_t	*start;
	struct cursor	 c;
	uint32_t	 left;		/* items the count announces still to come */
	bool		 bad;
};

/*
 * Iterate the samples of a datagram: begin returns 0 (h filled), or -1 if it
 * is not sFlow v5; next returns 1 with *s filled, 0 after the last one the
 * header counts, -1 when a length runs past the datagram or a standard
 * sample is too short for its fields (and keeps returning -1).  Bytes after
 * the counted samples are left alone.
 */
int	sflow_samples_begin(const uint8_t *p, size_t len, struct sflow_iter *it,
	    struct sflow_header *h);
int	sflow_sample_next(struct sflow_iter *it, struct sflow_sample *s);

/* The records of a standard sample (s->space not NONE), the same way. */
void	sflow_records_begin(const uint8_t *p, size_t len,
	    const struct sflow_sample *s, struct sflow_iter *it);
int	sflow_record_next(struct sflow_iter *it, struct sflow_record *r);

/* A sample format's name ("flow", "counters", "flow-expanded", ...), NULL for an enterprise's. */
const char *sflow_sample_name(uint32_t format);

/* ---- counts for --info and the sink ------------------------------------ */

/*
 * Whether every sample of the datagram, and every record of its standard
 * samples, lies within its length (-p keeps these); with exact, also that
 * the counted samples end where the datagram does.
 */
bool	sflow_datagram_valid(const uint8_t *p, size_t len, bool exact);

/*
 * Whether a datagram is sFlow v5 by its content alone: version 5, agent
 * address type 1 or 2, a sample count that fits, every sample and record
 * within bounds and nothing after the last sample.  NetFlow/IPFIX never
 * passes (their first 16 bits are a version, 5, 9 or 10; here they are 0).
 */
bool	sflow_classify(const uint8_t *p, size_t len);

/* Caps per exporter (a real one is one agent, a few sub-agents, a dozen record formats). */
#define SFLOW_COUNT_AGENTS	8
#define SFLOW_COUNT_FORMATS	24

/* An agent and sub-agent: its datagrams and their sequence. */
struct sflow_agent_count {
	struct tr_addr	 agent;
	uint32_t	 sub_agent;
	uint64_t	 datagrams;
	uint32_t	 first_sequence, last_sequence;
	uint64_t	 sequence_errors;	/* a datagram whose sequence is not the one before + 1 */
};

/* Records of one format in one kind of sample (record formats are numbered per kind). */
struct sflow_format_count {
	enum sflow_space space;
	uint32_t	 format;	/* enterprise << 12 | format */
	uint64_t	 count;
};

struct sflow_counts {
	uint64_t	 datagrams;
	uint64_t	 malformed;	/* a header, sample or record past the datagram: counted up to there */
	/* By standard sample format; [0]: an enterprise's or an unknown one. */
	uint64_t	 samples[SFLOW_DISCARD_SAMPLE + 1];
	uint64_t	 records;
	struct sflow_agent_count agents[SFLOW_COUNT_AGENTS];
	size_t		 n_agents;
	struct sflow_format_count formats[SFLOW_COUNT_FORMATS];
	size_t		 n_formats;
	uint64_t	 not_tracked;	/* datagrams of agents, records of formats past the caps */
};

/* Count one datagram (counts zeroed to begin). */
void	sflow_count_datagram(struct sflow_counts *, const uint8_t *p,
	    size_t len);

/* A record format's name in a kind of sample ("sampled_header", "generic_interface"; discards carry flow records), NULL when not a standard one. */
const char *sflow_record_name(enum sflow_space space, uint32_t format);

/* ---- fidelity on replay ------------------------------------------------ */

struct sflow_fix_opts {
	/*
	 * The datagram sequence of each agent and sub-agent, and each data
	 * source's sample sequences, go on from where the previous datagram
	 * left them (the first keeps its number): a repeated capture or a list
	 * looks like one live agent, with no restart or gap.
	 */
	bool	continue_sequence;
	/* The agent address becomes the replay's source address (repro_ip). */
	bool	agent_is_repro_ip;
	/*
	 * The uptime keeps running across repeats: the first datagram of each
	 * later play goes on from the last one sent plus the time since, as
	 * an agent's clock would (a collector reads a smaller uptime as a
	 * reboot).
	 */
	bool	continue_uptime;
};

struct sflow_fix_stats {
	uint64_t	datagrams_rewritten;
	uint64_t	malformed;	/* sent as captured: the datagram could not be walked */
	uint64_t	not_tracked;	/* agents or data sources past the caps: their numbers left as captured */
};

struct sflow_fix;

struct sflow_fix *sflow_fix_new(const struct sflow_fix_opts *);
void		 sflow_fix_free(struct sflow_fix *);
/* A new play of the captures begins (a repeat or the next file): uptimes re-anchor. */
void		 sflow_fix_capture_start(struct sflow_fix *);
const struct sflow_fix_stats *sflow_fix_stats(const struct sflow_fix *);

/* Room the output of sflow_fix_datagram may need beyond the input: an IPv4 agent becoming IPv6. */
#define SFLOW_FIX_GROWTH	(SFLOW_HEADER_V6_LEN - SFLOW_HEADER_V4_LEN)

/*
 * One datagram of `exporter` (an index that tells routers apart, such as
 * network.map's), sent from `repro` at now_ms (a monotonic clock):
 * rewritten as configured into out (out_size >= len + SFLOW_FIX_GROWTH).
 * Returns the length written to out, or 0 when the datagram goes as
 * captured (nothing to change, or nothing that can be changed safely).
 */
size_t	sflow_fix_datagram(struct sflow_fix *, int exporter,
	    const struct tr_addr *repro, const uint8_t *p, size_t len,
	    uint64_t now_ms, uint8_t *out, size_t out_size);

#endif
